"""Token checks and token frequency as the build stores them, on a corpus small enough to count by hand.

Corpus (folder of line-aligned files, units "1" and "2"):

    deu  "alle frei"   "frei"
    eng  "all free"    "be free"

Languages sort as deu (index 0), eng (1). utf8-bytes ids are byte + 3:
    "e" (0x65 -> id 104): eng "all free" 2 + "be free" 3 = 5; deu "alle frei" 2 + "frei" 1 = 3 -> 8, 2 languages
    "a" (0x61 -> id 100): eng 1 ("all"), deu 1 ("alle") -> 2; tie broken by language: deu, eng
    " " (0x20 -> id 35):  eng 1 + 1, deu 1 -> 3
    "b" (0x62 -> id 101): eng 1, 1 language
    "z" (0x7A -> id 125) and 0xE4 (id 231): never seen (total 0); 0xE4 is partial UTF-8
How often a token occurs is information, never a category (checks version 2): "a" seen twice is "ok".
    all bytes: 8 + 7 + 9 + 4 = 28 corpus tokens
bert-uncased: "free" occurs twice, both in eng ("all free", "be free").
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from analysis.config import ROOT
from analysis.glitch import GlitchError, category_counts, flags_for, token_table
from analysis.store.build import build
from analysis.store.schema import open_readonly
from analysis.tokenizers import get_tokenizer
from tests.tiny_store import import_lines

TEXTS = {"eng": ["all free", "be free"], "deu": ["alle frei", "frei"]}
TOKENIZERS = ["utf8-bytes", "bert-uncased", "words", "codepoints"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("glitch_store")
    db = import_lines(root, TEXTS)
    messages: list[str] = []
    report = build(db, corpora=["tiny"], tokenizers=TOKENIZERS, workers=1, progress=messages.append)
    return SimpleNamespace(db=db, report=report, messages=messages)


@pytest.fixture
def con(store: SimpleNamespace):
    c = open_readonly(store.db)
    yield c
    c.close()


def test_scans_recorded(con) -> None:
    rows = {r[0]: r[1:] for r in con.execute(
        "SELECT tokenizer, n_ids, corpus_tokens, note IS NULL FROM glitch_scans").fetchall()}
    assert rows["utf8-bytes"] == (259, 28, True)
    assert rows["bert-uncased"] == (30522, rows["bert-uncased"][1], True)
    assert rows["words"][0] == 0 and not rows["words"][2] and not rows["codepoints"][2]
    note = con.execute("SELECT note FROM glitch_scans WHERE tokenizer = 'words'").fetchone()[0]
    assert "no finite vocabulary" in note


def test_frequency_of_bytes(con) -> None:
    df = token_table(con, "utf8-bytes").set_index("id")
    assert (df.loc[104, "total"], df.loc[104, "n_langs"], df.loc[104, "top_langs"]) == (8, 2, "eng:5, deu:3")
    assert df.loc[104, "category"] == "ok"
    assert (df.loc[100, "total"], df.loc[100, "top_langs"], df.loc[100, "category"]) == (2, "deu:1, eng:1", "ok")
    assert (df.loc[35, "total"], df.loc[35, "category"]) == (3, "ok")
    assert (df.loc[101, "total"], df.loc[101, "n_langs"], df.loc[101, "top_langs"]) == (1, 1, "eng:1")
    assert df.loc[125, "category"] == "ok" and df.loc[125, "total"] == 0
    assert df.loc[231, "category"] == "partial-utf8" and df.loc[231, "bytes_hex"] == "e4"
    assert int(df["flags"].max()) < 32  # no bit from the retired frequency categories
    assert int(df["total"].sum()) == 28


def test_frequency_is_stored_only_for_seen_tokens(con) -> None:
    # 8 distinct bytes: a, b, e, f, i, l, r and the space
    seen = {b for t in TEXTS["eng"] + TEXTS["deu"] for b in t.encode()}
    assert con.execute("SELECT count(*) FROM token_frequency WHERE tokenizer = 'utf8-bytes'").fetchone()[0] == len(seen)
    assert len(seen) == 8


def test_bert_frequency_and_flags_for(con) -> None:
    tok = get_tokenizer("bert-uncased")
    free, the = tok.hf.token_to_id("free"), tok.hf.token_to_id("the")
    row = token_table(con, "bert-uncased", search="free").set_index("id").loc[free]
    assert (row["total"], row["n_langs"], row["top_langs"]) == (2, 1, "eng:2")
    got = flags_for(con, "bert-uncased", [free, 1, 101, the, free])
    assert got == {1: ["unreachable"], 101: ["special"]}  # "the" never seen and "free" seen twice: no flag
    assert flags_for(con, "bert-uncased", [1, 101], categories=["special"]) == {101: ["special"]}
    assert flags_for(con, "not-scanned", [1]) == {}


def test_filters(con) -> None:
    df = token_table(con, "utf8-bytes", categories=["partial-utf8"])
    assert df["id"].tolist() == list(range(3 + 0x80, 3 + 0x100))
    seen_latin = token_table(con, "utf8-bytes", script="Latn", max_total=3)
    assert seen_latin[seen_latin["total"] > 0]["id"].tolist() == [100, 101, 108]  # seen 1..3 times: a b i
    # at most once: "b", and the 52 - 7 ASCII letters never seen (a b e f i l r are)
    assert len(token_table(con, "utf8-bytes", script="Latn", max_total=1)) == 46
    with pytest.raises(GlitchError, match="No token checks for 'gemma'"):
        token_table(con, "gemma")


def test_category_counts(con) -> None:
    row = category_counts(con, "utf8-bytes").iloc[0]
    # counts: e 8, l 4 ("all" 2, "alle" 2), r 4, f 4, space 3, a 2, i 2, b 1 (sum 28) -> rare: space, a, i, b
    assert (row["ids"], row["special"], row["partial-utf8"]) == (259, 3, 128)
    assert row["not in this database's corpora"] == 259 - 8
    assert "rare" not in row and "never-seen" not in row


def test_second_build_scans_nothing_new(store: SimpleNamespace, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copyfile(store.db, db)
    c = open_readonly(db)
    before = c.execute("SELECT tokenizer, scanned_at FROM glitch_scans ORDER BY 1").fetchall()
    c.close()
    build(db, corpora=["tiny"], tokenizers=[*TOKENIZERS, "p50k_base"], workers=1)
    c = open_readonly(db)
    after = dict(c.execute("SELECT tokenizer, scanned_at FROM glitch_scans").fetchall())
    c.close()
    assert all(after[t] == when for t, when in before)  # the earlier scans were not redone
    assert "p50k_base" in after


def test_refresh_adds_checks_to_an_old_database(store: SimpleNamespace, tmp_path: Path) -> None:

    db = tmp_path / "old.duckdb"
    _edited_copy(store.db, db, *(f"DROP TABLE {t}" for t in ("glitch_tokens", "token_frequency", "glitch_scans")))
    c = open_readonly(db)
    with pytest.raises(GlitchError, match="glitch refresh"):
        token_table(c, "utf8-bytes")
    assert flags_for(c, "utf8-bytes", [3]) == {}
    c.close()
    out = subprocess.run([sys.executable, "-m", "analysis", "glitch", "refresh", "--db", str(db), "--workers", "1"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    c = open_readonly(db)
    assert token_table(c, "utf8-bytes").set_index("id").loc[104, "total"] == 8
    c.close()


def _cli(*args: str) -> SimpleNamespace:
    """Run the CLI; output decoded without newline translation (a token may be a bare carriage return)."""
    out = subprocess.run([sys.executable, "-m", "analysis", "glitch", *args], capture_output=True, cwd=ROOT)
    return SimpleNamespace(returncode=out.returncode, stdout=out.stdout.decode(), stderr=out.stderr.decode())


def test_cli_scan_csv_and_json(store: SimpleNamespace) -> None:
    out = _cli("scan", "--tokenizer", "utf8-bytes", "--db", str(store.db), "--format", "csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(io.StringIO(out.stdout, newline="")))  # strings quoted; "\n" and "\r" inside quotes
    assert rows[0] == ["id", "token", "category", "bytes_hex", "script", "total", "n_langs", "top_langs"]
    assert rows[1 + 100] == ["100", "a", "ok", "61", "Latn", "2", "2", "deu:1, eng:1"]
    assert rows[1 + 13] == ["13", "\n", "ok", "0a", "bytes/other", "0", "0", ""]
    assert '\n100,"a","ok","61","Latn",2,2,"deu:1, eng:1"\n' in out.stdout
    assert len(rows) == 1 + 259
    out = _cli("scan", "--tokenizer", "utf8-bytes", "--db", str(store.db), "--format", "json", "--category", "partial-utf8")
    rows = json.loads(out.stdout)
    assert rows[0] == {"id": 131, "token": "<0x80>", "category": "partial-utf8", "bytes_hex": "80",
                       "script": "partial UTF-8", "total": 0, "n_langs": 0, "top_langs": ""}
    assert len(rows) == 128


def test_cli_scan_without_a_store_checks_live(tmp_path: Path) -> None:
    out = _cli("scan", "--tokenizer", "utf8-bytes", "--db", str(tmp_path / "none.duckdb"), "--format", "csv")
    assert out.returncode == 0, out.stderr
    assert "frequency columns need a built store" in out.stderr
    rows = list(csv.reader(io.StringIO(out.stdout, newline="")))
    assert rows[0] == ["id", "token", "category", "bytes_hex", "script"]
    assert rows[1 + 16][:2] == ["16", "\r"]
    assert rows[1 + 3 + 0xE4] == ["231", "<0xE4>", "partial-utf8", "e4", "partial UTF-8"]


def test_cli_scan_of_a_baseline_without_vocabulary_exits_2(tmp_path: Path) -> None:
    out = _cli("scan", "--tokenizer", "words", "--live")
    assert out.returncode == 2 and "no finite vocabulary" in out.stderr


def test_build_reuses_the_counting_workers_ids(store: SimpleNamespace) -> None:
    # The fixture's build stored the token checks from its counting workers (no second encoding).
    assert sum("stored from the counting worker's ids" in m for m in store.messages) == 2  # utf8-bytes, bert
    assert not any("scanning" in m for m in store.messages)


def _glitch_rows(db: Path, tokenizers: list[str]) -> dict[str, list]:
    c = open_readonly(db)
    try:
        marks = ", ".join("?" * len(tokenizers))
        return {
            "tokens": c.execute(f"SELECT * FROM glitch_tokens WHERE tokenizer IN ({marks}) ORDER BY tokenizer, token_id",
                                tokenizers).fetchall(),
            "frequency": c.execute(f"SELECT * FROM token_frequency WHERE tokenizer IN ({marks}) "
                                   "ORDER BY tokenizer, token_id", tokenizers).fetchall(),
            "scans": c.execute(f"SELECT tokenizer, tokenizer_sha256, corpora, checks_version, n_ids, corpus_tokens, note "
                               f"FROM glitch_scans WHERE tokenizer IN ({marks}) ORDER BY 1", tokenizers).fetchall(),
        }
    finally:
        c.close()


def _edited_copy(src: Path, dst: Path, *statements: str) -> Path:
    """A copy of the database ``src`` at ``dst`` with ``statements`` run on it (a database as older code left it)."""
    import duckdb

    shutil.copyfile(src, dst)
    c = duckdb.connect(str(dst))
    for sql in statements:
        c.execute(sql)
    c.close()
    return dst


def test_reused_ids_give_the_tables_a_second_encoding_gives(app_db: Path, tmp_path: Path) -> None:
    """On the real UDHR database (532 languages): the tables the build stored from its workers' ids equal those of
    `glitch refresh`, which encodes every unit again, row for row (top languages and their order included)."""
    import duckdb

    from analysis.glitch.store import refresh_token_checks
    from tests.conftest import APP_DB_TOKENIZERS

    scanned = [t for t in APP_DB_TOKENIZERS if t not in ("codepoints", "words")]
    built = _glitch_rows(app_db, scanned)
    assert built["tokens"] and built["frequency"]
    db = tmp_path / "again.duckdb"
    shutil.copyfile(app_db, db)
    c = duckdb.connect(str(db))
    c.execute("DELETE FROM glitch_scans")
    messages: list[str] = []
    assert sorted(refresh_token_checks(c, APP_DB_TOKENIZERS, workers=2, progress=messages.append)) == sorted(scanned)
    c.close()
    assert any("scanning" in m for m in messages)
    assert _glitch_rows(db, scanned) == built


def test_adding_a_corpus_counts_only_its_pairs_and_merges_the_stored_id_counts(store: SimpleNamespace,
                                                                               tmp_path: Path) -> None:
    """A second corpus, "more": eng "zebra", fra "été". Only its pairs are counted; no vocabulary is scanned and no unit
    of "tiny" is encoded again, yet the tables equal those of a refresh that encodes every unit of both corpora.

    utf8-bytes by hand: "e" (id 104) 8 in tiny + 1 in "zebra" = 9, still 2 languages (eng is one language in both
    corpora); "z" (id 125) was never seen, now once; 0xC3 (id 198, the lead byte of "é") twice, in fra.
    """
    import duckdb

    from analysis.glitch.store import refresh_token_checks

    db = tmp_path / "two.duckdb"
    shutil.copyfile(store.db, db)
    import_lines(tmp_path, {"eng": ["zebra"], "fra": ["été"]}, db, name="more")
    messages: list[str] = []
    report = build(db, corpora=["tiny", "more"], tokenizers=TOKENIZERS, workers=1, progress=messages.append)
    assert sorted(report.pairs_counted) == sorted(("more", t) for t in TOKENIZERS)
    assert not any("scanning" in m for m in messages)
    c = open_readonly(db)
    table = token_table(c, "utf8-bytes").set_index("id")
    c.close()
    assert (table.loc[104, "total"], table.loc[104, "n_langs"]) == (9, 2)
    assert (table.loc[125, "total"], table.loc[125, "category"]) == (1, "ok")
    assert (table.loc[198, "total"], table.loc[198, "top_langs"]) == (2, "fra:2")
    merged = _glitch_rows(db, ["utf8-bytes", "bert-uncased"])

    again = _edited_copy(db, tmp_path / "again.duckdb", "DELETE FROM glitch_scans", "DELETE FROM token_count_runs")
    c = duckdb.connect(str(again))
    messages.clear()
    refresh_token_checks(c, TOKENIZERS, workers=1, progress=messages.append)
    c.close()
    assert any("scanning 2 vocabularies and counting the ids of 2 over 6 units" in m for m in messages)
    assert _glitch_rows(again, ["utf8-bytes", "bert-uncased"]) == merged

    # A database from before the counts were kept: the units are encoded again, but the unchanged vocabularies are
    # not scanned again, and the pairs' counts are kept from then on.
    old = _edited_copy(store.db, tmp_path / "old.duckdb", "DELETE FROM token_count_runs")
    import_lines(tmp_path, {"eng": ["zebra"], "fra": ["été"]}, old, name="more")
    messages.clear()
    build(old, corpora=["tiny", "more"], tokenizers=TOKENIZERS, workers=1, progress=messages.append)
    assert any("scanning 0 vocabularies and counting the ids of 2 over 6 units" in m for m in messages)
    assert _glitch_rows(old, ["utf8-bytes", "bert-uncased"]) == merged
    c = open_readonly(old)
    assert c.execute("SELECT count(*) FROM token_count_runs").fetchone() == (4,)  # 2 corpora x 2 vocabularies
    c.close()


def test_stored_checks_missing_rows_are_scanned_again(store: SimpleNamespace, tmp_path: Path) -> None:
    """A scan record whose token rows are gone is not current: adding a corpus scans that vocabulary again."""
    db = _edited_copy(store.db, tmp_path / "gap.duckdb", "DELETE FROM glitch_tokens WHERE tokenizer = 'utf8-bytes'")
    import_lines(tmp_path, {"eng": ["zebra"]}, db, name="more")
    build(db, corpora=["tiny", "more"], tokenizers=["utf8-bytes"], workers=1)
    c = open_readonly(db)
    table = token_table(c, "utf8-bytes").set_index("id")
    c.close()
    assert len(table) == 259 and table.loc[104, "total"] == 9 and table.loc[231, "category"] == "partial-utf8"


def test_replacing_a_corpus_forgets_its_stored_id_counts(store: SimpleNamespace, tmp_path: Path) -> None:
    """Re-importing "more" without "zebra": its pairs are counted again and "z" (id 125) is never seen again."""
    db = tmp_path / "replaced.duckdb"
    shutil.copyfile(store.db, db)
    import_lines(tmp_path, {"eng": ["zebra"]}, db, name="more")
    build(db, corpora=["tiny", "more"], tokenizers=["utf8-bytes"], workers=1)
    import_lines(tmp_path, {"eng": ["free"]}, db, name="more")
    c = open_readonly(db)
    assert c.execute("SELECT count(*) FROM token_count_runs WHERE corpus = 'more'").fetchone() == (0,)
    c.close()
    build(db, corpora=["tiny", "more"], tokenizers=["utf8-bytes"], workers=1)
    c = open_readonly(db)
    table = token_table(c, "utf8-bytes").set_index("id")
    c.close()
    assert (table.loc[125, "total"], table.loc[125, "category"]) == (0, "ok")
    assert table.loc[104, "total"] == 8 + 2  # "free"


def test_build_of_a_current_database_adds_missing_checks(store: SimpleNamespace, tmp_path: Path) -> None:

    db = tmp_path / "old.duckdb"
    _edited_copy(store.db, db, "DELETE FROM glitch_scans WHERE tokenizer = 'utf8-bytes'")
    report = build(db, corpora=["tiny"], tokenizers=TOKENIZERS, workers=1)
    assert report.pairs_counted == []  # nothing recounted: only the checks were missing
    c = open_readonly(db)
    assert c.execute("SELECT corpus_tokens FROM glitch_scans WHERE tokenizer = 'utf8-bytes'").fetchone() == (28,)
    assert token_table(c, "utf8-bytes").set_index("id").loc[104, "total"] == 8
    c.close()


def test_build_without_token_checks_then_with(store: SimpleNamespace, tmp_path: Path) -> None:
    db = import_lines(tmp_path, TEXTS, tmp_path / "plain.duckdb")
    messages: list[str] = []
    build(db, corpora=["tiny"], tokenizers=["utf8-bytes"], workers=1, token_checks=False, progress=messages.append)
    assert not any("token checks" in m for m in messages)
    c = open_readonly(db)
    has = c.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'glitch_scans'").fetchone()[0]
    c.close()
    assert has == 0
    # The same build with the checks: nothing is recounted, the checks are added (encoding the units again).
    out = subprocess.run([sys.executable, "-m", "analysis", "build", "--db", str(db), "--corpus", "tiny",
                          "--tokenizers", "utf8-bytes", "--workers", "1"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "0 pair(s) counted, 1 already present" in out.stderr and "scanning 1 vocabularies" in out.stderr
    c = open_readonly(db)
    assert token_table(c, "utf8-bytes").set_index("id").loc[104, "total"] == 8
    c.close()
