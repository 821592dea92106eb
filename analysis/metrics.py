"""Pure metric functions: premium with a bootstrap CI, compression, NSL, fertility, UNK rates, fairness.

Every function follows ``../shared/METRICS.md`` exactly. Inputs are per-unit counts aligned by unit (position i of
every argument is the same parallel unit); the caller has already restricted them to the units present in both
languages, U(L, R). Ratios are ratios of sums, never means of per-unit ratios.

Scalar metrics whose denominator sums to zero return ``None`` (not NaN): the value is undefined, and ``None``
cannot leak into an average unnoticed. Malformed input (mismatched lengths, negative or non-finite counts) raises
:class:`MetricInputError`, a ``ValueError``.

Example (the two-unit corpus of the tests):
    >>> premium([30, 12], [20, 10])
    1.4
    >>> fertility([30, 12], [10, 4]), nsl([30, 12], [40, 16])
    (3.0, 0.75)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from .errors import MetricInputError
from .i18n import N_

__all__ = [
    "BOOTSTRAP_B", "BOOTSTRAP_SEED", "DEFAULT_REFERENCE", "UNK_FLAG_THRESHOLD",
    "FairnessSummary", "MetricInputError", "bootstrap_ci", "bootstrap_ci_many",
    "byte_fallback_rate", "bytes_per_token", "chars_per_token", "continued_word_share", "fairness_summary",
    "fertility", "gini", "nsl", "per_unit_ratios", "premium", "tokens_per_kb", "unk_flag", "unk_rate",
]

#: Per-unit counts (aligned by unit) or one total.
Counts: TypeAlias = int | float | Sequence[int] | Sequence[float] | npt.NDArray[np.number]

#: A premium is flagged (not meaningful) where more than this share of the language's tokens are UNK.
UNK_FLAG_THRESHOLD = 0.10
#: Resamples and seed of every bootstrap CI the store and the lab compute (stored with each interval).
BOOTSTRAP_B = 1000
BOOTSTRAP_SEED = 0
#: The language premiums are measured against unless a page or command names another.
DEFAULT_REFERENCE = "eng"


# --------------------------------------------------------------------------------------------- validation


def _counts(x: Counts, name: str) -> np.ndarray:
    """``x`` as a 1-D float-or-int array of finite, non-negative counts."""
    a = np.asarray(x)
    if a.ndim == 0:
        a = a.reshape(1)
    if a.ndim != 1:
        raise MetricInputError(f"{name} must be one count per unit (1-D), got an array of shape {a.shape}.")
    if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise MetricInputError(f"{name} must hold numbers (token/byte/word counts), got dtype {a.dtype}.")
    if a.size and not np.all(np.isfinite(a)):
        raise MetricInputError(f"{name} has NaN or infinite counts; drop missing units before computing.")
    if a.size and np.any(a < 0):
        raise MetricInputError(f"{name} has negative counts; counts are numbers of tokens, bytes or words.")
    return a


def _pair(num: Counts, den: Counts, num_name: str, den_name: str) -> tuple[np.ndarray, np.ndarray]:
    a, b = _counts(num, num_name), _counts(den, den_name)
    if a.shape != b.shape:
        raise MetricInputError(
            f"{num_name} has {a.size} units but {den_name} has {b.size}; pass counts aligned by unit "
            "(the same units, in the same order)."
        )
    return a, b


def _ratio_or_none(num: Counts, den: Counts, num_name: str, den_name: str, scale: float = 1.0) -> float | None:
    a, b = _pair(num, den, num_name, den_name)
    d = b.sum()
    if d == 0:
        return None
    return float(scale * a.sum() / d)


def _premium_inputs(n_lang: Counts, n_ref: Counts) -> tuple[np.ndarray, np.ndarray]:
    a, b = _pair(n_lang, n_ref, "n_lang", "n_ref")
    if a.size == 0:
        raise MetricInputError(N_("No parallel units: the language and the reference share no unit."))
    return a, b


# --------------------------------------------------------------------------------------------- premium


def premium(n_lang: Counts, n_ref: Counts) -> float:
    """Premium of L against R: Σ_u n_T(L,u) / Σ_u n_T(R,u) over the units given (a ratio of sums).

    Args:
        n_lang: tokens of each unit in language L.
        n_ref: tokens of the same units in the reference R, aligned by unit.

    Raises:
        MetricInputError: lengths differ, no units, or the reference has no tokens at all.

    >>> premium([3, 1], [1, 1])  # (3 + 1) / (1 + 1), not the mean of 3/1 and 1/1
    2.0
    """
    a, b = _premium_inputs(n_lang, n_ref)
    d = b.sum()
    if d == 0:
        raise MetricInputError(N_("The reference has 0 tokens on these units, so the premium is undefined."))
    return float(a.sum() / d)


def per_unit_ratios(n_lang: Counts, n_ref: Counts) -> np.ndarray:
    """n_T(L,u) / n_T(R,u) for each unit, for distribution plots (not for the premium itself).

    Raises:
        MetricInputError: lengths differ, no units, or a reference unit has 0 tokens.

    >>> per_unit_ratios([3, 1], [2, 4]).tolist()
    [1.5, 0.25]
    """
    a, b = _premium_inputs(n_lang, n_ref)
    _no_zero_reference_unit(b)
    return a / b


def _no_zero_reference_unit(n_ref: np.ndarray) -> None:
    zero = np.flatnonzero(n_ref == 0)
    if zero.size:
        raise MetricInputError(
            f"The reference has 0 tokens in unit(s) at position(s) {zero[:5].tolist()}; a unit present in both "
            "languages has text. Drop empty units before computing per-unit ratios or a bootstrap."
        )


def _percentiles(level: float) -> tuple[float, float]:
    if not 0 < level < 1:
        raise MetricInputError(f"level must be between 0 and 1 (e.g. 0.95), got {level}.")
    tail = 100 * (1 - level) / 2
    return tail, 100 - tail


def _check_b(b: int) -> None:
    if isinstance(b, bool) or not isinstance(b, int | np.integer) or b < 1:
        raise MetricInputError(f"b (the number of bootstrap resamples) must be a positive integer, got {b!r}.")


def bootstrap_ci(
    n_lang: Counts, n_ref: Counts, *, b: int = BOOTSTRAP_B, seed: int = BOOTSTRAP_SEED, level: float = 0.95
) -> tuple[float, float]:
    """Bootstrap confidence interval of :func:`premium` over units.

    The exact recipe, so that anyone can reproduce the bounds: ``rng = np.random.default_rng(seed)``;
    ``idx = rng.integers(0, n, size=(b, n))`` for n units (each row one resample of n units drawn with
    replacement); ratio of sums per row, ``n_lang[idx].sum(1) / n_ref[idx].sum(1)``; then
    ``np.percentile(ratios, [2.5, 97.5])`` with numpy's default (linear interpolation) method for
    ``level=0.95`` (in general the ``(1 - level) / 2`` tails).

    Args:
        n_lang: tokens of each unit in language L.
        n_ref: tokens of the same units in the reference, aligned by unit.
        b: number of resamples (store it with the result).
        seed: seed of the numpy Generator (store it with the result).
        level: coverage of the interval.

    Returns:
        ``(low, high)``.

    Raises:
        MetricInputError: lengths differ, no units, a reference unit with 0 tokens (a resample of only that unit
            would have no ratio), or a bad ``b``/``level``.

    >>> bootstrap_ci([2, 2], [1, 1])  # every resample has ratio 2
    (2.0, 2.0)
    """
    a, r = _premium_inputs(n_lang, n_ref)
    _no_zero_reference_unit(r)
    _check_b(b)
    q = _percentiles(level)
    n = a.size
    idx = np.random.default_rng(seed).integers(0, n, size=(b, n))
    ratios = a[idx].sum(axis=1) / r[idx].sum(axis=1)
    low, high = np.percentile(ratios, q)
    return float(low), float(high)


def bootstrap_ci_many(
    n_lang: npt.ArrayLike,
    n_ref: npt.ArrayLike,
    *,
    mask: npt.ArrayLike | None = None,
    b: int = BOOTSTRAP_B,
    seed: int = BOOTSTRAP_SEED,
    level: float = 0.95,
) -> np.ndarray:
    """:func:`bootstrap_ci` for many languages at once; row i equals ``bootstrap_ci`` on row i's own units.

    Each language uses only the units present in both it and the reference (``mask`` True), in unit order.
    Every language with n such units gets exactly the resamples the scalar function draws for n units
    (a fresh ``np.random.default_rng(seed)``), so the bounds are identical to calling :func:`bootstrap_ci`
    per row. Languages are grouped by n; each group takes one (b, n) draw, turned into per-unit draw counts,
    and one matrix product gives all the resampled sums (exact for integer counts below 2**53).

    Args:
        n_lang: tokens, shape (languages, units). Missing cells may hold NaN if ``mask`` says so.
        n_ref: the reference's tokens, shape (units,); NaN where the reference lacks a unit.
        mask: True where the unit is present for that language, shape (languages, units). Default: cells where
            ``n_lang`` is not NaN. Units where ``n_ref`` is NaN are dropped from every row in any case.
        b, seed, level: as in :func:`bootstrap_ci`.

    Returns:
        Array of shape (languages, 2): ``low, high`` per row; NaN for a row with no unit in common.

    Raises:
        MetricInputError: mismatched shapes, negative or non-finite counts where present, or a present unit where
            the reference has 0 tokens.

    >>> bootstrap_ci_many([[2, 2], [3, np.nan]], [1, 1]).tolist()
    [[2.0, 2.0], [3.0, 3.0]]
    """
    L = np.asarray(n_lang, dtype=np.float64)
    R = np.asarray(n_ref, dtype=np.float64)
    if L.ndim != 2 or R.ndim != 1 or L.shape[1] != R.shape[0]:
        raise MetricInputError(
            f"n_lang must be (languages, units) and n_ref (units,) with the same units; got {L.shape} and {R.shape}."
        )
    _check_b(b)
    q = _percentiles(level)
    M = ~np.isnan(L) if mask is None else np.asarray(mask, dtype=bool)
    if M.shape != L.shape:
        raise MetricInputError(f"mask must have the shape of n_lang {L.shape}, got {M.shape}.")
    M = M & ~np.isnan(R)[None, :]
    present_l, present_r = L[M], np.broadcast_to(R, L.shape)[M]
    if present_l.size:
        _counts(present_l, "n_lang (present units)")
        _counts(present_r, "n_ref (present units)")
        _no_zero_reference_unit(present_r)

    out = np.full((L.shape[0], 2), np.nan)
    sizes = M.sum(axis=1)
    for n in np.unique(sizes):
        if n == 0:
            continue
        rows = np.flatnonzero(sizes == n)
        # Boolean indexing walks row-major, so each row keeps its units in order.
        Lg = L[rows][M[rows]].reshape(rows.size, n)
        Rg = np.broadcast_to(R, (rows.size, R.size))[M[rows]].reshape(rows.size, n)
        idx = np.random.default_rng(seed).integers(0, n, size=(b, n))
        # draws[k, j]: how often resample k drew unit j; the resampled sum is then a dot product. The offsets are
        # added in place and the draws freed before the float copy: two (b, n) arrays alive at most, not four (a
        # build's peak memory holds this moment: 16 MB less for 1,000 units).
        idx += n * np.arange(b)[:, None]
        draws = np.bincount(idx.ravel(), minlength=b * n)
        del idx
        draws = draws.reshape(b, n).astype(np.float64)
        ratios = (Lg @ draws.T) / (Rg @ draws.T)
        out[rows] = np.percentile(ratios, q, axis=1).T
    return out


# --------------------------------------------------------------------------------------------- compression etc.


def bytes_per_token(n_bytes: Counts, n_tokens: Counts) -> float | None:
    """Σ_u b(L,u) / Σ_u n_T(L,u): UTF-8 bytes per token; None when there are no tokens.

    >>> bytes_per_token([12, 8], [4, 1]), bytes_per_token(0, 0)
    (4.0, None)
    """
    return _ratio_or_none(n_bytes, n_tokens, "n_bytes", "n_tokens")


def chars_per_token(n_chars: Counts, n_tokens: Counts) -> float | None:
    """Σ_u c(L,u) / Σ_u n_T(L,u): Unicode code points per token; None when there are no tokens.

    >>> chars_per_token([6, 4], [4, 1])
    2.0
    """
    return _ratio_or_none(n_chars, n_tokens, "n_chars", "n_tokens")


def tokens_per_kb(n_tokens: Counts, n_bytes: Counts) -> float | None:
    """1000 · Σ_u n_T(L,u) / Σ_u b(L,u): tokens per 1000 UTF-8 bytes; None when there are no bytes.

    >>> tokens_per_kb([4, 1], [12, 8])
    250.0
    """
    return _ratio_or_none(n_tokens, n_bytes, "n_tokens", "n_bytes", scale=1000.0)


def nsl(n_t: Counts, n_baseline: Counts) -> float | None:
    """Normalized sequence length Σ_u n_T(L,u) / Σ_u n_B(L,u) against baseline B on the same text.

    Below 1: T is shorter than the baseline. None when the baseline has no tokens.

    >>> nsl([3, 3], [4, 4])
    0.75
    """
    return _ratio_or_none(n_t, n_baseline, "n_t", "n_baseline")


def fertility(n_tokens: Counts, n_words: Counts) -> float | None:
    """Σ_u n_T(L,u) / Σ_u w(L,u): tokens per word; None when there are no words.

    Words come from :func:`analysis.words.count_words`; where :func:`analysis.words.segmenter_coverage` says a
    script has no segmenter, the caller withholds the value instead of calling this.

    >>> fertility([5, 4], [3, 3])
    1.5
    """
    return _ratio_or_none(n_tokens, n_words, "n_tokens", "n_words")


def continued_word_share(n_continued: Counts, n_words: Counts) -> float | None:
    """Share of words covered by more than one token (see :func:`analysis.words.continued_words`).

    None when there are no words.

    >>> continued_word_share([1, 2], [3, 5])
    0.375
    """
    return _ratio_or_none(n_continued, n_words, "n_continued", "n_words")


def unk_rate(n_unk: Counts, n_tokens: Counts) -> float | None:
    """UNK tokens / all tokens; None when there are no tokens.

    >>> unk_rate([1, 0], [5, 5])
    0.1
    """
    return _ratio_or_none(n_unk, n_tokens, "n_unk", "n_tokens")


def byte_fallback_rate(n_byte_tokens: Counts, n_tokens: Counts) -> float | None:
    """Byte tokens such as ``<0xE4>`` / all tokens; None when there are no tokens.

    >>> byte_fallback_rate([3], [12])
    0.25
    """
    return _ratio_or_none(n_byte_tokens, n_tokens, "n_byte_tokens", "n_tokens")


def unk_flag(unk_rate: float | None) -> bool:
    """True when more than :data:`UNK_FLAG_THRESHOLD` (10%) of the tokens are UNK: the premium is not meaningful.

    Exactly 10% is not flagged; an undefined rate (no tokens) is not flagged.

    >>> unk_flag(0.1), unk_flag(0.1001), unk_flag(None)
    (False, True, False)
    """
    return unk_rate is not None and unk_rate > UNK_FLAG_THRESHOLD


# --------------------------------------------------------------------------------------------- fairness


def gini(values: Counts) -> float:
    """Gini coefficient G = Σ_i Σ_j |p_i − p_j| / (2 |S|² · mean(p)), in O(n log n).

    With p sorted ascending (index k from 0), Σ_i Σ_j |p_i − p_j| = 2 Σ_k (2k − n + 1) p_k, so
    G = Σ_k (2k − n + 1) p_k / (n · Σ p).

    Raises:
        MetricInputError: no values, negative or non-finite values, or all values 0 (mean 0: undefined).

    >>> gini([1, 2, 3, 4])  # Σ|p_i − p_j| = 20, mean 2.5: 20 / (2 · 16 · 2.5)
    0.25
    """
    p = np.sort(_counts(values, "values").astype(np.float64))
    n = p.size
    if n == 0:
        raise MetricInputError("Gini of no values is undefined; pass at least one premium.")
    total = p.sum()
    if total == 0:
        raise MetricInputError("Gini is undefined when every value is 0 (the mean is 0).")
    k = np.arange(n, dtype=np.float64)
    return float(np.dot(2 * k - n + 1, p) / (n * total))


@dataclass(frozen=True, slots=True)
class FairnessSummary:
    """One tokenizer's premiums summarised over a language set S (state S next to these figures)."""

    n: int  # |S|
    mean: float
    max: float
    argmax: str  # the language at the maximum (ties: the alphabetically first code)
    gini: float


