"""Premiums with their bootstrap intervals from counts held in memory: the rows that
:func:`analysis.store.build.compute_premium_ci` computes from a database, without the database.

A counting job (:mod:`analysis.user_counts`) has every unit's token count in hand, in the store's order; asking
DuckDB for them again and pivoting them with pandas cost a tenth of a second per job. This module builds the same
(languages x reference units) matrix with numpy and hands it to the same :func:`analysis.metrics.bootstrap_ci_many`
with the same arguments, so every premium and bound is the same float, bit for bit
(tests/test_user_counts.py checks it against ``compute_premium_ci`` for several tokenizers). Where each unit goes in
that matrix depends only on the units and the reference (:func:`unit_layout`), so a worker that counts the same corpus
for many tokenizers works it out once.

Example (two languages, three units; ``b`` kept small):
    >>> rows = premium_ci_rows("c", "t", "eng", ["eng", "eng", "eng", "fra", "fra"], ["1", "2", "3", "1", "3"],
    ...                        [2, 4, 2, 3, 5], b=10)
    >>> [(lang, premium, units) for _, _, lang, _, premium, _, _, units, _, _ in rows]
    [('eng', 1.0, 3), ('fra', 2.0, 2)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .metrics import BOOTSTRAP_B, BOOTSTRAP_SEED, premium_ci_table


@dataclass(frozen=True)
class UnitLayout:
    """Where every counted unit of one corpus goes in the premiums' matrix for one reference, whatever the counts.

    ``names``: the languages, sorted (the matrix's rows); ``rows``: each unit's row; ``reference``: the positions of
    the reference's units, in document order; ``column``: each unit's place among those (-1 where the reference has
    no unit of that id). The matrix's columns are the reference's units that have tokens, so the counts pick them.
    """

    names: list[str]
    rows: np.ndarray
    reference: np.ndarray
    column: np.ndarray


def unit_layout(langs: Sequence[str], units: Sequence[str], reference: str) -> UnitLayout:
    """The :class:`UnitLayout` of units given in the store's order (see :func:`premium_ci_rows`).

    >>> lay = unit_layout(["eng", "eng", "fra", "fra"], ["1", "2", "2", "9"], "eng")
    >>> lay.names, lay.rows.tolist(), lay.reference.tolist(), lay.column.tolist()
    (['eng', 'fra'], [0, 0, 1, 1], [0, 1], [0, 1, 1, -1])
    """
    names = sorted(set(langs))
    row = {lang: i for i, lang in enumerate(names)}
    rows = np.fromiter((row[lang] for lang in langs), dtype=np.int64, count=len(langs))
    ref_positions = np.flatnonzero(np.asarray(langs, dtype=object) == reference)
    of_unit = {units[k]: j for j, k in enumerate(ref_positions.tolist())}
    column = np.fromiter((of_unit.get(u, -1) for u in units), dtype=np.int64, count=len(units))
    return UnitLayout(names, rows, ref_positions, column)


def premium_ci_rows(corpus: str, tokenizer: str, reference: str, langs: Sequence[str], units: Sequence[str],
                    n_tokens: npt.ArrayLike, *, b: int = BOOTSTRAP_B, seed: int = BOOTSTRAP_SEED,
                    layout: UnitLayout | None = None) -> list[tuple]:
    """Rows for ``premium_ci``: every language's premium against ``reference`` with its bootstrap interval.

    Args:
        langs, units, n_tokens: every counted unit of one (corpus x tokenizer) pair, in the store's order
            (``ORDER BY lang, position, unit``: each language's units in document order), one entry per unit; a
            unit's id appears once per language.
        b, seed: as in :func:`~analysis.metrics.bootstrap_ci_many`.
        layout: ``unit_layout(langs, units, reference)``, where the caller keeps it for many tokenizers.

    Returns:
        ``(corpus, tokenizer, lang, reference, premium, ci_low, ci_high, units, b, seed)`` per language that shares
        a unit with the reference, languages sorted; no interval (NaN) where it shares fewer than two; no rows at
        all where the reference was not counted. The same rows, in the same order, as ``compute_premium_ci``.
    """
    lay = layout if layout is not None else unit_layout(langs, units, reference)
    counts = np.asarray(n_tokens, dtype=np.int64)
    if not len(lay.reference):
        return []
    # The reference's units with tokens, in document order: the matrix's columns (a bootstrap draws by position).
    ref_counts = counts[lay.reference]
    kept = ref_counts > 0
    renumber = np.full(len(kept) + 1, -1, dtype=np.int64)  # the last slot answers column -1 (no such unit)
    renumber[:-1][kept] = np.arange(int(kept.sum()))
    cols = renumber[lay.column]
    n_ref = ref_counts[kept].astype(np.float64)
    n_lang = np.full((len(lay.names), len(n_ref)), np.nan)
    shared = cols >= 0
    n_lang[lay.rows[shared], cols[shared]] = counts[shared]
    return premium_ci_table(corpus, tokenizer, reference, lay.names, n_lang, n_ref, b=b, seed=seed)
