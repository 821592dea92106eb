"""Token frequencies (total, languages, top languages) against a plain-Python count of the same ids."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.glitch.frequency import LangIdCounts, frequency_from_pairs, merge_lang_counts

LANGS = ["amh", "eng", "fra", "hin"]
texts = st.lists(st.tuples(st.sampled_from(LANGS), st.lists(st.integers(0, 9), max_size=12)), max_size=12)


def by_hand(units: list[tuple[str, list[int]]], lang_names: list[str], top: int) -> tuple[list, list, list]:
    """Per id 0..9: total, number of languages, and the top (language index, count) pairs, count descending, ties by
    language index."""
    pairs = Counter((i, lang_names.index(lang)) for lang, ids in units for i in ids)
    total = [sum(c for (i, _), c in pairs.items() if i == k) for k in range(10)]
    n_langs = [sum(1 for (i, _) in pairs if i == k) for k in range(10)]
    tops = [sorted(((lang, c) for (i, lang), c in pairs.items() if i == k), key=lambda x: (-x[1], x[0]))[:top]
            for k in range(10)]
    return total, n_langs, tops


def flat(units: list[tuple[str, list[int]]]) -> tuple[np.ndarray, list[int], list[str]]:
    return (np.array([i for _, ids in units for i in ids], dtype=np.int64), [len(ids) for _, ids in units],
            [lang for lang, _ in units])


@settings(max_examples=200, deadline=None)
@given(texts, texts, st.integers(1, 3))
def test_merged_parts_equal_one_count(a, b, top) -> None:
    """One corpus (no re-sorting of its pairs) and two corpora (merged) give what counting them together gives."""
    parts = [LangIdCounts.of(*flat(part)) for part in (a, b)]
    for units, got in ((a, merge_lang_counts(parts[:1], LANGS, n_ids=10, top=top)),
                       (a + b, merge_lang_counts(parts, LANGS, n_ids=10, top=top))):
        total, n_langs, tops = by_hand(units, LANGS, top)
        assert got.total.tolist() == total and got.n_langs.tolist() == n_langs
        assert [got.top(k) for k in range(10)] == tops


def test_pairs_in_any_order() -> None:
    """Pairs need not come sorted: id 3 has 2 in language 1 and in language 0 (a tie, lower index first), 5 in 2."""
    f = frequency_from_pairs(np.array([3, 1, 3, 3]), np.array([1, 0, 2, 0]), np.array([2, 7, 5, 2]), n_ids=4)
    assert f.total.tolist() == [0, 7, 0, 9] and f.n_langs.tolist() == [0, 1, 0, 3]
    assert f.top(3) == [(2, 5), (0, 2), (1, 2)] and f.top(1) == [(0, 7)]
