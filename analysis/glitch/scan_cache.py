"""The vocabulary checks kept in the asset cache: a vocabulary is scanned once per checks version, not once per
database.

A scan (:class:`~analysis.glitch.checks.VocabularyScan`) depends only on the vocabulary file and the check code, so
it is stored under ``<cache>/checks/<vocabulary sha256>.checks-v<CHECKS_VERSION>.npz`` (``$ATLAS_CHECKS_CACHE``
overrides the folder), written atomically, with its arrays only (no pickled objects: loading it runs no code). A
fresh database built on a warm cache takes the checks from there; a file that cannot be read, or that does not
match the vocabulary's size, is a miss, and the vocabulary is scanned again (and the file rewritten).

Built-in tokenizers (the byte, code-point and word baselines) have no vocabulary file and are not cached: they are
scanned in milliseconds.

Example:
    >>> cache_path("ab" * 32).name
    'abababababababababababababababababababababababababababababababab.checks-v2.arrow'
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..config import cache_dir
from ..errors import UnknownTokenizerError
from ..fsio import atomic_write
from .checks import CHECKS_VERSION, VocabularyScan

_COLUMNS = ("token_bytes", "display", "script", "flags")


def cache_root() -> Path:
    """``$ATLAS_CHECKS_CACHE``, default ``checks/`` in the asset cache."""
    env = os.environ.get("ATLAS_CHECKS_CACHE")
    return Path(env).expanduser() if env else cache_dir() / "checks"


def cache_path(sha256: str) -> Path:
    """Where the checks of the vocabulary with this sha256 are kept (for the current checks version)."""
    return cache_root() / f"{sha256}.checks-v{CHECKS_VERSION}.arrow"


def _vocabulary(tokenizer_id: str) -> tuple[str, int | None] | None:
    """(sha256, vocabulary size) of a catalogue tokenizer with a vocabulary file; None for the built-in ones."""
    from ..catalogue import load_catalogue

    try:
        entry = load_catalogue().describe(tokenizer_id)
    except UnknownTokenizerError:  # e.g. an hf: spec, or a file: path gone since: nothing to key the checks by
        return None
    return (entry.sha256, entry.vocab_size) if entry.sha256 else None


def cache_path_of(tokenizer_id: str) -> Path | None:
    """The cache file of ``tokenizer_id``'s checks if it is there (not read: see :func:`cached_scan`), else None."""
    vocab = _vocabulary(tokenizer_id)
    path = cache_path(vocab[0]) if vocab is not None else None
    return path if path is not None and path.is_file() else None


def cached_scan(tokenizer_id: str) -> tuple[VocabularyScan, float] | None:
    """The cached checks of ``tokenizer_id``'s vocabulary and the seconds the scan took, or None (a miss)."""
    vocab = _vocabulary(tokenizer_id)
    if vocab is None:
        return None
    path = cache_path(vocab[0])
    if not path.is_file():
        return None
    try:
        with pa.memory_map(str(path)) as source:
            table = pa.ipc.open_file(source).read_all()
        meta = table.schema.metadata or {}
        if (meta.get(b"sha256") != vocab[0].encode() or meta.get(b"checks_version") != CHECKS_VERSION.encode()
                or table.column_names != list(_COLUMNS)):
            return None
        token_bytes, shown, script = (table.column(k).to_numpy(zero_copy_only=False) for k in _COLUMNS[:3])
        flags = table.column("flags").to_numpy().astype(np.uint16)
        seconds = float(meta[b"seconds"])
    except (OSError, KeyError, ValueError, pa.ArrowException):
        return None  # unreadable: scanned again, and the file replaced
    n = len(flags)
    if vocab[1] is not None and n < vocab[1]:
        return None
    return VocabularyScan(tokenizer_id, token_bytes, shown, script, flags), seconds


def store_scan(tokenizer_id: str, scan: VocabularyScan, seconds: float) -> Path | None:
    """Keep ``scan`` (of ``tokenizer_id``'s vocabulary) in the cache, atomically; None if it has no vocabulary file."""
    vocab = _vocabulary(tokenizer_id)
    if vocab is None:
        return None
    table = pa.table({"token_bytes": pa.array(list(scan.token_bytes), pa.binary()),
                      "display": pa.array(list(scan.display), pa.string()),
                      "script": pa.array(list(scan.script), pa.string()),
                      "flags": pa.array(np.asarray(scan.flags, dtype=np.uint16))})
    table = table.replace_schema_metadata({"sha256": vocab[0], "checks_version": CHECKS_VERSION,
                                           "seconds": repr(float(seconds)), "tokenizer": tokenizer_id})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    path = cache_path(vocab[0])
    atomic_write(path, sink.getvalue().to_pybytes(), fsync=True)
    return path
