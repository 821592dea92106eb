"""Incremental BPE statistics over word types with per-language frequencies (the core of Parity-aware BPE).

A *word* is one pre-token type (``"Ġthe"`` after byte-level mapping) with a frequency per language. The engine
keeps, for every language, the count of every adjacent symbol pair over all words, a pair -> words index, and a
lazy max-heap per language. A merge rewrites only the words that hold the pair and updates the counts of the
pairs around each occurrence; nothing is recounted from scratch, so a merge costs time in proportion to the
occurrences it touches, not to the corpus.

Counting and tie-breaking follow the Hugging Face ``tokenizers`` BPE trainer exactly, so that one language group
with summed frequencies reproduces its merges: a pair's count is the number of adjacent positions holding it
(overlapping ones included: ``a a a`` holds ``(a, a)`` twice), weighted by word frequency; a merge replaces
non-overlapping occurrences left to right; the best pair is the one with the highest count, ties going to the
smallest ``(left id, right id)``; symbol ids are the alphabet sorted by code point, then new tokens in order of
creation (a merge whose result already exists reuses that id).

Example (ids 0..2 stand for a, b, c; one language):
    >>> e = MergeEngine([[0, 1, 0, 1], [2, 0, 1]], [[2], [1]], ["a", "b", "c"])
    >>> e.best(0)
    ((0, 1), 5)
    >>> e.merge((0, 1)), e.words, e.best(0)
    (3, [[3, 3], [2, 3]], ((3, 3), 2))
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from itertools import pairwise

_SHIFT = 21  # pair key = left << 21 | right: one int per pair; ordering equals (left, right) ordering
_MASK = (1 << _SHIFT) - 1
MAX_SYMBOLS = 1 << _SHIFT


def pair_key(left: int, right: int) -> int:
    """One int per pair; ``pair_key`` order is the lexicographic order of ``(left, right)``.

    >>> pair_key(1, 2) < pair_key(1, 3) < pair_key(2, 0)
    True
    """
    return left << _SHIFT | right


def key_pair(key: int) -> tuple[int, int]:
    """Inverse of :func:`pair_key`.

    >>> key_pair(pair_key(7, 9))
    (7, 9)
    """
    return key >> _SHIFT, key & _MASK


class MergeEngine:
    """Pair counts per language over word types, updated on every merge.

    Args:
        words: each word type as its symbol ids (initial segmentation).
        freqs: for each word, its frequency in each language (``len(freqs[i]) == n_languages``); weights already
            applied. A language may give a word frequency 0.
        symbols: the string of each symbol id (byte-level characters); new tokens are appended.
        eval_freqs: optional second frequency table, the one language lengths are measured on (Parity-aware BPE
            measures each language's token count on the parallel units all languages share). Default: ``freqs``.
    """

    def __init__(self, words: Sequence[Sequence[int]], freqs: Sequence[Sequence[int]], symbols: Sequence[str],
                 eval_freqs: Sequence[Sequence[int]] | None = None) -> None:
        if len(words) != len(freqs):
            raise ValueError(f"{len(words)} words but {len(freqs)} frequency rows")
        self.n_languages = len(freqs[0]) if freqs else 1
        self.words: list[list[int]] = [list(w) for w in words]
        # Sparse per-word frequencies: most words occur in one language only.
        self._freq: list[tuple[tuple[int, int], ...]] = [
            tuple((g, int(f)) for g, f in enumerate(row) if f) for row in freqs]
        ev = freqs if eval_freqs is None else eval_freqs
        self._eval: list[tuple[tuple[int, int], ...]] = [
            tuple((g, int(f)) for g, f in enumerate(row) if f) for row in ev]
        self.symbols: list[str] = list(symbols)
        self._ids: dict[str, int] = {s: i for i, s in enumerate(self.symbols)}
        self.counts: list[dict[int, int]] = [{} for _ in range(self.n_languages)]
        self.where: dict[int, set[int]] = {}
        #: tokens per language over the evaluation frequencies (sum of frequency x word length)
        self.lengths: list[int] = [0] * self.n_languages
        for i, w in enumerate(self.words):
            for g, f in self._eval[i]:
                self.lengths[g] += f * len(w)
            for left, right in pairwise(w):
                k = left << _SHIFT | right
                for g, f in self._freq[i]:
                    c = self.counts[g]
                    c[k] = c.get(k, 0) + f
                self.where.setdefault(k, set()).add(i)
        self._heaps: list[list[tuple[int, int]]] = [[(-n, k) for k, n in c.items()] for c in self.counts]
        for h in self._heaps:
            heapq.heapify(h)

    @property
    def vocab_size(self) -> int:
        return len(self.symbols)

    def best(self, language: int) -> tuple[tuple[int, int], int] | None:
        """The pair with the highest count in ``language`` (ties: smallest ids) and its count; None if none left."""
        heap, counts = self._heaps[language], self.counts[language]
        while heap:
            neg, k = heap[0]
            cur = counts.get(k, 0)
            if cur == -neg:
                return key_pair(k), cur
            if cur > 0:  # stale: the count fell since this entry was pushed
                heapq.heapreplace(heap, (-cur, k))
            else:
                heapq.heappop(heap)
        return None

    def merge(self, pair: tuple[int, int]) -> int:
        """Merge ``pair`` in every word that holds it; return the id of the merged token."""
        a, b = pair
        merged = self.symbols[a] + self.symbols[b]
        c = self._ids.get(merged)
        if c is None:
            c = len(self.symbols)
            if c >= MAX_SYMBOLS:
                raise ValueError(f"more than {MAX_SYMBOLS} symbols")
            self.symbols.append(merged)
            self._ids[merged] = c
        key = a << _SHIFT | b
        counts, lengths = self.counts, self.lengths
        rising: set[tuple[int, int]] = set()  # (language, pair key) whose count went up: push fresh heap entries
        ca, cb = c << _SHIFT, b << _SHIFT
        for i in self.where.pop(key, ()):
            w = self.words[i]
            n = len(w)
            occ: list[int] = []
            j = 0
            while True:
                try:
                    j = w.index(a, j)
                except ValueError:
                    break
                if j + 1 < n and w[j + 1] == b:
                    occ.append(j)
                    j += 2
                else:
                    j += 1
            if not occ:
                continue
            delta: dict[int, int] = {}
            last_end = -1
            out: list[int] = []
            start = 0
            for j in occ:
                if j > 0:
                    left = c if j == last_end else w[j - 1]
                    k1 = left << _SHIFT | a
                    delta[k1] = delta.get(k1, 0) - 1
                    k2 = left << _SHIFT | c
                    delta[k2] = delta.get(k2, 0) + 1
                if j + 2 < n:
                    right = w[j + 2]
                    k1 = cb | right
                    delta[k1] = delta.get(k1, 0) - 1
                    k2 = ca | right
                    delta[k2] = delta.get(k2, 0) + 1
                out.extend(w[start:j])
                out.append(c)
                start = j + 2
                last_end = j + 2
            out.extend(w[start:])
            self.words[i] = out
            freq = self._freq[i]
            for g, f in self._eval[i]:
                lengths[g] -= f * len(occ)
            for k, d in delta.items():
                if d == 0:
                    continue
                for g, f in freq:
                    cg = counts[g]
                    cg[k] = cg.get(k, 0) + d * f
                    if d > 0:
                        rising.add((g, k))
                if d > 0:
                    self.where.setdefault(k, set()).add(i)
        for cg in counts:
            cg.pop(key, None)
        for g, k in rising:
            n_k = counts[g].get(k, 0)
            if n_k > 0:
                heapq.heappush(self._heaps[g], (-n_k, k))
        return c

    def recount(self) -> list[dict[tuple[int, int], int]]:
        """Pair counts per language computed from scratch (for tests: must equal the incremental ones)."""
        out: list[dict[tuple[int, int], int]] = [{} for _ in range(self.n_languages)]
        for i, w in enumerate(self.words):
            for p in pairwise(w):
                for g, f in self._freq[i]:
                    out[g][p] = out[g].get(p, 0) + f
        return out

    def live_counts(self) -> list[dict[tuple[int, int], int]]:
        """The incremental counts, zero entries dropped, keyed by pair (for comparison with :meth:`recount`)."""
        return [{key_pair(k): n for k, n in c.items() if n} for c in self.counts]