def fairness_summary(premiums: Mapping[str, float]) -> FairnessSummary:
    """Mean, maximum (and where), and Gini of one tokenizer's premiums over the languages given.

    Args:
        premiums: language code -> premium, for exactly the language set S being summarised.

    Raises:
        MetricInputError: no languages, or a premium that is None, NaN, infinite or negative (drop languages
            without a meaningful premium from S first, and say so).

    >>> fairness_summary({"eng": 1.0, "deu": 1.0, "hin": 3.0, "amh": 3.0})
    FairnessSummary(n=4, mean=2.0, max=3.0, argmax='amh', gini=0.25)
    """
    if not premiums:
        raise MetricInputError("No premiums to summarise; the language set S is empty.")
    for lang, p in premiums.items():
        if p is None or not isinstance(p, int | float | np.number) or not math.isfinite(p) or p < 0:
            raise MetricInputError(
                f"The premium for {lang!r} is {p!r}; drop languages without a meaningful premium from S first."
            )
    langs = sorted(premiums)
    values = np.array([premiums[k] for k in langs], dtype=np.float64)
    top = int(np.argmax(values))  # first maximum in sorted order = alphabetically first on ties
    return FairnessSummary(
        n=len(langs), mean=float(values.mean()), max=float(values[top]), argmax=langs[top], gini=gini(values)
    )


