"""A vocabulary's per-id tables (:class:`~.tables.TokenTables`) kept in the asset cache, by the vocabulary file's
sha256: made once per file, not once per load.

A Hugging Face tokenizer makes its tables from its whole vocabulary (``get_vocab``: a Python string per entry, then
the bytes each one stands for) on its first count: Llama 3's 128,256 entries take ~0.17 s, holding Python's GIL, so
every counting thread of a build and a visitor's counting job wait for them. Read from here they take ~0.01 s.

A file ``<cache>/tables/<kind>-<sha256>.tables-v<TABLES_VERSION>.npz`` (``$ATLAS_TABLES_CACHE`` overrides the folder)
holds three arrays: every id's bytes end to end (``uint8``), each id's byte length and its class; and, as a fourth
array, the key it was made for (kind, sha256, version, ``tokenizers``' version). Data only: read with
``allow_pickle=False``, it runs no code. A file that cannot be read, whose key differs or whose arrays do not fit
together is a miss: the tables are made again and the file replaced (written atomically, so a reader never sees half
of one). A cache that cannot be written costs nothing but the next load's ~0.17 s.

Example:
    >>> cache_path("hf", "ab" * 32).name
    'hf-abababababababababababababababababababababababababababababababab.tables-v1.npz'
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import numpy as np

from ..config import cache_dir
from ..fsio import atomic_write
from .tables import TokenTables

#: Bumped whenever what a backend puts in its tables changes (the bytes of an id, its class), so that no file made by
#: other code is read.
TABLES_VERSION = "1"


def cache_root() -> Path:
    """``$ATLAS_TABLES_CACHE``, default ``tables/`` in the asset cache."""
    env = os.environ.get("ATLAS_TABLES_CACHE")
    return Path(env).expanduser() if env else cache_dir() / "tables"


def cache_path(kind: str, sha256: str) -> Path:
    """Where the tables of the ``kind`` backend's tokenizer made from the file with this sha256 are kept."""
    return cache_root() / f"{kind}-{sha256}.tables-v{TABLES_VERSION}.npz"


def _key(kind: str, sha256: str) -> np.ndarray:
    return np.array([kind, sha256, TABLES_VERSION, f"tokenizers {version('tokenizers')}"])


def cached_tables(kind: str, sha256: str | None, make: Callable[[], TokenTables]) -> TokenTables:
    """The tables of the tokenizer made from the file with ``sha256`` by the ``kind`` backend: from the cache if it
    holds them, else ``make()``'s, kept there for the next load (``sha256`` None: ``make()``'s, not kept).

    >>> import tempfile
    >>> os.environ["ATLAS_TABLES_CACHE"] = tempfile.mkdtemp()
    >>> make = lambda: TokenTables.from_bytes([b"a", b" b", b"<s>"], np.array([0, 0, 1], dtype=np.uint8))
    >>> first = cached_tables("hf", "0" * 64, make)
    >>> again = cached_tables("hf", "0" * 64, lambda: 1 / 0)  # read back: make is not called
    >>> again.token_bytes.tolist(), again.lengths.tolist(), again.classes.tolist()
    ([b'a', b' b', b'<s>'], [1, 2, 3], [0, 0, 1])
    >>> del os.environ["ATLAS_TABLES_CACHE"]
    """
    if not sha256:
        return make()
    path = cache_path(kind, sha256)
    found = _read(path, _key(kind, sha256))
    if found is not None:
        return found
    tables = make()
    try:
        _write(path, tables, _key(kind, sha256))
    except OSError:  # a read-only or full cache: the next load makes them again
        pass
    return tables


def _read(path: Path, key: np.ndarray) -> TokenTables | None:
    try:
        with np.load(path, allow_pickle=False) as f:
            stored_key, blob, lengths, classes = f["key"], f["bytes"], f["lengths"], f["classes"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
        return None
    if (stored_key.shape != key.shape or not np.array_equal(stored_key, key) or blob.dtype != np.uint8
            or lengths.dtype != np.int64 or classes.dtype != np.uint8 or lengths.ndim != 1
            or classes.shape != lengths.shape or (lengths < 0).any() or int(lengths.sum()) != blob.size):
        return None
    return TokenTables.from_joined(blob.tobytes(), lengths, classes)


def _write(path: Path, tables: TokenTables, key: np.ndarray) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "xb") as f:  # a file object: np.savez would add ".npz" to a bare name
            np.savez(f, key=key, bytes=np.asarray(tables.joined, dtype=np.uint8),
                     lengths=np.asarray(tables.lengths, dtype=np.int64),
                     classes=np.asarray(tables.classes, dtype=np.uint8))

    atomic_write(path, write)
