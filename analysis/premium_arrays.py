"""Premiums with their bootstrap intervals from counts held in memory: the rows that
:func:`analysis.store.build.compute_premium_ci` computes from a database, without the database.

A counting job (:mod:`analysis.user_counts`) has every unit's token count in hand, in the store's order; asking
DuckDB for them again and pivoting them with pandas cost a tenth of a second per job. This module builds the same
(languages x reference units) matrix with numpy and hands it to the same :func:`analysis.metrics.bootstrap_ci_many`
with the same arguments, so every premium and bound is the same float, bit for bit
(tests/test_user_counts.py checks it against ``compute_premium_ci`` for several tokenizers).

Example (two languages, three units; ``b`` kept small):
    >>> rows = premium_ci_rows("c", "t", "eng", ["eng", "eng", "eng", "fra", "fra"], ["1", "2", "3", "1", "3"],
    ...                        [2, 4, 2, 3, 5], b=10)
    >>> [(lang, premium, units) for _, _, lang, _, premium, _, _, units, _, _ in rows]
    [('eng', 1.0, 3), ('fra', 2.0, 2)]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from .metrics import BOOTSTRAP_B, BOOTSTRAP_SEED, premium_ci_table


def premium_ci_rows(corpus: str, tokenizer: str, reference: str, langs: Sequence[str], units: Sequence[str],
                    n_tokens: npt.ArrayLike, *, b: int = BOOTSTRAP_B, seed: int = BOOTSTRAP_SEED) -> list[tuple]:
    """Rows for ``premium_ci``: every language's premium against ``reference`` with its bootstrap interval.

    Args:
        langs, units, n_tokens: every counted unit of one (corpus x tokenizer) pair, in the store's order
            (``ORDER BY lang, position, unit``: each language's units in document order), one entry per unit.
        b, seed: as in :func:`~analysis.metrics.bootstrap_ci_many`.

    Returns:
        ``(corpus, tokenizer, lang, reference, premium, ci_low, ci_high, units, b, seed)`` per language that shares
        a unit with the reference, languages sorted; no interval (NaN) where it shares fewer than two; no rows at
        all where the reference was not counted. The same rows, in the same order, as ``compute_premium_ci``.
    """
    langs_arr = np.asarray(langs, dtype=object)
    units_arr = np.asarray(units, dtype=object)
    counts = np.asarray(n_tokens, dtype=np.int64)
    is_ref = langs_arr == reference
    if not is_ref.any():
        return []
    # The reference's units with tokens, in document order: the matrix's columns (a bootstrap draws by position).
    keep = is_ref & (counts > 0)
    column = {unit: j for j, unit in enumerate(units_arr[keep].tolist())}
    n_ref = counts[keep].astype(np.float64)
    names = sorted(set(langs_arr.tolist()))
    row = {lang: i for i, lang in enumerate(names)}
    n_lang = np.full((len(names), len(column)), np.nan)
    cols = np.fromiter((column.get(u, -1) for u in units_arr.tolist()), dtype=np.int64, count=len(units_arr))
    rows = np.fromiter((row[lang] for lang in langs_arr.tolist()), dtype=np.int64, count=len(langs_arr))
    shared = cols >= 0
    n_lang[rows[shared], cols[shared]] = counts[shared]
    return premium_ci_table(corpus, tokenizer, reference, names, n_lang, n_ref, b=b, seed=seed)
