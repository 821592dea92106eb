"""Engines that run counting tasks: a local process pool or a Ray cluster, behind one small interface.

A :class:`~.tasks.Task` is one (corpus shard x tokenizer) piece of work (or, for a monolingual corpus, one shard's
tokenizer-independent text totals). :func:`~.tasks.execute` runs it anywhere (a local worker process or a Ray worker on
another machine) and writes its result as one Parquet partition (:mod:`.parquet_counts`); the builder then reads the
partitions with DuckDB. Both engines run the same :func:`~.tasks.execute`, so they produce the same files.

An engine's ``run(tasks, payloads)`` yields ``(task, result)`` as tasks finish, so that the builder can load each
finished (corpus x tokenizer) pair while the workers go on; closing the generator cancels what is still running.

Example:
    >>> engine = get_engine("local", workers=2)
    >>> engine.name
    'local'
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ..errors import StoreError
from ..lifecycle import die_with_parent
from . import parquet_counts as pc
from .tasks import Task, TaskResult, execute

EngineName = Literal["local", "ray"]


class Engine(Protocol):
    name: str
    workers: int

    def run(self, tasks: list[Task], payloads: dict[str, Any]) -> Iterator[tuple[Task, TaskResult]]: ...


# ------------------------------------------------------------------ local: a spawn process pool


_PAYLOADS: dict[str, Any] = {}


def _init_local(payloads: dict[str, Any], parent_pid: int) -> None:
    die_with_parent(parent_pid)  # a killed build must not leave its workers running
    _PAYLOADS.update(payloads)


def _execute_local(task: Task) -> TaskResult:
    return execute(task, _PAYLOADS.get(task.payload) if task.payload else None)


class LocalEngine:
    """Worker processes on this machine (``spawn``: the Rust tokenizers' threads do not survive ``fork``)."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)

    def run(self, tasks: list[Task], payloads: dict[str, Any]) -> Iterator[tuple[Task, TaskResult]]:
        if not tasks:
            return
        needed = {t.payload for t in tasks if t.payload}
        ctx = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(max_workers=min(self.workers, len(tasks)), mp_context=ctx,
                                   initializer=_init_local, initargs=({k: payloads[k] for k in needed}, os.getpid()))
        pending: dict[Future, Task] = {pool.submit(_execute_local, t): t for t in tasks}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    task = pending.pop(future)
                    yield task, future.result()
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)


def get_engine(name: EngineName, *, workers: int | None = None) -> Engine:
    """The engine called ``name``: ``local`` (a process pool) or ``ray`` (``RAY_ADDRESS``'s cluster, else a local
    Ray instance with ``workers`` CPUs)."""
    if name == "local":
        return LocalEngine(workers)
    if name == "ray":
        from .ray_engine import RayEngine

        return RayEngine(workers)
    raise StoreError(f"Unknown engine {name!r}: choose 'local' or 'ray'.")


# ------------------------------------------------------------------ running a plan


@dataclass
class Plan:
    """Tasks, the shared inputs they name, and per group (kind, corpus, tokenizer) what to do once it is complete
    (load its partitions into the database)."""

    tasks: list[Task] = field(default_factory=list)
    payloads: dict[str, Any] = field(default_factory=dict)
    loaders: dict[tuple[str, str, str | None], Callable[[float], None]] = field(default_factory=dict)

    def extend(self, other: Plan) -> None:
        self.tasks += other.tasks
        self.payloads.update(other.payloads)
        self.loaders.update(other.loaders)


@dataclass
class RunStats:
    run: int = 0
    reused: int = 0
    seconds: float = 0.0  # wall time
    task_cpu_seconds: float = 0.0  # CPU time the tasks run took in their workers


def run_plan(plan: Plan, engine: Engine, say: Callable[[str], None], *, interval: float = 1.0) -> RunStats:
    """Run every task whose partition is missing, call each group's loader (with the seconds its tasks counted)
    as soon as the group is complete, and report progress. Partitions already there are reused, not rerun."""
    t0 = time.perf_counter()
    stats = RunStats()
    remaining: dict[tuple, int] = {}
    seconds: dict[tuple, float] = {}
    for t in plan.tasks:
        remaining[t.group] = remaining.get(t.group, 0) + 1
        seconds.setdefault(t.group, 0.0)
    progress = TaskProgress(plan.tasks, say, engine=engine.name, interval=interval)

    def finished(task: Task, result: TaskResult) -> None:
        progress.update(task, result)
        seconds[task.group] += result.seconds
        remaining[task.group] -= 1
        if remaining[task.group] == 0:
            plan.loaders[task.group](seconds[task.group])

    todo = []
    for t in plan.tasks:
        if pc.exists(t.path):
            stats.reused += 1
            finished(t, TaskResult(rows=0, nbytes=0, seconds=0.0, reused=True))
        else:
            todo.append(t)
    todo.sort(key=lambda t: (t.cost, -t.nbytes))
    if todo:
        say(f"running {len(todo)} task(s) on the {engine.name} engine"
            + (f", {stats.reused} finished partition(s) reused" if stats.reused else ""))
    with contextlib.closing(engine.run(todo, plan.payloads)) as results:
        for task, result in results:
            stats.run += 1
            stats.task_cpu_seconds += result.cpu_seconds
            finished(task, result)
    stats.seconds = time.perf_counter() - t0
    return stats


# ------------------------------------------------------------------ progress


class TaskProgress:
    """Prints ``[done/total] tasks, MB done of MB, MB/s, ETA`` at most every ``interval`` seconds (and at the end).

    Reused partitions count as done but not towards the throughput (nothing was read for them).
    """

    def __init__(self, tasks: list[Task], say: Callable[[str], None], *, engine: str, interval: float = 1.0) -> None:
        self.total, self.total_bytes = len(tasks), sum(t.nbytes for t in tasks)
        self.say, self.engine, self.interval = say, engine, interval
        self.done = self.reused = self.bytes_done = 0
        self.reused_bytes = 0
        self.t0 = time.perf_counter()
        self.last = -float("inf")

    def update(self, task: Task, result: TaskResult) -> None:
        self.done += 1
        if result.reused:
            self.reused += 1
            self.reused_bytes += task.nbytes
        else:
            self.bytes_done += task.nbytes
        now = time.perf_counter()
        if now - self.last >= self.interval or self.done == self.total:
            self.last = now
            self.say(self.line(task))

    def rate(self) -> float:
        elapsed = time.perf_counter() - self.t0
        return self.bytes_done / elapsed if elapsed > 0 else 0.0

    def line(self, task: Task) -> str:
        rate = self.rate()
        left = self.total_bytes - self.bytes_done - self.reused_bytes
        eta = f", ETA {_duration(left / rate)}" if rate > 0 and left > 0 else ""
        reused = f" ({self.reused} reused)" if self.reused else ""
        return (f"[{self.done}/{self.total}] tasks{reused}, {self.bytes_done / 1e6:,.1f} of "
                f"{(self.total_bytes - self.reused_bytes) / 1e6:,.1f} MB, {rate / 1e6:.2f} MB/s{eta} "
                f"({self.engine}; last: {task.label})")


def _duration(seconds: float) -> str:
    """
    >>> _duration(42.4), _duration(125), _duration(7300)
    ('42 s', '2 min 5 s', '2 h 1 min')
    """
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


def stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
