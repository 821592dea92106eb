"""Issue 20, third pass: what a build holds and imports.

- A build (the counting, the token checks from a scan or from the checks cache, the premiums, the published
  verifications) imports neither pandas nor pyarrow: checked in a fresh interpreter after two real builds.
- The checks cache's files carry their format in their name and metadata: an entry of another format, checks
  version or vocabulary is never read (a miss: the vocabulary is scanned again and the file rewritten).
- The premiums, now computed with numpy, are the rows the pandas pivot gave, bit for bit.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest

from analysis import get_tokenizer, load_catalogue
from analysis.glitch import scan_cache
from analysis.glitch.checks import CHECKS_VERSION, scan_vocabulary
from analysis.glitch.extension import TokenChecks
from analysis.store.build import build
from analysis.store.premiums import compute_premium_ci
from tests.tiny_store import TEXTS, import_lines

ROOT = Path(__file__).resolve().parents[1]

LEAN = r"""
import json, os, sys
from pathlib import Path
import duckdb
from analysis.store.build import build
from tests.tiny_store import TEXTS, import_lines

root, out = Path(sys.argv[1]), {}
runs = {"cold": ["llama2", "r50k_base", "utf8-bytes"], "warm": ["llama2", "r50k_base"]}
for name, tokenizers in runs.items():
    if name == "warm":  # a pool of counting threads, even for this tiny job
        os.environ.update(ATLAS_POOL_MIN_BYTES="0", ATLAS_POOL_KIND="threads")
    db = import_lines(root / name, TEXTS)
    said = []
    build(db, corpora=["tiny"], tokenizers=tokenizers, workers=2, progress=said.append)
    with duckdb.connect(str(db), read_only=True) as con:
        q = lambda sql: con.execute(sql).fetchall()
        out[name] = {
            "modules": sorted(m for m in ("pandas", "pyarrow") if m in sys.modules),
            "said": said,
            "tokens": q("SELECT tokenizer, count(*) FROM glitch_tokens GROUP BY 1 ORDER BY 1"),
            "scans": q("SELECT tokenizer, n_ids FROM glitch_scans WHERE note IS NULL ORDER BY 1"),
            "rows": q("SELECT tokenizer, token_id, token_bytes::VARCHAR, display, script, flags FROM glitch_tokens "
                      "WHERE token_id % 997 = 0 OR token_bytes IS NOT NULL ORDER BY ALL"),
            "frequency": q("SELECT tokenizer, token_id, total, n_langs, top_langs, top_counts FROM token_frequency "
                           "ORDER BY ALL"),
            "premium": q("SELECT tokenizer, lang, premium, units FROM premium_ci ORDER BY ALL"),
            "published": q("SELECT tokenizer, \"check\", count(*) FROM published_tokens WHERE tokenizer IN "
                           "('llama2', 'r50k_base') GROUP BY ALL ORDER BY ALL"),
        }
print(json.dumps(out, default=str))
"""


def test_a_build_imports_no_pandas_or_pyarrow(tmp_path: Path) -> None:
    """Two real builds in a fresh interpreter: one scanning the vocabularies (counted in this process), one taking
    them from the checks cache (counted by threads); neither imports pandas or pyarrow, and both store the same
    checks."""
    env = {**os.environ, "ATLAS_CHECKS_CACHE": str(tmp_path / "checks"), "PYTHONPATH": str(ROOT)}
    env.pop("ATLAS_POOL_MIN_BYTES", None)
    env.pop("ATLAS_POOL_KIND", None)
    proc = subprocess.run([sys.executable, "-c", LEAN, str(tmp_path)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    cold, warm = out["cold"], out["warm"]
    assert cold["modules"] == [] and warm["modules"] == []
    # The guards: each build did what a build does. The cold one scanned both vocabularies, the warm one read them
    # from the cache, on threads.
    assert not any("taken from the cache" in m for m in cold["said"])
    assert "vocabulary checks of llama2, r50k_base taken from the cache (see analysis.glitch.scan_cache)" in warm["said"]
    assert any("(threads of this process)" in m for m in warm["said"])
    assert cold["tokens"] == cold["scans"] == [["llama2", 32000], ["r50k_base", 50257], ["utf8-bytes", 259]]
    assert warm["tokens"] == warm["scans"] == [["llama2", 32000], ["r50k_base", 50257]]
    for table in ("rows", "frequency"):  # the same rows from the scan and from the cache
        assert [r for r in cold[table] if r[0] != "utf8-bytes"] == warm[table] != []
    # utf8-bytes: tokens = bytes, so ell's premium is 25 / 20 bytes over the two units (tests/tiny_store.py)
    assert ["utf8-bytes", "ell", 1.25, 2] in cold["premium"]
    assert cold["published"] == warm["published"]
    assert {r[1] for r in cold["published"]} <= {"match", "mismatch", "id not in vocabulary"}
    assert sum(r[2] for r in cold["published"]) == 11 + 26  # llama2's and r50k_base's rows in tokens.csv


# ------------------------------------------------------------------ the checks cache's format


def _write_like(src: Path, dst: Path, *, meta: dict[str, str], limit: int | None = None) -> None:
    """``src``'s rows (the first ``limit``) as a Parquet file ``dst`` with the metadata ``meta``."""
    options = ", ".join(f"{k}: '{v}'" for k, v in meta.items())
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * FROM read_parquet('{src}') {f'LIMIT {limit}' if limit else ''}) TO '{dst}' "
                    f"(FORMAT parquet, KV_METADATA {{{options}}})")


