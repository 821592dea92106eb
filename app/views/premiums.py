"""Premium explorer: how many more tokens each language needs than a reference language, per tokenizer."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from analysis import AnalysisError, charts
from analysis.i18n import N_
from analysis.i18n import gettext as _
from analysis.premium_view import FAIRNESS_HEADERS, TABLE_HEADERS, filter_languages, policy_line
from analysis.published_premiums import CITATION, COMPARE_HEADERS, shared_columns
from app import keys, state
from app.add_tokenizer import add_tokenizer_panel, counted_ids, premiums_with_yours
from app.charts import show_chart
from app.cost_tab import tab_cost
from app.language import headers
from app.reconnect import client_sent
from app.state import DEFAULT_TOKENIZERS, show_error

ss = st.session_state

# A link into the explorer (a lesson's step, a teacher's handout) names the tab, and may add a search and the
# tokenizers: premiums?tab=Dots&search=Hindi,amh&tokenizers=o200k_base,llama3. Applied once per link; the page does
# not rewrite the URL, so what a visitor changes afterwards is not undone. Without ``tab`` the parameters are another
# page's (the Playground's ``tokenizers``) and are left alone.
LINK_PARAMS = ("tab", "search", "tokenizers")
_link = {k: v for k, v in st.query_params.to_dict().items() if k in LINK_PARAMS}
if "tab" in _link and _link != ss.get(keys.PX_LAST_LINK):
    ss[keys.PX_LAST_LINK] = ss[keys.PX_LINK] = _link

st.title(_("Premium explorer"))
st.caption(_("Token premium of a language = its tokens on the parallel units it shares with the reference, divided "
             "by the reference's tokens on the same units (a ratio of totals). Dots and bars show the 95% bootstrap "
             "interval over units. Definitions: Methods page."))


def _parquet(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def downloads(df: pd.DataFrame, name: str, key: str) -> None:
    """CSV and Parquet of exactly the data a chart shows (built when a button is pressed, not on every rerun)."""
    a, b, _rest = st.columns([1, 1, 4])
    a.download_button("CSV",  # i18n-exempt: a file format's name
                      lambda: df.to_csv(index=False).encode(), f"{name}.csv", "text/csv", key=f"{key}_csv")
    b.download_button("Parquet",  # i18n-exempt: a file format's name
                      lambda: _parquet(df), f"{name}.parquet", "application/octet-stream", key=f"{key}_pq")


def chart(fig, key: str) -> None:
    show_chart(fig, key=key)


@dataclass(frozen=True)
class View:
    """What every tab draws from: the selection and the rows it keeps."""

    corpus: str
    reference: str
    ref_name: str
    tokenizers: tuple[str, ...]
    shown: pd.DataFrame
    langs: pd.DataFrame
    names: dict[str, str]
    policy: str
    complete: bool


def pick_languages(v: View, prefix: str) -> pd.DataFrame:
    """The rows of the N dearest or cheapest languages (a slider and a radio, keyed ``{prefix}_limit/_ends``)."""
    n_langs = v.shown["lang"].nunique()
    a, b = st.columns([3, 2])
    limit = a.slider(_("Languages in the chart (sorted by mean premium)"), 1, n_langs, min(60, n_langs),
                     key=f"{prefix}_limit") if n_langs > 1 else 1
    order = charts.language_order(v.shown)
    highest = b.radio(_("Show"), ("highest", "lowest"), horizontal=True, key=f"{prefix}_ends",
                      format_func=lambda e: _("highest premiums") if e == "highest" else _("lowest premiums"))
    keep = set(order[-limit:] if highest == "highest" else order[:limit])
    return v.shown[charts.language_labels(v.shown).isin(keep)]


def tab_dots(v: View) -> None:
    dots = pick_languages(v, "px_dot")
    chart(state.premium_dots(dots, reference_name=v.ref_name, policy=v.policy), "px_dots")  # cached: most of a rerun
    st.caption(_("One row per language, dearest at the top; one dot per tokenizer, its line the 95% interval. "
                 "The dotted line is parity with the reference (1×); the axis is logarithmic."))
    downloads(dots, f"premiums-{v.corpus}-{v.reference}", "px_dl_dots")


def tab_bars(v: View) -> None:
    bars = pick_languages(v, "px")
    chart(charts.premium_bars(bars, reference_name=v.ref_name, policy=v.policy), "px_bars")
    downloads(bars, f"premiums-{v.corpus}-{v.reference}", "px_dl_bars")


def tab_heatmap(v: View) -> None:
    chart(charts.premium_heatmap(v.shown, reference_name=v.ref_name), "px_heatmap")
    downloads(v.shown.pivot_table(index="lang", columns="tokenizer", values="premium").reset_index(),
              f"premium-matrix-{v.corpus}-{v.reference}", "px_dl_heat")


def tab_map(v: View) -> None:
    map_tok = st.selectbox(_("Tokenizer on the map"), v.tokenizers, key="px_map_tokenizer")
    chart(charts.premium_map(v.shown, v.langs, tokenizer=map_tok, reference_name=v.ref_name), "px_map")
    placed = v.shown[v.shown["tokenizer"] == map_tok].merge(v.langs[["lang", "latitude", "longitude"]], on="lang")
    downloads(placed, f"premium-map-{v.corpus}-{map_tok}", "px_dl_map")


def tab_scripts(v: View) -> None:
    chart(charts.script_distribution(v.shown, reference_name=v.ref_name), "px_scripts_chart")
    downloads(v.shown[["tokenizer", "lang", "name", "script", "premium"]], f"premium-by-script-{v.corpus}",
              "px_dl_script")


def tab_units(v: View) -> None:
    options = sorted(v.shown["lang"].unique(), key=lambda c: v.names.get(c, c))
    if ss.get(keys.PX_UNIT_LANG) not in options:
        ss[keys.PX_UNIT_LANG] = "hin" if "hin" in options else options[0]
    one = st.selectbox(_("Language"), options, key=keys.PX_UNIT_LANG, format_func=lambda c: f"{v.names[c]} ({c})")
    units = state.unit_ratios(v.corpus, one, v.reference, v.tokenizers)
    chart(charts.unit_distribution(units, language_name=v.names[one], reference_name=v.ref_name), "px_units")
    downloads(units, f"unit-premiums-{v.corpus}-{one}", "px_dl_units")
    st.page_link("views/playground.py",
                 label=_("Open {language} in the Playground with these tokenizers").format(language=v.names[one]),
                 icon="🔤", query_params={"tokenizers": ",".join(v.tokenizers), "corpus": v.corpus, "sample_lang": one,
                                         "unit": "(all)"})


def tab_fairness(v: View) -> None:
    fair = state.fairness(v.corpus, v.reference, v.tokenizers, complete_only=v.complete)
    chart(charts.fairness_chart(fair), "px_fairness")
    st.dataframe(fair, hide_index=True, key="px_fair_table", column_config=headers(FAIRNESS_HEADERS))
    downloads(fair, f"fairness-{v.corpus}-{v.reference}", "px_dl_fair")
    st.caption(_("Gini of the premiums over the stated language set (0: every language pays the same)."))


def tab_table(v: View) -> None:
    st.dataframe(v.shown, hide_index=True, key="px_table", column_config=headers(
        TABLE_HEADERS, **{c: st.column_config.NumberColumn(format="%.3f") for c in ("premium", "ci_low", "ci_high")}))
    downloads(v.shown, f"premiums-{v.corpus}-{v.reference}-all", "px_dl_table")


def tab_published(v: View) -> None:
    """Petrov et al.'s published premiums beside ours: only for a corpus imported with the petrov2023 protocol."""
    shared = set(shared_columns().values())
    chosen = tuple(t for t in v.tokenizers if t in shared)
    if not chosen:
        counted = sorted(shared & set(state.counted_tokenizers(v.corpus)))
        st.info(_("None of the tokenizers picked is in the published table.") + " "
                + (_("Pick {tokenizers}.").format(tokenizers=", ".join(counted)) if counted else
                   _("Count the corpus with {tokenizers} first: {command}.").format(
                       tokenizers=", ".join(sorted(shared)),
                       command=f"`python -m analysis build --corpus {v.corpus} --tokenizers {' '.join(sorted(shared))}`")))
        return
    both = state.published_vs_ours(v.corpus, chosen)
    both = both[both["lang"].isin(set(v.shown["lang"]))].reset_index(drop=True)
    agree = int(both["same_to_4_decimals"].sum())
    st.caption(_("Published premiums of Petrov et al. (2023) and ours on this corpus, both against English (eng_Latn) "
                 "whatever the reference chosen above: {agree} of {total} (column, language) cells agree to 4 "
                 "decimals, {same} with the very same token count (English, the reference, is 1 on both sides by "
                 "definition). difference = ours − published. Their GPT-2 column is the r50k_base vocabulary, ByT5 "
                 "counts UTF-8 bytes, UTF-32 code points. Source: {citation}").format(
                     agree=agree, total=len(both), same=int(both["same_tokens"].sum()), citation=CITATION))
    st.dataframe(both, hide_index=True, key="px_published_table", column_config=headers(
        COMPARE_HEADERS, **{c: st.column_config.NumberColumn(format="%.4f")
                            for c in ("published_premium", "our_premium", "difference")}))
    downloads(both, f"published-vs-ours-{v.corpus}", "px_dl_published")


