"""``python -m analysis`` store commands, run as real subprocesses against a real DuckDB file in a tmp folder.

ATLAS_CACHE is left as it is (the verified vocabularies); ATLAS_DB points into the test's tmp folder, so every
command without ``--db`` uses it.

The corpus is one TSV, counted by hand (utf8-bytes = UTF-8 bytes, codepoints = characters):

    id  eng              deu              spa             bytes eng/deu/spa   chars eng/deu/spa
    a   Good morning.    Guten Morgen.    Buenos días.      13 / 13 / 13        13 / 13 / 12   (í: 2 bytes)
    b   Thank you.       Danke schön.     Gracias.          10 / 13 /  8        10 / 12 /  8   (ö: 2 bytes)
    c   Yes              Ja               (empty)            3 /  2 /  -         3 /  2 /  -

Premiums against eng (ratio of sums over the units both have; spa lacks c):
    utf8-bytes  deu (13 + 13 + 2) / (13 + 10 + 3) = 28/26    spa (13 + 8) / (13 + 10) = 21/23
    codepoints  deu (13 + 12 + 2) / 26            = 27/26    spa (12 + 8) / 23        = 20/23
Against deu:
    utf8-bytes  eng 26/28                                    spa (13 + 8) / (13 + 13) = 21/26
    codepoints  eng 26/27                                    spa (12 + 8) / (13 + 12) = 20/25
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis.config import ROOT

TSV = ("id\teng\tdeu\tspa\n"
       "a\tGood morning.\tGuten Morgen.\tBuenos días.\n"
       "b\tThank you.\tDanke schön.\tGracias.\n"
       "c\tYes\tJa\t\n")
PER_UNIT = {  # tokenizer -> lang -> {unit: tokens}
    "utf8-bytes": {"eng": {"a": 13, "b": 10, "c": 3}, "deu": {"a": 13, "b": 13, "c": 2}, "spa": {"a": 13, "b": 8}},
    "codepoints": {"eng": {"a": 13, "b": 10, "c": 3}, "deu": {"a": 13, "b": 12, "c": 2}, "spa": {"a": 12, "b": 8}},
}
COLUMNS = ["tokenizer", "lang", "name", "script", "premium", "ci_low", "ci_high", "units", "unk_flag"]


def boot_ci(n_lang: list[int], n_ref: list[int]) -> tuple[float, float]:
    """The documented bootstrap (B = 1000, seed 0, percentiles 2.5/97.5), written out independently."""
    a, r = np.asarray(n_lang, dtype=np.float64), np.asarray(n_ref, dtype=np.float64)
    idx = np.random.default_rng(0).integers(0, a.size, size=(1000, a.size))
    low, high = np.percentile(a[idx].sum(axis=1) / r[idx].sum(axis=1), [2.5, 97.5])
    return float(low), float(high)


def expected(reference: str) -> dict[tuple[str, str], tuple[float, float, float, int]]:
    """(tokenizer, lang) -> (premium, ci_low, ci_high, units), from the hand counts above."""
    out = {}
    for tok, langs in PER_UNIT.items():
        ref = langs[reference]
        for lang, units in langs.items():
            both = [u for u in "abc" if u in units and u in ref]
            n_l, n_r = [units[u] for u in both], [ref[u] for u in both]
            out[(tok, lang)] = (sum(n_l) / sum(n_r), *boot_ci(n_l, n_r), len(both))
    return out


def test_expected_premiums_are_the_hand_fractions() -> None:
    eng, deu = expected("eng"), expected("deu")
    assert [eng[("utf8-bytes", "deu")][0], eng[("utf8-bytes", "spa")][0]] == [28 / 26, 21 / 23]
    assert [eng[("codepoints", "deu")][0], eng[("codepoints", "spa")][0]] == [27 / 26, 20 / 23]
    assert [deu[("utf8-bytes", "eng")][0], deu[("utf8-bytes", "spa")][0]] == [26 / 28, 21 / 26]
    assert [deu[("codepoints", "eng")][0], deu[("codepoints", "spa")][0]] == [26 / 27, 20 / 25]
    assert eng[("utf8-bytes", "spa")][3] == 2 and eng[("utf8-bytes", "deu")][3] == 3


def run_cli(*args: str, db: Path | None) -> subprocess.CompletedProcess[str]:
    """``python -m analysis ARGS`` with ATLAS_DB set to ``db`` (or unset) and ATLAS_CACHE unchanged."""
    env = dict(os.environ)
    env.pop("ATLAS_DB", None)
    if db is not None:
        env["ATLAS_DB"] = str(db)
    return subprocess.run([sys.executable, "-m", "analysis", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The TSV imported and counted through the CLI, both commands taking the database from ATLAS_DB."""
    root = tmp_path_factory.mktemp("cli")
    tsv = root / "mini.tsv"
    tsv.write_text(TSV, encoding="utf-8")
    db = root / "atlas.duckdb"
    imported = run_cli("corpus", "import", "--kind", "tsv", "--path", str(tsv), "--name", "mini", db=db)
    built = run_cli("build", "--corpus", "mini", "--tokenizers", "utf8-bytes", "codepoints", "--workers", "1", db=db)
    return SimpleNamespace(root=root, db=db, tsv=tsv, imported=imported, built=built)


