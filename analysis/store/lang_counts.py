"""The (token id, language) counts of some texts: what a build's counting workers hand back with each (corpus x
tokenizer) pair, besides the counts, for the extensions that want them (:class:`analysis.extensions.WorkerPlan`).

Made from the ids the workers count anyway (:func:`analysis.store.counting.count_units`), so that what an extension
builds from them (e.g. the token checks' token frequencies) needs no second encoding.

Example (ids 5, 5 in an English text of two tokens, then 7, 5 in a French one):
    >>> c = LangIdCounts.of(np.array([5, 5, 7, 5]), [2, 2], ["eng", "fra"])
    >>> c.ids.tolist(), [c.lang_names[i] for i in c.langs], c.counts.tolist()
    ([5, 5, 7], ['eng', 'fra', 'fra'], [2, 1, 1])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LangIdCounts:
    """Sparse counts of (token id, language) over some texts, one entry per pair that occurs: what a build's counting
    worker hands back with a (corpus x tokenizer) pair, so that token frequencies need no second encoding.

    >>> c = LangIdCounts.of(np.array([5, 5, 7, 5]), [3, 1], ["fra", "eng"])
    >>> c.ids.tolist(), [c.lang_names[i] for i in c.langs], c.counts.tolist()
    ([5, 5, 7], ['eng', 'fra', 'fra'], [1, 2, 1])
    """

    ids: np.ndarray  # int64
    langs: np.ndarray  # int64: indices into lang_names
    counts: np.ndarray  # int64
    lang_names: list[str]

    @classmethod
    def of(cls, ids: np.ndarray, n_tokens: Sequence[int], lang_of_text: Sequence[str]) -> LangIdCounts:
        """From every id of every text (flat, ``n_tokens[i]`` for text ``i``) and each text's language."""
        names, lang = _indexed(lang_of_text)
        n = max(len(names), 1)
        pairs, counts = np.unique(np.asarray(ids, dtype=np.int64) * n + np.repeat(lang, n_tokens), return_counts=True)
        return cls(pairs // n, pairs % n, counts.astype(np.int64), names)

    @classmethod
    def of_pairs(cls, ids: np.ndarray, lang_of_pair: Sequence[str], counts: np.ndarray) -> LangIdCounts:
        """From counts already made: ``counts[k]`` occurrences of id ``ids[k]`` in language ``lang_of_pair[k]``.

        >>> c = LangIdCounts.of_pairs(np.array([5, 5, 7]), ["eng", "fra", "fra"], np.array([1, 2, 1]))
        >>> c.langs.tolist(), c.lang_names
        ([0, 1, 1], ['eng', 'fra'])
        """
        names, langs = _indexed(lang_of_pair)
        return cls(np.asarray(ids, dtype=np.int64), langs, np.asarray(counts, dtype=np.int64), names)


    @classmethod
    def merge(cls, parts: Sequence[LangIdCounts]) -> LangIdCounts:
        """The counts of several parts' texts together (e.g. the chunks of one corpus): equal to :meth:`of` over
        all their texts at once.

        >>> a = LangIdCounts.of(np.array([5, 5]), [2], ["fra"])
        >>> b = LangIdCounts.of(np.array([5, 7]), [1, 1], ["eng", "fra"])
        >>> c = LangIdCounts.merge([a, b])
        >>> c.ids.tolist(), [c.lang_names[i] for i in c.langs], c.counts.tolist()
        ([5, 5, 7], ['eng', 'fra', 'fra'], [1, 2, 1])
        """
        if len(parts) == 1:
            return parts[0]
        names = sorted({name for p in parts for name in p.lang_names})
        index = {name: i for i, name in enumerate(names)}
        n = max(len(names), 1)
        keys = np.concatenate([p.ids * n + np.array([index[x] for x in p.lang_names], dtype=np.int64)[p.langs]
                               if len(p.lang_names) else p.ids[:0] for p in parts])
        pairs, inverse = np.unique(keys, return_inverse=True)
        counts = np.bincount(inverse, weights=np.concatenate([p.counts for p in parts]),
                             minlength=len(pairs)).astype(np.int64)
        return cls(pairs // n, pairs % n, counts, names)


def _indexed(values: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The distinct values, sorted, and each value's index among them (a dict over a few hundred language names:
    cheaper than ``np.unique``'s sort of every string)."""
    names = sorted(set(values))
    index = {name: i for i, name in enumerate(names)}
    return names, np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))
