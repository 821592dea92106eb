"""The petrov2023 protocol (issue 19): the string Petrov et al. (2023) tokenized, one unit per language, no CI, and the
published table shipped in assets/ compared with our counts.

The hand-made FLORES-200 folder used below (dev: two lines, devtest: one line, every file ending with a newline):

    eng_Latn  dev "Hello world", "Good day"        devtest "Hello"
              -> "Hello world Good day  Hello "     28 code points = 28 bytes
              r50k_base: "Hello" " world" " Good" " day" " " " Hello" " "  = 7 tokens
                         (15496, 995, 4599, 1110, 220, 18435, 220: each piece is one vocabulary entry)
    fra_Latn  dev "Bonjour été", "Bonne journée"   devtest "Merci"
              -> "Bonjour été Bonne journée  Merci "   11+13+5 letters and spaces + 4 joins = 33 code points;
                                                        3 é are 2 bytes each -> 36 bytes
    deu_Latn  dev "Good day", "Hello"              devtest "Good"
              -> "Good day Hello  Good "            21 code points = 21 bytes
              r50k_base: "Good" " day" " Hello" " " " Good" " " = 6 tokens (10248, 1110, 18435, 220, 4599, 220)

The split of a file ending in "\\n" ends with an empty string, so the join puts two spaces between dev and devtest
and one at the end. Premiums against eng_Latn: utf8-bytes fra 36/28 = 9/7, deu 21/28 = 3/4; codepoints fra 33/28,
deu 3/4; r50k_base deu 6/7.
"""

from __future__ import annotations

import csv
import hashlib
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pandas as pd
import pytest

from analysis import get_tokenizer, load_catalogue
from analysis import published_premiums as pub
from analysis.assets import require_asset
from analysis.corpus.imports import PETROV2023_UNIT, petrov2023_text, read_corpus, read_flores200_petrov2023
from analysis.errors import CorpusFormatError
from analysis.store import read
from analysis.store.build import build
from analysis.store.corpora import import_into_store
from analysis.store.schema import open_readonly
from analysis.tokenizers.tiktoken_backend import read_tiktoken_ranks

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "assets" / "published" / "petrov2023"
FILES = {
    "eng_Latn": ("Hello world\nGood day\n", "Hello\n"),
    "fra_Latn": ("Bonjour été\nBonne journée\n", "Merci\n"),
    "deu_Latn": ("Good day\nHello\n", "Good\n"),
}
TEXT = {"eng_Latn": "Hello world Good day  Hello ", "fra_Latn": "Bonjour été Bonne journée  Merci ",
        "deu_Latn": "Good day Hello  Good "}
BYTES = {"eng_Latn": 28, "fra_Latn": 36, "deu_Latn": 21}
CODEPOINTS = {"eng_Latn": 28, "fra_Latn": 33, "deu_Latn": 21}
R50K = {"eng_Latn": [15496, 995, 4599, 1110, 220, 18435, 220], "deu_Latn": [10248, 1110, 18435, 220, 4599, 220]}
TOKENIZERS = ["r50k_base", "utf8-bytes", "codepoints"]


def flores_folder(root: Path, files: dict[str, tuple[str, str]] = FILES) -> Path:
    for split in ("dev", "devtest"):
        (root / split).mkdir(parents=True, exist_ok=True)
    for code, (dev, devtest) in files.items():
        (root / "dev" / f"{code}.dev").write_bytes(dev.encode("utf-8"))
        (root / "devtest" / f"{code}.devtest").write_bytes(devtest.encode("utf-8"))
    return root


def published_csv() -> dict[str, dict[str, int]]:
    """The shipped table read with the csv module alone: language name -> column -> count."""
    with (SHIPPED / "tokenization_lengths.csv").open(encoding="utf-8", newline="") as f:
        return {row["Language"]: {k: int(v) for k, v in row.items() if k != "Language"} for row in csv.DictReader(f)}


# ------------------------------------------------------------------ the string


