"""The local engine's pair counting: a process pool that starts before the corpus import.

One task per (corpus x tokenizer) pair. The pool is started, and every task submitted, *before* the builder imports
the corpora: each task loads its tokenizer first (the worker processes start up and load while the main process
parses the corpus and segments its words), then waits for the corpus texts, which the main process publishes once,
as one file, when the import is done. The main process stores each pair's counts as soon as it arrives.

Example:
    >>> with PairPool(db, [("udhr", "o200k_base")], workers=2) as pool:   # doctest: +SKIP
    ...     import_corpus(...)
    ...     pool.count(con, known_spans, say=print, record=record)
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import time
from collections import Counter
from collections.abc import Callable, Collection
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from ..catalogue import load_catalogue
from ..lifecycle import die_with_parent
from .schema import StoreError

if TYPE_CHECKING:
    from ..glitch.checks import VocabularyScan
    from ..glitch.frequency import LangIdCounts

#: How long a worker waits for the corpus texts before giving up (the import of a large corpus can take a while).
WAIT_SECONDS = 6 * 3600
_INPUTS: dict[str, dict[str, tuple[list[str], list, list[str]]]] = {}


def _inputs(path: str) -> dict[str, tuple[list[str], list, list[str]]]:
    """The corpus texts, word spans and languages the main process published at ``path`` (read once per worker)."""
    if path not in _INPUTS:
        deadline = time.monotonic() + WAIT_SECONDS
        while not os.path.exists(path):
            if os.path.exists(path + ".abort") or time.monotonic() > deadline:
                raise StoreError("The build stopped before its corpus texts were ready.")
            time.sleep(0.01)
        from ..tokenizers.unit_stats import WordSpanList

        with open(path, "rb") as f:
            _INPUTS.clear()
            # Word spans as flat arrays once per worker, not once per tokenizer.
            _INPUTS[path] = {name: (texts, WordSpanList(spans), langs)
                             for name, (texts, spans, langs) in pickle.load(f).items()}
    return _INPUTS[path]


def init_worker(parent_pid: int) -> None:
    """The initializer of every counting worker process: it dies with ``parent_pid`` and runs HF single-threaded."""
    die_with_parent(parent_pid)  # a killed build must not leave its workers counting for minutes
    # One process per core already: the HF tokenizers' own thread pool would only oversubscribe the cores.
    os.environ["TOKENIZERS_PARALLELISM"] = "false"


def _count_pair(inputs_path: str, corpus: str, tokenizer_id: str, scan: bool | None) -> tuple:
    """Counts of one pair, with its (token id, language) counts unless ``scan`` is None; ``scan`` True: also the
    tokenizer's vocabulary checks (done once per tokenizer, in the worker that already holds it loaded)."""
    from ..glitch.checks import scan_vocabulary
    from ..tokenizers import get_tokenizer
    from .build import count_units

    get_tokenizer(tokenizer_id)  # loaded while the main process may still be importing the corpus
    texts, spans, langs = _inputs(inputs_path)[corpus]
    *counts, counted = count_units(tokenizer_id, texts, spans, langs if scan is not None else None)
    checks = None
    if scan:
        t0 = time.perf_counter()
        checks = (scan_vocabulary(get_tokenizer(tokenizer_id)), time.perf_counter() - t0)
    return (*counts, counted, checks)


