"""Per-text statistics for corpus builds, computed for many texts at once.

A corpus build needs, per unit of text: tokens, UNK tokens, byte-fallback tokens and the words
covered by more than one token. Building a full :class:`~analysis.tokenizers.base.Encoding` for each
of ~16,000 short texts costs far more in per-call overhead than the tokenizer itself, so backends
hand over flat arrays (every token of every text, with its text and its character span) and the
statistics are computed over all of them in one vectorized pass. The results equal those of
``encode`` text by text (tests/test_unit_stats.py checks it for every catalogue tokenizer).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .tables import TokenClass, TokenKind, TokenTables, spelling_skip

# Plain ints of the codes, for numpy expressions on hot paths.
_UNKNOWN, _BYTE = int(TokenClass.UNKNOWN), int(TokenClass.BYTE_FALLBACK)

WordSpans = Sequence[Sequence[tuple[int, int]] | None]


class WordSpanList(list):
    """Word spans of many texts (a plain list of per-text span lists, or None) that also keeps them as flat arrays,
    converted once: a build counts the same texts with every tokenizer.

    >>> w = WordSpanList([[(0, 2), (3, 4)], None, [(0, 1)]])
    >>> [a.tolist() for a in w.arrays]
    [[0, 0, 2], [0, 3, 0], [2, 4, 1]]
    >>> [a.tolist() for a in w.offsets(["ab c", "", "é"], "byte")]
    [[0, 0, 2], [0, 3, 4], [2, 4, 6]]
    """

    _offsets: tuple[Sequence[str], dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]] | None = None

    @cached_property
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(text index, start, end) of every word, text after text; offsets within their text."""
        return _word_arrays(self)

    def offsets(self, texts: Sequence[str], unit: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(text index, start, end) of every word as offsets into the concatenation of ``texts`` (whose words these
        are), in characters (``unit="char"``) or UTF-8 bytes (``"byte"``); kept for later calls with the same texts."""
        if self._offsets is None or self._offsets[0] is not texts:
            self._offsets = (texts, {})
        known = self._offsets[1]
        if unit in known:
            return known[unit]
        word_text, w_start, w_end = self.arrays
        base = char_bases(texts)[word_text]
        start, end = w_start + base, w_end + base
        if unit == "byte":
            to_byte = char_to_byte(texts)
            start, end = to_byte[start], to_byte[end]
        known[unit] = (word_text, start, end)
        return word_text, start, end


def _word_arrays(word_spans: WordSpans) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    word_text = np.fromiter((i for i, spans in enumerate(word_spans) if spans for _ in spans), dtype=np.int64)
    flat = np.array([w for spans in word_spans if spans for w in spans], dtype=np.int64).reshape(-1, 2)
    return word_text, flat[:, 0].copy(), flat[:, 1].copy()


@dataclass(frozen=True)
class UnitStats:
    """Per text: tokens, UNK tokens, byte-fallback tokens, words split over several tokens (None: not counted).

    ``ids`` holds every token id of every text, text after text (``n_tokens[i]`` of them for text ``i``), so that a
    build can count token frequencies without encoding again; it takes no part in comparisons.
    """

    n_tokens: list[int]
    n_unk: list[int]
    n_byte_fallback: list[int]
    n_continued: list[int | None]
    ids: np.ndarray | None = field(default=None, compare=False, repr=False)


def char_bases(texts: Sequence[str]) -> np.ndarray:
    """Where each text starts in the concatenation of all texts, in characters."""
    return np.concatenate([[0], np.cumsum([len(t) for t in texts])]).astype(np.int64)


def char_to_byte(texts: Sequence[str]) -> np.ndarray:
    """For each character offset into the concatenation of ``texts`` (its length included), the UTF-8 byte offset.

    >>> char_to_byte(["aé", "€"]).tolist()
    [0, 1, 3, 6]
    """
    cps = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
    width = 1 + (cps >= 0x80).astype(np.int64) + (cps >= 0x800) + (cps >= 0x10000)
    return np.concatenate([[0], np.cumsum(width)]).astype(np.int64)


def flat_ids(ids: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Per-text id lists as one flat int64 array, and the number of ids of each text."""
    counts = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
    flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int64, count=int(counts.sum()))
    return flat, counts