def test_text_construction_by_hand() -> None:
    assert petrov2023_text("A b.\nC\n", "d é\n") == "A b. C  d é "
    assert petrov2023_text("one\n", "two\n") == "one  two "
    assert petrov2023_text("no newline", "at the end") == "no newline at the end"
    assert petrov2023_text("\n", "\n") == "   "  # ["", ""] + ["", ""] joined: three spaces
    # Python's text mode (their open(..., 'r')) turns \r\n and a lone \r into \n before the split.
    assert petrov2023_text("a\r\nb\r\n", "c\rd\n") == "a b  c d "
    # Nothing is stripped or normalized: leading/trailing spaces, tabs and NFD stay.
    assert petrov2023_text(" x\t\n", "e\u0301\n") == " x\t  e\u0301 "


def test_reader_one_unit_per_language(tmp_path: Path) -> None:
    c = read_flores200_petrov2023(flores_folder(tmp_path / "fl"), name="fp")
    assert (c.name, c.protocol, c.unit_order) == ("fp", "petrov2023", [PETROV2023_UNIT])
    assert list(c.languages) == ["deu_Latn", "eng_Latn", "fra_Latn"]
    assert {u.lang: u.text for u in c.units} == TEXT
    assert {u.unit for u in c.units} == {"dev+devtest"}
    assert all(lang.complete for lang in c.languages.values())
    assert {code: lang.iso639_3 for code, lang in c.languages.items()} == {"deu_Latn": "deu", "eng_Latn": "eng",
                                                                           "fra_Latn": "fra"}
    for code, text in TEXT.items():
        assert (len(text.encode("utf-8")), len(text)) == (BYTES[code], CODEPOINTS[code])
    # Through read_corpus, as the CLI and the upload page call it; the sentence protocol stays the default.
    assert read_corpus("flores200", tmp_path / "fl", name="fp", protocol="petrov2023").units == c.units
    assert read_corpus("flores200", tmp_path / "fl", name="fs").unit_order == ["dev:1", "dev:2", "devtest:1"]


def test_r50k_count_from_the_vocabulary() -> None:
    # Each piece of GPT-2's pre-tokenizer split is itself a vocabulary entry, so BPE leaves it whole: the ids are
    # the pieces' ranks in the r50k_base file.
    asset = load_catalogue().files["openai/r50k_base.tiktoken"]
    ranks = read_tiktoken_ranks(require_asset(asset), expected_sha256=asset.sha256)
    pieces = {"eng_Latn": [b"Hello", b" world", b" Good", b" day", b" ", b" Hello", b" "],
              "deu_Latn": [b"Good", b" day", b" Hello", b" ", b" Good", b" "]}
    for code, parts in pieces.items():
        assert b"".join(parts) == TEXT[code].encode()
        assert [ranks[p] for p in parts] == R50K[code]
        assert get_tokenizer("r50k_base").encode(TEXT[code]).ids == R50K[code]


def test_reader_keeps_a_bom_and_refuses_utf16(tmp_path: Path) -> None:
    files = {"eng_Latn": ("\ufeffHi\n", "Yo\n")}
    c = read_flores200_petrov2023(flores_folder(tmp_path / "bom", files))
    assert c.units[0].text == "\ufeffHi  Yo "  # Python's open() keeps a UTF-8 BOM as U+FEFF
    folder = flores_folder(tmp_path / "u16", {"eng_Latn": ("Hi\n", "Yo\n")})
    (folder / "devtest" / "eng_Latn.devtest").write_bytes("Yo\n".encode("utf-16"))
    with pytest.raises(CorpusFormatError, match=r"eng_Latn.devtest: is UTF-16; the petrov2023 protocol reads files "
                                                r"as UTF-8.*iconv -f UTF-16 -t UTF-8"):
        read_flores200_petrov2023(folder)


def test_reader_needs_both_splits(tmp_path: Path) -> None:
    folder = tmp_path / "devonly"
    (folder / "dev").mkdir(parents=True)
    (folder / "dev" / "eng_Latn.dev").write_text("Hi\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError, match=r"devtest: is missing: the petrov2023 protocol joins the dev and "
                                                r"devtest files\. Import the full FLORES-200 folder"):
        read_flores200_petrov2023(folder)


