"""The cost of a language: what the same content costs, and how much of it fits a context window, per language and
tokenizer, with the premium's confidence interval carried through.

The content is stated in characters of the reference language (a prompt of ``input_chars``, an answer of
``output_chars``). For each tokenizer, the reference's characters per token on the corpus turn it into tokens, and the
language's premium (tokens of the language / tokens of the reference, on shared units) scales them::

    tokens(lang) = chars / chars_per_token(reference) × premium(lang)
    cost = requests × (input_tokens × input_price + output_tokens × output_price) / 1,000,000
    fits = input_tokens + output_tokens ≤ context_window
    input that fits = context_window × chars_per_token(reference) / premium   (reference characters)

Costs and tokens are linear in the premium, so the premium's 95% interval gives theirs exactly (the reference's
characters per token is a property of the corpus, taken as fixed); a language without a CI (fewer than two units
shared with the reference) has none here either ("no CI").

Every count says whether it is ``exact`` (the priced model's own tokenizer) or a ``proxy`` (another tokenizer standing
in, e.g. ``claude-legacy`` for Claude 3 and later, whose tokenizer is not public).

Example:
    >>> import pandas as pd
    >>> prem = pd.DataFrame({"tokenizer": ["t"], "lang": ["xx"], "name": ["X"], "premium": [2.0], "ci_low": [1.5],
    ...                      "ci_high": [2.5]})
    >>> out = language_costs(prem, {"t": 4.0}, Prices(2.0, 10.0, 2100), input_chars=4000, output_chars=400,
    ...                      requests=1000, exact_tokenizer="t")
    >>> r = out.iloc[0]
    >>> [round(float(r[c]), 6) for c in ("input_tokens", "cost", "cost_low", "cost_high")], bool(r.fits), r["count"]
    ([2000.0, 6.0, 4.5, 7.5], False, 'exact')
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import PriceError
from .i18n import N_

PRESETS_PATH = Path(__file__).resolve().parent.parent / "assets" / "prices" / "presets.toml"


@dataclass(frozen=True)
class Prices:
    """US dollars per million input and output tokens, and the context window in tokens."""

    input_per_million: float
    output_per_million: float
    context_window: int

    def __post_init__(self) -> None:
        for v, message in (
                (self.input_per_million,
                 N_("The input price must be a number of dollars per million tokens, 0 or more; got {value!r}.")),
                (self.output_per_million,
                 N_("The output price must be a number of dollars per million tokens, 0 or more; got {value!r}."))):
            if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0):
                raise PriceError(message, value=v)
        if not (isinstance(self.context_window, int) and self.context_window > 0):
            raise PriceError(N_("The context window must be a whole number of tokens above 0; got {value!r}."),
                             value=self.context_window)


@dataclass(frozen=True)
class PricePreset:
    """A public list price as announced (an editable example): which tokenizer stands for the model, and whether it
    is the model's own (``exact``)."""

    name: str
    tokenizer: str
    exact: bool
    prices: Prices
    source: str
    as_of: str


def load_presets(path: Path = PRESETS_PATH) -> list[PricePreset]:
    """The presets of ``assets/prices/presets.toml``, in file order.

    Raises:
        PriceError: the file is unreadable or an entry lacks a field (restore it from git).
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return [PricePreset(p["name"], p["tokenizer"], bool(p["exact"]),
                            Prices(float(p["input_per_million"]), float(p["output_per_million"]),
                                   int(p["context_window"])), p["source"], p.get("as_of", ""))
                for p in raw.get("preset", [])]
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as e:
        if isinstance(e, PriceError):
            raise
        raise PriceError(f"Cannot read the price presets {path}: {e!r}. Restore the file from git.") from e


def count_kind(tokenizer_id: str, exact_tokenizer: str | None) -> str:
    """``exact`` where the tokenizer is the priced model's own, else ``proxy``.

    >>> count_kind("o200k_base", "o200k_base"), count_kind("llama3", "o200k_base"), count_kind("claude-legacy", None)
    ('exact', 'proxy', 'proxy')
    """
    return "exact" if exact_tokenizer is not None and tokenizer_id == exact_tokenizer else "proxy"


def language_costs(premiums: pd.DataFrame, reference_chars_per_token: Mapping[str, float], prices: Prices, *,
                   input_chars: int, output_chars: int = 0, requests: int = 1,
                   exact_tokenizer: str | None = None) -> pd.DataFrame:
    """Cost and fit per (tokenizer, language) row of ``premiums`` (columns tokenizer, lang, name, premium, ci_low,
    ci_high; NaN CI = no CI).

    Returns the rows with input_tokens, output_tokens (per request, central estimate), cost, cost_low, cost_high
    (dollars for ``requests`` requests; NaN where no CI), fits (input + output within the window), input_chars_fit
    (reference characters of input whose tokens fill the window, with _low/_high from the CI: a higher premium fits
    less) and count (exact / proxy).

    Raises:
        PriceError: negative sizes, or a tokenizer without the reference's characters per token.
    """
    if input_chars < 0 or output_chars < 0 or requests < 1:
        raise PriceError(N_("Input and output sizes must be 0 or more characters and requests at least 1."))
    missing = sorted(set(premiums["tokenizer"]) - set(reference_chars_per_token))
    if missing:
        raise PriceError(N_("No characters-per-token figure of the reference for {ids}; count the reference language "
                            "with them first."), ids=", ".join(missing))
    out = premiums.copy()
    cpt = out["tokenizer"].map(reference_chars_per_token).astype(float)
    ref_in, ref_out = input_chars / cpt, output_chars / cpt

    def cost(p: pd.Series) -> pd.Series:
        return requests * (ref_in * p * prices.input_per_million + ref_out * p * prices.output_per_million) / 1e6

    out["input_tokens"] = ref_in * out["premium"]
    out["output_tokens"] = ref_out * out["premium"]
    out["cost"] = cost(out["premium"])
    out["cost_low"] = cost(out["ci_low"].astype(float))
    out["cost_high"] = cost(out["ci_high"].astype(float))
    out["fits"] = (out["input_tokens"] + out["output_tokens"]) <= prices.context_window
    out["input_chars_fit"] = prices.context_window * cpt / out["premium"]
    out["input_chars_fit_low"] = prices.context_window * cpt / out["ci_high"].astype(float)
    out["input_chars_fit_high"] = prices.context_window * cpt / out["ci_low"].astype(float)
    out["count"] = [count_kind(t, exact_tokenizer) for t in out["tokenizer"]]
    return out.reset_index(drop=True)
