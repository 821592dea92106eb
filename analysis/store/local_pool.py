"""The local engine's pair counting: chunks of units spread over every core, from texts shared through one file.

Each (corpus x tokenizer) pair to count is cut into *chunks* of consecutive units (about :data:`CHUNK_BYTES` of text
each), so that a large tokenizer shares the cores instead of keeping one busy while the others idle. Each worker is
its own one-process executor with a queue of chunks: the pairs are dealt to the workers whole (the costliest
first, to the least loaded worker, preferring one that already holds the tokenizer), and a worker whose queue is
empty takes chunks from the end of the fullest other queue. A tokenizer is therefore loaded by one worker, and by a
second one only where its pair would otherwise finish last.

The pool starts *before* the builder imports the corpora: each worker loads the tokenizer it is likely to count
first while the main process parses the corpus. The texts are then published once, as one folder of flat arrays
(UTF-8 bytes, offsets, word spans as segmented at import, languages) renamed into place; the workers read only
their chunks' bytes from it and decode those, so no worker holds a copy of the corpus.

A job smaller than :data:`SINGLE_PROCESS_BYTES` (the bytes of text over all pairs) is counted in the main
process, chunk by chunk: starting workers (a fresh interpreter each, the library imported and each tokenizer
loaded again) costs more than it saves there.

A larger job whose tokenizers all count in native code that releases the GIL (the backends' ``threads`` flag:
HF ``tokenizers`` and ``tiktoken``) is counted by *threads* of the main process, one per core, taking the chunks in
order from one shared queue: each vocabulary is loaded once and shared, no interpreter starts and nothing is
loaded twice, and the memory is one process's. Jobs with other backends (pure-Python baselines, SentencePiece) keep
the worker processes. ``ATLAS_POOL_KIND`` (``threads`` or ``processes``) overrides the choice for a large job.

Example:
    >>> with PairPool(db, [("udhr", "o200k_base")], workers=2) as pool:   # doctest: +SKIP
    ...     import_corpus(...)
    ...     pool.count(con, say=print, record=record)
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import shutil
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np

from ..catalogue import load_catalogue
from ..config import env_size
from ..errors import StoreError
from ..extensions import resolve
from ..fsio import atomic_write
from ..lifecycle import die_with_parent
from ..progress import Progress
from ..tokenizers.backends import BACKENDS
from .counting import BACKEND_RATE, count_units
from .lang_counts import LangIdCounts
from .malloc import trim

if TYPE_CHECKING:
    from ..extensions import BuildExtension, WorkerPlan

#: Below this many bytes of text to count (each pair's corpus bytes, summed over the pairs), the build counts in its
#: own process. Measured on 2 cores: a spawned worker costs ~0.3 s to start and import the library, plus a second
#: load of each tokenizer it takes over (0.1-0.8 s); the fastest backends count 2-6 MB/s per core, so under ~4 MB of
#: work the pool cannot win back its start. ``ATLAS_POOL_MIN_BYTES`` overrides it (0: always a pool).
SINGLE_PROCESS_BYTES = 4_000_000
#: About how many bytes of text one chunk holds (fewer for a small pair, so that each pair makes a few chunks per
#: worker): ~0.1-0.3 s of encoding, small against the chunk's own costs (a round trip and its result rows).
CHUNK_BYTES = 256 * 1024


def single_process_bytes() -> int:
    """:data:`SINGLE_PROCESS_BYTES`, or ``$ATLAS_POOL_MIN_BYTES`` (0 allowed: always a pool)."""
    value = os.environ.get("ATLAS_POOL_MIN_BYTES", "").strip()
    return SINGLE_PROCESS_BYTES if not value else (0 if value == "0" else env_size("ATLAS_POOL_MIN_BYTES", 0))


def pool_kind(backends: list[str]) -> str:
    """How a job too large for one thread is counted: ``"threads"`` of this process if every backend of the job
    counts with the GIL released (:attr:`analysis.tokenizers.backends.Backend.threads`), else ``"processes"``;
    ``$ATLAS_POOL_KIND`` (``threads`` or ``processes``) overrides it.

    >>> pool_kind(["hf", "tiktoken"]), pool_kind(["hf", "baseline"])
    ('threads', 'processes')

    Raises:
        SettingError: ``ATLAS_POOL_KIND`` is set to something else (the message says what it may be).
    """
    value = os.environ.get("ATLAS_POOL_KIND", "").strip().lower()
    if value in ("threads", "processes"):
        return value
    if value:
        from ..errors import SettingError

        raise SettingError(f"ATLAS_POOL_KIND is {value!r}; set it to 'threads' or 'processes', or unset it to let "
                           "the build choose by the tokenizers' backends.")
    return "threads" if all(b in BACKENDS and BACKENDS[b].threads for b in backends) else "processes"


def init_worker(parent_pid: int) -> None:
    """The initializer of every counting worker process: it dies with ``parent_pid`` and runs HF single-threaded."""
    die_with_parent(parent_pid)  # a killed build must not leave its workers counting for minutes
    # One process per core already: the HF tokenizers' own thread pool would only oversubscribe the cores.
    os.environ["TOKENIZERS_PARALLELISM"] = "false"


# ------------------------------------------------------------------ the shared texts


_ARRAYS = ("text", "text_offsets", "spans", "span_offsets", "has_spans", "lang")
#: The order of a corpus's units in the published arrays and in every pair's counts (a total order: the key's).
UNIT_ORDER = "u.lang, u.position, u.unit"


def publish_inputs(con: duckdb.DuckDBPyConnection, corpora: list[str], path: Path) -> dict[str, CorpusInputs]:
    """Write the units of ``corpora`` (in the order the counts are stored: :data:`UNIT_ORDER`) as flat arrays in the
    folder ``path``, renamed into place when complete; return what the main process needs of each corpus.

    DuckDB hands over each corpus's texts as one UTF-8 blob and the rest as numpy columns: no Python object per unit
    but its word spans' bytes."""
    from .spans import flat

    index: dict[str, Any] = {}
    out: dict[str, CorpusInputs] = {}

    def write(tmp: Path) -> None:
        tmp.mkdir()
        for k, name in enumerate(corpora):
            langs = sorted(r[0] for r in con.execute("SELECT DISTINCT lang FROM units WHERE corpus = ?",
                                                     [name]).fetchall())
            cols = con.execute(f"""SELECT strlen(u.text) AS size, list_position(?::VARCHAR[], u.lang) - 1 AS lang,
                                          w.spans FROM units u LEFT JOIN word_spans w USING (corpus, lang, unit)
                                   WHERE u.corpus = ? ORDER BY {UNIT_ORDER}""", [langs, name]).fetchnumpy()
            (text,) = con.execute(f"SELECT encode(coalesce(string_agg(text, '' ORDER BY {UNIT_ORDER}), '')) "
                                  "FROM units u WHERE corpus = ?", [name]).fetchone()
            sizes = np.asarray(cols["size"], dtype=np.int64)
            offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
            if int(offsets[-1]) != len(text):  # the two queries disagree: never publish misaligned texts
                raise StoreError(f"The texts of corpus {name!r} changed while a build read them; run the build again.")
            blobs = cols["spans"]
            missing = np.ma.getmaskarray(blobs)
            spans, span_offsets, has_spans = flat([None if gone else b for b, gone in
                                                   zip(np.ma.getdata(blobs).tolist(), missing.tolist(), strict=True)])
            arrays = {"text": np.frombuffer(text, dtype=np.uint8), "text_offsets": offsets,
                      "spans": spans, "span_offsets": span_offsets, "has_spans": has_spans,
                      "lang": np.asarray(cols["lang"], dtype=np.int32)}
            for key, value in arrays.items():
                np.save(tmp / f"{k}.{key}.npy", value, allow_pickle=False)
            index[name] = {"file": k, "langs": langs}
            out[name] = CorpusInputs(offsets)
        (tmp / "index.json").write_text(json.dumps(index), encoding="utf-8")

    atomic_write(path, write)  # the folder appears whole, or not at all
    return out