class PairPool:
    """Worker processes counting ``todo`` pairs, slow backends first; a context manager that always cleans up."""

    def __init__(self, db: Path, todo: list[tuple[str, str]], *, workers: int | None, tmp_prefix: str,
                 checks: bool = True, checked: Collection[str] = ()) -> None:
        from ..glitch.store import scannable
        from .build import _BACKEND_COST

        catalogue = load_catalogue()
        self.todo = sorted(todo, key=lambda pair: _BACKEND_COST.get(catalogue.describe(pair[1]).backend, 0))
        self.workers = max(1, min(workers or os.cpu_count() or 1, len(todo)))
        self.path = db.with_name(f"{tmp_prefix}{db.name}.{os.getpid()}.inputs")
        self.published = False
        #: What the glitch-token checks reuse (see :func:`analysis.glitch.store.refresh_token_checks`): per tokenizer,
        #: the (token id, language) counts of each corpus counted here, and the vocabulary checks with their seconds.
        self.lang_counts: dict[str, dict[str, LangIdCounts]] = {}
        self.scans: dict[str, tuple[VocabularyScan, float]] = {}
        ctx = multiprocessing.get_context("spawn")  # the Rust tokenizers' threads do not survive fork
        self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx, initializer=init_worker,
                                        initargs=(os.getpid(),))
        self.futures: dict[Future, tuple[str, str]] = {}
        first = set(checked)  # vocabularies whose checks the store already holds: their ids are counted, not scanned
        for name, tid in self.todo:
            # None: no checks wanted, or no vocabulary to check (the code-point and word baselines): no id counts.
            scan = (tid not in first) if checks and scannable(tid) else None
            first.add(tid)
            self.futures[self.pool.submit(_count_pair, str(self.path), name, tid, scan)] = (name, tid)

    def __enter__(self) -> PairPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def publish(self, inputs: dict[str, tuple[list[str], list, list[str]]]) -> None:
        """Hand the texts, word spans and languages of every corpus to the workers (one file, renamed into place)."""
        tmp = Path(f"{self.path}.tmp")
        with open(tmp, "wb") as f:
            pickle.dump(inputs, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self.path)
        self.published = True

    def count(self, con: duckdb.DuckDBPyConnection, known_spans: dict, *, say: Callable[[str], None],
              record: Callable[[str, str, float], None],
              tokenizer_done: Callable[[str], None] | None = None) -> None:
        """Publish the corpora's texts, then store each pair's counts as it arrives and ``record`` it; once every pair
        of a tokenizer is in, call ``tokenizer_done`` with it (while the workers go on with the others)."""
        from ..words import words
        from .build import _bulk_insert

        keys: dict[str, list[tuple[str, str]]] = {}
        inputs: dict[str, tuple[list[str], list, list[str]]] = {}
        for name in dict.fromkeys(c for c, _ in self.todo):
            rows = con.execute("SELECT lang, unit, text, n_words FROM units WHERE corpus = ? "
                               "ORDER BY lang, position, unit", [name]).fetchall()
            cached = known_spans.get(name)
            keys[name] = [(lang, unit) for lang, unit, _, _ in rows]
            inputs[name] = ([text for _, _, text, _ in rows],
                            [cached[lang, unit] if cached is not None else (words(text) if n_words is not None else None)
                             for lang, unit, text, n_words in rows],
                            [lang for lang, _, _, _ in rows])
        self.publish(inputs)
        say(f"counting {len(self.todo)} (corpus x tokenizer) pair(s) on {self.workers} worker(s)")
        left = Counter(tid for _, tid in self.todo)  # pairs still to come, per tokenizer
        for done, future in enumerate(as_completed(self.futures), 1):
            name, tid = self.futures[future]
            n_tokens, n_unk, n_byte, n_cont, seconds, counted, checks = future.result()
            if counted is not None:
                self.lang_counts.setdefault(tid, {})[name] = counted
            if checks is not None:
                self.scans[tid] = checks
            con.execute("DELETE FROM counts WHERE corpus = ? AND tokenizer = ?", [name, tid])
            _bulk_insert(con, "counts", [(name, tid, lang, unit, a, b, c, d) for (lang, unit), a, b, c, d
                                         in zip(keys[name], n_tokens, n_unk, n_byte, n_cont, strict=True)])
            record(name, tid, seconds)
            say(f"[{done}/{len(self.todo)}] {name} x {tid}: {sum(n_tokens):,} tokens in {seconds:.1f} s")
            left[tid] -= 1
            if not left[tid] and tokenizer_done is not None:
                tokenizer_done(tid)

    def close(self) -> None:
        if not self.published:  # the import failed: tell the waiting workers to give up
            Path(f"{self.path}.abort").touch()
        try:
            self.pool.shutdown(wait=True, cancel_futures=True)
        finally:
            for p in (self.path, Path(f"{self.path}.abort"), Path(f"{self.path}.tmp")):
                p.unlink(missing_ok=True)
