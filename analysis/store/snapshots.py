"""Read-only connections that follow a database file as rebuilds swap new versions in, without a restart.

A build writes a new file and renames it over the old one (:func:`analysis.store.build.build`). A server that
keeps a connection open must notice the new version and open it, while sessions still reading the old version
finish undisturbed. DuckDB shares one database instance per path within a process, so connecting to the same
path again would hand back the old version: each version is therefore attached to a private in-memory instance
(:func:`open_readonly` with ``private=True``). The newest ``keep`` versions stay open; older ones are closed.

Example:
    >>> import tempfile, duckdb
    >>> from pathlib import Path
    >>> snaps = Snapshots()
    >>> tmp = Path(tempfile.mkdtemp()) / "none.duckdb"
    >>> try:
    ...     snaps.connection(tmp)
    ... except Exception as e:
    ...     print(type(e).__name__)
    StoreError
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .schema import open_readonly

Version = tuple[int, int, int, int]  # device, inode, mtime_ns, size


def file_version(path: Path) -> Version | None:
    """Identity of the file now at ``path`` (a renamed-in file has a new inode), or None if there is none."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size


@dataclass
class _Open:
    version: Version
    con: duckdb.DuckDBPyConnection


class Snapshots:
    """Thread-safe: one shared read-only connection per (path, file version); hand out cursors of it."""

    def __init__(self, keep: int = 2) -> None:
        self._keep = keep
        self._lock = threading.RLock()
        self._open: dict[str, list[_Open]] = {}

    def connection(self, path: Path) -> duckdb.DuckDBPyConnection:
        """The connection to the version of ``path`` on disk now (opened on first use).

        Raises:
            StoreError: no file, not a Token Atlas database, or another schema version.
        """
        path = Path(path)
        key = str(path.resolve())
        with self._lock:
            version = file_version(path)
            if version is None:
                return open_readonly(path)  # raises the "not built yet" error
            versions = self._open.setdefault(key, [])
            for o in versions:
                if o.version == version:
                    return o.con
            con = open_readonly(path, private=True)
            if file_version(path) != version:  # swapped again while opening: label it by what it holds
                con.close()
                return self.connection(path)
            versions.append(_Open(version, con))
            while len(versions) > self._keep:
                versions.pop(0).con.close()
            return con

    def cursor(self, path: Path) -> duckdb.DuckDBPyConnection:
        """A new cursor (one per caller and thread) of the current version's connection, reading the store."""
        cur = self.connection(path).cursor()
        cur.execute("USE atlas")
        return cur

    def versions(self, path: Path) -> list[Version]:
        """The versions of ``path`` held open now, oldest first."""
        with self._lock:
            return [o.version for o in self._open.get(str(Path(path).resolve()), [])]

    def __del__(self) -> None:  # a dropped registry (e.g. a cleared Streamlit cache) gives its descriptors back
        self.close()

    def close(self) -> None:
        with self._lock:
            for versions in self._open.values():
                for o in versions:
                    o.con.close()
            self._open.clear()