def insert_counts(con: duckdb.DuckDBPyConnection, corpus: str, tokenizer: str, n_tokens: Sequence[int],
                  n_unk: Sequence[int], n_byte_fallback: Sequence[int], n_continued: Sequence[int | None]) -> None:
    """Store one pair's counts, given per unit in :data:`UNIT_ORDER` (as published): DuckDB joins them to the units'
    keys by their place in that order, so no key is made in Python."""
    n = len(n_tokens)
    _atlas_counts = {"i": np.arange(n, dtype=np.int64), "n_tokens": np.asarray(n_tokens, dtype=np.int64),
                     "n_unk": np.asarray(n_unk, dtype=np.int64),
                     "n_byte_fallback": np.asarray(n_byte_fallback, dtype=np.int64),
                     # -1 where words are withheld (a count is never negative): NULL in the table
                     "n_continued": np.fromiter((-1 if v is None else v for v in n_continued), dtype=np.int64,
                                                count=n)}
    (units,) = con.execute("SELECT count(*) FROM units WHERE corpus = ?", [corpus]).fetchone()
    if units != n:
        raise StoreError(f"{n} counts for the {units} units of corpus {corpus!r}; run the build again.")
    # DuckDB's replacement scan reads the local dict of arrays by its name.
    con.execute(f"""INSERT INTO counts (corpus, tokenizer, lang, unit, n_tokens, n_unk, n_byte_fallback, n_continued)
                    SELECT ?, ?, u.lang, u.unit, c.n_tokens, c.n_unk, c.n_byte_fallback, nullif(c.n_continued, -1)
                    FROM (SELECT lang, unit, row_number() OVER (ORDER BY {UNIT_ORDER}) - 1 AS i FROM units u
                          WHERE corpus = ?) u JOIN _atlas_counts c USING (i)""", [corpus, tokenizer, corpus])


