"""Builds on Ray: the same tables as the local engine, a killed worker retried, an interrupted run resumed.

One local Ray instance (``num_cpus=2``) serves the whole module (starting Ray takes seconds). Its workers inherit
``ATLAS_TEST_KILL_WORKER_ONCE``: when a test creates that file ("arms" it), the first task to rename it away kills
its own worker process with SIGKILL between writing its partition's temporary file and renaming it, as a crash
would; Ray then retries the task on a new worker.

The reference for every comparison is a build of the same corpora with the local engine (a process pool), whose
numbers tests/test_store.py and tests/test_monolingual.py check by hand.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
import zstandard

from analysis.config import ROOT
from analysis.corpus.model import ParallelCorpus
from analysis.corpus.monolingual import scan_monolingual
from analysis.corpus.udhr import load_udhr
from analysis.store import parquet_counts as pc
from analysis.store.build import build
from analysis.store.corpora import import_into_store, import_mono_into_store

ray = pytest.importorskip("ray")

LANGS = ["eng", "hin", "cmn_hans", "amh", "tha", "bod"]  # Latin, Devanagari, Han, Ethiopic, Thai, Tibetan
TOKENIZERS = ["o200k_base", "mistral-v1", "bert-uncased", "utf8-bytes"]  # tiktoken, SentencePiece (byte fallback), UNK
SHARD_UNITS = 50  # 6 x 31 units, one missing in the source: 185 -> 4 shards
TABLES = ["meta", "tokenizers", "corpora", "languages", "units", "counts", "runs", "premium_ci", "lang_stats",
          "mono_corpora", "mono_files", "mono_languages", "mono_shards", "mono_counts", "mono_runs", "mono_stats"]
TIMES = {"runs": {"built_at", "seconds"}, "corpora": {"imported_at"}, "mono_corpora": {"imported_at"},
         "mono_runs": {"built_at", "seconds"}}


def snapshot(db: Path, tokenizers: list[str] | None = None) -> dict[str, list[tuple]]:
    """Every row of every table, sorted, without the columns that hold times (build time, seconds taken)."""
    con = duckdb.connect(str(db), read_only=True)
    out = {}
    for table in TABLES:
        cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] not in TIMES.get(table, set())]
        where = " WHERE key <> 'built_at'" if table == "meta" else ""
        if tokenizers is not None and "tokenizer" in cols:
            where = " WHERE list_contains(?, tokenizer)"
        out[table] = con.execute(f"SELECT {', '.join(cols)} FROM {table}{where} ORDER BY ALL",
                                 [tokenizers] if "list_contains" in where else None).fetchall()
    con.close()
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def partitions(root: Path) -> list[Path]:
    return sorted(root.rglob("part-*.parquet"))


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """A 6-language UDHR excerpt as a parallel corpus, and the same texts as a monolingual folder."""
    udhr = load_udhr()
    units = [u for u in udhr.units if u.lang in LANGS]
    parallel = ParallelCorpus("mini", "test: UDHR excerpt", {c: udhr.languages[c] for c in LANGS}, units,
                              udhr.unit_order)
    root = tmp_path_factory.mktemp("mono") / "monomini"
    root.mkdir()
    text = {c: "".join(f"{u.text}\n" for u in units if u.lang == c).encode() for c in LANGS}
    (root / "eng").mkdir()
    (root / "eng" / "a.txt").write_bytes(text["eng"])  # ~11 KB plain: several 4 KiB shards
    (root / "eng" / "b.txt.gz").write_bytes(gzip.compress(text["tha"][:3000].rsplit(b"\n", 1)[0] + b"\n"))
    (root / "hin.txt.zst").write_bytes(zstandard.ZstdCompressor().compress(text["hin"]))
    (root / "cmn_Hans.txt").write_bytes(text["cmn_hans"])
    (root / "bod.txt").write_bytes(text["bod"])
    mono = scan_monolingual(root, name="monomini", shard_bytes=4096, sample=0.8, seed=3)
    return SimpleNamespace(parallel=parallel, mono=mono)


def imported(corpora: SimpleNamespace, path: Path) -> Path:
    import_into_store(path, corpora.parallel)
    import_mono_into_store(path, corpora.mono)
    return path


@pytest.fixture(scope="module")
def local(corpora: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = imported(corpora, tmp_path_factory.mktemp("local") / "atlas.duckdb")
    build(db, corpora=["mini", "monomini"], tokenizers=TOKENIZERS, workers=2)
    return db


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    arm = tmp_path_factory.mktemp("faults") / "kill-once"
    os.environ[pc.KILL_ONCE_ENV] = str(arm)  # the raylet and the workers it starts inherit it
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    try:
        yield SimpleNamespace(arm=arm, address=ray.get_runtime_context().gcs_address)
    finally:
        ray.shutdown()
        del os.environ[pc.KILL_ONCE_ENV]


@pytest.fixture(scope="module")
def on_ray(cluster, corpora: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    db = imported(corpora, tmp_path_factory.mktemp("ray") / "atlas.duckdb")
    lines: list[str] = []
    report = build(db, corpora=["mini", "monomini"], tokenizers=TOKENIZERS, engine="ray", shard_units=SHARD_UNITS,
                   progress=lines.append)
    return SimpleNamespace(db=db, report=report, lines=lines)


# ------------------------------------------------------------------ the same tables


def test_ray_and_local_builds_are_identical(local: Path, on_ray: SimpleNamespace, corpora: SimpleNamespace) -> None:
    expected, got = snapshot(local), snapshot(on_ray.db)
    for table in TABLES:
        assert got[table] == expected[table], table
    # Not vacuous: every tokenizer counted every unit; UNK, byte fallback and withheld words all occur.
    assert len(got["counts"]) == 4 * 185 and len(got["mono_counts"]) == 4 * len(corpora.mono.shards)
    con = duckdb.connect(str(on_ray.db), read_only=True)
    assert con.execute("SELECT sum(n_unk) > 0, sum(n_byte_fallback) > 0, count(*) - count(n_continued) > 0 "
                       "FROM counts").fetchone() == (True, True, True)
    assert con.execute("SELECT count(*) FROM mono_stats WHERE words IS NULL").fetchone()[0] == 4  # bod
    con.close()
    assert (on_ray.report.engine, on_ray.report.tasks_reused) == ("ray", 0)
    shards = len(corpora.mono.shards)
    assert on_ray.report.tasks_run == 4 * 4 + shards + 4 * shards  # parallel shards x tokenizers; mono text; mono


def test_partitions_are_one_parquet_dataset(on_ray: SimpleNamespace) -> None:
    # One file per (corpus, tokenizer, shard), hive-partitioned; DuckDB reads the whole dataset directly.
    root = Path(f"{on_ray.db}.parts")
    files = partitions(root / "counts")
    assert len(files) == 4 * 4
    assert {f.relative_to(root / "counts").parts[:2] for f in files} == {
        ("corpus=mini", f"tokenizer={t}") for t in TOKENIZERS}
    con = duckdb.connect(str(on_ray.db), read_only=True)
    from_files = con.execute(
        f"SELECT corpus, tokenizer, lang, unit, n_tokens, n_unk, n_byte_fallback, n_continued FROM read_parquet("
        f"'{root}/counts/*/*/*/*.parquet', hive_partitioning = true) ORDER BY ALL").fetchall()
    assert from_files == con.execute("SELECT * FROM counts ORDER BY ALL").fetchall()
    con.close()
    assert list(root.rglob("*.tmp")) == []


def test_progress_lines(on_ray: SimpleNamespace) -> None:
    total = on_ray.report.tasks_run
    assert on_ray.lines[0].startswith(f"running {total} task(s) on the ray engine")
    # The last task line (the glitch-token checks that follow the counting print lines of their own).
    last = [line for line in on_ray.lines if line.startswith("[") and " tasks, " in line][-1]
    assert last.startswith(f"[{total}/{total}] tasks, ") and " MB/s " in last and "(ray; last: " in last


# ------------------------------------------------------------------ faults


def test_a_worker_killed_mid_task_is_retried(cluster, local: Path, corpora: SimpleNamespace, tmp_path: Path) -> None:
    db = imported(corpora, tmp_path / "atlas.duckdb")
    cluster.arm.write_text("armed")
    two = ["utf8-bytes", "bert-uncased"]
    report = build(db, corpora=["mini"], tokenizers=two, engine="ray", shard_units=SHARD_UNITS)
    assert not cluster.arm.exists() and Path(f"{cluster.arm}.fired").exists()  # a worker did die
    Path(f"{cluster.arm}.fired").unlink()
    assert report.tasks_run == 2 * 4 and sorted(report.pairs_counted) == [("mini", t) for t in sorted(two)]
    expected, got = snapshot(local, two), snapshot(db, two)
    for table in ("counts", "premium_ci", "lang_stats", "runs", "units"):
        assert got[table] == expected[table], table
    root = Path(f"{db}.parts")
    assert len(partitions(root)) == 2 * 4 and list(root.rglob("*.tmp")) == []  # the dead task's temp file is gone


def test_an_interrupted_run_resumes_and_skips_finished_partitions(cluster, local: Path, corpora: SimpleNamespace,
                                                                   tmp_path: Path) -> None:
    db = imported(corpora, tmp_path / "atlas.duckdb")
    before = sha256(db)
    three = ["o200k_base", "bert-uncased", "utf8-bytes"]

    def interrupt(message: str) -> None:  # Ctrl-C as the first task finishes
        if message.startswith("["):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build(db, corpora=["mini"], tokenizers=three, engine="ray", shard_units=SHARD_UNITS, progress=interrupt)
    assert sha256(db) == before  # the database is as it was
    root = Path(f"{db}.parts")
    finished = {p: p.stat().st_mtime_ns for p in partitions(root)}
    assert 1 <= len(finished) < 3 * 4
    report = build(db, corpora=["mini"], tokenizers=three, engine="ray", shard_units=SHARD_UNITS)
    assert (report.tasks_reused, report.tasks_run) == (len(finished), 3 * 4 - len(finished))
    assert {p: p.stat().st_mtime_ns for p in finished} == finished  # not rewritten
    assert len(partitions(root)) == 3 * 4
    expected, got = snapshot(local, three), snapshot(db, three)
    for table in ("counts", "premium_ci", "lang_stats", "units"):
        assert got[table] == expected[table], table


def test_cli_joins_the_cluster_named_by_ray_address(cluster, local: Path, corpora: SimpleNamespace,
                                                    tmp_path: Path) -> None:
    # The CLI in another process, with RAY_ADDRESS set: its tasks run on this module's cluster. Proof: only this
    # cluster's workers know the kill file (the subprocess does not), and one of them fires it.
    db = imported(corpora, tmp_path / "atlas.duckdb")
    cluster.arm.write_text("armed")
    env = {k: v for k, v in os.environ.items() if k != pc.KILL_ONCE_ENV} | {"RAY_ADDRESS": cluster.address}
    res = subprocess.run([sys.executable, "-m", "analysis", "build", "--db", str(db), "--corpus", "mini",
                          "--tokenizers", "utf8-bytes", "--engine", "ray", "--shard-units", str(SHARD_UNITS)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert Path(f"{cluster.arm}.fired").exists()
    Path(f"{cluster.arm}.fired").unlink()
    assert "running 4 task(s) on the ray engine" in res.stderr and "[4/4] tasks, " in res.stderr
    assert snapshot(db, ["utf8-bytes"])["counts"] == snapshot(local, ["utf8-bytes"])["counts"]
