"""How often each token id occurs in the built corpora: total, number of languages, the top languages.

Stored compactly, one row per (tokenizer, token id) that occurs at all — never one row per language and token.

Example:
    >>> f = count_ids([[5, 5, 7], [5]], [0, 1], n_ids=8, n_langs=2)
    >>> f.total[[5, 7]].tolist(), f.n_langs[[5, 7]].tolist(), f.top(5)
    ([3, 1], [2, 1], [(0, 2), (1, 1)])
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: How many of the languages a token occurs in most are kept per token.
TOP_LANGS = 3


@dataclass(frozen=True)
class Frequency:
    """Per token id: occurrences in all texts, languages it occurs in, and its top languages (by index)."""

    total: np.ndarray  # int64 [n_ids]
    n_langs: np.ndarray  # int32 [n_ids]
    top_ids: np.ndarray  # int64 [k]: token ids of the (id, language) pairs below, sorted by id, then count descending
    top_langs: np.ndarray  # int32 [k]: language indices
    top_counts: np.ndarray  # int64 [k]

    def top(self, token_id: int) -> list[tuple[int, int]]:
        """``[(language index, count), ...]`` for one id, most frequent first (at most ``TOP_LANGS``)."""
        lo, hi = np.searchsorted(self.top_ids, [token_id, token_id + 1])
        return list(zip(self.top_langs[lo:hi].tolist(), self.top_counts[lo:hi].tolist()))


def count_ids(ids_per_text: Sequence[Sequence[int]], lang_of_text: Sequence[int], *, n_ids: int, n_langs: int,
              top: int = TOP_LANGS) -> Frequency:
    """Count token ids over texts, each text in the language with index ``lang_of_text[i]`` (``0 <= index < n_langs``).

    Ids at or above ``n_ids`` (none for a tokenizer's own ids) are an error rather than silently dropped.
    """
    lengths = np.fromiter((len(x) for x in ids_per_text), dtype=np.int64, count=len(ids_per_text))
    flat = np.fromiter(itertools.chain.from_iterable(ids_per_text), dtype=np.int64, count=int(lengths.sum()))
    if flat.size and (flat.min() < 0 or flat.max() >= n_ids):
        raise ValueError(f"token id {int(flat.max())} outside the vocabulary of {n_ids} ids")
    langs = np.repeat(np.asarray(lang_of_text, dtype=np.int64), lengths)
    total = np.bincount(flat, minlength=n_ids)
    pairs, counts = np.unique(flat * n_langs + langs, return_counts=True)
    pair_ids, pair_langs = pairs // n_langs, pairs % n_langs
    n_lang = np.bincount(pair_ids, minlength=n_ids).astype(np.int32)
    order = np.lexsort((pair_langs, -counts, pair_ids))  # by id, then count descending, then language
    pair_ids, pair_langs, counts = pair_ids[order], pair_langs[order], counts[order]
    first = np.searchsorted(pair_ids, pair_ids)  # index of each id's first pair
    keep = np.arange(len(pair_ids)) - first < top
    return Frequency(total, n_lang, pair_ids[keep], pair_langs[keep].astype(np.int32), counts[keep])
