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
#: Every id of many texts, text after text, as one int64 array; and the number of ids of each text.
FlatIds = tuple[np.ndarray, np.ndarray]


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


def stats_from_token_lengths(texts: Sequence[str], word_spans: WordSpans, ids: Sequence[Sequence[int]] | FlatIds,
                             lengths_table: np.ndarray, classes: np.ndarray,
                             skips: Sequence[int] | None = None) -> UnitStats:
    """For tokenizers whose tokens' bytes spell each text (after ``skips[i]`` leading bytes the tokenizer added, e.g. a
    dummy-prefix space): every statistic from the ids' byte lengths, in a few passes over flat arrays.

    Every text's tokens, one text after another, spell every text's UTF-8, one after another, but for the added bytes.
    So the running total of the tokens' byte lengths, less the bytes added so far, is where each token ends in the
    concatenation of the texts' UTF-8 (a token of added bytes only ends where its text starts). The tokens tile the
    bytes: a word is split over several tokens exactly when a token ends strictly inside it.

    Args:
        ids: per-text id lists, or (every id, text after text, as int64; the number of ids of each text).
        lengths_table, classes: per id, its byte length and :class:`~.tables.TokenClass` code.
        skips: per text, the bytes the tokenizer added before it (default: none).

    Example ("ab" as b" a" + b"b" after an added space, "cd" as b"cd"; the words "ab" and "cd"):
        >>> s = stats_from_token_lengths(["ab", "cd"], [[(0, 2)], [(0, 2)]], [[0, 1], [2]], np.array([2, 1, 2]),
        ...                              np.zeros(3, dtype=np.uint8), skips=[1, 0])
        >>> s.n_tokens, s.n_continued, s.ids.tolist()
        ([2, 1], [1, 0], [0, 1, 2])
    """
    flat, counts = ids if isinstance(ids, tuple) else flat_ids(ids)
    return _tiled_stats(texts, word_spans, flat, counts, lengths_table[flat], classes,
                        None if skips is None else np.asarray(skips, dtype=np.int64))


def _tiled_stats(texts: Sequence[str], word_spans: WordSpans, flat: np.ndarray, counts: np.ndarray,
                 lengths: np.ndarray, classes: np.ndarray, shifts: np.ndarray | None) -> UnitStats:
    """:func:`stats_from_token_lengths` from each token's byte length (``lengths``, int64) and, per text, the bytes
    its tokens hold beyond the text's own (``shifts``: what the tokenizer added; negative for a text whose tokens were
    given no bytes, see :func:`stats_spelled_or`)."""
    ends = np.cumsum(lengths)
    if shifts is not None and shifts.any():
        ends -= np.repeat(np.cumsum(shifts), counts)
        # A token of added bytes alone (and an empty one before it) ended before its text: it ends where the text
        # starts, which is where the text before it ended (its tokens spell it), hence a running maximum.
        np.maximum.accumulate(ends, out=ends)
        np.maximum(ends, 0, out=ends)
    n_unk, n_byte = class_counts(flat, counts, classes)
    continued = _continued_tiled(texts, word_spans, ends)
    return UnitStats(counts.tolist(), n_unk, n_byte, continued, flat)


def class_counts(flat: np.ndarray, counts: np.ndarray, classes: np.ndarray) -> tuple[list[int], list[int]]:
    """Per text, its UNK and its byte-fallback tokens, from every id (text after text) and each text's number of ids.

    >>> class_counts(np.array([0, 2, 2, 1]), np.array([3, 0, 1]), np.array([0, 2, 3], dtype=np.uint8))
    ([0, 0, 1], [2, 0, 0])
    """
    n = len(counts)
    rare = (classes == _UNKNOWN) | (classes == _BYTE)
    if not rare.any():  # e.g. every tiktoken vocabulary: nothing to look up per token
        return [0] * n, [0] * n
    hits = np.flatnonzero(rare[flat])
    text_of = np.searchsorted(np.cumsum(counts), hits, side="right")
    codes = classes[flat[hits]]
    return (np.bincount(text_of[codes == _UNKNOWN], minlength=n).tolist(),
            np.bincount(text_of[codes == _BYTE], minlength=n).tolist())