def test_protocol_only_for_flores(tmp_path: Path) -> None:
    tsv = tmp_path / "x.tsv"
    tsv.write_text("eng\nhello\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError, match="The petrov2023 protocol reads FLORES-200 folders only, not 'tsv'"):
        read_corpus("tsv", tsv, name="x", protocol="petrov2023")
    with pytest.raises(CorpusFormatError, match=r"Unknown protocol 'whole'\. Choose one of: units, petrov2023"):
        read_corpus("tsv", tsv, name="x", protocol="whole")  # type: ignore[arg-type]


def test_the_sentence_checks_still_apply(tmp_path: Path) -> None:
    # Misaligned files are refused under this protocol too (the folder is checked as a FLORES-200 folder first).
    files = dict(FILES, fra_Latn=("Bonjour\n", "Merci\n"))
    with pytest.raises(CorpusFormatError, match="line-aligned files must have the same number of lines"):
        read_flores200_petrov2023(flores_folder(tmp_path / "bad", files))


# ------------------------------------------------------------------ the store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("petrov")
    folder = flores_folder(root / "flores")
    db = root / "atlas.duckdb"
    import_into_store(db, read_flores200_petrov2023(folder, name="fp"))
    build(db, corpora=["fp"], tokenizers=TOKENIZERS, workers=1, reference="eng_Latn")
    return SimpleNamespace(db=db, folder=folder, root=root)


@pytest.fixture
def con(store: SimpleNamespace):
    c = open_readonly(store.db)
    yield c
    c.close()


def test_store_records_the_protocol_and_the_one_unit(con) -> None:
    assert con.execute("SELECT protocol, n_units, unit_order FROM corpora WHERE corpus = 'fp'").fetchone() == (
        "petrov2023", 1, ["dev+devtest"])
    assert read.corpus_protocol(con, "fp") == "petrov2023"
    got = con.execute("SELECT lang, unit, text, n_bytes, n_chars FROM units WHERE corpus = 'fp' ORDER BY lang").fetchall()
    assert got == [(c, "dev+devtest", TEXT[c], BYTES[c], CODEPOINTS[c]) for c in sorted(TEXT)]
    tokens = {(t, lang): n for t, lang, n in con.execute(
        "SELECT tokenizer, lang, n_tokens FROM counts WHERE corpus = 'fp'").fetchall()}
    for code in TEXT:
        assert tokens[("utf8-bytes", code)] == BYTES[code]
        assert tokens[("codepoints", code)] == CODEPOINTS[code]
    assert tokens[("r50k_base", "eng_Latn")] == 7 and tokens[("r50k_base", "deu_Latn")] == 6


def test_one_unit_premiums_have_null_ci(con) -> None:
    # Stored (the build's reference was eng_Latn): NULL, not NaN and not a zero-width interval.
    rows = con.execute("""SELECT tokenizer, lang, premium, ci_low IS NULL, ci_high IS NULL, units FROM premium_ci
                          WHERE corpus = 'fp' AND reference = 'eng_Latn' ORDER BY tokenizer, lang""").fetchall()
    got = {(t, lang): (p, lo, hi, n) for t, lang, p, lo, hi, n in rows}
    assert got[("utf8-bytes", "fra_Latn")] == (9 / 7, True, True, 1)
    assert got[("utf8-bytes", "deu_Latn")] == (0.75, True, True, 1)
    assert got[("codepoints", "fra_Latn")] == (33 / 28, True, True, 1)
    assert got[("r50k_base", "deu_Latn")] == (6 / 7, True, True, 1)
    assert len(got) == 9 and all(v[1] and v[2] for v in got.values())
    # Computed on request against another reference: no interval either.
    df = read.premiums(con, "fp", "deu_Latn", ["codepoints"]).set_index("lang")
    assert df.loc["eng_Latn", "premium"] == 28 / 21 and df["ci_low"].isna().all() and df["ci_high"].isna().all()


def test_a_language_with_one_shared_unit_gets_no_ci(tmp_path: Path) -> None:
    # In a sentence corpus too: xxx shares only unit 1 with eng (bytes 2 vs 4), so no bootstrap interval.
    folder = tmp_path / "lines"
    folder.mkdir()
    (folder / "eng.txt").write_text("abcd\nef\n", encoding="utf-8")
    (folder / "xxx.txt").write_text("gh\n\n", encoding="utf-8")
    db = tmp_path / "a.duckdb"
    import_into_store(db, read_corpus("lines", folder, name="l"))
    build(db, corpora=["l"], tokenizers=["utf8-bytes"], workers=1, token_checks=False)
    c = open_readonly(db)
    try:
        row = c.execute("SELECT premium, ci_low, ci_high, units FROM premium_ci WHERE lang = 'xxx'").fetchone()
        assert row == (0.5, None, None, 1)
        assert c.execute("SELECT ci_low, ci_high, units FROM premium_ci WHERE lang = 'eng'").fetchone() == (1.0, 1.0, 2)
        assert read.corpus_protocol(c, "l") == "units"
    finally:
        c.close()


def test_a_database_from_before_the_protocol_column_reads_as_units(tmp_path: Path) -> None:
    # Schema version 2 shipped without corpora.protocol: such a file reads as "units", and its next write adds it.
    db = tmp_path / "old.duckdb"
    folder = tmp_path / "lines"
    folder.mkdir()
    (folder / "eng.txt").write_text("ab\n", encoding="utf-8")
    import_into_store(db, read_corpus("lines", folder, name="old"))
    raw = duckdb.connect(str(db))
    raw.execute("ALTER TABLE corpora DROP COLUMN protocol")
    raw.close()
    c = open_readonly(db)
    try:
        assert read.corpus_protocol(c, "old") == "units"
    finally:
        c.close()
    build(db, corpora=["old"], tokenizers=["codepoints"], workers=1, token_checks=False)
    c = open_readonly(db)
    try:
        assert c.execute("SELECT protocol FROM corpora").fetchone() == (None,)
        assert read.corpus_protocol(c, "old") == "units"
    finally:
        c.close()


# ------------------------------------------------------------------ the published table


def test_shipped_copies_are_the_published_files() -> None:
    got = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(SHIPPED.glob("*.csv"))}
    assert got == {
        "flores_language_map.csv": "d32106771bedb7e37bf104238e984cd9293d3c60c14684f8f069332f5cf99cfc",
        "tokenization_lengths.csv": "68ef66ea899d5f500ca2d1260a4f158ad8fdf8a18a36ce590d83828e8fc62dcc",
        "tokenization_unknown_fraction.csv": "bf2db32e9519d5b384c6990830b75725b06430e181956494b2886d33e01eb70e",
    } == pub.FILES
    readme = (SHIPPED / "README.md").read_text(encoding="utf-8")
    assert "AleksandarPetrov/tokenization-fairness" in readme and "365c3f8" in readme and "NeurIPS 2023" in readme


