"""Writing the store: one writer at a time, on a private copy that replaces the database atomically.

Every change to a store database goes through :func:`open_writer`: it takes ``<db>.lock`` (one writer at a time),
copies the database to a private temporary file beside it, creates or upgrades the schema there
(:func:`.schema.create_store`, the one place tables are created), hands out a connection, and on success swaps the
copy in with ``os.replace``. Readers therefore see the old file or the new one, never a half-written one, and a
writer killed mid-way leaves the old database intact (its private copy is removed by the next writer).

Example:
    >>> with open_writer(db) as con:                                        # doctest: +SKIP
    ...     bulk_insert(con, "meta", [("note", "hello")])
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from ..errors import StoreError
from .schema import SCHEMA_VERSION, UPGRADABLE, create_store, upgrade

if TYPE_CHECKING:
    from .extensions import BuildExtension

#: The name of every private file or folder a writer keeps beside the database starts with this, then the
#: database's name (``.building-atlas.duckdb.<pid>``); a writer removes those a killed one left.
TMP_PREFIX = ".building-"


@contextlib.contextmanager
def locked(db: Path, *, wait: bool = False) -> Iterator[bool]:
    """Hold ``<db>.lock`` (one writer at a time); yields False instead of raising if busy and not ``wait``-ing."""
    db.parent.mkdir(parents=True, exist_ok=True)
    with open(db.with_name(db.name + ".lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True


def remove_stale_copies(db: Path) -> None:
    """Delete private copies left by a killed writer (call only while holding the lock)."""
    for stale in db.parent.glob(f"{TMP_PREFIX}{db.name}.*"):
        if stale.is_dir() and not stale.is_symlink():  # a killed build's published texts (see local_pool)
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


@contextlib.contextmanager
def open_writer(db: Path, *, fresh: bool = False,
                extensions: Sequence[BuildExtension] = ()) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a private copy of ``db`` (an empty one if ``fresh``); on success it replaces ``db`` atomically.

    The copy gets every table of the store (and those of ``extensions``) before it is handed out.

    Raises:
        StoreError: another writer holds the lock, ``db`` is not a readable store, or it has a schema version this
            code can neither read nor upgrade; each message says what to do.
    """
    with locked(db) as mine:
        if not mine:
            raise StoreError(f"Another build is writing {db} right now; wait for it to finish and run again.")
        remove_stale_copies(db)
        tmp = db.with_name(f"{TMP_PREFIX}{db.name}.{os.getpid()}")
        try:
            if db.exists() and not fresh:
                shutil.copyfile(db, tmp)

            def unreadable(e: duckdb.Error) -> StoreError:
                return StoreError(f"{db} is not a readable Token Atlas database ({e}). Move it away, or rebuild it "
                                  "from scratch with `python -m analysis build --rebuild`.")

            try:
                con = duckdb.connect(str(tmp))
            except duckdb.Error as e:
                raise unreadable(e) from e
            # DuckDB's allocator keeps the memory a query freed for reuse until something purges it; a build runs
            # large queries (the texts published, the checks stored) between long stretches of counting, so its
            # background threads purge it (the process's peak memory is a target: docs/performance.md).
            con.execute("SET allocator_background_threads = true")
            with con:  # closed on the way out, whatever happens
                try:
                    version = None
                    if con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"
                                   ).fetchone()[0]:
                        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                except duckdb.Error as e:
                    raise unreadable(e) from e
                if version is not None and version[0] in UPGRADABLE:
                    upgrade(con, version[0])  # on the private copy: the old file stays until the build succeeds
                elif version is not None and version[0] != str(SCHEMA_VERSION):
                    raise StoreError(f"{db} has schema version {version[0]}, this code writes {SCHEMA_VERSION}. "
                                     "Rebuild it from scratch with `python -m analysis build --rebuild`.")
                create_store(con, extensions=extensions)
                yield con
                con.execute("CHECKPOINT")
            os.chmod(tmp, 0o644)
            os.replace(tmp, db)
        finally:
            tmp.unlink(missing_ok=True)
            Path(str(tmp) + ".wal").unlink(missing_ok=True)


def bulk_insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple],
                columns: list[str] | None = None) -> None:
    """Insert many rows at once through a DataFrame (``executemany`` goes row by row: ~1000x slower).

    ``columns`` names the columns the rows fill (default: every column of ``table``, in order).
    """
    if not rows:
        return
    import pandas as pd

    names = columns or [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    frame = pd.DataFrame(rows, columns=names)
    con.register("_bulk_rows", frame)
    try:
        con.execute(f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(names)} FROM _bulk_rows")
    finally:
        con.unregister("_bulk_rows")


def insert_columns(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, Sequence]) -> None:
    """Insert rows given column by column (lists or numpy arrays of one length, named as the table's columns) with no
    pandas: DuckDB scans the numpy arrays in place. Python ints, strings, bytes and None go in as :func:`bulk_insert`
    puts them (None is NULL).

    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE t (a VARCHAR, n INTEGER, b BLOB)")
    >>> insert_columns(con, "t", {"a": ["x", "y"], "n": [1, None], "b": [b"\\x01", None]})
    >>> con.execute("SELECT * FROM t").fetchall()
    [('x', 1, b'\\x01'), ('y', None, None)]
    """
    import numpy as np

    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"Columns of different lengths for {table}: {sorted(lengths)}.")
    if not lengths or not lengths.pop():
        return
    _atlas_columns = {}
    for name, values in columns.items():
        if isinstance(values, np.ndarray):
            _atlas_columns[name] = values
        else:  # an object array: each value as given (DuckDB casts to the column's type; None is NULL)
            _atlas_columns[name] = np.empty(len(values), dtype=object)
            _atlas_columns[name][:] = values
    names = ", ".join(f'"{name}"' for name in _atlas_columns)  # quoted: a column may be named as a keyword
    # DuckDB's replacement scan reads the local dict of arrays by its name (``register`` would refuse while the
    # connection holds a result not fetched to the end, e.g. of a ``fetchone()``).
    con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM _atlas_columns")


def has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the database has a table (or view) named ``table``."""
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]).fetchone()[0] > 0
