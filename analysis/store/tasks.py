"""One counting task and the function that runs it anywhere (a local worker process or a Ray worker).

A :class:`Task` is one (corpus shard x tokenizer) piece of work (or, for a monolingual corpus, one shard's
tokenizer-independent text totals); :func:`execute` runs it and writes its result as one Parquet partition
(:mod:`.parquet_counts`). The engines (:mod:`.engines`, :mod:`.ray_engine`) only decide where it runs.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Literal

from . import parquet_counts as pc
from .counting import count_units

Kind = Literal["counts", "mono_text", "mono_counts"]


@dataclass(frozen=True)
class Task:
    """One piece of work and where its partition goes.

    ``payload`` names shared input (a parallel corpus shard's texts) that the engine ships to the worker once;
    ``spec`` holds what the task needs besides (a monolingual shard, the sampling settings, ...).
    """

    kind: Kind
    corpus: str
    tokenizer: str | None
    shard: int
    path: str  # the partition file
    nbytes: int  # input bytes, for progress
    payload: str | None = None
    spec: tuple = ()
    cost: int = 0  # start costly tasks first

    @property
    def group(self) -> tuple[str, str, str | None]:
        return self.kind, self.corpus, self.tokenizer

    @property
    def label(self) -> str:
        return f"{self.corpus} x {self.tokenizer or 'text'} #{self.shard}"


@dataclass(frozen=True)
class TaskResult:
    rows: int
    nbytes: int
    seconds: float  # time counting (tokenizer loading excluded)
    reused: bool = False  # the partition was already there (a resumed run): nothing was run
    cpu_seconds: float = 0.0  # CPU time of the whole task in its worker (loading included), for benchmarks


def execute(task: Task, payload: Any = None) -> TaskResult:
    """Run one task in this process and write its partition (atomically); runs in a worker."""
    import pyarrow as pa

    # One task is one core: the HF tokenizers' own thread pool would otherwise compete with the other workers.
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    cpu0 = time.process_time()
    if task.kind == "counts":
        keys, texts, spans = payload
        if task.tokenizer is None:
            raise ValueError("a counts task needs a tokenizer")
        from ..tokenizers import get_tokenizer

        get_tokenizer(task.tokenizer)  # load outside the timed part
        n_tokens, n_unk, n_byte, n_cont, seconds, _ = count_units(task.tokenizer, texts, spans)
        table = pa.table({"shard": [task.shard] * len(keys), "lang": [k[0] for k in keys],
                          "unit": [k[1] for k in keys], "n_tokens": n_tokens, "n_unk": n_unk,
                          "n_byte_fallback": n_byte, "n_continued": n_cont}, schema=pc.schema("counts"))
    else:
        from ..corpus.monolingual import text_stats, token_stats

        root, shard, sample, seed, normalization, words_ok = task.spec
        t0 = time.perf_counter()
        if task.kind == "mono_text":
            s = text_stats(root, shard, words_ok=words_ok, sample=sample, seed=seed, normalization=normalization)
            row = {"lines": s.lines, "bytes": s.bytes, "chars": s.chars, "words": s.words}
        else:
            from ..tokenizers import get_tokenizer

            if task.tokenizer is None:
                raise ValueError("a mono_counts task needs a tokenizer")
            get_tokenizer(task.tokenizer)
            t0 = time.perf_counter()
            c = token_stats(root, shard, task.tokenizer, sample=sample, seed=seed, normalization=normalization)
            row = {"lines": c.lines, "n_tokens": c.tokens, "n_unk": c.unk, "n_byte_fallback": c.byte_fallback}
        seconds = time.perf_counter() - t0
        table = pa.table({"shard": [task.shard], "lang": [shard.lang], **{k: [v] for k, v in row.items()}},
                         schema=pc.schema(task.kind))
    pc.write_partition(table, task.path)
    return TaskResult(rows=table.num_rows, nbytes=task.nbytes, seconds=seconds, cpu_seconds=time.process_time() - cpu0)
