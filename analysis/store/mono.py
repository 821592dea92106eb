"""Monolingual corpora in the store: their tables, their counting tasks, and the per-language metrics.

A monolingual corpus has no parallel units, so no premium; what it supports (docs/large-corpora.md, "Monolingual corpora"):
bytes, characters and tokens per language, bytes/token, characters/token, tokens per kB, fertility (ICU words,
withheld with the reason where no segmenter covers the script), UNK and byte-fallback rates. Its text stays in its
folder (it may be far larger than the database); the store keeps the file list, the shard plan, per-shard totals
and per (shard x tokenizer) token totals:

- ``mono_corpora``: one row per corpus: folder, fingerprint, sampling (fraction, seed), shard size, normalization
- ``mono_files``: every file with its language, compression, size and modification time at import
- ``mono_languages``: code, script, ISO 639-3, direction, whether ICU word counts are trusted and why
- ``mono_shards``: the shard plan (file, byte range) and each shard's lines, bytes, characters and words
- ``mono_counts``: per (corpus, tokenizer, shard): lines, tokens, UNK tokens, byte-fallback tokens
- ``mono_runs``: which (corpus x tokenizer) pairs are counted, against which vocabulary and corpus fingerprint
- ``mono_stats``: per (corpus, tokenizer, language) totals and every metric above (refreshed by each build)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb

from ..catalogue import load_catalogue
from ..corpus.monolingual import MonoCorpus, MonoFile, Shard, check_unchanged, shard_input_bytes
from ..errors import StoreError
from . import parquet_counts as pc
from .counting import BACKEND_COST
from .engines import Plan
from .schema import refresh_mono_stats
from .tasks import Task
from .writer import bulk_insert

if TYPE_CHECKING:
    import pandas as pd

_MONO_TABLES = ("mono_counts", "mono_runs", "mono_shards", "mono_languages", "mono_files", "mono_corpora")


def has_mono(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'mono_corpora'"
                       ).fetchone()[0] > 0


def mono_corpus_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    if not has_mono(con):
        return []
    return [r[0] for r in con.execute("SELECT corpus FROM mono_corpora ORDER BY corpus").fetchall()]


def import_mono(con: duckdb.DuckDBPyConnection, corpus: MonoCorpus, *, normalization: str) -> None:
    """(Re)place one monolingual corpus's definition (files, languages, shard plan); its old counts go with it."""
    if con.execute("SELECT count(*) FROM corpora WHERE corpus = ?", [corpus.name]).fetchone()[0]:
        raise StoreError(f"{corpus.name!r} is already the name of a parallel corpus in this database; import the "
                         "monolingual corpus under another --name.")
    for table in _MONO_TABLES:
        con.execute(f"DELETE FROM {table} WHERE corpus = ?", [corpus.name])
    con.execute("INSERT INTO mono_corpora VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [corpus.name, corpus.source, str(corpus.root), corpus.sha256, len(corpus.languages), len(corpus.files),
                 len(corpus.shards), sum(f.size for f in corpus.files), corpus.sample, corpus.seed, corpus.shard_bytes,
                 normalization, datetime.now(UTC)])
    _insert(con, "mono_files", ["corpus", "lang", "file", "compression", "size", "mtime_ns"],
            [(corpus.name, f.lang, f.path, f.compression, f.size, f.mtime_ns) for f in corpus.files])
    _insert(con, "mono_languages", ["corpus", "lang", "name", "script", "iso639_3", "direction", "words_ok",
                                    "words_note"],
            [(corpus.name, g.code, g.name, g.script, g.iso639_3, g.direction, g.words_ok, g.words_note)
             for g in corpus.languages.values()])
    _insert(con, "mono_shards", ["corpus", "shard", "lang", "file", "compression", "start", "stop"],
            [(corpus.name, s.index, s.lang, s.file, s.compression, s.start, s.stop) for s in corpus.shards])
    refresh_mono_stats(con)


def _insert(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], rows: list[tuple]) -> None:
    bulk_insert(con, table, rows, columns)


# ------------------------------------------------------------------ what is left to count