@dataclass
class CorpusInputs:
    offsets: np.ndarray  # byte offsets of each unit's text (n + 1), in UNIT_ORDER

    def chunks(self, target: int) -> list[tuple[int, int]]:
        """Consecutive unit ranges of about ``target`` bytes each (at least one unit each).

        >>> CorpusInputs(np.array([0, 5, 10, 15, 20])).chunks(10)
        [(0, 2), (2, 4)]
        """
        n = len(self.offsets) - 1
        if n <= 0:
            return []
        cuts = np.searchsorted(self.offsets, np.arange(target, int(self.offsets[-1]), target), side="left")
        bounds = sorted({0, n, *(int(c) for c in cuts if 0 < c < n)})
        return list(itertools.pairwise(bounds))


#: Per published folder: its index, and per corpus where each array's data lies in its file (path, dtype, offset).
_MAPPED: dict[str, tuple[dict, dict[str, dict[str, tuple[str, np.dtype, int]]]]] = {}
_MAP_LOCK = threading.Lock()  # counting threads read the folder's headers on their first chunk
_POOLS = itertools.count()


def _array_in_file(file: Path) -> tuple[str, np.dtype, int]:
    """Where the data of the ``.npy`` file ``file`` starts, and its dtype (a 1-d array, as :func:`publish_inputs`
    writes them), from its header."""
    with open(file, "rb") as f:
        version = np.lib.format.read_magic(f)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        _, _, dtype = read_header(f)
        return str(file), dtype, f.tell()


