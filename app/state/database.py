"""The database the app reads and its version: the key of every cached read (part of the data layer, :mod:`app.state`).

A rebuilt database is swapped in by rename: :func:`db_version` changes with it, so every read keyed by it is made
afresh, and :func:`store` / :func:`cursor` open the new file while sessions still reading the old one finish on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import duckdb
import streamlit as st

from analysis.store.schema import default_db_path
from analysis.store.snapshots import Snapshots, file_version


class DbVersion(NamedTuple):
    """The database file and the identity of the version now at that path (device, inode, mtime_ns, size; zeros
    when there is no file): part of every cached read's key, so that a swapped-in file is read afresh."""

    path: str
    version: tuple[int, int, int, int]


def db_path() -> Path:
    return default_db_path()


def db_version() -> DbVersion:
    """The database the app reads now (``ATLAS_DB`` or the default) and its version: the one cache key of every
    page's reads of it (the SQL console's connection and the lab's language lists included)."""
    path = db_path()
    return DbVersion(str(path), file_version(path) or (0, 0, 0, 0))


@st.cache_resource(show_spinner=False)
def _snapshots() -> Snapshots:
    """One registry of read-only connections per server process, shared by every session."""
    return Snapshots(keep=2)


def store() -> duckdb.DuckDBPyConnection:
    """A cursor (one per call, so sessions and threads never share one) of the database version on disk now.

    A rebuilt database swapped in by rename is opened on the next call, without a restart; sessions still
    reading the previous version finish on it.

    Raises:
        StoreError: no database built yet, or an unreadable one (pages show it with :func:`show_error`).
    """
    return _snapshots().cursor(db_path())


def cursor(db: DbVersion) -> duckdb.DuckDBPyConnection:
    """A cursor of the database version ``db`` names (what a cached read that was given ``db`` reads)."""
    return _snapshots().cursor(Path(db.path))
