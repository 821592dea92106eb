"""Metrics on a tiny corpus whose every number is worked out by hand (or by an independent plain-Python route).

The corpus: three parallel units, English the reference. Token counts per unit:

    eng  10  20  30   (sum 60)
    deu  12  26  34   (sum 72)  -> premium 72 / 60 = 1.2
    hin  30  50 100   (sum 180) -> premium 180 / 60 = 3.0
    amh  25  35   -   (sum 60; unit 3 missing, so U = {1, 2}, reference sum 30) -> premium 2.0
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.errors import AnalysisError
from analysis.metrics import (
    UNK_FLAG_THRESHOLD,
    FairnessSummary,
    MetricInputError,
    bootstrap_ci,
    bootstrap_ci_many,
    byte_fallback_rate,
    bytes_per_token,
    chars_per_token,
    continued_word_share,
    fairness_summary,
    fertility,
    gini,
    nsl,
    per_unit_ratios,
    premium,
    tokens_per_kb,
    unk_flag,
    unk_rate,
)

ENG = [10, 20, 30]
DEU = [12, 26, 34]
HIN = [30, 50, 100]
AMH = [25, 35, None]


# ------------------------------------------------------------------------------------------------ premium


def test_premium_is_a_ratio_of_sums_on_the_tiny_corpus() -> None:
    assert premium(DEU, ENG) == pytest.approx(1.2, abs=1e-15)
    assert premium(HIN, ENG) == 3.0
    assert premium(AMH[:2], ENG[:2]) == 2.0  # only the units present in both


def test_premium_is_not_the_mean_of_per_unit_ratios() -> None:
    ratios = per_unit_ratios(HIN, ENG)
    assert ratios.tolist() == [3.0, 2.5, 100 / 30]
    assert float(ratios.mean()) != pytest.approx(premium(HIN, ENG))  # 2.944... vs 3.0


@pytest.mark.parametrize(
    ("n_lang", "n_ref", "message"),
    [
        ([1, 2], [1, 2, 3], "2 units but n_ref has 3"),
        ([], [], "share no unit"),
        ([3, 4], [0, 0], "0 tokens"),
        ([1, -1], [1, 1], "negative"),
        ([1, float("nan")], [1, 1], "NaN"),
        ([[1, 2]], [[1, 2]], "1-D"),
    ],
    ids=["length-mismatch", "empty", "zero-reference", "negative", "nan", "2-D"],
)
def test_premium_rejects_bad_input_with_a_clear_message(n_lang, n_ref, message) -> None:
    with pytest.raises(MetricInputError, match=message) as info:
        premium(n_lang, n_ref)
    assert isinstance(info.value, ValueError) and isinstance(info.value, AnalysisError)


def test_per_unit_ratios_reject_a_reference_unit_with_zero_tokens() -> None:
    with pytest.raises(MetricInputError, match=r"position\(s\) \[1\]"):
        per_unit_ratios([1, 2], [1, 0])


# ------------------------------------------------------------------------------------------------ bootstrap


def _percentile_linear(values: list[float], q: float) -> float:
    """numpy's default 'linear' percentile, written out: position (N - 1) q / 100 between sorted neighbours."""
    xs = sorted(values)
    h = (len(xs) - 1) * q / 100
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def _bootstrap_by_hand(n_lang: list[int], n_ref: list[int], b: int, seed: int) -> tuple[float, float]:
    idx = np.random.default_rng(seed).integers(0, len(n_lang), size=(b, len(n_lang))).tolist()
    ratios = []
    for row in idx:
        num = 0
        den = 0
        for i in row:
            num += n_lang[i]
            den += n_ref[i]
        ratios.append(num / den)
    return _percentile_linear(ratios, 2.5), _percentile_linear(ratios, 97.5)


@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize(("lang", "counts"), [("deu", DEU), ("hin", HIN)])
def test_bootstrap_ci_matches_an_independent_plain_python_resampling(lang, counts, seed) -> None:
    low, high = bootstrap_ci(counts, ENG, b=1000, seed=seed)
    exp_low, exp_high = _bootstrap_by_hand(counts, ENG, 1000, seed)
    assert (low, high) == pytest.approx((exp_low, exp_high), rel=1e-12)
    # With 3 units every resample is one of 10 multisets; the bounds lie within the extreme unit ratios.
    ratios = per_unit_ratios(counts, ENG)
    assert ratios.min() <= low <= premium(counts, ENG) <= high <= ratios.max()


def test_bootstrap_ci_of_two_units_is_the_two_unit_ratios() -> None:
    # Units with ratios 12/10 = 1.2 and 30/20 = 1.5. A resample is {1,1} (ratio 1.2), {2,2} (1.5) or mixed (1.4);
    # each pure pair is drawn about 250 times in 1000, far more than the 26 at each 2.5% tail, so the bounds are
    # exactly the two unit ratios.
    assert bootstrap_ci([12, 30], [10, 20], b=1000, seed=0) == (1.2, 1.5)


