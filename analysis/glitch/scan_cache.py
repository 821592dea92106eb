"""The vocabulary checks kept in the asset cache: a vocabulary is scanned once per checks version, not once per
database.

A scan (:class:`~analysis.glitch.checks.VocabularyScan`) depends only on the vocabulary file and the check code, so
it is stored under ``<cache>/checks/<vocabulary sha256>.checks-v<CHECKS_VERSION>.format-<CACHE_FORMAT>.parquet``
(``$ATLAS_CHECKS_CACHE`` overrides the folder), written atomically by DuckDB: one row per token id, in id order
(``token_bytes``, ``display``, ``script``, ``flags``), and in the file's key/value metadata the vocabulary's sha256,
the checks version, the cache format, the number of ids and the scan's seconds. Data only: loading it runs no code.

A build stores a cached vocabulary's checks straight from the file into its database (DuckDB reads the Parquet
file: no Python object per token, see :func:`analysis.glitch.store.store_counted_checks`); :func:`cached_checks`
only checks the file's metadata first. A file that cannot be read, or whose metadata do not match (another
vocabulary, checks version or cache format, fewer rows than the vocabulary has ids), is a miss: the vocabulary is
scanned again and the file rewritten. Files of an earlier cache format have another name (format 1 was
``<sha256>.checks-v<N>.arrow``, an Arrow IPC file) and are never read.

Built-in tokenizers (the byte, code-point and word baselines) have no vocabulary file and are not cached: they are
scanned in milliseconds.

Example:
    >>> cache_path("ab" * 32).name
    'abababababababababababababababababababababababababababababababab.checks-v2.format-2.parquet'
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from ..config import cache_dir
from ..errors import UnknownTokenizerError
from ..fsio import atomic_write
from .checks import CHECKS_VERSION, VocabularyScan

#: The layout of a cache file, in its name and its metadata: bumped whenever the layout changes, so that a file of
#: another layout is never read as this one (1: Arrow IPC, ``.checks-v<N>.arrow``; 2: Parquet written by DuckDB).
CACHE_FORMAT = "2"
#: The columns of a cache file, in order, with their DuckDB types.
COLUMNS = (("token_bytes", "BLOB"), ("display", "VARCHAR"), ("script", "VARCHAR"), ("flags", "USMALLINT"))


@dataclass(frozen=True)
class CachedChecks:
    """A cache file whose metadata match a vocabulary: what a build stores its checks from (read by DuckDB, not
    here)."""

    tokenizer: str
    path: Path
    n_ids: int
    seconds: float

    def __len__(self) -> int:
        return self.n_ids


def cache_root() -> Path:
    """``$ATLAS_CHECKS_CACHE``, default ``checks/`` in the asset cache."""
    env = os.environ.get("ATLAS_CHECKS_CACHE")
    return Path(env).expanduser() if env else cache_dir() / "checks"


def cache_path(sha256: str) -> Path:
    """Where the checks of the vocabulary with this sha256 are kept (for the current checks version and format)."""
    return cache_root() / f"{sha256}.checks-v{CHECKS_VERSION}.format-{CACHE_FORMAT}.parquet"


def _vocabulary(tokenizer_id: str) -> tuple[str, int | None] | None:
    """(sha256, vocabulary size) of a catalogue tokenizer with a vocabulary file; None for the built-in ones."""
    from ..catalogue import load_catalogue

    try:
        entry = load_catalogue().describe(tokenizer_id)
    except UnknownTokenizerError:  # e.g. an hf: spec, or a file: path gone since: nothing to key the checks by
        return None
    return (entry.sha256, entry.vocab_size) if entry.sha256 else None


def cache_path_of(tokenizer_id: str) -> Path | None:
    """The cache file of ``tokenizer_id``'s checks if it is there (not read: see :func:`cached_checks`), else None."""
    vocab = _vocabulary(tokenizer_id)
    path = cache_path(vocab[0]) if vocab is not None else None
    return path if path is not None and path.is_file() else None