def test_a_changed_copy_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in pub.FILES:
        (tmp_path / name).write_bytes((SHIPPED / name).read_bytes())
    with (tmp_path / "tokenization_lengths.csv").open("ab") as f:
        f.write(b"\n")
    monkeypatch.setattr(pub, "PUBLISHED_DIR", tmp_path)
    monkeypatch.setattr(pub, "ASSETS_DIR", tmp_path.parent)
    pub._tables.cache_clear()
    try:
        with pytest.raises(pub.PublishedTableError, match=r"tokenization_lengths.csv has sha256 [0-9a-f]{64}, not the "
                                                          r"published file's 68ef66ea.*it was changed\. Restore it"):
            pub.published_counts()
    finally:
        pub._tables.cache_clear()


def test_published_table_internal_consistency() -> None:
    """What the table shows about itself, checked without the FLORES-200 text."""
    t = published_csv()
    assert len(t) == 204 and all(len(row) == 27 for row in t.values())
    rows = list(t.values())
    # GPT-2 is tiktoken's gpt2 encoding: the r50k_base vocabulary and split, so the columns are identical;
    # RoBERTa uses the same byte-level BPE (no special tokens added), so it agrees too.
    assert all(r["GPT-2"] == r["r50k_base"] == r["RoBERTa"] for r in rows)
    # p50k_edit differs from p50k_base only in special tokens.
    assert all(r["p50k_edit"] == r["p50k_base"] for r in rows)
    # p50k_base adds whitespace-run tokens to r50k_base: never more tokens, fewer in 62 languages.
    assert all(r["p50k_base"] <= r["r50k_base"] for r in rows)
    assert sum(r["p50k_base"] < r["r50k_base"] for r in rows) == 62
    # CANINE's tokenizer is one token per code point: its column equals UTF-32 everywhere.
    assert all(r["CANINE"] == r["UTF-32"] for r in rows)
    # ByT5 counts UTF-8 bytes: between 1 and 4 per code point.
    assert all(r["UTF-32"] <= r["ByT5"] <= 4 * r["UTF-32"] for r in rows)
    eng = t["English"]
    assert (eng["r50k_base"], eng["p50k_base"], eng["cl100k_base"], eng["ByT5"], eng["UTF-32"], eng["LLAMA"]) == (
        52567, 52567, 52835, 259396, 259170, 60621)