def _corpus_row(con: duckdb.DuckDBPyConnection, name: str) -> tuple:
    row = con.execute("SELECT root, sha256, sample, seed FROM mono_corpora WHERE corpus = ?", [name]).fetchone()
    if row is None:
        raise StoreError(f"Monolingual corpus {name!r} is not in the database; import it first with "
                         "`python -m analysis corpus import --kind monolingual --path DIR --name NAME`.")
    return row


def text_missing(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return con.execute("SELECT count(*) FROM mono_shards WHERE corpus = ? AND lines IS NULL", [name]).fetchone()[0] > 0


def pairs_todo(con: duckdb.DuckDBPyConnection, name: str, tokenizer_ids: Sequence[str]) -> tuple[list[str], list[str]]:
    """(tokenizers to count, tokenizers already counted against this vocabulary and corpus fingerprint)."""
    catalogue = load_catalogue()
    corpus_sha = _corpus_row(con, name)[1]
    todo, done = [], []
    for tid in tokenizer_ids:
        sha = catalogue.describe(tid).sha256 or "built in"
        run = con.execute("SELECT tokenizer_sha256, corpus_sha256 FROM mono_runs WHERE corpus = ? AND tokenizer = ?",
                          [name, tid]).fetchone()
        (done if run == (sha, corpus_sha) else todo).append(tid)
    return todo, done


def plan_mono(con: duckdb.DuckDBPyConnection, name: str, tokenizer_ids: Sequence[str], *, root: str,
              normalization: str, record: Callable[[str, str, float], None]) -> Plan:
    """Tasks for one monolingual corpus: its shards' text totals (once) and every missing (shard x tokenizer)."""
    folder, corpus_sha, sample, seed = _corpus_row(con, name)
    from pathlib import Path

    base = Path(folder)
    files = {r[1]: MonoFile(r[0], r[1], r[2], r[3], r[4]) for r in con.execute(
        "SELECT lang, file, compression, size, mtime_ns FROM mono_files WHERE corpus = ? ORDER BY file",
        [name]).fetchall()}
    check_unchanged(base, list(files.values()))
    shards = [Shard(*r) for r in con.execute(
        "SELECT shard, lang, file, compression, start, stop FROM mono_shards WHERE corpus = ? ORDER BY shard",
        [name]).fetchall()]
    words_ok = dict(con.execute("SELECT lang, words_ok FROM mono_languages WHERE corpus = ?", [name]).fetchall())
    plan = Plan()

    def tasks(kind: str, tokenizer: str | None, version: str, cost: int) -> list[Task]:
        folder_ = pc.partition_dir(root, kind, corpus=name, tokenizer=tokenizer, version=version)
        return [Task(kind, name, tokenizer, s.index, pc.partition_path(folder_, s.index),  # type: ignore[arg-type]
                     shard_input_bytes(s, files), spec=(base, s, sample, seed, normalization, words_ok[s.lang]),
                     cost=cost) for s in shards]

    if text_missing(con, name):
        version = pc.version_key("mono_text", corpus_sha, normalization)
        plan.tasks += tasks("mono_text", None, version, 0)
        plan.loaders["mono_text", name, None] = _text_loader(con, root, name, version, len(shards))
    catalogue = load_catalogue()
    for tid in pairs_todo(con, name, tokenizer_ids)[0]:
        entry = catalogue.describe(tid)
        version = pc.version_key("mono_counts", corpus_sha, entry.sha256 or "built in", normalization)
        plan.tasks += tasks("mono_counts", tid, version, BACKEND_COST.get(entry.backend, 0))
        plan.loaders["mono_counts", name, tid] = _counts_loader(con, root, name, tid, version, corpus_sha,
                                                                len(shards), record)
    return plan


def _text_loader(con: duckdb.DuckDBPyConnection, root: str, name: str, version: str, expected: int
                 ) -> Callable[[float], None]:
    def load(_seconds: float) -> None:
        folder = pc.partition_dir(root, "mono_text", corpus=name, version=version)
        con.execute(
            """UPDATE mono_shards SET lines = t.lines, bytes = t.bytes, chars = t.chars, words = t.words
               FROM read_parquet(?, hive_partitioning = true) t
               WHERE mono_shards.corpus = t.corpus AND mono_shards.shard = t.shard AND mono_shards.lang = t.lang""",
            [pc.glob(folder)])
        missing = con.execute("SELECT count(*) FROM mono_shards WHERE corpus = ? AND lines IS NULL", [name]).fetchone()[0]
        if missing:
            raise StoreError(f"{missing} of {expected} shards of {name!r} have no text totals in {folder}. Delete that "
                             "folder and build again.")
        pc.remove_temporaries(folder)
        pc.remove_other_versions(root, "mono_text", corpus=name, keep=version)
    return load


def _counts_loader(con: duckdb.DuckDBPyConnection, root: str, name: str, tid: str, version: str, corpus_sha: str,
                   expected: int, record: Callable[[str, str, float], None]) -> Callable[[float], None]:
    def load(seconds: float) -> None:
        folder = pc.partition_dir(root, "mono_counts", corpus=name, tokenizer=tid, version=version)
        con.execute("DELETE FROM mono_counts WHERE corpus = ? AND tokenizer = ?", [name, tid])
        con.execute(
            """INSERT INTO mono_counts SELECT corpus, tokenizer, shard, lang, lines, n_tokens, n_unk, n_byte_fallback
               FROM read_parquet(?, hive_partitioning = true)""", [pc.glob(folder)])
        got = con.execute("SELECT count(*) FROM mono_counts WHERE corpus = ? AND tokenizer = ?", [name, tid]
                          ).fetchone()[0]
        if got != expected:
            raise StoreError(f"The partitions in {folder} hold {got} shards of {name!r} x {tid}, not {expected}. "
                             "Delete that folder and build again.")
        entry = load_catalogue().describe(tid)
        con.execute("INSERT OR REPLACE INTO mono_runs VALUES (?, ?, ?, ?, ?, ?)",
                    [name, tid, entry.sha256 or "built in", corpus_sha, datetime.now(UTC), seconds])
        record(name, tid, seconds)
        pc.remove_temporaries(folder)
        pc.remove_other_versions(root, "mono_counts", corpus=name, tokenizer=tid, keep=version)
    return load


def check_lines(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Every tokenizer saw exactly the lines the text totals counted, shard by shard."""
    bad = con.execute("""SELECT c.tokenizer, c.shard, c.lines, s.lines FROM mono_counts c
                         JOIN mono_shards s ON s.corpus = c.corpus AND s.shard = c.shard
                         WHERE c.corpus = ? AND c.lines IS DISTINCT FROM s.lines LIMIT 1""", [name]).fetchone()
    if bad:
        raise StoreError(f"Shard {bad[1]} of {name!r}: {bad[0]} counted {bad[2]} lines, the text totals {bad[3]}. "
                         "The folder changed during the build; import it again.")


# ------------------------------------------------------------------ reading


def mono_stats(con: duckdb.DuckDBPyConnection, corpus: str, tokenizers: Sequence[str] | None = None) -> pd.DataFrame:
    """Per (tokenizer, language) of a monolingual corpus: lines, tokens, bytes, characters, words and the metrics."""
    if corpus not in mono_corpus_names(con):
        raise StoreError(f"No monolingual corpus {corpus!r} in the database; it has: "
                         f"{', '.join(mono_corpus_names(con)) or 'none'}.")
    have = [r[0] for r in con.execute("SELECT tokenizer FROM mono_runs WHERE corpus = ? ORDER BY tokenizer",
                                      [corpus]).fetchall()]
    tids = have if tokenizers is None else list(tokenizers)
    missing = [t for t in tids if t not in have]
    if missing:
        raise StoreError(f"Not counted on {corpus!r}: {', '.join(missing)}. Counted: {', '.join(have) or 'none'}. Add "
                         f"them with `python -m analysis build --corpus {corpus} --tokenizers {' '.join(missing)}`.")
    return con.execute("SELECT * EXCLUDE (corpus) FROM mono_stats WHERE corpus = ? AND list_contains(?, tokenizer) "
                       "ORDER BY tokenizer, lang", [corpus, tids]).df()