def _read(where: tuple[str, np.dtype, int], lo: int, hi: int) -> np.ndarray:
    """Items ``lo:hi`` of a published array, read from its file (nothing stays mapped: see :func:`load_chunk`)."""
    file, dtype, offset = where
    return np.fromfile(file, dtype=dtype, count=max(hi - lo, 0), offset=offset + lo * dtype.itemsize)


def load_chunk(path: str, corpus: str, lo: int, hi: int) -> tuple[list[str], Any, list[str]]:
    """Units ``lo:hi`` of ``corpus`` from the published folder ``path``: texts, word spans (a
    :class:`~analysis.tokenizers.unit_stats.WordSpanList` with its flat arrays already made) and languages. Only the
    chunk's bytes are read from the files (the system's page cache shares them between workers); nothing is mapped,
    so no page of the corpus stays in this process's resident memory after its chunk is counted."""
    from ..tokenizers.unit_stats import WordSpanList
    from .spans import span_lists

    with _MAP_LOCK:
        if path not in _MAPPED:
            _MAPPED.clear()
            index = json.loads(Path(path, "index.json").read_text(encoding="utf-8"))
            _MAPPED[path] = (index, {})
        index, mapped = _MAPPED[path]
        if corpus not in mapped:
            k = index[corpus]["file"]
            mapped[corpus] = {key: _array_in_file(Path(path, f"{k}.{key}.npy")) for key in _ARRAYS}
        a = mapped[corpus]
    offsets = _read(a["text_offsets"], lo, hi + 1)
    raw = _read(a["text"], int(offsets[0]), int(offsets[-1])).tobytes()
    rel = (offsets - offsets[0]).tolist()
    texts = [raw[s:e].decode("utf-8") for s, e in itertools.pairwise(rel)]
    span_off = _read(a["span_offsets"], lo, hi + 1)
    pairs = _read(a["spans"], 2 * int(span_off[0]), 2 * int(span_off[-1])).astype(np.int64, copy=False)
    has = _read(a["has_spans"], lo, hi)
    spans = WordSpanList(span_lists(pairs, span_off - span_off[0], has))
    per_unit = np.diff(span_off)
    spans.__dict__["arrays"] = (np.repeat(np.arange(hi - lo, dtype=np.int64), per_unit),
                                pairs[0::2].copy(), pairs[1::2].copy())  # what WordSpanList.arrays would compute
    names = index[corpus]["langs"]
    langs = [names[i] for i in _read(a["lang"], lo, hi).tolist()]
    return texts, spans, langs


# ------------------------------------------------------------------ work done in a worker (or inline)


def preload(tokenizer_id: str) -> float:
    """Load a tokenizer while the main process imports the corpus; the seconds it took."""
    from ..tokenizers import get_tokenizer

    t0 = time.perf_counter()
    get_tokenizer(tokenizer_id)
    trim()  # the load's parsing buffers, freed now (see .malloc)
    return time.perf_counter() - t0


def hold_only(tokenizer_id: str) -> None:
    """Forget the other tokenizers this process loaded: the jobs of one worker come tokenizer after tokenizer, so a
    worker (or a build counting in its own process) holds one vocabulary at a time."""
    from ..tokenizers.registry import release_tokenizers

    release_tokenizers(keep={tokenizer_id})


def count_chunk(path: str, corpus: str, tokenizer_id: str, lo: int, hi: int, lang_counts: bool, *,
                hold: bool = True) -> tuple:
    """Counts of units ``lo:hi`` of one pair, with their (token id, language) counts if ``lang_counts``; ``hold``:
    forget every other loaded tokenizer first (a worker process; counting threads share theirs)."""
    if hold:
        hold_only(tokenizer_id)
    texts, spans, langs = load_chunk(path, corpus, lo, hi)
    return count_units(tokenizer_id, texts, spans, langs if lang_counts else None)


