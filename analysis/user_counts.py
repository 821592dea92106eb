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
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd

from .config import USER_COUNT_WORKERS
from .errors import AnalysisError
from .metrics import DEFAULT_REFERENCE
from .premium_arrays import UnitLayout, unit_layout
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


# ------------------------------------------------------------------ the corpus a worker keeps between jobs


@dataclass
class HeldCorpus:
    """One corpus of one store as a counting worker keeps it between jobs: its units in the builder's order, cut into
    the pieces a job counts (texts and word spans, the spans' flat arrays made), and the start of every result
    database (``template``: the bytes of a DuckDB file with the store's schema, the corpus's row, its languages, its
    units without their text and the ``meta`` rows), which a job writes out and completes.

    A job only reads it: the tokenizer's statistics cache each piece's word offsets on the piece's
    :class:`~analysis.tokenizers.unit_stats.WordSpanList` (keyed by the piece's texts, which never change), so the
    next job of the same backend finds them made.
    """

    version: tuple  # the store file's (path, inode, size, mtime_ns): a build replaces the file, so a new version
    sha256: str  # the corpus's sha256 in that store
    pieces: list[tuple[list[str], Any]]  # (texts, WordSpanList) per piece of ``step`` units
    langs: list[str]  # each unit's language, in order
    units: list[str]  # each unit's id, in order
    template: bytes
    layouts: dict[str, UnitLayout] = field(default_factory=dict)  # reference -> where each unit goes in its premiums

    @property
    def n_units(self) -> int:
        return len(self.units)

    @cached_property
    def keys(self) -> tuple[Any, Any]:
        """The units' languages and ids as Arrow arrays, for the counts' insert (made once, not per job)."""
        import pyarrow as pa

        return pa.array(self.langs, pa.string()), pa.array(self.units, pa.string())

    def layout(self, reference: str) -> UnitLayout:
        """:func:`~analysis.premium_arrays.unit_layout` of these units for ``reference``, worked out once."""
        if reference not in self.layouts:
            self.layouts[reference] = unit_layout(self.langs, self.units, reference)
        return self.layouts[reference]


#: corpus -> the one version this process holds (a worker holds no stale copy); public for the tests that check it.
HELD: dict[str, HeldCorpus] = {}


def _version(db: Path) -> tuple:
    try:
        st = db.stat()
    except OSError as e:
        raise StoreError(f"No statistics database at {db} to count added tokenizers on ({e.strerror}). Build it with "
                         f"`python -m analysis build --db {db}`.") from e
    return (str(db.resolve()), st.st_ino, st.st_size, st.st_mtime_ns)


def _pieces(texts: list[str], blobs: list[bytes | None], step: int) -> list[tuple[list[str], Any]]:
    """The units' texts and stored word spans (table ``word_spans``; None where words are withheld) in pieces of
    ``step`` units, each piece's spans a :class:`WordSpanList` with its flat arrays already made, exactly as the
    builder's workers receive them (:func:`analysis.store.local_pool.load_chunk`)."""
    from .store.spans import flat, span_lists
    from .tokenizers.unit_stats import WordSpanList

    flat_spans, offsets, ok = flat(blobs)
    pairs_all = flat_spans.astype(np.int64)
    out = []
    for lo in range(0, len(texts), step):
        hi = min(len(texts), lo + step)
        span_off = offsets[lo:hi + 1]
        pairs = pairs_all[2 * span_off[0]:2 * span_off[-1]]
        spans = WordSpanList(span_lists(pairs, span_off - span_off[0], ok[lo:hi]))
        spans.__dict__["arrays"] = (np.repeat(np.arange(hi - lo, dtype=np.int64), np.diff(span_off)),
                                    pairs[0::2].copy(), pairs[1::2].copy())  # what WordSpanList.arrays would make
        out.append((texts[lo:hi], spans))
    return out