@functools.cache
def _duckdb() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB for reading cache files (starting one costs ~0.05 s); a cursor of it per call."""
    return duckdb.connect()


def cached_checks(tokenizer_id: str) -> CachedChecks | None:
    """The cache file of ``tokenizer_id``'s vocabulary checks if its metadata and columns match (sha256, checks
    version, cache format, columns, at least as many rows as the vocabulary has ids), else None (a miss). Reads the
    file's footer only."""
    vocab = _vocabulary(tokenizer_id)
    if vocab is None:
        return None
    path = cache_path(vocab[0])
    if not path.is_file():
        return None
    try:
        with _duckdb().cursor() as con:
            meta = dict(con.execute("SELECT decode(key), decode(value) FROM parquet_kv_metadata(?)",
                                    [str(path)]).fetchall())
            (rows,) = con.execute("SELECT sum(num_rows) FROM parquet_file_metadata(?)", [str(path)]).fetchone()
            columns = [(name, kind) for name, kind, *_ in
                       con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()]
        n, seconds = int(meta["n_ids"]), float(meta["seconds"])
    except (duckdb.Error, KeyError, ValueError, TypeError, UnicodeDecodeError):
        return None  # unreadable: scanned again, and the file replaced
    if (meta.get("sha256") != vocab[0] or meta.get("checks_version") != CHECKS_VERSION
            or meta.get("format") != CACHE_FORMAT or columns != list(COLUMNS) or rows != n
            or (vocab[1] is not None and n < vocab[1])):
        return None
    return CachedChecks(tokenizer_id, path, n, seconds)


def read_cached(checks: CachedChecks) -> VocabularyScan:
    """The :class:`~analysis.glitch.checks.VocabularyScan` in a cache file (Python objects for every id: for tools
    and tests; a build stores the file's rows without them)."""
    with _duckdb().cursor() as con:
        cols = con.execute("SELECT token_bytes, display, script, flags FROM read_parquet(?, file_row_number = true) "
                           "ORDER BY file_row_number", [str(checks.path)]).fetchnumpy()
    return VocabularyScan(checks.tokenizer, *(np.asarray(cols[k], dtype=object) for k in ("token_bytes", "display",
                                                                                          "script")),
                          np.asarray(cols["flags"], dtype=np.uint16))


def cached_scan(tokenizer_id: str) -> tuple[VocabularyScan, float] | None:
    """The cached checks of ``tokenizer_id``'s vocabulary, read into Python, and the seconds the scan took; or None
    (a miss)."""
    checks = cached_checks(tokenizer_id)
    if checks is None:
        return None
    try:
        return read_cached(checks), checks.seconds
    except duckdb.Error:
        return None


def store_scan(tokenizer_id: str, scan: VocabularyScan, seconds: float) -> Path | None:
    """Keep ``scan`` (of ``tokenizer_id``'s vocabulary) in the cache, atomically; None if it has no vocabulary file."""
    vocab = _vocabulary(tokenizer_id)
    if vocab is None:
        return None
    meta = {"sha256": vocab[0], "checks_version": CHECKS_VERSION, "format": CACHE_FORMAT, "n_ids": str(len(scan)),
            "seconds": repr(float(seconds)), "tokenizer": tokenizer_id}
    options = ", ".join(f"{k}: '{v.replace(chr(39), chr(39) * 2)}'" for k, v in meta.items())
    _scan_rows = {"token_bytes": _objects(scan.token_bytes), "display": _objects(scan.display),
                  "script": _objects(scan.script), "flags": np.asarray(scan.flags, dtype=np.uint16)}
    select = ", ".join(f"{name}::{kind} AS {name}" for name, kind in COLUMNS)

    def write(tmp: Path) -> None:
        _rows = _scan_rows  # read by DuckDB's replacement scan, by this name
        with _duckdb().cursor() as con:
            # DuckDB's replacement scan reads the local dict of arrays by its name, in order.
            con.execute(f"COPY (SELECT {select} FROM _rows) TO '{_quoted(tmp)}' "
                        f"(FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{options}}})")
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())

    path = cache_path(vocab[0])
    atomic_write(path, write)
    return path


def _objects(values: np.ndarray) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