def _metadata(path: Path) -> dict[str, str]:
    with duckdb.connect() as con:
        return dict(con.execute("SELECT decode(key), decode(value) FROM parquet_kv_metadata(?)", [str(path)]).fetchall())


def test_a_cache_entry_of_another_format_or_version_is_never_read(tmp_path: Path, monkeypatch) -> None:
    import pyarrow as pa  # only to write what the previous format's cache held

    monkeypatch.setenv("ATLAS_CHECKS_CACHE", str(tmp_path / "checks"))
    sha = load_catalogue().describe("bert-uncased").sha256
    scan = scan_vocabulary(get_tokenizer("bert-uncased"))
    assert len(scan) == 30522
    # Format 1, as the previous code wrote it: an Arrow IPC file named <sha256>.checks-v2.arrow.
    old = tmp_path / "checks" / f"{sha}.checks-v{CHECKS_VERSION}.arrow"
    old.parent.mkdir()
    table = pa.table({"token_bytes": pa.array(list(scan.token_bytes), pa.binary()),
                      "display": pa.array(list(scan.display), pa.string()),
                      "script": pa.array(list(scan.script), pa.string()),
                      "flags": pa.array(np.asarray(scan.flags, dtype=np.uint16))}).replace_schema_metadata(
        {"sha256": sha, "checks_version": CHECKS_VERSION, "seconds": "1.5", "tokenizer": "bert-uncased"})
    with pa.OSFile(str(old), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    old_bytes = old.read_bytes()
    assert scan_cache.cache_path(sha).name == f"{sha}.checks-v2.format-2.parquet"
    assert scan_cache.cache_path_of("bert-uncased") is None and scan_cache.cached_checks("bert-uncased") is None
    plan = TokenChecks().plan_workers(None, ["bert-uncased"])
    assert (plan.run, plan.cached) == (("bert-uncased",), ())  # to be scanned: the old file is not this format
    path = scan_cache.cache_path(sha)
    shutil.copyfile(old, path)  # the old format under this format's name: not Parquet, a miss
    assert scan_cache.cached_checks("bert-uncased") is None and scan_cache.cached_scan("bert-uncased") is None
    path.unlink()

    good = scan_cache.store_scan("bert-uncased", scan, 1.5)
    assert good == path
    meta = _metadata(good)
    assert meta == {"sha256": sha, "checks_version": CHECKS_VERSION, "format": "2", "n_ids": "30522",
                    "seconds": "1.5", "tokenizer": "bert-uncased"}
    hit = scan_cache.cached_checks("bert-uncased")
    assert hit == scan_cache.CachedChecks("bert-uncased", good, 30522, 1.5)
    got, seconds = scan_cache.cached_scan("bert-uncased")
    assert seconds == 1.5 and list(got.token_bytes) == list(scan.token_bytes)
    assert list(got.display) == list(scan.display) and list(got.script) == list(scan.script)
    assert np.array_equal(got.flags, scan.flags) and got.flags.dtype == np.uint16

    kept = tmp_path / "good.parquet"
    shutil.copyfile(good, kept)
    for changed, limit in [({"checks_version": "1"}, None), ({"format": "1"}, None), ({"sha256": "0" * 64}, None),
                           ({}, 30000), ({"n_ids": "30000"}, 30000), ({"n_ids": "many"}, None)]:
        _write_like(kept, path, meta={**meta, **changed}, limit=limit)
        assert scan_cache.cached_checks("bert-uncased") is None, (changed, limit)
    # A build on that cache (its last file: metadata that do not parse) scans the vocabulary again, stores what
    # the scan found and replaces the file; the old format's file is left as it was.
    said: list[str] = []
    db = import_lines(tmp_path / "db", TEXTS)
    build(db, corpora=["tiny"], tokenizers=["bert-uncased"], workers=1, progress=said.append)
    assert not any("taken from the cache" in m for m in said)
    assert _metadata(path) == {**meta, "seconds": _metadata(path)["seconds"]}
    assert scan_cache.cached_checks("bert-uncased") is not None
    assert old.read_bytes() == old_bytes
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT display, script, flags FROM glitch_tokens ORDER BY token_id").fetchall()
        blobs = con.execute("SELECT token_id, token_bytes FROM glitch_tokens WHERE token_bytes IS NOT NULL "
                            "ORDER BY token_id").fetchall()
    assert rows == [(d, s, int(f)) for d, s, f in zip(scan.display.tolist(), scan.script.tolist(),
                                                        scan.flags.tolist(), strict=True)]
    # bytes kept only where they are not the display string's UTF-8 (bert-uncased spells every entry in UTF-8)
    assert blobs == [(i, b) for i, b in enumerate(scan.token_bytes.tolist()) if b != scan.display[i].encode()]


# ------------------------------------------------------------------ premiums: numpy, bit for bit the pandas pivot


def _pandas_premium_ci(con: duckdb.DuckDBPyConnection, corpus: str, tokenizer: str, reference: str) -> list[tuple]:
    """What compute_premium_ci computed before this pass: the pair's counts pivoted with pandas."""
    from analysis.metrics import premium_ci_table

    frame = con.execute(
        """SELECT c.lang, u.position, c.unit, c.n_tokens FROM counts c JOIN units u USING (corpus, lang, unit)
           WHERE c.corpus = ? AND c.tokenizer = ? ORDER BY c.lang, u.position, c.unit""", [corpus, tokenizer]).df()
    is_ref = (frame["lang"] == reference).to_numpy()
    if not is_ref.any():
        return []
    ref = frame[is_ref].set_index("unit")["n_tokens"]
    ref = ref[ref > 0]
    matrix = frame.pivot(index="lang", columns="unit", values="n_tokens").reindex(columns=list(ref.index))
    return premium_ci_table(corpus, tokenizer, reference, matrix.index.tolist(), matrix.to_numpy(dtype=np.float64),
                            ref.to_numpy(dtype=np.float64))


def _bits(rows: list[tuple]) -> list[tuple]:
    return [tuple(("nan" if math.isnan(v) else v.hex()) if isinstance(v, float) else v for v in r) for r in rows]


@pytest.mark.parametrize("tokenizer", ["o200k_base", "llama3", "utf8-bytes"])
@pytest.mark.parametrize("reference", ["eng", "cmn_hans"])
def test_premiums_are_the_pandas_pivots_bit_for_bit(app_db: Path, tokenizer: str, reference: str) -> None:
    with duckdb.connect(str(app_db), read_only=True) as con:
        ours = compute_premium_ci(con, "udhr", tokenizer, reference)
        theirs = _pandas_premium_ci(con, "udhr", tokenizer, reference)
        stored = con.execute("SELECT corpus, tokenizer, lang, reference, premium, ci_low, ci_high, units, b, seed "
                             "FROM premium_ci WHERE corpus = 'udhr' AND tokenizer = ? AND reference = ? ORDER BY lang",
                             [tokenizer, reference]).fetchall()
    assert len(ours) > 500 and _bits(ours) == _bits(theirs)
    if reference == "eng":  # what the build stored (NULL where there is no interval) is those rows
        assert _bits(stored) == _bits([tuple(None if isinstance(v, float) and math.isnan(v) else v for v in r)
                                       for r in ours])
