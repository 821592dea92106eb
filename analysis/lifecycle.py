"""Processes and files that must not outlive their owner.

- Worker processes exit when the process that started them dies (:func:`die_with_parent`, called in every
  pool's initializer): on Linux the kernel sends them SIGTERM (``prctl(PR_SET_PDEATHSIG)``), and a watchdog
  thread that sees the parent gone is the fallback elsewhere (and for a parent that died before the worker
  could ask).
- Files and folders a process writes privately carry a prefix and its pid (:func:`private_prefix`), so that the
  next start can remove what a killed process left (:func:`sweep_leftovers`), and only that: an owner that is
  still alive keeps its files.

>>> private_prefix("atlas-import-", pid=42)
'atlas-import-42-'
>>> _owner("atlas-import-42-x1y2", "atlas-import-"), _owner(".building-atlas.duckdb.7.wal", ".building-atlas.duckdb.")
(42, 7)
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

#: Prefixes of the private temporary folders the app and the CLI make (each followed by ``<pid>-``).
TEMP_PREFIXES = ("atlas-import-",)
BUILD_PREFIX = ".building-"
_PR_SET_PDEATHSIG = 1
_WATCH_SECONDS = 1.0


def private_prefix(prefix: str, *, pid: int | None = None) -> str:
    """``prefix`` + this process's pid + ``-``: a name the next start can tell is a dead process's leftover."""
    return f"{prefix}{os.getpid() if pid is None else pid}-"


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (a zombie counts as dead)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except OSError:
        return True


def die_with_parent(parent_pid: int) -> None:
    """Make this (worker) process exit when ``parent_pid`` dies; call it first in a pool's initializer."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watchdog below still works
    if os.getppid() != parent_pid:  # the parent died before prctl could take effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(_WATCH_SECONDS)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def apply_memory_ceiling() -> int | None:
    """Cap this process's data memory (RLIMIT_DATA) at ``ATLAS_MEMORY_MAX``, if set; returns the cap in bytes.

    Past it, allocations fail (Python's MemoryError, DuckDB's out-of-memory error) and the page shows a message;
    the process and every other session go on. Worker processes started later inherit the cap.
    """
    from .config import MEMORY_MAX

    cap = MEMORY_MAX.value()
    if not cap:
        return None
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    cap = cap if hard == resource.RLIM_INFINITY else min(cap, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (cap, hard))
    return cap


def _owner(name: str, prefix: str) -> int | None:
    m = re.match(re.escape(prefix) + r"(\d+)(?:[-.]|$)", name)
    return int(m.group(1)) if m else None


def sweep_leftovers(*, db: Path | None = None, temp_dir: Path | None = None) -> list[Path]:
    """Remove what killed processes left: ``.building-<db>.<pid>*`` copies beside ``db`` and ``atlas-import-<pid>-*``
    folders in the temporary folder, where that pid is no longer alive. Returns what was removed."""
    removed: list[Path] = []
    me = os.getpid()
    candidates: list[tuple[Path, str]] = []
    if db is not None and db.parent.is_dir():
        prefix = f"{BUILD_PREFIX}{db.name}."
        candidates += [(p, prefix) for p in db.parent.glob(f"{BUILD_PREFIX}{db.name}.*")]
    tmp = temp_dir or Path(tempfile.gettempdir())
    for prefix in TEMP_PREFIXES:
        candidates += [(p, prefix) for p in tmp.glob(f"{prefix}*")]
    for path, prefix in candidates:
        pid = _owner(path.name, prefix)
        if pid is None or pid == me or pid_alive(pid):
            continue
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
        except FileNotFoundError:
            pass  # another process swept it first
        except OSError:
            continue  # not ours to remove (another user's): leave it
    return removed
