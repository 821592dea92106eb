"""Parallel corpora counted as (corpus shard x tokenizer) tasks, each writing one Parquet partition.

Used by the Ray engine. A corpus's units, in the order ``lang, position, unit``, are cut into shards of
``shard_units`` units; every shard goes to the engine once (Ray's object store) and each tokenizer's task on it
writes ``counts/corpus=<c>/tokenizer=<t>/version=<v>/part-<shard>.parquet``. When all shards of a pair are there,
DuckDB reads that folder straight into ``counts``; the pair's ``runs`` row and premiums follow, exactly as after a
local count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb

from ..catalogue import load_catalogue
from ..errors import StoreError
from . import mono
from . import parquet_counts as pc
from .counting import BACKEND_COST
from .engines import Plan, get_engine, run_plan
from .schema import refresh_mono_stats
from .tasks import Task

DEFAULT_SHARD_UNITS = 2000


def plan_pairs(con: duckdb.DuckDBPyConnection, todo: list[tuple[str, str]], *, root: str, shard_units: int,
               normalization: str, record: Callable[[str, str, float], None]) -> Plan:
    """Tasks for every (shard x tokenizer) of the ``todo`` pairs, and a loader per pair.

    ``record(corpus, tokenizer, seconds)`` is called after a pair's counts are in the database (runs, premiums).
    """
    from .spans import unpack

    if shard_units < 1:
        raise StoreError(f"shard_units must be at least 1, not {shard_units}.")
    catalogue = load_catalogue()
    plan = Plan()
    for name in dict.fromkeys(c for c, _ in todo):
        rows = con.execute("SELECT u.lang, u.unit, u.text, w.spans FROM units u LEFT JOIN word_spans w "
                           "USING (corpus, lang, unit) WHERE u.corpus = ? ORDER BY u.lang, u.position, u.unit", [name]).fetchall()
        corpus_sha = con.execute("SELECT sha256 FROM corpora WHERE corpus = ?", [name]).fetchone()[0]
        spans = [unpack(blob) for _, _, _, blob in rows]  # segmented once, at import
        shards = []
        for k, lo in enumerate(range(0, len(rows), shard_units)):
            hi = min(lo + shard_units, len(rows))
            key = f"{name}#{k}"
            plan.payloads[key] = ([(r[0], r[1]) for r in rows[lo:hi]], [r[2] for r in rows[lo:hi]], spans[lo:hi])
            shards.append((k, key, sum(len(r[2].encode("utf-8")) for r in rows[lo:hi])))
        for tid in [t for c, t in todo if c == name]:
            entry = catalogue.describe(tid)
            version = pc.version_key("counts", corpus_sha, entry.sha256 or "built in", normalization, shard_units,
                                     len(rows))
            folder = pc.partition_dir(root, "counts", corpus=name, tokenizer=tid, version=version)
            cost = BACKEND_COST.get(entry.backend, 0)
            plan.tasks += [Task("counts", name, tid, k, pc.partition_path(folder, k), nbytes, payload=key, cost=cost)
                           for k, key, nbytes in shards]
            plan.loaders["counts", name, tid] = _loader(con, root, name, tid, version, len(rows), record)
    return plan


def _loader(con: duckdb.DuckDBPyConnection, root: str, name: str, tid: str, version: str, expected: int,
            record: Callable[[str, str, float], None]) -> Callable[[float], None]:
    def load(seconds: float) -> None:
        folder = pc.partition_dir(root, "counts", corpus=name, tokenizer=tid, version=version)
        load_counts(con, folder, name, tid, expected)
        record(name, tid, seconds)
        pc.remove_temporaries(folder)
        pc.remove_other_versions(root, "counts", corpus=name, tokenizer=tid, keep=version)
    return load


def count_sharded(con: duckdb.DuckDBPyConnection, todo: list[tuple[str, str]], monolingual: list[str],
                  tokenizer_ids: list[str], *, engine: str, workers: int | None, root: str, shard_units: int | None,
                  normalization: str, say: Callable[[str], None], report: Any,
                  record_pair: Callable[[str, str, float], None], record_tokenizer: Callable[[str, str], None]) -> None:
    """Count parallel pairs (ray engine) and monolingual corpora (either engine) as shard tasks writing Parquet
    partitions under ``root``; each pair is loaded into the database as soon as its last shard is in."""
    plan = Plan()
    if todo:
        plan.extend(plan_pairs(con, todo, root=root, shard_units=shard_units or DEFAULT_SHARD_UNITS,
                               normalization=normalization, record=record_pair))
    for name in monolingual:
        report.pairs_skipped += [(name, t) for t in mono.pairs_todo(con, name, tokenizer_ids)[1]]
        plan.extend(mono.plan_mono(con, name, tokenizer_ids, root=root, normalization=normalization,
                                   record=lambda c, t, _s: record_tokenizer(c, t)))
    stats = run_plan(plan, get_engine(engine, workers=workers), say)  # type: ignore[arg-type]
    report.tasks_run, report.tasks_reused, report.task_cpu_seconds = stats.run, stats.reused, stats.task_cpu_seconds
    for name in monolingual:
        mono.check_lines(con, name)
    if monolingual:
        refresh_mono_stats(con)


def load_counts(con: duckdb.DuckDBPyConnection, folder: str, corpus: str, tokenizer: str, expected: int) -> None:
    """Replace one pair's ``counts`` with what DuckDB reads from its partition folder; refuse a wrong row count."""
    con.execute("DELETE FROM counts WHERE corpus = ? AND tokenizer = ?", [corpus, tokenizer])
    con.execute(
        """INSERT INTO counts SELECT corpus, tokenizer, lang, unit, n_tokens, n_unk, n_byte_fallback, n_continued
           FROM read_parquet(?, hive_partitioning = true)""", [pc.glob(folder)])
    got = con.execute("SELECT count(*) FROM counts WHERE corpus = ? AND tokenizer = ?", [corpus, tokenizer]).fetchone()[0]
    if got != expected:
        raise StoreError(f"The partitions in {folder} hold {got} counts for {corpus} x {tokenizer}, not {expected}. "
                         "Delete that folder and build again.")
