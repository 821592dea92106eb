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
from app import keys, state
from app.language import headers
from app.state import show_error

#: The cost table's column headers (msgids; the frame keeps the English names).
COST_HEADERS = {"tokenizer": N_("tokenizer"), "language": N_("language"), "count": N_("count"),
                "premium": N_("premium"), "premium 95% CI": N_("premium 95% CI"), "input tokens": N_("input tokens"),
                "output tokens": N_("output tokens"), "cost, $": N_("cost, $"), "cost 95% CI, $": N_("cost 95% CI, $"),
                "fits the window": N_("fits the window")}


def _apply_preset() -> None:
    ss = st.session_state
    preset = next(p for p in load_presets() if p.name == ss[keys.PX_COST_PRESET])
    ss[keys.PX_COST_IN], ss[keys.PX_COST_OUT] = preset.prices.input_per_million, preset.prices.output_per_million
    ss[keys.PX_COST_CTX], ss[keys.PX_COST_TOK] = preset.prices.context_window, preset.tokenizer
    ss[keys.PX_COST_EXACT] = preset.exact


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
    if ss.get(keys.PX_COST_PRESET) not in names:
        ss[keys.PX_COST_PRESET] = names[0]
        _apply_preset()
    st.caption(_("Prices are editable inputs. The presets are public list prices as the vendors announced them (source "
               "and month below), written down as examples and not re-checked here: check the current price list."))
    a = st.columns([2, 1, 1, 1])
    a[0].selectbox(_("Price preset"), names, key=keys.PX_COST_PRESET, on_change=_apply_preset)
    a[1].number_input(_("Input, $ per million tokens"), min_value=0.0, step=0.05, format="%.4f", key=keys.PX_COST_IN)
    a[2].number_input(_("Output, $ per million tokens"), min_value=0.0, step=0.05, format="%.4f", key=keys.PX_COST_OUT)
    a[3].number_input(_("Context window, tokens"), min_value=1, step=1000, key=keys.PX_COST_CTX)
    preset = next(p for p in presets if p.name == ss[keys.PX_COST_PRESET])
    st.caption(_("Preset source: {source}").format(source=preset.source)
               + (f" ({preset.as_of})" if preset.as_of else "") + ".")
    b = st.columns([2, 1, 1, 1, 1])
    ids = load_catalogue().ids
    if ss.get(keys.PX_COST_TOK) not in ids:
        ss[keys.PX_COST_TOK] = ids[0]
    b[0].selectbox(_("The priced model's tokenizer (or its stand-in)"), ids, key=keys.PX_COST_TOK)
    b[1].checkbox(_("It is the model's own"), key=keys.PX_COST_EXACT,
                  help=_("Off where the model's tokenizer is not public (Claude 3 and later): counts are proxies."))
    b[2].number_input(_("Input, characters of {language}").format(language=v.ref_name), min_value=0, step=500, value=2000,
                      key=keys.PX_COST_CHARS_IN)
    b[3].number_input(_("Output, characters of {language}").format(language=v.ref_name), min_value=0, step=500, value=1000,
                      key=keys.PX_COST_CHARS_OUT)
    b[4].number_input(_("Requests"), min_value=1, step=100, value=1000, key=keys.PX_COST_REQUESTS)

    try:
        stats = state.lang_stats(v.corpus, v.tokenizers)
        ref = stats[stats["lang"] == v.reference]
        cpt = dict(zip(ref["tokenizer"], ref["chars_per_token"]))
        prices = Prices(float(ss[keys.PX_COST_IN]), float(ss[keys.PX_COST_OUT]), int(ss[keys.PX_COST_CTX]))
        exact = ss[keys.PX_COST_TOK] if ss[keys.PX_COST_EXACT] else None
        out = language_costs(v.shown, cpt, prices, input_chars=int(ss[keys.PX_COST_CHARS_IN]),
                             output_chars=int(ss[keys.PX_COST_CHARS_OUT]), requests=int(ss[keys.PX_COST_REQUESTS]),
                             exact_tokenizer=exact)
    except AnalysisError as e:
        show_error(e)
        return
    if exact is None:
        st.warning(_("{tokenizer} is marked as a stand-in for the priced model: every count below is a proxy.").format(
            tokenizer=ss[keys.PX_COST_TOK]))
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
