"""analysis.premium_arrays: the premium rows of counts held in memory equal, bit for bit, those the builder computes
from the database (analysis.store.premiums.compute_premium_ci), for real counts of the UDHR and for hand-made ones."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import numpy as np
import pytest

from analysis.premium_arrays import BOOTSTRAP_B, BOOTSTRAP_SEED, premium_ci_rows, unit_layout
from analysis.store.premiums import compute_premium_ci
from analysis.store.schema import create_schema


def same(a: list[tuple], b: list[tuple]) -> bool:
    """Row lists equal value for value, NaN (no interval) equal to NaN, and every float the same bits."""
    def key(row: tuple) -> tuple:
        return tuple(("nan" if math.isnan(v) else v.hex()) if isinstance(v, float) else v for v in row)

    return [key(r) for r in a] == [key(r) for r in b]


def test_settings_are_the_builders() -> None:
    """Both paths draw the same resamples: the same defaults, from the one definition in analysis.metrics."""
    import inspect

    from analysis import metrics

    builder = inspect.signature(compute_premium_ci).parameters
    ours = inspect.signature(premium_ci_rows).parameters
    assert (builder["b"].default, builder["seed"].default) == (ours["b"].default, ours["seed"].default) == (
        metrics.BOOTSTRAP_B, metrics.BOOTSTRAP_SEED) == (BOOTSTRAP_B, BOOTSTRAP_SEED) == (1000, 0)


@pytest.mark.parametrize("tokenizer", ["o200k_base", "llama3", "bert-uncased", "utf8-bytes"])
@pytest.mark.parametrize("reference", ["eng", "hin", "cmn_hans"])
def test_equals_compute_premium_ci_on_the_udhr(app_db: Path, tokenizer: str, reference: str) -> None:
    with duckdb.connect(str(app_db), read_only=True) as con:
        theirs = compute_premium_ci(con, "udhr", tokenizer, reference)
        rows = con.execute("SELECT c.lang, c.unit, c.n_tokens FROM counts c JOIN units u USING (corpus, lang, unit) "
                           "WHERE c.corpus = 'udhr' AND c.tokenizer = ? ORDER BY c.lang, u.position, c.unit",
                           [tokenizer]).fetchall()
    langs, units, counts = [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
    mine = premium_ci_rows("udhr", tokenizer, reference, langs, units, counts)
    assert len(theirs) > 500 and same(mine, theirs)
    # With the layout a counting worker keeps for the corpus (worked out once, for every tokenizer): the same rows.
    assert same(premium_ci_rows("udhr", tokenizer, reference, langs, units, counts,
                                layout=unit_layout(langs, units, reference)), theirs)
    assert any(math.isnan(r[5]) for r in theirs) == any(r[7] < 2 for r in theirs)  # some languages have one unit


def test_by_hand_and_against_a_small_database(tmp_path: Path) -> None:
    """Three languages over four units. The reference (eng) has 0 tokens in unit 4, which is therefore left out;
    xxx shares one unit with it (no interval); yyy shares none (no row)."""
    units = [("eng", "1", 1, 2), ("eng", "2", 2, 4), ("eng", "3", 3, 2), ("eng", "4", 4, 0),
             ("fra", "1", 1, 3), ("fra", "2", 2, 6), ("fra", "4", 4, 7), ("xxx", "3", 3, 5), ("yyy", "4", 4, 1)]
    mine = premium_ci_rows("c", "t", "eng", [u[0] for u in units], [u[1] for u in units], [u[3] for u in units],
                           b=200)
    assert [(r[2], r[4], r[7]) for r in mine] == [("eng", 1.0, 3), ("fra", 9 / 6, 2), ("xxx", 5 / 2, 1)]
    layout = unit_layout([u[0] for u in units], [u[1] for u in units], "eng")
    # Rows by language; eng's four units are the columns whatever the counts (the counts then drop unit 4).
    assert (layout.names, layout.rows.tolist(), layout.reference.tolist(), layout.column.tolist()) == \
        (["eng", "fra", "xxx", "yyy"], [0, 0, 0, 0, 1, 1, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3, 0, 1, 3, 2, 3])
    assert same(premium_ci_rows("c", "t", "eng", [u[0] for u in units], [u[1] for u in units], [u[3] for u in units],
                                b=200, layout=layout), mine)
    assert math.isnan(mine[2][5]) and math.isnan(mine[2][6])
    # fra's two units have the same ratio 1.5, so every resample does too.
    assert (mine[1][5], mine[1][6]) == (1.5, 1.5)
    assert mine[0][5:7] == (1.0, 1.0) and mine[0][8:] == (200, 0)
    db = tmp_path / "small.duckdb"
    with duckdb.connect(str(db)) as con:
        create_schema(con)
        con.executemany("INSERT INTO units (corpus, lang, unit, position) VALUES ('c', ?, ?, ?)",
                        [u[:3] for u in units])
        con.executemany("INSERT INTO counts VALUES ('c', 't', ?, ?, ?, 0, 0, NULL)",
                        [(u[0], u[1], u[3]) for u in units])
        assert same(mine, compute_premium_ci(con, "c", "t", "eng", b=200))
        assert premium_ci_rows("c", "t", "deu", ["eng"], ["1"], [2]) == compute_premium_ci(con, "c", "t", "deu") == []


def test_order_of_units_is_what_draws_follow() -> None:
    """The bootstrap draws units by position: the same counts in another document order give other bounds (so the
    function must be given the store's order, as the job gives it)."""
    rng = np.random.default_rng(7)
    counts = rng.integers(5, 60, size=(2, 12))
    langs = ["eng"] * 12 + ["fra"] * 12
    units = [f"{i:02d}" for i in range(12)] * 2
    a = premium_ci_rows("c", "t", "eng", langs, units, counts.ravel().tolist())
    order = list(range(12))[::-1]
    b = premium_ci_rows("c", "t", "eng", langs, [units[i] for i in order] * 2,
                        [*counts[0][order].tolist(), *counts[1][order].tolist()])
    assert a[1][4] == b[1][4]  # the premium is a ratio of totals: order does not matter
    assert (a[1][5], a[1][6]) != (b[1][5], b[1][6])
