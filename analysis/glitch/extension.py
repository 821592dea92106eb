"""The glitch-token checks as a build extension (:mod:`analysis.extensions`): their tables in the store, kept
current by every build.

What each hook does:

- ``create_tables``: the glitch tables (:data:`analysis.glitch.store.TABLES`);
- ``forget_corpus``: drops the (token id, language) counts of a corpus imported again;
- ``plan_workers``: asks the local pool's workers for the (token id, language) counts of every tokenizer with a
  vocabulary, and for a scan (:func:`scan_job`, run in the worker that holds the tokenizer) of each vocabulary whose
  checks are neither current in the store nor in the asset cache (:mod:`.scan_cache`: a file there of another
  format, checks version or vocabulary does not count, and is replaced);
- ``job_done``: keeps a scan the workers made in the asset cache; ``load_cached``: finds one there (checks its
  metadata only: the rows go from the file to the database, read by DuckDB);
- ``after_tokenizer``: stores a tokenizer's checks and token frequencies from what the local pool's workers computed
  while counting (its ids, its vocabulary scan), while the workers count the other tokenizers;
- ``is_current``: no stored scan is missing or stale and the published verifications are loaded;
- ``after_build``: :func:`analysis.glitch.store.refresh_token_checks`, handed what the workers computed.

Example:
    >>> from analysis.extensions import registered
    >>> "token_checks" in [e.name for e in registered()]
    True
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import duckdb

from ..extensions import BuildExtension, WorkerPlan, WorkerResults
from ..progress import Progress

if TYPE_CHECKING:
    from .checks import VocabularyScan
    from .scan_cache import CachedChecks


def scan_job(tokenizer_id: str) -> tuple[VocabularyScan, float]:
    """A tokenizer's vocabulary checks, with their seconds: the extension's worker job, run by the build's local pool
    in the worker process that holds the tokenizer (named ``"analysis.glitch.extension:scan_job"``)."""
    from ..tokenizers import get_tokenizer
    from .checks import scan_vocabulary

    tok = get_tokenizer(tokenizer_id)
    t0 = time.perf_counter()
    return scan_vocabulary(tok), time.perf_counter() - t0


class TokenChecks(BuildExtension):
    """The glitch-token checks and token frequencies of every tokenizer a build counts."""

    name = "token_checks"

    def create_tables(self, con: duckdb.DuckDBPyConnection) -> None:
        from .store import create_tables

        create_tables(con)

    def forget_corpus(self, con: duckdb.DuckDBPyConnection, corpus: str) -> None:
        from .store import forget_lang_counts

        forget_lang_counts(con, corpus)

    def plan_workers(self, con: duckdb.DuckDBPyConnection | None, tokenizer_ids: Sequence[str]) -> WorkerPlan:
        """The (token id, language) counts of every tokenizer with a vocabulary; a scan of each vocabulary whose checks
        are not current in ``con`` (the writer's copy) and not in the asset cache either; the cached ones' checks."""
        from .scan_cache import cached_checks
        from .store import current_checks, scannable

        ids = [tid for tid in dict.fromkeys(tokenizer_ids) if scannable(tid)]
        # Vocabularies whose checks stored in the database are current need no scan.
        checked = current_checks(con, list(dict.fromkeys(tokenizer_ids))) if con is not None else set()
        run, cached = [], []
        for tid in ids:
            if tid in checked:
                continue
            # A cache file whose metadata match (its footer only; the rows are read when the tokenizer is done); any
            # other file is a miss: the workers scan the vocabulary, and the file is replaced (job_done).
            if cached_checks(tid) is not None:
                cached.append(tid)
            else:
                run.append(tid)
        note = (f"vocabulary checks of {', '.join(cached)} taken from the cache (see analysis.glitch.scan_cache)"
                if cached else None)
        return WorkerPlan(lang_counts=frozenset(ids), job=f"{__name__}:scan_job", run=tuple(run), cached=tuple(cached),
                          note=note)

    def job_done(self, tokenizer: str, result: tuple[VocabularyScan, float]) -> None:
        """A scan from the workers: kept in the asset cache, so that no other database scans this vocabulary again."""
        from .scan_cache import store_scan

        store_scan(tokenizer, *result)

    def load_cached(self, tokenizer: str) -> CachedChecks | None:
        """The cache file of ``tokenizer``'s vocabulary checks, its metadata checked (None if the file went since or
        does not match: the token checks then scan the vocabulary after the counting)."""
        from .scan_cache import cached_checks

        return cached_checks(tokenizer)

    def after_tokenizer(self, con: duckdb.DuckDBPyConnection, tokenizer: str, results: WorkerResults,
                        progress: Progress) -> None:
        """A tokenizer's checks, stored from its workers' results while the pool counts the others; its pairs'
        (token id, language) counts are kept for later builds that add a corpus."""
        from .store import store_counted_checks, store_lang_counts

        t0 = time.perf_counter()
        scans = results.jobs.get(self.name, {})
        for corpus, counted in results.lang_counts.get(tokenizer, {}).items():
            store_lang_counts(con, corpus, tokenizer, counted)
        if tokenizer in results.lang_counts and store_counted_checks(con, tokenizer, results.lang_counts[tokenizer],
                                                                     scans.get(tokenizer)):
            progress(f"token checks {tokenizer}: stored from the counting worker's ids in "
                     f"{time.perf_counter() - t0:.1f} s")
            # Stored and current now: the final refresh has nothing left to do with them (a scan made in this build
            # is ~100 MB of Python objects for a large vocabulary).
            scans.pop(tokenizer, None)
            results.lang_counts.pop(tokenizer, None)

    def is_current(self, con: duckdb.DuckDBPyConnection, tokenizer_ids: Sequence[str]) -> bool:
        from .published import published_stale
        from .store import stale_scans

        # e.g. a database built before the token checks existed
        return not (stale_scans(con, tokenizer_ids) or published_stale(con))

    def after_build(self, con: duckdb.DuckDBPyConnection, tokenizer_ids: Sequence[str], *, workers: int | None,
                    progress: Progress, results: WorkerResults | None) -> None:
        from .store import refresh_token_checks

        refresh_token_checks(con, tokenizer_ids, workers=workers, progress=progress,
                             counted=results.lang_counts if results else None,
                             scans=results.jobs.get(self.name) if results else None)