def test_bootstrap_ci_is_deterministic_per_seed_and_level_widens_it() -> None:
    a = bootstrap_ci(HIN, ENG, seed=3)
    assert bootstrap_ci(HIN, ENG, seed=3) == a
    low90, high90 = bootstrap_ci(HIN, ENG, seed=3, level=0.90)
    assert a[0] <= low90 <= high90 <= a[1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"b": 0}, "positive integer"), ({"level": 1.0}, "between 0 and 1")],
    ids=["b=0", "level=1"],
)
def test_bootstrap_ci_rejects_bad_options(kwargs, message) -> None:
    with pytest.raises(MetricInputError, match=message):
        bootstrap_ci(DEU, ENG, **kwargs)


def test_bootstrap_ci_rejects_a_zero_reference_unit() -> None:
    with pytest.raises(MetricInputError, match="0 tokens"):
        bootstrap_ci([1, 2], [0, 3])


def test_bootstrap_many_equals_the_scalar_function_on_the_tiny_corpus() -> None:
    table = np.array([DEU, HIN, [25, 35, np.nan], [np.nan] * 3], dtype=float)
    out = bootstrap_ci_many(table, ENG, b=1000, seed=0)
    assert out.shape == (4, 2)
    assert tuple(out[0]) == bootstrap_ci(DEU, ENG)
    assert tuple(out[1]) == bootstrap_ci(HIN, ENG)
    assert tuple(out[2]) == bootstrap_ci([25, 35], [10, 20])  # its own units only
    assert np.isnan(out[3]).all()  # no unit in common


@pytest.mark.parametrize("seed", [0, 12345])
def test_bootstrap_many_equals_the_scalar_function_row_by_row(seed) -> None:
    rng = np.random.default_rng(99)
    langs, units = 60, 31
    counts = rng.integers(1, 500, size=(langs, units))
    ref = rng.integers(1, 300, size=units)
    mask = rng.random((langs, units)) > 0.1
    mask[:20] = True  # many complete rows share one draw; the rest have their own unit counts
    out = bootstrap_ci_many(counts, ref, mask=mask, b=500, seed=seed, level=0.9)
    for i in range(langs):
        row = mask[i]
        assert tuple(out[i]) == bootstrap_ci(counts[i][row], ref[row], b=500, seed=seed, level=0.9), i


def test_bootstrap_many_drops_units_the_reference_lacks() -> None:
    ref = np.array([10, 20, np.nan])
    out = bootstrap_ci_many([DEU], ref)
    assert tuple(out[0]) == bootstrap_ci(DEU[:2], ENG[:2])


def test_bootstrap_many_rejects_bad_shapes_and_zero_reference_units() -> None:
    with pytest.raises(MetricInputError, match="same units"):
        bootstrap_ci_many([DEU], [1, 2])
    with pytest.raises(MetricInputError, match="mask must have the shape"):
        bootstrap_ci_many([DEU], ENG, mask=[[True, True]])
    with pytest.raises(MetricInputError, match="0 tokens"):
        bootstrap_ci_many([DEU], [10, 0, 30])
    with pytest.raises(MetricInputError, match="NaN"):
        bootstrap_ci_many([[1, np.nan, 2]], ENG, mask=[[True, True, True]])


# ------------------------------------------------------------------------------------------------ compression & co


def test_compression_metrics_are_ratios_of_sums() -> None:
    # Two units: "Hello" (5 bytes, 5 chars) in 1 token; "héé" (5 bytes, 3 chars) in 3 tokens.
    n_bytes, n_chars, n_tokens = [5, 5], [5, 3], [1, 3]
    assert bytes_per_token(n_bytes, n_tokens) == 2.5  # 10 / 4
    assert chars_per_token(n_chars, n_tokens) == 2.0  # 8 / 4
    assert tokens_per_kb(n_tokens, n_bytes) == 400.0  # 1000 * 4 / 10


def test_nsl_against_a_baseline_on_the_same_text() -> None:
    # T: 10 + 20 + 30 tokens; baseline (e.g. UTF-8 bytes): 40 + 80 + 120.
    assert nsl(ENG, [40, 80, 120]) == 0.25
    assert nsl([8, 8], [4, 4]) == 2.0  # above 1: T is longer than the baseline


def test_fertility_and_continued_word_share() -> None:
    # 12 + 26 + 34 = 72 tokens over 8 + 16 + 24 = 48 words.
    assert fertility(DEU, [8, 16, 24]) == 1.5
    assert continued_word_share([2, 4, 6], [8, 16, 24]) == 0.25


def test_unk_and_byte_fallback_rates_and_the_flag() -> None:
    assert unk_rate([1, 1], [10, 10]) == 0.1
    assert unk_flag(unk_rate([1, 1], [10, 10])) is False  # exactly 10% is not "more than 10%"
    assert unk_flag(unk_rate([3, 0], [10, 10])) is True  # 15%
    assert UNK_FLAG_THRESHOLD == 0.10
    assert byte_fallback_rate([3, 1], [8, 8]) == 0.25