def test_language_map_covers_every_row() -> None:
    df = pub.published_counts()
    assert len(df) == 204 * 27 and df["lang"].notna().all()
    codes = df.drop_duplicates("language").set_index("language")["lang"]
    assert codes.is_unique and len(codes) == 204
    assert (codes["English"], codes["French"], codes["German"], codes["Acehnese (Arabic script)"]) == (
        "eng_Latn", "fra_Latn", "deu_Latn", "ace_Arab")


def test_columns_map_to_the_catalogue() -> None:
    everything = ["r50k_base", "p50k_base", "cl100k_base", "utf8-bytes", "codepoints", "llama2"]
    assert pub.shared_columns(everything) == {"r50k_base": "r50k_base", "p50k_base": "p50k_base",
                                              "cl100k_base": "cl100k_base", "GPT-2": "r50k_base", "ByT5": "utf8-bytes",
                                              "UTF-32": "codepoints", "LLAMA": "llama2"}
    # LLAMA attaches by itself once the catalogue has llama2 (Llama-2-7b-chat-hf's vocabulary).
    ids = load_catalogue().ids
    assert ("LLAMA" in pub.shared_columns()) == ("llama2" in ids)
    assert set(pub.shared_columns().values()) <= set(ids)


def test_published_premiums_by_hand() -> None:
    t = published_csv()
    df = pub.published_premiums({"r50k_base": "r50k_base", "ByT5": "utf8-bytes"}).set_index(["column", "lang"])
    assert df.loc[("r50k_base", "deu_Latn"), "premium"] == t["German"]["r50k_base"] / 52567
    assert df.loc[("ByT5", "fra_Latn"), "premium"] == t["French"]["ByT5"] / 259396
    assert df.loc[("ByT5", "eng_Latn"), "premium"] == 1.0
    assert len(df) == 2 * 204


def test_published_vs_ours_exact(con) -> None:
    t = published_csv()
    df = read.published_vs_ours(con, "fp")
    assert list(df.columns) == pub.COMPARISON_COLUMNS
    shared = pub.shared_columns()
    # Every shared column whose tokenizer was counted (r50k_base, GPT-2, ByT5, UTF-32) x the three languages.
    columns = [c for c, tid in shared.items() if tid in TOKENIZERS]
    assert columns == ["r50k_base", "GPT-2", "ByT5", "UTF-32"]
    assert list(df["column"].drop_duplicates()) == columns and len(df) == 4 * 3
    rows = df.set_index(["column", "lang"])
    ours = {"ByT5": BYTES, "UTF-32": CODEPOINTS}
    for column, counts in ours.items():
        for code, name in (("fra_Latn", "French"), ("deu_Latn", "German"), ("eng_Latn", "English")):
            r = rows.loc[(column, code)]
            published = t[name][column] / t["English"][column]
            assert (r["language"], r["published_tokens"], r["our_tokens"]) == (name, t[name][column], counts[code])
            assert r["published_premium"] == published
            assert r["our_premium"] == counts[code] / 28
            assert r["difference"] == counts[code] / 28 - published
    for column in ("r50k_base", "GPT-2"):
        r = rows.loc[(column, "deu_Latn")]
        assert (r["published_tokens"], r["our_tokens"], r["our_premium"]) == (t["German"]["r50k_base"], 6, 6 / 7)
        assert r["difference"] == 6 / 7 - t["German"]["r50k_base"] / 52567
    # English against itself is 1.0 on both sides; the hand-made texts agree with FLORES-200 nowhere else.
    assert sorted(df.loc[df["same_to_4_decimals"], "lang"].unique()) == ["eng_Latn"]
    assert not df["same_tokens"].any()


def test_published_vs_ours_needs_the_protocol(tmp_path: Path, store: SimpleNamespace) -> None:
    db = tmp_path / "s.duckdb"
    import_into_store(db, read_corpus("flores200", store.folder, name="fs"))
    build(db, corpora=["fs"], tokenizers=["codepoints"], workers=1, token_checks=False)
    c = open_readonly(db)
    try:
        with pytest.raises(read.StoreError, match=r"'fs' was imported with the units protocol.*--protocol petrov2023"):
            read.published_vs_ours(c, "fs")
    finally:
        c.close()


