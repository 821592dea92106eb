"""The Premium explorer's "Cost" tab: what the same content costs and how much fits, per language and tokenizer.

Not a page: app/views/premiums.py draws it as one of its tabs (:func:`tab_cost`).
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from analysis import AnalysisError, load_catalogue
from analysis.costs import Prices, language_costs, load_presets
from analysis.i18n import N_, language_name
from analysis.i18n import gettext as _
from app.language import headers
from app.state import query, show_error

#: The cost table's column headers (msgids; the frame keeps the English names).
COST_HEADERS = {"tokenizer": N_("tokenizer"), "language": N_("language"), "count": N_("count"),
                "premium": N_("premium"), "premium 95% CI": N_("premium 95% CI"), "input tokens": N_("input tokens"),
                "output tokens": N_("output tokens"), "cost, $": N_("cost, $"), "cost 95% CI, $": N_("cost 95% CI, $"),
                "fits the window": N_("fits the window")}


def _apply_preset() -> None:
    ss = st.session_state
    preset = next(p for p in load_presets() if p.name == ss.px_cost_preset)
    ss.px_cost_in, ss.px_cost_out = preset.prices.input_per_million, preset.prices.output_per_million
    ss.px_cost_ctx, ss.px_cost_tok, ss.px_cost_exact = preset.prices.context_window, preset.tokenizer, preset.exact


def _range(low: float, high: float, fmt: str) -> str:
    return "no CI" if math.isnan(low) or math.isnan(high) else f"{fmt.format(low)} – {fmt.format(high)}"


def tab_cost(v) -> None:  # v: the explorer's View (corpus, reference, tokenizers, shown premiums, names)
    ss = st.session_state
    try:
        presets = load_presets()
    except AnalysisError as e:
        show_error(e)
        return
    names = [p.name for p in presets]
    if ss.get("px_cost_preset") not in names:
        ss.px_cost_preset = names[0]
        _apply_preset()
    st.caption(_("Prices are editable inputs. The presets are public list prices as the vendors announced them (source "
               "and month below), written down as examples and not re-checked here: check the current price list."))
    a = st.columns([2, 1, 1, 1])
    a[0].selectbox(_("Price preset"), names, key="px_cost_preset", on_change=_apply_preset)
    a[1].number_input(_("Input, $ per million tokens"), min_value=0.0, step=0.05, format="%.4f", key="px_cost_in")
    a[2].number_input(_("Output, $ per million tokens"), min_value=0.0, step=0.05, format="%.4f", key="px_cost_out")
    a[3].number_input(_("Context window, tokens"), min_value=1, step=1000, key="px_cost_ctx")
    preset = next(p for p in presets if p.name == ss.px_cost_preset)
    st.caption(_("Preset source: {source}").format(source=preset.source)
               + (f" ({preset.as_of})" if preset.as_of else "") + ".")
    b = st.columns([2, 1, 1, 1, 1])
    ids = load_catalogue().ids
    if ss.get("px_cost_tok") not in ids:
        ss.px_cost_tok = ids[0]
    b[0].selectbox(_("The priced model's tokenizer (or its stand-in)"), ids, key="px_cost_tok")
    b[1].checkbox(_("It is the model's own"), key="px_cost_exact",
                  help=_("Off where the model's tokenizer is not public (Claude 3 and later): counts are proxies."))
    b[2].number_input(_("Input, characters of {language}").format(language=v.ref_name), min_value=0, step=500, value=2000,
                      key="px_cost_chars_in")
    b[3].number_input(_("Output, characters of {language}").format(language=v.ref_name), min_value=0, step=500, value=1000,
                      key="px_cost_chars_out")
    b[4].number_input(_("Requests"), min_value=1, step=100, value=1000, key="px_cost_requests")

    try:
        stats = query("lang_stats", v.corpus, v.tokenizers)
        ref = stats[stats["lang"] == v.reference]
        cpt = dict(zip(ref["tokenizer"], ref["chars_per_token"]))
        prices = Prices(float(ss.px_cost_in), float(ss.px_cost_out), int(ss.px_cost_ctx))
        exact = ss.px_cost_tok if ss.px_cost_exact else None
        out = language_costs(v.shown, cpt, prices, input_chars=int(ss.px_cost_chars_in),
                             output_chars=int(ss.px_cost_chars_out), requests=int(ss.px_cost_requests),
                             exact_tokenizer=exact)
    except AnalysisError as e:
        show_error(e)
        return
    if exact is None:
        st.warning(_("{tokenizer} is marked as a stand-in for the priced model: every count below is a proxy.").format(
            tokenizer=ss.px_cost_tok))
    elif exact not in v.tokenizers:
        st.info(_("The priced model's tokenizer ({tokenizer}) is not among the tokenizers picked above: every count "
                  "below is a proxy. Add it to see exact counts.").format(tokenizer=exact))
    table = pd.DataFrame({
        "tokenizer": out["tokenizer"],
        "language": [f"{language_name(c, english=n if n == n and n is not None else c)} ({c})"
                     for c, n in zip(out["lang"], out["name"])],
        "count": out["count"], "premium": out["premium"],
        "premium 95% CI": [_range(lo, hi, "{:.2f}") for lo, hi in zip(out["ci_low"], out["ci_high"])],
        "input tokens": out["input_tokens"].round().astype("Int64"),
        "output tokens": out["output_tokens"].round().astype("Int64"),
        "cost, $": out["cost"],
        "cost 95% CI, $": [_range(lo, hi, "{:,.4f}") for lo, hi in zip(out["cost_low"], out["cost_high"])],
        "fits the window": out["fits"],
        f"input that fits, characters of {v.ref_name}": out["input_chars_fit"].round().astype("Int64"),
    }).sort_values(["tokenizer", "cost, $"], ascending=[True, False])
    fits = _("input that fits, characters of {language}").format(language=v.ref_name)  # already translated
    labels = {**COST_HEADERS, f"input that fits, characters of {v.ref_name}": fits}
    st.dataframe(table, hide_index=True, key="px_cost_table", column_config=headers(
        labels, premium=st.column_config.NumberColumn(format="%.3f"),
        **{"cost, $": st.column_config.NumberColumn(format="%.4f")}))
    st.download_button(_("CSV"), lambda: out.to_csv(index=False).encode(), f"cost-{v.corpus}-{v.reference}.csv",
                       "text/csv", key="px_cost_csv")
    st.caption(_("Tokens = characters ÷ {language}'s characters per token with that tokenizer on this corpus × the "
                 "language's premium; cost = requests × (input tokens × input price + output tokens × output price) "
                 "÷ 1,000,000. The CI is the premium's 95% bootstrap interval carried through (cost is linear in it); "
                 "'no CI' where a language shares fewer than two units with the reference. exact: the priced model's "
                 "own tokenizer; proxy: another tokenizer standing in (claude-legacy for Claude 3 and later, whose "
                 "tokenizer is not public).").format(language=v.ref_name))