@pytest.mark.parametrize(
    "call",
    [
        lambda: bytes_per_token([0, 0], [0, 0]),
        lambda: chars_per_token(5, 0),
        lambda: tokens_per_kb([0], [0]),
        lambda: nsl([3, 4], [0, 0]),
        lambda: fertility([7], [0]),  # no words (e.g. only punctuation)
        lambda: continued_word_share([0], [0]),
        lambda: unk_rate([], []),
        lambda: byte_fallback_rate([0], [0]),
    ],
    ids=["bytes/token", "chars/token", "tokens/kB", "nsl", "fertility", "continued", "unk", "byte-fallback"],
)
def test_undefined_ratios_are_none_not_nan(call) -> None:
    assert call() is None


def test_undefined_unk_rate_is_not_flagged() -> None:
    assert unk_flag(None) is False


def test_ratio_metrics_reject_misaligned_units() -> None:
    with pytest.raises(MetricInputError, match="aligned by unit"):
        fertility([1, 2, 3], [1, 2])


# ------------------------------------------------------------------------------------------------ fairness


def _gini_quadratic(p: list[float]) -> float:
    n = len(p)
    return sum(abs(a - b) for a in p for b in p) / (2 * n * n * (sum(p) / n))


def test_gini_of_1_2_3_4_is_a_quarter() -> None:
    # mean 2.5; Σ_i Σ_j |p_i − p_j| = 2 * (1+2+3+1+2+1) = 20; G = 20 / (2 · 16 · 2.5) = 0.25
    assert gini([1, 2, 3, 4]) == 0.25
    assert gini([4, 1, 3, 2]) == 0.25  # order does not matter


def test_gini_extremes() -> None:
    assert gini([2.0, 2.0, 2.0]) == 0.0
    assert gini([5.0]) == 0.0
    assert gini([0, 0, 0, 1]) == 0.75  # (n - 1) / n: all mass on one


@given(st.lists(st.floats(min_value=0.0, max_value=1e6), min_size=1, max_size=60).filter(lambda p: sum(p) > 1e-6))
def test_gini_sorted_formula_equals_the_quadratic_definition(p) -> None:
    assert gini(p) == pytest.approx(_gini_quadratic(p), rel=1e-9, abs=1e-12)


def test_gini_equals_the_quadratic_definition_on_random_data() -> None:
    rng = np.random.default_rng(1)
    for n in (2, 3, 10, 257):
        p = rng.lognormal(size=n).tolist()
        assert gini(p) == pytest.approx(_gini_quadratic(p), rel=1e-12)


@pytest.mark.parametrize("values", [[], [0, 0], [1, -1]], ids=["empty", "all-zero", "negative"])
def test_gini_rejects_undefined_input(values) -> None:
    with pytest.raises(MetricInputError):
        gini(values)


def test_fairness_summary_of_the_tiny_corpus() -> None:
    premiums = {"deu": premium(DEU, ENG), "hin": premium(HIN, ENG), "amh": premium(AMH[:2], ENG[:2])}
    s = fairness_summary(premiums)
    assert isinstance(s, FairnessSummary)
    assert (s.n, s.max, s.argmax) == (3, 3.0, "hin")
    assert s.mean == pytest.approx(6.2 / 3)
    # Sorted 1.2, 2.0, 3.0: pairwise gaps 0.8 + 1.8 + 1.0 = 3.6, doubled 7.2; G = 7.2 / (2 · 9 · 6.2/3) = 6/31.
    assert s.gini == pytest.approx(6 / 31)
    with pytest.raises(AttributeError):
        s.n = 4  # type: ignore[misc]  # frozen


def test_fairness_summary_ties_go_to_the_alphabetically_first_language() -> None:
    assert fairness_summary({"zul": 2.0, "amh": 2.0, "eng": 1.0}).argmax == "amh"


@pytest.mark.parametrize("bad", [None, float("nan"), float("inf"), -1.0], ids=["none", "nan", "inf", "negative"])
def test_fairness_summary_names_the_language_without_a_premium(bad) -> None:
    with pytest.raises(MetricInputError, match="'xho'"):
        fairness_summary({"eng": 1.0, "xho": bad})
    with pytest.raises(MetricInputError, match="empty"):
        fairness_summary({})


def test_scalar_and_many_agree_for_every_subset_of_a_three_unit_row() -> None:
    # Each non-empty subset of units is a different |U|; the many-variant must pick the same draws.
    for k in (1, 2, 3):
        for subset in itertools.combinations(range(3), k):
            mask = np.zeros((1, 3), dtype=bool)
            mask[0, list(subset)] = True
            out = bootstrap_ci_many([HIN], ENG, mask=mask, b=200, seed=5)
            exp = bootstrap_ci([HIN[i] for i in subset], [ENG[i] for i in subset], b=200, seed=5)
            assert tuple(out[0]) == exp