# ------------------------------------------------------------------ the CLI


def run_cli(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ATLAS_DB=str(db))
    return subprocess.run([sys.executable, "-m", "analysis", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def cli_db(store: SimpleNamespace) -> Path:
    db = store.root / "cli.duckdb"
    res = run_cli("corpus", "import", "--kind", "flores200", "--protocol", "petrov2023", "--path", str(store.folder),
                  "--name", "fp", db=db)
    assert res.returncode == 0, res.stderr
    res = run_cli("build", "--corpus", "fp", "--tokenizers", "utf8-bytes", "codepoints", "--workers", "1",
                  "--no-token-checks", db=db)
    assert res.returncode == 0, res.stderr
    return db


def test_cli_premiums_without_ci(cli_db: Path) -> None:
    res = run_cli("premiums", "--corpus", "fp", "--reference", "eng_Latn", "--format", "csv", db=cli_db)
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(res.stdout.splitlines()))
    got = {(r["tokenizer"], r["lang"]): (float(r["premium"]), r["ci_low"], r["ci_high"], r["units"]) for r in rows}
    assert got == {("utf8-bytes", "eng_Latn"): (1.0, "", "", "1"), ("utf8-bytes", "fra_Latn"): (36 / 28, "", "", "1"),
                   ("utf8-bytes", "deu_Latn"): (0.75, "", "", "1"), ("codepoints", "eng_Latn"): (1.0, "", "", "1"),
                   ("codepoints", "fra_Latn"): (33 / 28, "", "", "1"), ("codepoints", "deu_Latn"): (0.75, "", "", "1")}
    table = run_cli("premiums", "--corpus", "fp", "--reference", "eng_Latn", db=cli_db)
    assert table.stderr.startswith("# premium vs eng_Latn on fp; no CI: one unit per language (protocol petrov2023); ")


def test_cli_published_comparison(cli_db: Path) -> None:
    t = published_csv()
    res = run_cli("premiums", "--corpus", "fp", "--published", "--format", "csv", db=cli_db)
    assert res.returncode == 0, res.stderr
    df = pd.read_csv(__import__("io").StringIO(res.stdout))
    assert list(df.columns) == pub.COMPARISON_COLUMNS
    assert list(df["column"].drop_duplicates()) == ["ByT5", "UTF-32"]
    r = df.set_index(["column", "lang"]).loc[("UTF-32", "fra_Latn")]
    assert (r["published_tokens"], r["our_tokens"]) == (t["French"]["UTF-32"], 33)
    assert r["difference"] == pytest.approx(33 / 28 - t["French"]["UTF-32"] / t["English"]["UTF-32"], abs=1e-15)
    table = run_cli("premiums", "--corpus", "fp", "--published", db=cli_db)
    assert table.stderr.startswith("# published (Petrov et al., 2023) vs ours on fp, premiums vs eng_Latn; 2 of 6 "
                                   "cells agree to 4 decimals, 0 with the same token count. Source: Petrov, La Malfa, "
                                   "Torr, Bibi")


def test_cli_refuses_the_protocol_for_other_kinds(tmp_path: Path) -> None:
    tsv = tmp_path / "x.tsv"
    tsv.write_text("eng\nhello\n", encoding="utf-8")
    res = run_cli("corpus", "import", "--kind", "tsv", "--protocol", "petrov2023", "--path", str(tsv), "--name", "x",
                  db=tmp_path / "x.duckdb")
    assert res.returncode == 2
    assert "The petrov2023 protocol reads FLORES-200 folders only, not 'tsv' corpora. Choose --kind flores200" in res.stderr
    assert not (tmp_path / "x.duckdb").exists()


def test_upload_passes_the_protocol(tmp_path: Path) -> None:
    from analysis.corpus.uploads import corpus_from_upload

    with pytest.raises(CorpusFormatError, match="The petrov2023 protocol reads FLORES-200 folders only, not 'tsv'"):
        corpus_from_upload("tsv", "x.tsv", b"eng\nhello\n", name="x", workdir=tmp_path, protocol="petrov2023")