def extension_job(task: str, tokenizer_id: str, *, hold: bool = True) -> Any:
    """An extension's worker job (``task``: ``"module:function"``, see :class:`analysis.extensions.WorkerPlan`) for
    one tokenizer, in the process that holds it (``hold``: as for :func:`count_chunk`)."""
    if hold:
        hold_only(tokenizer_id)
    return resolve(task)(tokenizer_id)


@dataclass(frozen=True)
class Job:
    """One item of a worker's queue: a chunk of a pair (``lo:hi``) or, with ``extension``, that extension's worker job
    (``task``) for the tokenizer."""

    corpus: str
    tokenizer: str
    lo: int = 0
    hi: int = 0
    cost: float = 0.0
    extension: str = ""
    task: str = ""


# ------------------------------------------------------------------ the pool


class PairPool:
    """Workers counting ``todo`` pairs chunk by chunk; a context manager that always cleans up.

    ``expected_bytes``: the bytes of text to count if known before the import (None: not known, e.g. a built-in
    corpus not imported yet, taken as large); under :func:`single_process_bytes` no worker is started. Above it,
    :attr:`kind` says how the chunks are counted: ``"threads"`` of this process or worker ``"processes"`` (see
    :func:`pool_kind`); ``"inline"`` below it or with one worker.
    """

    def __init__(self, db: Path, todo: list[tuple[str, str]], *, workers: int | None, tmp_prefix: str,
                 extensions: Sequence[BuildExtension] = (), con: duckdb.DuckDBPyConnection | None = None,
                 expected_bytes: int | None = None) -> None:
        catalogue = load_catalogue()
        self.rate = {tid: BACKEND_RATE.get(catalogue.describe(tid).backend, 1.0) for _, tid in todo}
        self.todo = sorted(todo, key=lambda pair: -self.rate[pair[1]])
        self.workers = max(1, min(workers or os.cpu_count() or 1, len(todo)))
        self.inline = self.workers == 1 or (expected_bytes is not None and expected_bytes < single_process_bytes())
        self.kind = "inline" if self.inline else pool_kind([catalogue.describe(t).backend for _, t in todo])
        # Unique per pool (a worker, or this process counting inline, keeps the folder's headers by its path).
        self.path = db.with_name(f"{tmp_prefix}{db.name}.{os.getpid()}.inputs-{next(_POOLS)}")
        #: What the build's extensions asked the workers for besides the counts (:class:`analysis.extensions.WorkerPlan`),
        #: by extension name; and what they computed (:class:`analysis.extensions.WorkerResults`): per tokenizer, the
        #: (token id, language) counts of each corpus counted here, and per extension its jobs' results by tokenizer.
        self.extensions = {ext.name: ext for ext in extensions}
        self.plans: dict[str, WorkerPlan] = {
            name: ext.plan_workers(con, list(dict.fromkeys(t for _, t in self.todo)))
            for name, ext in self.extensions.items()}
        self.lang_counts: dict[str, dict[str, LangIdCounts]] = {}
        self.jobs: dict[str, dict[str, Any]] = {name: {} for name in self.plans}
        # Whether each pair's (token id, language) counts are wanted (by some extension).
        self.want_counts = {tid: any(tid in plan.lang_counts for plan in self.plans.values()) for _, tid in todo}
        # The extensions' worker jobs still to deal into the queues: (extension, tokenizer).
        self.to_run: list[tuple[str, str]] = [(name, tid) for name, plan in self.plans.items() for tid in plan.run]
        self.executors: list[ProcessPoolExecutor] = []
        self.threads: ThreadPoolExecutor | None = None
        self.preloads: dict[str, Future] = {}  # each returns the seconds its tokenizer took to load
        self.loaded: list[set[str]] = [set() for _ in range(self.workers)]
        self.held_before: set[str] = set()
        if self.kind == "threads":
            from ..tokenizers.registry import loaded_ids

            self.held_before = set(loaded_ids())
            self.threads = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="atlas-count")
            # The costliest tokenizer loads while the main thread imports the corpus. Only that one: the threads
            # count one tokenizer's chunks together, and a load holds the GIL, so loading the next one early would
            # not be faster, only hold two vocabularies at once for longer (see _run_threads).
            first = self.todo[0][1]
            self.preloads[first] = self.threads.submit(preload, first)
        elif not self.inline:
            ctx = multiprocessing.get_context("spawn")  # the Rust tokenizers' threads do not survive fork
            self.executors = [ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=init_worker,
                                                  initargs=(os.getpid(),)) for _ in range(self.workers)]
            # Each worker loads one of the costliest tokenizers while the corpus is imported.
            for w, tid in enumerate(list(dict.fromkeys(t for _, t in self.todo))[:self.workers]):
                self.preloads[tid] = self.executors[w].submit(preload, tid)
                self.loaded[w].add(tid)

    def __enter__(self) -> PairPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def plan(self, inputs: dict[str, CorpusInputs]) -> list[deque[Job]]:
        """Every pair's chunks (and the extensions' worker jobs) dealt into one queue per worker."""
        queues: list[deque[Job]] = [deque() for _ in range(self.workers)]
        load = [0.0] * self.workers
        pairs = []
        for name, tid in self.todo:
            size = int(inputs[name].offsets[-1])
            pairs.append((size * self.rate[tid], name, tid))
        total = sum(cost for cost, _, _ in pairs)
        for cost, name, tid in sorted(pairs, key=lambda p: -p[0]):
            holders = [w for w in range(self.workers) if tid in self.loaded[w]]
            least = min(range(self.workers), key=load.__getitem__)
            # A worker that holds the tokenizer takes it unless that would leave it well behind the least loaded.
            w = min(holders, key=load.__getitem__) if holders else least
            if holders and load[w] - load[least] > total / (4 * self.workers):
                w = least
            target = min(CHUNK_BYTES, max(16 * 1024, int(inputs[name].offsets[-1]) // (4 * self.workers) or 1))
            pieces = inputs[name].chunks(target)
            for ext, _ in [j for j in self.to_run if j[1] == tid]:
                queues[w].append(Job(name, tid, extension=ext, task=self.plans[ext].job or ""))
                self.to_run.remove((ext, tid))
            for lo, hi in pieces:
                share = (int(inputs[name].offsets[hi]) - int(inputs[name].offsets[lo])) * self.rate[tid]
                queues[w].append(Job(name, tid, lo, hi, share))
            load[w] += cost
            self.loaded[w].add(tid)
        for ext, tid in self.to_run:  # a tokenizer with no pair here (cannot happen in a build; kept safe)
            queues[0].append(Job("", tid, extension=ext, task=self.plans[ext].job or ""))
        return queues

    def count(self, con: duckdb.DuckDBPyConnection, *, say: Progress,
              record: Callable[[str, str, float], None],
              tokenizer_done: Callable[[str], None] | None = None) -> None:
        """Publish the corpora's texts, then store each pair's counts as soon as its last chunk is in and ``record``
        it; once every pair of a tokenizer is in, call ``tokenizer_done`` with it (while the workers go on)."""
        inputs = publish_inputs(con, list(dict.fromkeys(c for c, _ in self.todo)), self.path)
        trim()  # what publishing freed (its query results, the texts' blob): ~10-20 MiB (see .malloc)
        queues = self.plan(inputs)
        chunks_left = Counter((j.corpus, j.tokenizer) for q in queues for j in q if not j.extension)
        parts: dict[tuple[str, str], list[tuple[int, tuple]]] = {}
        pairs_left = Counter(tid for _, tid in self.todo)
        seconds: Counter[tuple[str, str]] = Counter()
        say(f"counting {len(self.todo)} (corpus x tokenizer) pair(s) on {1 if self.inline else self.workers} "
            f"worker(s), in {sum(chunks_left.values())} chunk(s)" + (" (in this process: a small job)"
                                                                     if self.inline and self.workers > 1 else "")
            + (" (threads of this process)" if self.kind == "threads" else ""))
        for plan in self.plans.values():
            if plan.note:
                say(plan.note)
        done_pairs = 0

        jobs_pending = {(j.extension, j.tokenizer) for q in queues for j in q if j.extension}

        def done_with(tid: str) -> None:
            for ext, plan in self.plans.items():
                if tid in plan.cached and tid not in self.jobs[ext]:
                    hit = self.extensions[ext].load_cached(tid)
                    if hit is not None:  # else (gone since): the extension does without it
                        self.jobs[ext][tid] = hit
            if tokenizer_done is not None:
                tokenizer_done(tid)
                trim()  # what storing its checks freed

        def finished(job: Job, result: Any) -> None:
            nonlocal done_pairs
            tid = job.tokenizer
            if job.extension:
                self.jobs[job.extension][tid] = result
                self.extensions[job.extension].job_done(tid, result)
                jobs_pending.discard((job.extension, tid))
                if not pairs_left[tid] and not any(t == tid for _, t in jobs_pending):
                    done_with(tid)
                return
            key = (job.corpus, tid)
            parts.setdefault(key, []).append((job.lo, result))
            seconds[key] += result[4]
            chunks_left[key] -= 1
            if chunks_left[key]:
                return
            pieces = [r for _, r in sorted(parts.pop(key), key=lambda p: p[0])]
            n_tokens, n_unk, n_byte, n_cont = ([v for r in pieces for v in r[i]] for i in range(4))
            counted = [r[5] for r in pieces if r[5] is not None]
            if counted:
                self.lang_counts.setdefault(tid, {})[job.corpus] = LangIdCounts.merge(counted)
            name = job.corpus
            con.execute("DELETE FROM counts WHERE corpus = ? AND tokenizer = ?", [name, tid])
            insert_counts(con, name, tid, n_tokens, n_unk, n_byte, n_cont)
            record(name, tid, seconds[key])
            trim()  # what storing the pair freed (its chunks' results, the premiums' bootstrap), before the next
            done_pairs += 1
            say(f"[{done_pairs}/{len(self.todo)}] {name} x {tid}: {sum(n_tokens):,} tokens in {seconds[key]:.1f} s")
            pairs_left[tid] -= 1
            if not pairs_left[tid] and not any(t == tid for _, t in jobs_pending):
                done_with(tid)

        if self.inline:
            order = {tid: k for k, (_, tid) in enumerate(self.todo)}
            # Tokenizer after tokenizer: each is loaded once, and released before the next (see hold_only).
            for job in sorted((j for q in queues for j in q), key=lambda j: order[j.tokenizer]):
                finished(job, _run(job, str(self.path), self.want_counts))
            return
        if self.threads is not None:
            self._run_threads(queues, finished)
            return
        self._run_queues(queues, finished)

    def _run_threads(self, queues: list[deque[Job]], finished: Callable[[Job, Any], None]) -> None:
        """Count every job on the threads, from one queue: the pairs costliest first (a pair's scan before its
        chunks), so that pairs finish one after the other and this thread stores each while the threads count the
        next. A tokenizer this pool loaded is released once its last job is in; the others this process held before
        (a dashboard's) stay loaded."""
        assert self.threads is not None
        from ..tokenizers.registry import loaded_ids, release_tokenizers

        cost: Counter[tuple[str, str]] = Counter()
        for job in (j for q in queues for j in q):
            cost[job.corpus, job.tokenizer] += job.cost
        jobs = sorted((j for q in queues for j in q),
                      key=lambda j: (-cost[j.corpus, j.tokenizer], j.corpus, j.tokenizer, not j.extension, j.lo))
        jobs_left = Counter(j.tokenizer for j in jobs)
        running = {self.threads.submit(_run, job, str(self.path), self.want_counts, hold=False): k
                   for k, job in enumerate(jobs)}
        try:
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=running.__getitem__):  # in queue order
                    job = jobs[running.pop(future)]
                    result = future.result()
                    jobs_left[job.tokenizer] -= 1
                    if not jobs_left[job.tokenizer] and job.tokenizer not in self.held_before:
                        # Released before its results are stored: the threads are counting the next tokenizer (maybe
                        # loading it) meanwhile, and the two vocabularies need not be held together any longer.
                        # Kept: every other loaded one, and those still to count (another thread may be loading one)
                        release_tokenizers(keep=(set(loaded_ids()) | {t for t, n in jobs_left.items() if n})
                                           - {job.tokenizer})
                        trim()  # its vocabulary's memory, back to the system (see .malloc)
                    finished(job, result)
        finally:
            for future in running:
                future.cancel()

    def _run_queues(self, queues: list[deque[Job]], finished: Callable[[Job, Any], None]) -> None:
        """Keep every worker busy: up to two jobs in flight each (no idle round trip between them), from its own
        queue, else from the end of the queue with the most work left."""
        running: dict[Future, tuple[int, Job]] = {}
        in_flight = [0] * self.workers
        spent = [0.0, 0.0]  # seconds and cost of the chunks done: how many seconds a unit of cost takes

        def load_seconds(tid: str) -> float:
            known = [f.result() for t, f in self.preloads.items() if f.done() and not f.exception()]
            if tid in self.preloads and self.preloads[tid].done() and not self.preloads[tid].exception():
                return self.preloads[tid].result()
            return max(known, default=1.0)

        def worth_stealing(w: int, victim: int) -> bool:
            """Whether taking the victim's last job pays: always if the thief holds its tokenizer; else only if
            half of the victim's queue takes longer than loading the tokenizer (as measured so far)."""
            if len(queues[victim]) < 2:  # its last job: it will start it as soon as its current one is done
                return False
            tid = queues[victim][-1].tokenizer
            if tid in self.loaded[w] or not spent[1]:
                return True
            left = sum(j.cost for j in queues[victim]) * spent[0] / spent[1]
            return left / 2 > load_seconds(tid)

        def feed(w: int) -> None:
            while in_flight[w] < 2:
                if queues[w]:
                    job = queues[w].popleft()
                else:
                    victim = max(range(self.workers), key=lambda v: sum(j.cost for j in queues[v]))
                    if not worth_stealing(w, victim):
                        return
                    job = queues[victim].pop()
                self.loaded[w] = {job.tokenizer}  # a worker holds one tokenizer at a time (see hold_only)
                running[self.executors[w].submit(_run, job, str(self.path), self.want_counts)] = (w, job)
                in_flight[w] += 1

        for w in range(self.workers):
            feed(w)
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                w, job = running.pop(future)
                in_flight[w] -= 1
                result = future.result()
                if not job.extension:
                    spent[0] += result[4]
                    spent[1] += job.cost
                finished(job, result)
                feed(w)

    def close(self) -> None:
        try:
            if self.threads is not None:  # a thread cannot be stopped: one counting a chunk finishes it first
                self.threads.shutdown(wait=True, cancel_futures=True)
            for executor in self.executors:
                executor.shutdown(wait=True, cancel_futures=True)
        finally:
            _MAPPED.pop(str(self.path), None)  # counted here: this process's record of the folder goes with it
            shutil.rmtree(self.path, ignore_errors=True)


def _run(job: Job, path: str, want_counts: dict[str, bool], *, hold: bool = True) -> Any:
    """One job, in a worker, a counting thread (``hold=False``: the threads share the loaded tokenizers) or
    inline."""
    if job.extension:
        return extension_job(job.task, job.tokenizer, hold=hold)
    return count_chunk(path, job.corpus, job.tokenizer, job.lo, job.hi, want_counts[job.tokenizer], hold=hold)
