"""An added tokenizer's premiums: counted over the store's UDHR in the background, by the builder's own functions.

A :class:`CountingPool` (one per server process) runs counting jobs on ``ATLAS_USER_COUNT_WORKERS`` worker processes
(default 1), first come first served, so that visitors' tokenizers never take the cores the other sessions need; a
waiting job knows its place in the queue. A job (:func:`count_into`) does what ``python -m analysis build
--tokenizers file:PATH`` does for one (corpus x tokenizer) pair, with the same functions: the store's units in the
builder's order, the same word spans, :func:`analysis.store.build.count_units` and
:func:`analysis.store.build.compute_premium_ci`. It writes a small database of the store's schema beside the stored
tokenizer (``premiums-<corpus>-<corpus sha256>.duckdb``, atomically), so a second job for the same tokenizer and
corpus finds its result and does nothing; :func:`premiums` reads it with the store's own read function.

Example:
    >>> job = counting_pool().submit("yours:my.tiktoken:0123456789abcdef", db)     # doctest: +SKIP
    >>> job.state, job.fraction(), counting_pool().position(job)                    # doctest: +SKIP
    ('running', 0.4, None)
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd

from .config import USER_COUNT_WORKERS
from .errors import AnalysisError
from .metrics import DEFAULT_REFERENCE
from .store.schema import SCHEMA_VERSION, StoreError

State = Literal["queued", "running", "done", "failed"]
CORPUS = "udhr"
#: Pieces a job counts in, each followed by a progress note (a unit's counts do not depend on its neighbours).
CHUNKS = 20


def result_path(folder: Path, corpus: str, corpus_sha256: str) -> Path:
    return folder / f"premiums-{corpus}-{corpus_sha256[:16]}.duckdb"


def corpus_sha256(db: Path, corpus: str = CORPUS) -> str:
    """The sha256 of ``corpus`` in the store at ``db`` (what a job's result is keyed by besides the tokenizer)."""
    from .store.schema import open_readonly

    con = open_readonly(db)
    try:
        row = con.execute("SELECT sha256 FROM corpora WHERE corpus = ?", [corpus]).fetchone()
    finally:
        con.close()
    if row is None:
        raise StoreError(f"The statistics database has no corpus {corpus!r} to count added tokenizers on. Build it "
                         f"with `python -m analysis build --corpus {corpus}`.")
    return row[0]


# ------------------------------------------------------------------ one job (runs in a worker process)


def _spans(blobs: list[bytes | None], step: int) -> list:
    """The units' stored word spans (table ``word_spans``, segmented once at import; None where words are withheld)
    in pieces of ``step`` units, each a :class:`WordSpanList`, exactly as the builder's workers receive them."""
    from .store.spans import flat, span_lists
    from .tokenizers.unit_stats import WordSpanList

    return [WordSpanList(span_lists(*flat(blobs[start:start + step]))) for start in range(0, len(blobs), step)]


def _note(progress: Path | None, done: int, total: int) -> None:
    if progress is not None:
        tmp = progress.with_name(f".{progress.name}.{os.getpid()}")
        tmp.write_text(json.dumps({"done": done, "total": total}), encoding="utf-8")
        os.replace(tmp, progress)


def count_into(tokenizer_id: str, db: str | Path, out: str | Path, *, corpus: str = CORPUS,
               progress: str | Path | None = None) -> dict:
    """Count ``corpus`` of the store at ``db`` with ``tokenizer_id`` into a new database ``out``, as a build would.

    ``out`` gets the store's schema with the corpus's languages and units (their text left out), the counts, the
    ``runs`` and ``tokenizers`` rows, the premiums against the default reference and ``lang_stats``; it is written to
    a temporary file and renamed into place. ``progress`` (a file) gets ``{"done": units, "total": units}`` after
    each piece. Returns the seconds spent counting and in all.
    """
    from .store.counting import count_units, library_version
    from .store.premiums import compute_premium_ci
    from .store.schema import create_schema, refresh_lang_stats
    from .store.writer import bulk_insert
    from .tokenizers import get_tokenizer

    t0 = time.perf_counter()
    out, progress_path = Path(out), Path(progress) if progress else None
    tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        con.execute("ATTACH ? AS src (READ_ONLY)", [str(db)])
        info = con.execute("SELECT sha256 FROM src.corpora WHERE corpus = ?", [corpus]).fetchone()
        if info is None:
            raise StoreError(f"The statistics database has no corpus {corpus!r}; build it first.")
        # The builder's order and inputs (PairPool.count): the same texts, the same word spans.
        rows = con.execute("SELECT u.lang, u.unit, u.text, w.spans FROM src.units u LEFT JOIN src.word_spans w "
                           "USING (corpus, lang, unit) WHERE u.corpus = ? ORDER BY u.lang, u.position, u.unit",
                           [corpus]).fetchall()
        units = [(lang, unit, text, None) for lang, unit, text, _ in rows]
        step = max(1, -(-len(units) // CHUNKS))
        spans = _spans([blob for *_, blob in rows], step)
        del rows
        tok = get_tokenizer(tokenizer_id)
        _note(progress_path, 0, len(units))
        t_count = time.perf_counter()
        n_tokens: list[int] = []
        n_unk: list[int] = []
        n_byte: list[int] = []
        n_cont: list[int | None] = []
        for start, piece_spans in zip(range(0, len(units), step), spans, strict=True):
            piece = units[start:start + step]
            a, b, c, d, _, _ = count_units(tokenizer_id, [t for _, _, t, _ in piece], piece_spans)
            n_tokens += a
            n_unk += b
            n_byte += c
            n_cont += d
            _note(progress_path, start + len(piece), len(units))
        seconds = time.perf_counter() - t_count
        create_schema(con)
        for table in ("corpora", "languages"):
            con.execute(f"INSERT INTO {table} SELECT * FROM src.{table} WHERE corpus = ?", [corpus])
        con.execute("INSERT INTO units SELECT corpus, lang, unit, position, NULL, n_bytes, n_chars, n_words, words_note "
                    "FROM src.units WHERE corpus = ?", [corpus])
        con.execute("INSERT INTO meta SELECT * FROM src.meta WHERE key IN ('normalization', 'counting_policy')")
        con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
        con.execute("DETACH src")
        bulk_insert(con, "counts", [(corpus, tokenizer_id, lang, unit, w, x, y, z) for (lang, unit, _, _), w, x, y, z
                                     in zip(units, n_tokens, n_unk, n_byte, n_cont, strict=True)])
        con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)",
                    [corpus, tokenizer_id, _sha256_of(tokenizer_id), info[0], datetime.now(UTC), seconds])
        con.execute("INSERT INTO tokenizers VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [tokenizer_id, tok.name, tok.backend, tok.vocab_size, "added by a visitor", None,
                     library_version(tok.backend)])
        rows = compute_premium_ci(con, corpus, tokenizer_id, DEFAULT_REFERENCE)
        bulk_insert(con, "premium_ci", rows)
        refresh_lang_stats(con)
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    os.chmod(tmp, 0o644)
    os.replace(tmp, out)
    return {"count_seconds": seconds, "seconds": time.perf_counter() - t0, "units": len(units)}