def stats_from_flat(texts: Sequence[str], word_spans: WordSpans, token_text: np.ndarray, codes: np.ndarray,
                    starts: np.ndarray, ends: np.ndarray, ids: np.ndarray | None = None, *,
                    unit: str = "char") -> UnitStats:
    """Statistics from every token of every text at once.

    Args:
        token_text: for each token, the index of its text (tokens grouped by text, in order).
        codes: each token's :class:`~.tables.TokenClass` code.
        starts, ends: each token's span, as offsets into the concatenation of all texts: in characters, or with
            ``unit="byte"`` in UTF-8 bytes (a token overlaps a word's bytes exactly when its characters overlap the
            word's, since a word is whole characters).
        ids: each token's id (kept in the result, see :class:`UnitStats`).
    """
    n = len(texts)
    n_tokens = np.bincount(token_text, minlength=n)
    n_unk = np.bincount(token_text, weights=codes == _UNKNOWN, minlength=n).astype(np.int64)
    n_byte = np.bincount(token_text, weights=codes == _BYTE, minlength=n).astype(np.int64)
    continued: list[int | None] = [None if spans is None else 0 for spans in word_spans]
    spans_list = word_spans if isinstance(word_spans, WordSpanList) else WordSpanList(word_spans)
    word_text, ws, we = spans_list.offsets(texts, unit)
    if len(word_text):
        # A word [ws, we) is continued when more than one non-empty token overlaps it. For any intervals,
        # #(start < we) - #(end <= ws) counts those that overlap, so two sorted arrays and searchsorted suffice.
        keep = ends > starts
        s_kept, e_kept = starts[keep], ends[keep]
        if len(s_kept) > 1 and not ((np.diff(s_kept) >= 0).all() and (np.diff(e_kept) >= 0).all()):
            s_kept, e_kept = np.sort(s_kept), np.sort(e_kept)
        overlapping = np.searchsorted(s_kept, we, side="left") - np.searchsorted(e_kept, ws, side="right")
        per_text = np.bincount(word_text, weights=overlapping > 1, minlength=n).astype(np.int64).tolist()
        continued = [None if spans is None else per_text[i] for i, spans in enumerate(word_spans)]
    return UnitStats(n_tokens.tolist(), n_unk.tolist(), n_byte.tolist(), continued, ids)


def stats_from_token_lengths(texts: Sequence[str], word_spans: WordSpans, ids: Sequence[Sequence[int]],
                             lengths_table: np.ndarray, classes: np.ndarray,
                             skips: Sequence[int] | None = None) -> UnitStats:
    """For tokenizers whose tokens' bytes spell each text (after ``skips[i]`` leading bytes the tokenizer added):
    spans follow from byte lengths, as byte offsets into the concatenation of every text's UTF-8."""
    n = len(texts)
    n_bytes = np.fromiter((len(t.encode("utf-8")) for t in texts), dtype=np.int64, count=n)
    byte_base = np.concatenate([[0], np.cumsum(n_bytes)]).astype(np.int64)
    ids_arr, counts = ids if isinstance(ids, tuple) else flat_ids(ids)
    token_text = np.repeat(np.arange(n), counts)
    lengths = lengths_table[ids_arr]
    total = np.cumsum(lengths)
    # Bytes of all tokens of earlier texts, per text: subtracting it makes the running total per text; adding the
    # text's own offset (less the bytes the tokenizer added) places it in the concatenation.
    before = np.concatenate([[0], np.cumsum(np.bincount(token_text, weights=lengths, minlength=n))])[:-1]
    skip = np.zeros(n, dtype=np.int64) if skips is None else np.asarray(skips, dtype=np.int64)
    shift = (byte_base[:-1] - before.astype(np.int64) - skip)[token_text]
    lo = byte_base[token_text]
    ends = np.maximum(total + shift, lo)
    starts = np.maximum(total - lengths + shift, lo)
    return stats_from_flat(texts, word_spans, token_text, classes[ids_arr], starts, ends, ids_arr, unit="byte")