def premium_ci_table(corpus: str, tokenizer: str, reference: str, langs: Sequence[str], n_lang: np.ndarray,
                     n_ref: np.ndarray, *, b: int = BOOTSTRAP_B, seed: int = BOOTSTRAP_SEED) -> list[tuple]:
    """Rows of ``premium_ci`` from a matrix of token counts: ``n_lang[i, j]`` for language ``langs[i]`` on the
    reference's unit ``j`` (NaN where the language lacks it), ``n_ref[j]`` the reference's. The premium is a ratio of
    totals over the shared units; the CI is :func:`bootstrap_ci_many`'s, NULL (NaN) under two shared units; languages
    sharing no unit get no row. The builder (from the database) and the visitor's counting jobs (from counts in
    memory) both end here, so their rows agree bit for bit."""
    bounds = bootstrap_ci_many(n_lang, n_ref, b=b, seed=seed)
    present = ~np.isnan(n_lang)
    n_units = present.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.nansum(n_lang, axis=1) / (present * n_ref).sum(axis=1)
    bounds[n_units < 2] = np.nan  # stored as NULL
    return [(corpus, tokenizer, lang, reference, float(v), float(lo), float(hi), int(k), b, seed)
            for lang, v, lo, hi, k in zip(langs, values.tolist(), bounds[:, 0].tolist(), bounds[:, 1].tolist(),
                                          n_units.tolist(), strict=True) if k]