def _sha256_of(tokenizer_id: str) -> str:
    from .catalogue import load_catalogue
    from .user_tokenizers import is_yours, resolve

    return resolve(tokenizer_id).sha256 if is_yours(tokenizer_id) else (
        load_catalogue().describe(tokenizer_id).sha256 or "built in")


def _job(tokenizer_id: str, db: str, out: str, progress: str) -> dict:
    """A pool worker's job: count, then forget the tokenizer (a worker serves many visitors' tokenizers)."""
    from .tokenizers import registry

    try:
        return count_into(tokenizer_id, db, out, progress=progress)
    finally:
        registry.clear_cache()


# ------------------------------------------------------------------ the pool


@dataclass
class CountJob:
    """One tokenizer counted over one corpus of one store; what a page polls.

    Only the pool sets ``outcome`` (queued, then done or failed); ``state`` adds "running" once the worker has
    started (its first progress note is on disk), so that a page's polling never writes to the job.
    """

    tokenizer_id: str
    corpus: str
    out: Path
    progress_file: Path
    outcome: State = "queued"
    error: str | None = None
    seconds: float | None = None  # wall time from submission to done
    submitted: float = field(default_factory=time.perf_counter)
    future: Future | None = None

    @property
    def state(self) -> State:
        if self.outcome == "queued" and self.progress_file.is_file():
            return "running"
        return self.outcome

    def fraction(self) -> float:
        """Share of the units counted so far (1.0 once done)."""
        if self.outcome == "done":
            return 1.0
        try:
            note = json.loads(self.progress_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return 0.0
        return note["done"] / max(1, note["total"])


class CountingPool:
    """A bounded pool of counting worker processes shared by every session of this server process."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or USER_COUNT_WORKERS.value()
        self._lock = threading.Lock()
        self._jobs: dict[tuple[str, str], CountJob] = {}
        self._order: list[CountJob] = []
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            from .store.local_pool import init_worker

            self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=init_worker, initargs=(os.getpid(),))
        return self._executor

    def submit(self, tokenizer_id: str, db: Path, *, corpus: str = CORPUS, corpus_sha: str | None = None) -> CountJob:
        """The job counting ``tokenizer_id`` (an added tokenizer) over ``corpus`` of the store at ``db``: one already
        submitted or done, a cached result, or a new job at the end of the queue. ``corpus_sha`` is the corpus's
        sha256 where the caller knows it (else read from the store)."""
        from .user_tokenizers import resolve

        added = resolve(tokenizer_id)
        sha = corpus_sha or corpus_sha256(db, corpus)
        out = result_path(Path(added.folder), corpus, sha)
        key = (tokenizer_id, str(out))
        with self._lock:
            job = self._jobs.get(key)
            if job is not None:  # a failed job is not retried on every poll (a restart of the server retries it)
                return job
            job = CountJob(tokenizer_id, corpus, out, out.with_name(out.name + ".progress"))
            self._jobs[key] = job
            if out.is_file():
                job.outcome, job.seconds = "done", 0.0
                return job
            job.progress_file.unlink(missing_ok=True)  # a note left by a server that was stopped mid-count
            self._order.append(job)
            job.future = self._pool().submit(_job, tokenizer_id, str(db), str(out), str(job.progress_file))
        job.future.add_done_callback(lambda f, j=job: self._finished(j, f))
        return job

    def _finished(self, job: CountJob, future: Future) -> None:
        with self._lock:
            if job in self._order:
                self._order.remove(job)
            try:
                future.result()
                job.outcome = "done"
            except AnalysisError as e:
                job.outcome, job.error = "failed", e.message
            except Exception as e:  # a worker that died (memory, a crash): said on the page, the pool goes on
                job.outcome, job.error = "failed", f"{type(e).__name__}: {str(e)[:300]}"
                if "BrokenProcessPool" in type(e).__name__:
                    self._executor = None
            job.seconds = time.perf_counter() - job.submitted
            job.progress_file.unlink(missing_ok=True)

    def position(self, job: CountJob) -> int | None:
        """1 for the next job to start, 2 for the one after, ...; None once it runs or is finished."""
        with self._lock:
            waiting = [j for j in self._order if j.state == "queued"]
            return waiting.index(job) + 1 if job in waiting else None

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


_pool_lock = threading.Lock()
_POOL: CountingPool | None = None


def counting_pool() -> CountingPool:
    """The process-wide pool (created on first use)."""
    global _POOL
    with _pool_lock:
        if _POOL is None:
            _POOL = CountingPool()
        return _POOL


def premiums(out: Path, tokenizer_id: str, *, corpus: str = CORPUS, reference: str = DEFAULT_REFERENCE
             ) -> pd.DataFrame:
    """A finished job's premiums against ``reference``, in the store's read format (``analysis.store.read.premiums``)."""
    from .store import read

    with duckdb.connect(str(out), read_only=True, config={"enable_external_access": False}) as con:
        return read.premiums(con, corpus, reference, [tokenizer_id])
