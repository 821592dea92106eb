"""Token premiums with their bootstrap confidence intervals: computed from the stored counts, and stored.

The premium of language L against a reference R is the ratio of their token sums over the units both have
(docs/metrics.md); its 95% interval is a percentile bootstrap over those units (:data:`~analysis.metrics.BOOTSTRAP_B`
resamples, seed :data:`~analysis.metrics.BOOTSTRAP_SEED`, the same for every language, so the stored intervals
are reproducible bit for bit).

Example:
    >>> rows = compute_premium_ci(con, "udhr", "o200k_base", "eng")   # doctest: +SKIP
    >>> store_premiums(con, "udhr", "o200k_base", "eng")               # doctest: +SKIP
"""

from __future__ import annotations

import duckdb
import numpy as np

from ..metrics import BOOTSTRAP_B, BOOTSTRAP_SEED, premium_ci_table
from .writer import insert_columns

#: The columns of ``premium_ci``, in order, with the numpy type each is inserted as (None: objects, as given).
_COLUMNS = (("corpus", None), ("tokenizer", None), ("lang", None), ("reference", None), ("premium", np.float64),
            ("ci_low", np.float64), ("ci_high", np.float64), ("units", np.int64), ("b", np.int64),
            ("seed", np.int64))


def compute_premium_ci(con: duckdb.DuckDBPyConnection, corpus: str, tokenizer: str, reference: str, *,
                       b: int = BOOTSTRAP_B, seed: int = BOOTSTRAP_SEED) -> list[tuple]:
    """Premium of every language against ``reference`` with its bootstrap CI (rows for ``premium_ci``).

    Each language uses the units present in both it and the reference, in document order. A language that shares
    fewer than two units with the reference gets no interval (NULL ``ci_low``/``ci_high``): a bootstrap over one
    unit would only repeat the premium, an interval of width zero that claims a certainty it does not have (a corpus
    imported with the petrov2023 protocol has one unit per language).

    DuckDB hands over the (languages x reference units) matrix as numpy columns (each cell's row and column index
    and its count: no pandas, and no Python object per unit), which :func:`analysis.metrics.premium_ci_table` turns
    into rows: the columns are the reference's units with tokens, in document order; the rows every counted
    language, sorted (the same rows, bit for bit, as :func:`analysis.premium_arrays.premium_ci_rows` gives from
    counts in memory).
    """
    langs = sorted(r[0] for r in con.execute("SELECT DISTINCT lang FROM counts WHERE corpus = ? AND tokenizer = ?",
                                             [corpus, tokenizer]).fetchall())
    if reference not in langs:
        return []
    ref = con.execute(
        """SELECT c.n_tokens FROM counts c JOIN units u USING (corpus, lang, unit)
           WHERE c.corpus = ? AND c.tokenizer = ? AND c.lang = ? AND c.n_tokens > 0 ORDER BY u.position, c.unit""",
        [corpus, tokenizer, reference]).fetchnumpy()
    cells = con.execute(
        """WITH ref AS (SELECT c.unit, row_number() OVER (ORDER BY u.position, c.unit) - 1 AS j
                        FROM counts c JOIN units u USING (corpus, lang, unit)
                        WHERE c.corpus = $corpus AND c.tokenizer = $tokenizer AND c.lang = $reference
                          AND c.n_tokens > 0)
           SELECT list_position($langs::VARCHAR[], c.lang) - 1 AS i, ref.j, c.n_tokens FROM counts c JOIN ref USING (unit)
           WHERE c.corpus = $corpus AND c.tokenizer = $tokenizer""",
        {"corpus": corpus, "tokenizer": tokenizer, "reference": reference, "langs": langs}).fetchnumpy()
    n_ref = np.asarray(ref["n_tokens"], dtype=np.float64)
    n_lang = np.full((len(langs), len(n_ref)), np.nan)
    n_lang[np.asarray(cells["i"], dtype=np.int64), np.asarray(cells["j"], dtype=np.int64)] = cells["n_tokens"]
    return premium_ci_table(corpus, tokenizer, reference, langs, n_lang, n_ref, b=b, seed=seed)


def store_premiums(con: duckdb.DuckDBPyConnection, corpus: str, tokenizer: str, reference: str) -> None:
    """Replace the stored premiums of one (corpus x tokenizer) pair against ``reference`` (table ``premium_ci``)."""
    con.execute("DELETE FROM premium_ci WHERE corpus = ? AND tokenizer = ? AND reference = ?",
                [corpus, tokenizer, reference])
    insert_premium_rows(con, compute_premium_ci(con, corpus, tokenizer, reference))


def insert_premium_rows(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    """Insert :func:`~analysis.metrics.premium_ci_table`'s rows into ``premium_ci`` in one insert of columns (no
    pandas): the numbers as numpy columns (a NaN bound goes in as NULL: no interval), the names as given."""
    if rows:
        insert_columns(con, "premium_ci", {name: np.array(v, dtype=kind) if kind is not None else list(v)
                                           for (name, kind), v in zip(_COLUMNS, zip(*rows, strict=True), strict=True)})


def has_premiums(con: duckdb.DuckDBPyConnection, corpus: str, tokenizer: str, reference: str) -> bool:
    """Whether premiums of the pair against ``reference`` are stored."""
    return con.execute("SELECT count(*) FROM premium_ci WHERE corpus = ? AND tokenizer = ? AND reference = ?",
                       [corpus, tokenizer, reference]).fetchone()[0] > 0