def spelled_split(texts: Sequence[str], flat: np.ndarray, counts: np.ndarray, tables: TokenTables
                  ) -> tuple[list[int], list[int], list[int]]:
    """Which texts the tokens' bytes spell exactly (after 0 or 1 leading space the tokenizer added, e.g. a dummy
    prefix): (those texts, how many bytes were added to each, the other texts: normalized, a typed ``▁``, UNK).

    >>> t = TokenTables.from_bytes([b" a", b"b", b"c"], np.zeros(3, dtype=np.uint8))
    >>> spelled_split(["ab", "ab", "x"], np.array([0, 1, 1, 1, 2]), np.array([2, 2, 1]), t)
    ([0], [1], [1, 2])
    """
    # Every text's tokens spelled out in one buffer; text i's are spelled[bounds[i]:bounds[i + 1]].
    spelled = b"".join(tables.token_bytes[flat].tolist())
    per_text = np.bincount(np.repeat(np.arange(len(texts)), counts), weights=tables.lengths[flat],
                           minlength=len(texts))
    bounds = np.concatenate([[0], np.cumsum(per_text.astype(np.int64))]).tolist()
    fast, skips, slow = [], [], []
    for i, text in enumerate(texts):
        skip = spelling_skip(spelled[bounds[i]:bounds[i + 1]], text.encode("utf-8"))
        if skip is None:
            slow.append(i)
        else:
            fast.append(i)
            skips.append(skip)
    return fast, skips, slow


def stats_spelled_or(texts: Sequence[str], word_spans: WordSpans, flat: np.ndarray, counts: np.ndarray,
                     tables: TokenTables, rest: Callable[[list[int]], UnitStats]) -> UnitStats:
    """Statistics from byte lengths for the texts the tokens spell (see :func:`spelled_split`), and from
    ``rest(indices)`` for the others, in text order."""
    fast, skips, slow = spelled_split(texts, flat, counts, tables)
    if not slow:
        return stats_from_token_lengths(texts, word_spans, (flat, counts), tables.lengths, tables.classes, skips)
    starts = np.concatenate([[0], np.cumsum(counts)])
    keep = np.zeros(len(flat), dtype=bool)
    for i in fast:
        keep[starts[i]:starts[i + 1]] = True
    got = stats_from_token_lengths([texts[i] for i in fast], [word_spans[i] for i in fast],
                                   (flat[keep], counts[fast]), tables.lengths, tables.classes, skips)
    return merge_stats(len(texts), (fast, got), (slow, rest(slow)))


def stats_from_encodings(texts: Sequence[str], word_spans: WordSpans, encodings: Sequence) -> UnitStats:
    """The generic path: from full encodings of each text (any backend)."""
    code = {TokenKind.UNKNOWN: _UNKNOWN, TokenKind.BYTE_FALLBACK: _BYTE}
    counts = np.fromiter((e.count for e in encodings), dtype=np.int64, count=len(encodings))
    token_text = np.repeat(np.arange(len(texts)), counts)
    base = char_bases(texts)[token_text]
    starts = np.fromiter((s for e in encodings for s in e.starts), dtype=np.int64, count=int(counts.sum())) + base
    ends = np.fromiter((x for e in encodings for x in e.ends), dtype=np.int64, count=int(counts.sum())) + base
    codes = np.fromiter((code.get(k, 0) for e in encodings for k in e.kinds), dtype=np.uint8, count=int(counts.sum()))
    ids = np.fromiter((i for e in encodings for i in e.ids), dtype=np.int64, count=int(counts.sum()))
    return stats_from_flat(texts, word_spans, token_text, codes, starts, ends, ids)


def merge_stats(n: int, *parts: tuple[Sequence[int], UnitStats]) -> UnitStats:
    """Put statistics computed for subsets of the texts (given by their indices) back in text order."""
    out: dict[str, list] = {f: [0] * n for f in ("n_tokens", "n_unk", "n_byte_fallback", "n_continued")}
    for indices, stats in parts:
        for field_name, values in out.items():
            for i, v in zip(indices, getattr(stats, field_name), strict=True):
                values[i] = v
    ids = None
    if all(stats.ids is not None for _, stats in parts):
        pieces: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * n
        for indices, stats in parts:
            bounds = np.cumsum([0, *stats.n_tokens]).tolist()
            for k, i in enumerate(indices):
                pieces[i] = stats.ids[bounds[k]:bounds[k + 1]]
        ids = np.concatenate(pieces) if n else np.empty(0, dtype=np.int64)
    return UnitStats(**out, ids=ids)