def test_import_and_build(store: SimpleNamespace) -> None:
    assert store.imported.returncode == 0, store.imported.stderr
    assert "corpus mini: 3 languages, 8 units" in store.imported.stderr
    assert (f"imported 'mini' into {store.db}; count it with `python -m analysis build --db {store.db} --corpus mini`"
            in store.imported.stderr)
    assert store.built.returncode == 0, store.built.stderr
    assert "counting 2 (corpus x tokenizer) pair(s) on 1 worker(s)" in store.built.stderr
    assert "2 pair(s) counted, 0 already present" in store.built.stderr
    assert store.db.is_file() and not list(store.root.glob(".building-*"))


def check_rows(rows: list[dict], reference: str, *, exact: bool = True) -> None:
    want = expected(reference)
    assert len(rows) == 6
    got = {}
    for r in rows:
        assert r["script"] == "Latn" and r["name"] == r["lang"] and str(r["unk_flag"]) == "False"
        got[(r["tokenizer"], r["lang"])] = (float(r["premium"]), float(r["ci_low"]), float(r["ci_high"]),
                                            int(r["units"]))
    if exact:
        assert got == want
    else:  # JSON carries 10 significant digits (pandas' default double_precision)
        assert set(got) == set(want)
        for key, values in want.items():
            assert got[key] == pytest.approx(values, rel=1e-9), key
    # One block per tokenizer, ordered by premium inside it: spa < eng < deu against either reference
    # (eng: 20/23 < 1 < 27/26 and 21/23 < 1 < 28/26; deu: 20/25 < 26/27 < 1 and 21/26 < 26/28 < 1).
    order = [(r["tokenizer"], r["lang"]) for r in rows]
    assert order == [(t, lang) for t in ("codepoints", "utf8-bytes") for lang in ("spa", "eng", "deu")]


def test_premiums_csv(store: SimpleNamespace) -> None:
    res = run_cli("premiums", "--corpus", "mini", "--format", "csv", db=store.db)
    assert res.returncode == 0, res.stderr
    df = pd.read_csv(io.StringIO(res.stdout), dtype={"unk_flag": str})
    assert list(df.columns) == COLUMNS
    check_rows(df.to_dict("records"), "eng")


def test_premiums_json(store: SimpleNamespace) -> None:
    res = run_cli("premiums", "--corpus", "mini", "--format", "json", db=store.db)
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert [list(r) for r in rows] == [COLUMNS] * 6
    check_rows(rows, "eng", exact=False)


def test_premiums_table(store: SimpleNamespace) -> None:
    res = run_cli("premiums", "--corpus", "mini", "--format", "table", db=store.db)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split() == COLUMNS
    # Six rows, each with the premium to 6 decimals: 28/26 = 1.076923, 21/23 = 0.913043, 27/26 = 1.038462, ...
    cells = [line.split() for line in lines[1:]]
    assert [(c[0], c[1], c[4], c[7], c[8]) for c in cells] == [
        ("codepoints", "spa", "0.869565", "2", "False"), ("codepoints", "eng", "1.000000", "3", "False"),
        ("codepoints", "deu", "1.038462", "3", "False"), ("utf8-bytes", "spa", "0.913043", "2", "False"),
        ("utf8-bytes", "eng", "1.000000", "3", "False"), ("utf8-bytes", "deu", "1.076923", "3", "False")]
    want = expected("eng")
    for c in cells:
        assert [float(c[5]), float(c[6])] == pytest.approx(want[(c[0], c[1])][1:3], abs=5e-7)
    # The header line on stderr states the reference, the bootstrap and the counting policy.
    assert res.stderr.startswith("# premium vs eng on mini; 95% bootstrap CI (B=1000, seed=0, percentile 2.5/97.5); "
                                 "counting policy: no BOS/EOS")
    assert res.stderr.rstrip().endswith("normalization: none")


def test_premiums_against_another_reference(store: SimpleNamespace) -> None:
    res = run_cli("premiums", "--corpus", "mini", "--reference", "deu", "--format", "csv", db=store.db)
    assert res.returncode == 0, res.stderr
    df = pd.read_csv(io.StringIO(res.stdout), dtype={"unk_flag": str})
    assert list(df.columns) == COLUMNS
    check_rows(df.to_dict("records"), "deu")


def test_premiums_one_tokenizer(store: SimpleNamespace) -> None:
    res = run_cli("premiums", "--corpus", "mini", "--tokenizer", "codepoints", "--format", "csv", db=store.db)
    assert res.returncode == 0, res.stderr
    df = pd.read_csv(io.StringIO(res.stdout))
    assert df["tokenizer"].tolist() == ["codepoints"] * 3
    assert df["premium"].tolist() == [20 / 23, 1.0, 27 / 26]


