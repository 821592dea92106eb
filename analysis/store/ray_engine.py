"""The Ray engine: counting tasks on a Ray cluster (``RAY_ADDRESS``), or on a Ray instance it starts here.

Every task runs :func:`.tasks.execute` with one CPU and writes its own Parquet partition; a task whose worker
dies (killed, out of memory, node lost) is retried by Ray up to :data:`MAX_RETRIES` times and rewrites the same
partition, so no row is ever counted twice. Shared inputs (a parallel corpus shard's texts) go into Ray's object
store once and are read by every tokenizer's task from there.

On a cluster, every node needs this package, its pinned requirements and the verified asset cache
(``python -m analysis assets fetch`` on each node, or ``ATLAS_CACHE`` on a shared file system), and the
partition root and monolingual corpus folders must be reachable under the same path (a shared file system) or
URL (an object store) from every node.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

from analysis.i18n import N_

from ..errors import StoreError
from .tasks import Task, TaskResult, execute

MAX_RETRIES = 3
_remote = None


def _remote_execute():
    """``execute`` as a Ray remote function (made once per process; needs ``ray.init`` first)."""
    global _remote
    if _remote is None:
        import ray

        _remote = ray.remote(num_cpus=1, max_retries=MAX_RETRIES, retry_exceptions=False)(execute)
    return _remote


def connect(workers: int | None = None) -> bool:
    """Join ``RAY_ADDRESS``'s cluster, or start a local Ray instance with ``workers`` CPUs (default: all cores).

    An already initialized Ray (e.g. a test's) is used as it is. Returns True if this call started or joined it,
    so the caller should shut it down.
    """
    import ray

    if ray.is_initialized():
        return False
    address = os.environ.get("RAY_ADDRESS") or None
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
    try:
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=workers or os.cpu_count() or 1, **options)
    except (ConnectionError, RuntimeError, ValueError) as e:
        where = f"the Ray cluster at RAY_ADDRESS={address}" if address else "a local Ray instance"
        raise StoreError(f"Could not start or join {where}: {e}. Check RAY_ADDRESS (unset it to start Ray on this "
                         "machine), or use --engine local.", title=N_("Ray is not available")) from e
    return True


class RayEngine:
    name = "ray"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or 0  # 0: whatever the cluster has

    def run(self, tasks: list[Task], payloads: dict[str, Any]) -> Iterator[tuple[Task, TaskResult]]:
        if not tasks:
            return
        import ray
        from ray.exceptions import RayError, RayTaskError

        ours = connect(self.workers or None)
        pending: dict[Any, Task] = {}
        try:
            self.workers = int(ray.cluster_resources().get("CPU", 0))
            remote = _remote_execute()
            refs = {key: ray.put(payloads[key]) for key in {t.payload for t in tasks if t.payload}}
            pending = {remote.remote(t, refs[t.payload] if t.payload else None): t for t in tasks}
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    task = pending.pop(ref)
                    try:
                        result = ray.get(ref)
                    except RayTaskError as e:
                        cause = getattr(e, "cause", None)
                        if isinstance(cause, Exception) and not isinstance(cause, RayError):
                            raise cause from e
                        raise StoreError(f"Task {task.label} failed on Ray: {e}") from e
                    except RayError as e:
                        raise StoreError(f"Task {task.label} failed on Ray even after {MAX_RETRIES} retries "
                                         f"({type(e).__name__}: {e}). Finished partitions are kept: run the build "
                                         "again to resume.") from e
                    yield task, result
        finally:
            if pending:
                _cancel(list(pending))
            if ours:
                ray.shutdown()


def _cancel(refs: list) -> None:
    """Cancel running tasks and wait (briefly) until they are gone, so no partition appears after we return."""
    import ray

    for ref in refs:
        try:
            ray.cancel(ref, force=True)
        except Exception:  # already finished, or its owner is gone: nothing left to cancel
            pass
    try:
        ray.wait(refs, num_returns=len(refs), timeout=30)
    except Exception:
        pass
