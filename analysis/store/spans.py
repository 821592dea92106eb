"""Word spans as stored in the ``units`` table: computed once, when a corpus is imported, and read by every build.

A unit's spans are its ICU words (:func:`analysis.words.words`) as character offsets ``[start, end)``, packed as
little-endian int32 pairs in one BLOB (table ``word_spans``, column ``spans``); no row where word counts are withheld
for the unit's script.
A build reads them back with no segmentation at all (ICU over every line of a corpus costs about as much as
encoding it with a fast tokenizer).

Example:
    >>> blob = pack([(0, 2), (3, 4)])
    >>> len(blob), unpack(blob)
    (16, [(0, 2), (3, 4)])
    >>> pack(None) is None, unpack(None) is None
    (True, True)
"""

from __future__ import annotations

import itertools
import sys
from array import array
from collections.abc import Sequence

import numpy as np

_DTYPE = np.dtype("<i4")


def pack(spans: Sequence[tuple[int, int]] | None) -> bytes | None:
    """The BLOB stored for one unit's spans (None stays None: words withheld)."""
    if spans is None:
        return None
    packed = array("i", itertools.chain.from_iterable(spans))  # ~10x numpy's speed on a few dozen pairs
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def pack_flat(bounds: Sequence[Sequence[int]]) -> list[bytes]:
    """:func:`pack` of many units at once, each given flat (``[start0, end0, start1, end1, ...]``, as
    :func:`analysis.words.word_bounds` returns them): one array for all, cut into each unit's bytes.

    >>> pack_flat([[0, 2, 3, 4], [], [0, 1]]) == [pack([(0, 2), (3, 4)]), pack([]), pack([(0, 1)])]
    True
    """
    packed = array("i", itertools.chain.from_iterable(bounds))
    if sys.byteorder == "big":
        packed.byteswap()
    raw = packed.tobytes()
    ends = list(itertools.accumulate(4 * len(b) for b in bounds))
    return [raw[a:b] for a, b in zip([0, *ends][:len(ends)], ends, strict=True)]


def unpack(blob: bytes | None) -> list[tuple[int, int]] | None:
    """One unit's spans from its BLOB."""
    if blob is None:
        return None
    flat = np.frombuffer(blob, dtype=_DTYPE).tolist()
    return list(zip(flat[0::2], flat[1::2], strict=True))


def flat(blobs: Sequence[bytes | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Many units' spans at once: (every start and end, int32 pairs flattened; where each unit's pairs begin,
    ``n + 1`` offsets counted in pairs; whether each unit has spans at all).

    >>> f, offsets, ok = flat([pack([(0, 1)]), None, pack([(0, 2), (3, 5)])])
    >>> f.tolist(), offsets.tolist(), ok.tolist()
    ([0, 1, 0, 2, 3, 5], [0, 1, 1, 3], [True, False, True])
    """
    ok = np.fromiter((b is not None for b in blobs), dtype=bool, count=len(blobs))
    joined = b"".join(b for b in blobs if b is not None)
    pairs = np.fromiter((len(b) // 8 if b is not None else 0 for b in blobs), dtype=np.int64, count=len(blobs))
    offsets = np.concatenate([[0], np.cumsum(pairs)]).astype(np.int64)
    return np.frombuffer(joined, dtype=_DTYPE).astype(np.int32), offsets, ok


def span_lists(flat_spans: np.ndarray, offsets: np.ndarray, ok: np.ndarray) -> list[list[tuple[int, int]] | None]:
    """Per-unit span lists (None where withheld) back from :func:`flat`'s arrays.

    >>> span_lists(*flat([pack([(0, 1)]), None, pack([])]))
    [[(0, 1)], None, []]
    """
    values = flat_spans.tolist()
    pairs = list(zip(values[0::2], values[1::2], strict=True))  # every (start, end) tuple made in one C loop
    bounds = offsets.tolist()
    return [pairs[a:b] if has else None for a, b, has in zip(bounds[:-1], bounds[1:], ok.tolist(), strict=True)]