def _continued_tiled(texts: Sequence[str], word_spans: WordSpans, ends: np.ndarray) -> list[int | None]:
    """Per text, its words split over several tokens, for tokens that tile the texts' UTF-8 (``ends``: each token's
    end in the concatenation, non-decreasing): a word [ws, we) is split when a token ends at ws < end < we."""
    spans_list = word_spans if isinstance(word_spans, WordSpanList) else WordSpanList(word_spans)
    word_text, ws, we = spans_list.offsets(texts, "byte")
    if not len(word_text):
        return [None if spans is None else 0 for spans in word_spans]
    # How many tokens end at or before each byte offset; a word's count rises strictly inside it when split.
    size = max(int(ends[-1]) if len(ends) else 0, int(we.max())) + 1
    ended = np.zeros(size, dtype=np.int32)
    ended[ends] = 1
    np.cumsum(ended, out=ended)
    split = ended[np.maximum(we - 1, ws)] > ended[ws]
    per_text = np.bincount(word_text[split], minlength=len(texts)).tolist()
    return [None if spans is None else per_text[i] for i, spans in enumerate(word_spans)]


def spelled_split(texts: Sequence[str], flat: np.ndarray, counts: np.ndarray, tables: TokenTables
                  ) -> tuple[list[int], list[int], list[int]]:
    """Which texts the tokens' bytes spell exactly (after 0 or 1 leading space the tokenizer added, e.g. a dummy
    prefix): (those texts, how many bytes were added to each, the other texts: normalized, a typed ``▁``, UNK).

    >>> t = TokenTables.from_bytes([b" a", b"b", b"c"], np.zeros(3, dtype=np.uint8))
    >>> spelled_split(["ab", "ab", "x"], np.array([0, 1, 1, 1, 2]), np.array([2, 2, 1]), t)
    ([0], [1], [1, 2])
    """
    # Every text's tokens spelled out in one buffer; text i's are spelled[bounds[i]:bounds[i + 1]].
    spelled = tables.spell(flat)
    bounds = np.concatenate([[0], np.cumsum(tables.lengths[flat])])[np.concatenate([[0], np.cumsum(counts)])]
    utf8 = [t.encode("utf-8") for t in texts]
    added = np.diff(bounds) - np.fromiter(map(len, utf8), dtype=np.int64, count=len(utf8))
    if len(texts) and ((added == 0) | (added == 1)).all():
        # The common case at once: the texts, one after another, with a space before each text that got one.
        joined = np.frombuffer(b"".join(utf8), dtype=np.uint8)
        at = (bounds[:-1] - np.cumsum(added) + added)[added == 1]  # where each added space goes in ``joined``
        if np.insert(joined, at, 32).tobytes() == spelled:
            return list(range(len(texts))), added.tolist(), []
    fast, skips, slow = [], [], []
    cut = bounds.tolist()
    for i, u in enumerate(utf8):
        skip = spelling_skip(spelled[cut[i]:cut[i + 1]], u)
        if skip is None:
            slow.append(i)
        else:
            fast.append(i)
            skips.append(skip)
    return fast, skips, slow


def stats_spelled_or(texts: Sequence[str], word_spans: WordSpans, flat: np.ndarray, counts: np.ndarray,
                     tables: TokenTables, rest: Callable[[list[int]], UnitStats]) -> UnitStats:
    """Statistics from byte lengths for the texts the tokens spell (see :func:`spelled_split`); the UNK,
    byte-fallback and split-word counts of the others from ``rest(indices)`` (their tokens and ids are those in
    ``flat``)."""
    fast, skips, slow = spelled_split(texts, flat, counts, tables)
    if not slow:
        return stats_from_token_lengths(texts, word_spans, (flat, counts), tables.lengths, tables.classes, skips)
    # The texts the tokens do not spell keep their place in the concatenation: their tokens are given no bytes and
    # their own bytes are counted after them (a negative shift), so every other token ends where it would.
    unspelled = np.zeros(len(texts), dtype=bool)
    unspelled[slow] = True
    lengths = tables.lengths[flat]
    lengths[np.repeat(unspelled, counts)] = 0
    shifts = np.zeros(len(texts), dtype=np.int64)
    shifts[fast] = skips
    shifts[slow] = [-len(texts[i].encode("utf-8")) for i in slow]
    got = _tiled_stats(texts, word_spans, flat, counts, lengths, tables.classes, shifts)
    other = rest(slow)
    for k, i in enumerate(slow):
        got.n_unk[i], got.n_byte_fallback[i] = other.n_unk[k], other.n_byte_fallback[k]
        got.n_continued[i] = other.n_continued[k]
    return got


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