def test_unknown_reference_exits_2(store: SimpleNamespace) -> None:
    res = run_cli("premiums", "--corpus", "mini", "--reference", "zzz", db=store.db)
    assert res.returncode == 2
    assert res.stdout == ""
    assert res.stderr.strip() == ("error: Statistics database problem: Reference language 'zzz' is not in corpus "
                                  "'mini'. Its codes look like: deu, eng, spa, ...")


def test_tokenizer_not_counted_exits_2(store: SimpleNamespace) -> None:
    res = run_cli("premiums", "--corpus", "mini", "--tokenizer", "o200k_base", db=store.db)
    assert res.returncode == 2
    assert "Not counted on 'mini': o200k_base. Counted: codepoints, utf8-bytes." in res.stderr
    assert "`python -m analysis build --corpus mini --tokenizers o200k_base`" in res.stderr


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_premiums(store: SimpleNamespace, fmt: str, tmp_path: Path) -> None:
    out = tmp_path / f"premiums.{fmt}"
    # --db wins over ATLAS_DB (which points at nothing here).
    res = run_cli("export", "--db", str(store.db), "--table", "premiums", "--format", fmt, "--out", str(out),
                  db=tmp_path / "elsewhere.duckdb")
    assert res.returncode == 0, res.stderr
    assert res.stderr.strip() == f"wrote {out}"
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no temporary file left beside it
    mem = duckdb.connect()
    reader = "read_csv" if fmt == "csv" else "read_parquet"
    back = mem.execute(f"SELECT * FROM {reader}(?) ORDER BY tokenizer, lang", [str(out)]).df()
    mem.close()
    con = duckdb.connect(str(store.db), read_only=True)
    stored = con.execute("SELECT * FROM premiums ORDER BY tokenizer, lang").df()
    con.close()
    assert list(back.columns) == list(stored.columns) == [
        "corpus", "tokenizer", "lang", "name", "script", "reference", "premium", "ci_low", "ci_high", "units",
        "unk_flag", "b", "seed"]
    pd.testing.assert_frame_equal(back, stored, check_dtype=False)
    rows = {(r.tokenizer, r.lang): (r.premium, r.ci_low, r.ci_high, r.units) for r in back.itertuples()}
    assert rows == expected("eng")
    assert set(back["b"]) == {1000} and set(back["seed"]) == {0} and set(back["reference"]) == {"eng"}


def test_export_unknown_table_exits_2(store: SimpleNamespace, tmp_path: Path) -> None:
    res = run_cli("export", "--table", "secrets", "--format", "csv", "--out", str(tmp_path / "x.csv"), db=store.db)
    assert res.returncode == 2
    assert "Cannot export 'secrets'; choose one of: meta, tokenizers, corpora, languages, units, counts, runs, " \
           "premium_ci, lang_stats, premiums." in res.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["premiums", "--corpus", "mini"],
                                     ["export", "--table", "premiums", "--format", "csv", "--out", "unused.csv"]],
                         ids=["premiums", "export"])
def test_missing_database_exits_2(command: list[str], tmp_path: Path) -> None:
    db = tmp_path / "missing.duckdb"
    res = run_cli(*command, db=db)
    assert res.returncode == 2
    assert res.stderr.strip() == (
        f"error: Statistics database not built yet: No statistics database at {db}. Build it with "
        f"`python -m analysis build --db {db}` (about a minute for the UDHR with every default tokenizer).")
    assert not db.exists() and not (ROOT / "unused.csv").exists()


def test_bad_tsv_import_leaves_the_database_as_it_was(store: SimpleNamespace, tmp_path: Path) -> None:
    db = tmp_path / "atlas.duckdb"
    db.write_bytes(store.db.read_bytes())
    digest = sha256(db)
    bad = tmp_path / "mini.tsv"
    bad.write_text(TSV.replace("b\tThank you.\t", "b\tThank you.\t\t"), encoding="utf-8")  # 5 cells on line 3
    res = run_cli("corpus", "import", "--kind", "tsv", "--path", str(bad), "--name", "mini", db=db)
    assert res.returncode == 2
    assert f"error: Corpus cannot be imported: {bad}, line 3: has 5 cells but the header has 4 columns." in res.stderr
    assert sha256(db) == digest
    assert not list(tmp_path.glob(".building-*"))


def test_premiums_json_is_exact(store: SimpleNamespace) -> None:
    res = run_cli("premiums", "--corpus", "mini", "--format", "json", "--tokenizer", "utf8-bytes", db=store.db)
    rows = {(r["tokenizer"], r["lang"]): r["premium"] for r in json.loads(res.stdout)}
    assert rows[("utf8-bytes", "deu")] == 28 / 26  # 1.0769230769230769, printed as 1.0769230769
