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
    'abababababababababababababababababababababababababababababababab.checks-v2.npz'
"""

from __future__ import annotations

import io
import itertools
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..assets import atomic_write_bytes
from ..config import cache_dir
from ..errors import UnknownTokenizerError
from .checks import CHECKS_VERSION, VocabularyScan


def cache_root() -> Path:
    """``$ATLAS_CHECKS_CACHE``, default ``checks/`` in the asset cache."""
    env = os.environ.get("ATLAS_CHECKS_CACHE")
    return Path(env).expanduser() if env else cache_dir() / "checks"


def cache_path(sha256: str) -> Path:
    """Where the checks of the vocabulary with this sha256 are kept (for the current checks version)."""
    return cache_root() / f"{sha256}.checks-v{CHECKS_VERSION}.npz"


def _vocabulary(tokenizer_id: str) -> tuple[str, int | None] | None:
    """(sha256, vocabulary size) of a catalogue tokenizer with a vocabulary file; None for the built-in ones."""
    from ..catalogue import load_catalogue

    try:
        entry = load_catalogue().describe(tokenizer_id)
    except UnknownTokenizerError:  # e.g. an hf: spec, or a file: path gone since: nothing to key the checks by
        return None
    return (entry.sha256, entry.vocab_size) if entry.sha256 else None


def _pack(values: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    sizes = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    return np.frombuffer(b"".join(values), dtype=np.uint8), np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def _unpack(data: np.ndarray, offsets: np.ndarray) -> list[bytes]:
    raw = data.tobytes()
    bounds = offsets.tolist()
    return [raw[a:b] for a, b in itertools.pairwise(bounds)]


def cached_scan(tokenizer_id: str) -> tuple[VocabularyScan, float] | None:
    """The cached checks of ``tokenizer_id``'s vocabulary and the seconds the scan took, or None (a miss)."""
    vocab = _vocabulary(tokenizer_id)
    if vocab is None:
        return None
    path = cache_path(vocab[0])
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        token_bytes = _unpack(arrays["bytes"], arrays["bytes_offsets"])
        shown = [b.decode("utf-8") for b in _unpack(arrays["display"], arrays["display_offsets"])]
        script = [b.decode("utf-8") for b in _unpack(arrays["script"], arrays["script_offsets"])]
        flags = arrays["flags"].astype(np.uint16)
        seconds = float(arrays["seconds"][0])
    except (OSError, KeyError, ValueError, IndexError, UnicodeDecodeError):
        return None  # unreadable: scanned again, and the file replaced
    n = len(flags)
    if not (len(token_bytes) == len(shown) == len(script) == n) or (vocab[1] is not None and n < vocab[1]):
        return None
    objects = [np.empty(n, dtype=object) for _ in range(3)]
    for array, values in zip(objects, (token_bytes, shown, script), strict=True):
        array[:] = values
    return VocabularyScan(tokenizer_id, objects[0], objects[1], objects[2], flags), seconds


def store_scan(tokenizer_id: str, scan: VocabularyScan, seconds: float) -> Path | None:
    """Keep ``scan`` (of ``tokenizer_id``'s vocabulary) in the cache, atomically; None if it has no vocabulary file."""
    vocab = _vocabulary(tokenizer_id)
    if vocab is None:
        return None
    arrays: dict[str, np.ndarray] = {"flags": np.asarray(scan.flags, dtype=np.uint16),
                                     "seconds": np.array([seconds], dtype=np.float64)}
    for key, values in (("bytes", [bytes(b) for b in scan.token_bytes]),
                        ("display", [str(s).encode("utf-8") for s in scan.display]),
                        ("script", [str(s).encode("utf-8") for s in scan.script])):
        arrays[key], arrays[f"{key}_offsets"] = _pack(values)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path = cache_path(vocab[0])
    atomic_write_bytes(path, buffer.getvalue())
    return path
