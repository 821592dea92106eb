"""The glitch-token checks as a build extension (:mod:`analysis.extensions`): their tables in the store, kept
current by every build.

What each hook does:

- ``create_tables``: the glitch tables (:data:`analysis.glitch.store.TABLES`);
- ``forget_corpus``: drops the (token id, language) counts of a corpus imported again;
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

import duckdb

from ..extensions import BuildExtension, WorkerResults
from ..progress import Progress


class TokenChecks(BuildExtension):
    """The glitch-token checks and token frequencies of every tokenizer a build counts."""

    name = "token_checks"

    def create_tables(self, con: duckdb.DuckDBPyConnection) -> None:
        from .store import create_tables

        create_tables(con)

    def forget_corpus(self, con: duckdb.DuckDBPyConnection, corpus: str) -> None:
        from .store import forget_lang_counts

        forget_lang_counts(con, corpus)

    def after_tokenizer(self, con: duckdb.DuckDBPyConnection, tokenizer: str, results: WorkerResults,
                        progress: Progress) -> None:
        """A tokenizer's checks, stored from its workers' results while the pool counts the others; its pairs'
        (token id, language) counts are kept for later builds that add a corpus."""
        from .store import store_counted_checks, store_lang_counts

        t0 = time.perf_counter()
        for corpus, counted in results.lang_counts.get(tokenizer, {}).items():
            store_lang_counts(con, corpus, tokenizer, counted)
        if tokenizer in results.lang_counts and store_counted_checks(con, tokenizer, results.lang_counts[tokenizer],
                                                                     results.scans.get(tokenizer)):
            progress(f"token checks {tokenizer}: stored from the counting worker's ids in "
                     f"{time.perf_counter() - t0:.1f} s")
            # Stored and current now: the final refresh has nothing left to do with them (the scan of a large
            # vocabulary is ~100 MB of Python objects).
            results.scans.pop(tokenizer, None)
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
                             scans=results.scans if results else None)