def held_corpus(db: str | Path, corpus: str = CORPUS) -> HeldCorpus:
    """``corpus`` of the store at ``db``, read once per store version and kept in this process (see
    :class:`HeldCorpus`).

    Raises:
        StoreError: the store has no such corpus.
    """
    from .store.schema import create_schema

    db = Path(db)
    version = _version(db)
    held = HELD.get(corpus)
    if held is not None and held.version == version:
        return held
    HELD.pop(corpus, None)  # the old version goes before the new one is read: one copy at a time
    with tempfile.TemporaryDirectory(prefix="atlas-counting-") as folder:
        path = Path(folder) / "template.duckdb"
        con = duckdb.connect(str(path))
        try:
            con.execute("ATTACH ? AS src (READ_ONLY)", [str(db)])
            info = con.execute("SELECT sha256 FROM src.corpora WHERE corpus = ?", [corpus]).fetchone()
            if info is None:
                raise StoreError(f"The statistics database {db} has no corpus {corpus!r} to count added tokenizers "
                                 f"on. Build it with `python -m analysis build --db {db} --corpus {corpus}`.")
            # The builder's order and inputs (PairPool.count): the same texts, the same word spans.
            rows = con.execute("SELECT u.lang, u.unit, u.text, w.spans FROM src.units u LEFT JOIN src.word_spans w "
                               "USING (corpus, lang, unit) WHERE u.corpus = ? ORDER BY u.lang, u.position, u.unit",
                               [corpus]).fetchall()
            create_schema(con)
            for table in ("corpora", "languages"):
                con.execute(f"INSERT INTO {table} SELECT * FROM src.{table} WHERE corpus = ?", [corpus])
            con.execute("INSERT INTO units SELECT corpus, lang, unit, position, NULL, n_bytes, n_chars, n_words, "
                        "words_note FROM src.units WHERE corpus = ?", [corpus])
            con.execute("INSERT INTO meta SELECT * FROM src.meta WHERE key IN ('normalization', 'counting_policy')")
            con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
            con.execute("DETACH src")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        template = path.read_bytes()
    step = max(1, -(-len(rows) // CHUNKS))
    held = HeldCorpus(version, info[0], _pieces([r[2] for r in rows], [r[3] for r in rows], step),
                      [r[0] for r in rows], [r[1] for r in rows], template)
    HELD[corpus] = held
    return held


# ------------------------------------------------------------------ one job (runs in a worker process)


#: Distinct words a job's tokenizer keeps the results of (:meth:`~analysis.tokenizers.base.Tokenizer.reserve_word_cache`:
#: Hugging Face models): the UDHR's 229,853 distinct Llama 3 pre-tokens fit; about 125 MB resident for those.
WORD_CACHE = 2**18

#: Seconds between two progress notes of a job (a note is a small file renamed into place; a page polls it).
NOTE_EVERY = 0.25


def _note(progress: Path | None, done: int, total: int) -> None:
    if progress is not None:
        tmp = progress.with_name(f".{progress.name}.{os.getpid()}")
        tmp.write_text(json.dumps({"done": done, "total": total}), encoding="utf-8")
        os.replace(tmp, progress)


#: This process's DuckDB instance that writes the results (in memory, one thread: a counting worker takes one core),
#: made on the first job: each result file is attached to it, filled and detached, instead of starting an instance
#: per job (about a quarter of what writing a result cost). Only :func:`_write_result` uses it, under :data:`_WRITER_LOCK`.
_WRITER: duckdb.DuckDBPyConnection | None = None
_WRITER_LOCK = threading.Lock()
_RESULT = "counted"  # the name the result file is attached under


def _write_result(path: Path, template: bytes, fill: Callable[[duckdb.DuckDBPyConnection], None]) -> None:
    """Write ``template`` (a DuckDB file's bytes) to ``path``, attach it to the writer, run ``fill`` on it (as the
    default database, in one transaction), checkpoint and detach it. On any error the writer is closed (the next job
    starts a new one) and the file and its WAL are removed."""
    global _WRITER
    path.write_bytes(template)
    with _WRITER_LOCK:
        con = _WRITER
        try:
            if con is None:
                con = _WRITER = duckdb.connect(":memory:", config={"threads": 1})
            con.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS {_RESULT}")
            con.execute(f"USE {_RESULT}")
            con.execute("BEGIN TRANSACTION")  # one commit for the whole job, not one per statement
            fill(con)
            con.execute("COMMIT")
            con.execute("USE memory")
            con.execute(f"CHECKPOINT {_RESULT}")
            con.execute(f"DETACH {_RESULT}")
        except BaseException:
            _WRITER = None
            if con is not None:
                con.close()
            path.unlink(missing_ok=True)
            path.with_name(path.name + ".wal").unlink(missing_ok=True)
            raise


def count_into(tokenizer_id: str, db: str | Path, out: str | Path, *, corpus: str = CORPUS,
               progress: str | Path | None = None) -> dict:
    """Count ``corpus`` of the store at ``db`` with ``tokenizer_id`` into a new database ``out``, as a build would.

    ``out`` gets the store's schema with the corpus's languages and units (their text left out), the counts, the
    ``runs`` and ``tokenizers`` rows, the premiums against the default reference and ``lang_stats``; it is written to
    a temporary file and renamed into place. ``progress`` (a file) gets ``{"done": units, "total": units}`` at the
    start and then after a piece at most every :data:`NOTE_EVERY` seconds. The corpus is read from the store once per
    process and store version (:func:`held_corpus`).
    Returns the seconds spent in all and in each step (reading the corpus, loading the tokenizer, counting,
    writing the result), the CPU seconds of the whole job, and the units counted.
    """
    import pyarrow as pa

    from .premium_arrays import premium_ci_rows
    from .store.counting import count_units, library_version
    from .store.premiums import insert_premium_rows
    from .store.schema import refresh_lang_stats
    from .tokenizers import get_tokenizer

    c0, t0 = time.process_time(), time.perf_counter()
    out, progress_path = Path(out), Path(progress) if progress else None
    held = held_corpus(db, corpus)
    t_read = time.perf_counter()
    tok = get_tokenizer(tokenizer_id)
    tok.reserve_word_cache(WORD_CACHE)  # a corpus meets most words many times: keep them all (kept with the tokenizer)
    total = held.n_units
    _note(progress_path, 0, total)
    t_count = noted = time.perf_counter()
    n_tokens: list[int] = []
    n_unk: list[int] = []
    n_byte: list[int] = []
    n_cont: list[int | None] = []
    for texts, spans in held.pieces:
        a, b, c, d, _, _ = count_units(tokenizer_id, texts, spans)
        n_tokens += a
        n_unk += b
        n_byte += c
        n_cont += d
        if time.perf_counter() - noted >= NOTE_EVERY and len(n_tokens) < total:
            _note(progress_path, len(n_tokens), total)
            noted = time.perf_counter()
    seconds = time.perf_counter() - t_count
    langs, units = held.keys
    counts = pa.table({"lang": langs, "unit": units, "n_tokens": pa.array(n_tokens, pa.int32()),
                       "n_unk": pa.array(n_unk, pa.int32()), "n_byte_fallback": pa.array(n_byte, pa.int32()),
                       "n_continued": pa.array(n_cont, pa.int32())})
    # compute_premium_ci's rows, bit for bit, from the counts in hand (the units are in the store's order).
    premium_rows = premium_ci_rows(corpus, tokenizer_id, DEFAULT_REFERENCE, held.langs, held.units, n_tokens,
                                   layout=held.layout(DEFAULT_REFERENCE))
    run = [corpus, tokenizer_id, _sha256_of(tokenizer_id), held.sha256, datetime.now(UTC), seconds]
    described = [tokenizer_id, tok.name, tok.backend, tok.vocab_size, "added by a visitor", None,
                 library_version(tok.backend)]

    def fill(con: duckdb.DuckDBPyConnection) -> None:
        con.register("_counted", counts)
        try:  # one Arrow insert for all the counts
            con.execute("INSERT INTO counts SELECT ?, ?, lang, unit, n_tokens, n_unk, n_byte_fallback, n_continued "
                        "FROM _counted", [corpus, tokenizer_id])
        finally:
            con.unregister("_counted")
        con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)", run)
        con.execute("INSERT INTO tokenizers VALUES (?, ?, ?, ?, ?, ?, ?)", described)
        insert_premium_rows(con, premium_rows)  # as the build stores them: a NaN bound is NULL
        refresh_lang_stats(con)

    tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
    tmp.unlink(missing_ok=True)
    _write_result(tmp, held.template, fill)  # the schema, the corpus, its languages and units: the same for every job
    os.chmod(tmp, 0o644)
    os.replace(tmp, out)
    t_end = time.perf_counter()
    return {"seconds": t_end - t0, "read_seconds": t_read - t0, "load_seconds": t_count - t_read,
            "count_seconds": seconds, "write_seconds": t_end - t_count - seconds,
            "cpu_seconds": time.process_time() - c0, "units": total}


def _sha256_of(tokenizer_id: str) -> str:
    from .catalogue import load_catalogue
    from .user_tokenizers import is_yours, resolve

    return resolve(tokenizer_id).sha256 if is_yours(tokenizer_id) else (
        load_catalogue().describe(tokenizer_id).sha256 or "built in")


#: The memory a counting worker may keep the tokenizers of its last jobs loaded in (with the per-id tables their counts
#: built), so that a later job for one of them does not load it again: each is charged what the worker's resident
#: memory grew by during its first job, and the most recent are kept while their sum stays within this bound.
KEEP_BYTES = 512 * 2**20
#: At most this many tokenizers are kept, whatever their size.
KEEP_MAX = 4
#: Tokenizer id -> the bytes it is charged, the most recently used last (one per worker process).
KEPT: dict[str, int] = {}


def _resident_bytes() -> int | None:
    """This process's resident memory (Linux's /proc), or None where it cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def keep_tokenizers(tokenizer_id: str, grew: int | None) -> list[str]:
    """After a job with ``tokenizer_id`` (which grew the worker's memory by ``grew`` bytes, None: unknown), choose the
    tokenizers the worker keeps loaded (:data:`KEPT`) and release the others from the registry; returns those kept.

    Only a tokenizer whose id names its content is kept: a visitor's (``yours:NAME:KEY``, keyed by the sha256 of its
    file) or a catalogue entry (its files sha256-checked); never a ``file:`` or ``hf:`` spec, whose file may change.

    >>> KEPT.clear(); keep_tokenizers("yours:a.json:0123456789abcdef", 100), keep_tokenizers("file:/x.json", 5)
    (['yours:a.json:0123456789abcdef'], ['yours:a.json:0123456789abcdef'])
    >>> keep_tokenizers("yours:b.json:0123456789abcdee", KEEP_BYTES + 1), KEPT  # too big even alone
    ([], {})
    """
    from .catalogue import load_catalogue
    from .tokenizers import registry
    from .user_tokenizer_store import is_yours

    if is_yours(tokenizer_id) or tokenizer_id in load_catalogue().ids:
        charge = KEPT.pop(tokenizer_id, None)
        if grew is None and charge is None:
            charge = KEEP_BYTES  # unmeasured: kept alone at most
        KEPT[tokenizer_id] = max(charge or 0, grew or 0)
    while KEPT and (len(KEPT) > KEEP_MAX or sum(KEPT.values()) > KEEP_BYTES):
        del KEPT[next(iter(KEPT))]  # the least recently used first
    registry.release_tokenizers(keep=KEPT)
    return list(KEPT)


def forget_tokenizers() -> list[str]:
    """Release every tokenizer this worker keeps (tests/bench/bench_user_counts.py runs it in the worker through
    :meth:`CountingPool.call_in_worker` to time a job that loads its tokenizer, as a visitor's first job does);
    returns the ids released."""
    from .tokenizers import registry

    gone = list(KEPT)
    KEPT.clear()
    registry.release_tokenizers()
    return gone


def worker_job(tokenizer_id: str, db: str, out: str, progress: str) -> dict:
    """A pool worker's job: count, then keep the tokenizer loaded for a later job only within :data:`KEEP_BYTES`
    (a worker serves many visitors' tokenizers)."""
    before = _resident_bytes()
    counted = False
    try:
        result = count_into(tokenizer_id, db, out, progress=progress)
        counted = True
        return result
    finally:
        after = _resident_bytes()
        grew = None if before is None or after is None else max(0, after - before)
        if counted:
            keep_tokenizers(tokenizer_id, grew)
        else:  # a failed job keeps nothing of its own
            KEPT.pop(tokenizer_id, None)
            keep_tokenizers("", None)


def blas_threads(threads: int | None = None) -> int | None:
    """The threads of numpy's BLAS in this process (the OpenBLAS that numpy's wheels bundle), after setting them to
    ``threads`` if given; None where that library is not found (another BLAS: left as it is).

    numpy's OpenBLAS starts a thread per core for a matrix product (the premiums' bootstrap), and reads its setting
    from the environment only when numpy is imported, before a worker's initializer runs; hence its own call.
    """
    import ctypes

    folder = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for path in sorted(folder.glob("lib*openblas*.so*")):
        try:
            lib = ctypes.CDLL(str(path))
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "64_"), ("openblas", "")):
            setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
            getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            if setter is not None and getter is not None:
                if threads is not None:
                    setter(ctypes.c_int(threads))
                return int(getter())
    return None


def init_counting_worker(parent_pid: int) -> None:
    """The initializer of a pool worker: the builder's (:func:`analysis.store.local_pool.init_worker`: it dies with
    ``parent_pid``, HF tokenizers single-threaded), and numpy's BLAS on one thread, so that a job takes one core."""
    from .store.local_pool import init_worker

    init_worker(parent_pid)
    blas_threads(1)


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
            self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=init_counting_worker, initargs=(os.getpid(),))
        return self._executor

    def call_in_worker(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Run ``fn(*args)`` (a module-level function, e.g. :func:`forget_tokenizers`) in one of the pool's workers."""
        return self._pool().submit(fn, *args)

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
            job.future = self._pool().submit(worker_job, tokenizer_id, str(db), str(out), str(job.progress_file))
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
