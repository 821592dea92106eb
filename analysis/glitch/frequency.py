"""How often each token id occurs in the built corpora: total, number of languages, the top languages.

A build's counting workers hand back, per (corpus x tokenizer) pair, the sparse (token id, language) counts of the ids
they counted (:class:`~analysis.store.lang_counts.LangIdCounts`, a product of the store's counting); the token checks
keep them per pair (``token_lang_counts``) and merge the pairs of all corpora into one :class:`Frequency` per
tokenizer, stored compactly as ``token_frequency``: one row per id that occurs at all, with its top languages.

Example:
    >>> f = merge_lang_counts([LangIdCounts.of(np.array([5, 5, 7, 5]), [3, 1], ["eng", "fra"])], ["eng", "fra"], n_ids=8)
    >>> f.total[[5, 7]].tolist(), f.n_langs[[5, 7]].tolist(), f.top(5)
    ([3, 1], [2, 1], [(0, 2), (1, 1)])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..store.lang_counts import LangIdCounts as LangIdCounts  # what the build's counting workers hand back

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


def frequency_from_pairs(pair_ids: np.ndarray, pair_langs: np.ndarray, counts: np.ndarray, *, n_ids: int,
                         top: int = TOP_LANGS) -> Frequency:
    """The :class:`Frequency` of sparse counts: ``counts[k]`` occurrences of id ``pair_ids[k]`` in language
    ``pair_langs[k]``, each (id, language) pair at most once.

    >>> f = frequency_from_pairs(np.array([5, 5, 7]), np.array([0, 1, 1]), np.array([2, 1, 1]), n_ids=8)
    >>> f.total[[5, 7]].tolist(), f.n_langs[[5, 7]].tolist(), f.top(5)
    ([3, 1], [2, 1], [(0, 2), (1, 1)])
    """
    pair_ids = np.asarray(pair_ids, dtype=np.int64)
    if pair_ids.size and (pair_ids.min() < 0 or pair_ids.max() >= n_ids):
        raise ValueError(f"token id {int(pair_ids.max())} outside the vocabulary of {n_ids} ids")
    counts = np.asarray(counts, dtype=np.int64)
    pair_langs = np.asarray(pair_langs)
    # Float weights are exact for counts below 2**53.
    total = np.bincount(pair_ids, weights=counts, minlength=n_ids).astype(np.int64)
    n_lang = np.bincount(pair_ids, minlength=n_ids).astype(np.int32)
    by_id_lang = np.lexsort((pair_langs, pair_ids)) if _unsorted(pair_ids, pair_langs) else slice(None)
    pair_ids, pair_langs, counts = pair_ids[by_id_lang], pair_langs[by_id_lang], counts[by_id_lang]
    order = np.lexsort((-counts, pair_ids))  # by id, then count descending; stable, so ties stay in language order
    pair_ids, pair_langs, counts = pair_ids[order], pair_langs[order], counts[order]
    first = np.searchsorted(pair_ids, pair_ids)  # index of each id's first pair
    keep = np.arange(len(pair_ids)) - first < top
    return Frequency(total, n_lang, pair_ids[keep], pair_langs[keep].astype(np.int32), counts[keep])


def _unsorted(ids: np.ndarray, langs: np.ndarray) -> bool:
    """Whether the (id, language) pairs are not already in increasing order (as ``np.unique`` leaves them)."""
    if len(ids) < 2:
        return False
    step = np.diff(ids)
    return bool((step < 0).any() or ((step == 0) & (np.diff(langs) <= 0)).any())


def merge_lang_counts(parts: Sequence[LangIdCounts], lang_names: Sequence[str], *, n_ids: int,
                      top: int = TOP_LANGS) -> Frequency:
    """The :class:`Frequency` of several parts (e.g. one per corpus), languages indexed by ``lang_names``.

    >>> a = LangIdCounts.of(np.array([1, 1, 2]), [2, 1], ["eng", "fra"])
    >>> b = LangIdCounts.of(np.array([1]), [1], ["eng"])
    >>> f = merge_lang_counts([a, b], ["eng", "fra"], n_ids=3)
    >>> f.total.tolist(), f.top(1)
    ([0, 3, 1], [(0, 3)])
    """
    index = {name: i for i, name in enumerate(lang_names)}
    n = max(len(lang_names), 1)
    if not parts:
        return frequency_from_pairs(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64), n_ids=n_ids)
    # Each part's language indices, as indices into lang_names.
    langs = [np.array([index[x] for x in p.lang_names], dtype=np.int64)[p.langs] for p in parts]
    if len(parts) == 1:  # one corpus: its pairs are distinct already
        return frequency_from_pairs(parts[0].ids, langs[0], parts[0].counts, n_ids=n_ids, top=top)
    keys = [p.ids * n + lang for p, lang in zip(parts, langs, strict=True)]
    pairs, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    counts = np.bincount(inverse, weights=np.concatenate([p.counts for p in parts])).astype(np.int64)
    return frequency_from_pairs(pairs // n, pairs % n, counts, n_ids=n_ids, top=top)