#: The tabs, the dot plot first (the page opens on it). Keys are the names links use (?tab=Dots); labels translate.
TABS = {N_("Dots"): tab_dots, N_("Bars"): tab_bars, N_("Heatmap"): tab_heatmap, N_("Map"): tab_map,
        N_("By script"): tab_scripts, N_("Per unit"): tab_units, N_("Fairness"): tab_fairness, N_("Table"): tab_table,
        N_("Cost"): tab_cost}


add_tokenizer_panel(select_key=None)
try:
    corpora = state.corpora()
    if not corpora:
        raise AnalysisError(_("The statistics database has no corpus yet. Run `python -m analysis build`."))
    top = st.columns([1, 2, 3])
    corpus = top[0].selectbox(_("Corpus"), corpora, key=keys.PX_CORPUS)
    langs = state.languages(corpus)
    names = dict(zip(langs["lang"], langs["name"].fillna(langs["lang"])))
    # A browser reconnecting after its replica died sends the reference it shows (app/reconnect.py): keep it.
    reconnected = keys.PX_REFERENCE not in ss and client_sent((keys.PX_REFERENCE,))
    if not reconnected and ss.get(keys.PX_REFERENCE) not in names:
        ss[keys.PX_REFERENCE] = next((c for c in ("eng", "eng_Latn") if c in names), next(iter(names)))
    reference = top[1].selectbox(_("Reference language"), list(names), key=keys.PX_REFERENCE,
                                 format_func=lambda c: f"{names[c]} ({c})")
    counted = state.counted_tokenizers(corpus) + (counted_ids() if corpus == "udhr" else [])  # + the visitor's
    link = ss.pop(keys.PX_LINK, {})
    if "tokenizers" in link:
        ss[keys.PX_TOKENIZERS] = [t for t in dict.fromkeys(link["tokenizers"].split(",")) if t in counted]
    if "search" in link:
        ss[keys.PX_SEARCH] = link["search"][:200]
    if link.get("tab") in TABS:
        ss[keys.PX_TAB] = _(link["tab"])
    if keys.PX_TOKENIZERS not in ss or not ss[keys.PX_TOKENIZERS] or not set(ss[keys.PX_TOKENIZERS]) <= set(counted):
        ss[keys.PX_TOKENIZERS] = [t for t in DEFAULT_TOKENIZERS if t in counted] or counted[:6]
    tokenizers = top[2].multiselect(_("Tokenizers"), counted, key=keys.PX_TOKENIZERS,
                                 placeholder=_("Choose options"))

    f = st.columns([2, 2, 1])
    search = f[0].text_input(_("Search languages by name or code"), key=keys.PX_SEARCH,
                             placeholder=_("e.g. Hindi, amh, Cyrl"))
    scripts = f[1].multiselect(_("Scripts"), sorted(langs["script"].dropna().unique()), key="px_scripts",
                             placeholder=_("Choose options"))
    complete = f[2].checkbox(_("Complete variants only"), value=False, key="px_complete",
                             help=_("Variants with the preamble and all 30 articles"))
    if not tokenizers:
        st.info(_("Pick at least one tokenizer."))
        st.stop()

    prem = premiums_with_yours(corpus, reference, tuple(tokenizers))
    shown = filter_languages(prem, langs, search=search, scripts=tuple(scripts), complete_only=complete)
    policy = policy_line(state.meta(), state.corpus_info(corpus))
    ref_name = names[reference]
    # The chart is what a room reads: the counting policy and the caveats' details fold into one expander, so the
    # dot plot starts within a 1366×768 screen; the UNK caveat stays visible as one line.
    flagged = shown[shown["unk_flag"].fillna(False)]
    st.caption(_("{shown:,} of {total:,} variants shown").format(shown=shown["lang"].nunique(),
                                                                total=langs["lang"].nunique()))
    protocol = state.corpus_protocol(corpus)
    if len(flagged):
        st.warning(_("{n} (tokenizer, language) cells map more than 10% of the text to UNK; their premiums are not "
                     "meaningful (listed under 'How these numbers were counted', marked in the table).").format(
                         n=len(flagged)))
    with st.expander(_("How these numbers were counted"), key="px_about"):
        st.caption(policy)
        if protocol == "petrov2023":
            st.caption(_("No confidence intervals: this corpus was imported with the petrov2023 protocol, one unit "
                         "per language (its dev and devtest lines joined into one string, as Petrov et al. (2023) "
                         "counted), so there are no units to resample. Dots and bars have no whiskers; the table's CI "
                         "columns are empty."))
        elif shown["ci_low"].isna().any():
            st.caption(_("{n} (tokenizer, language) cells have no confidence interval: they share fewer than two "
                         "units with the reference.").format(n=int(shown["ci_low"].isna().sum())))
        if len(flagged):
            st.caption(_("More than 10% UNK:") + " "
                       + ", ".join(sorted({f"{r.tokenizer}/{r.lang}" for r in flagged.itertuples()})))
    if shown.empty:
        st.info(_("No language matches the filters."))
        st.stop()

    # Tabs that query the store per unit (map, units, fairness, cost) take the catalogue tokenizers; the others all.
    view = View(corpus, reference, ref_name, tuple(t for t in tokenizers if not t.startswith("yours:")) or
                tuple(tokenizers), shown, langs, names, policy, complete)
    pages = {**TABS, N_("Published vs ours"): tab_published} if protocol == "petrov2023" else TABS
    # Lazy tabs: only the open tab is computed and sent (switching tabs reruns the page).
    tabs = st.tabs([_(name) for name in pages], key=keys.PX_TAB, on_change="rerun")
    for tab, draw in zip(tabs, pages.values(), strict=True):
        if tab.open:
            with tab:
                draw(view)
except AnalysisError as e:
    show_error(e)
