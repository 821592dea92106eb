"""Premium explorer: how many more tokens each language needs than a reference language, per tokenizer."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from analysis import AnalysisError, charts
from analysis.premium_view import filter_languages, policy_line
from analysis.published_premiums import CITATION, shared_columns
from app.add_tokenizer import add_tokenizer_panel, counted_ids, premiums_with_yours
from app.cost_tab import tab_cost
from app.state import DEFAULT_TOKENIZERS, query, show_error

ss = st.session_state

st.title("Premium explorer")
st.caption("Token premium of a language = its tokens on the parallel units it shares with the reference, divided by "
           "the reference's tokens on the same units (a ratio of totals). Bars show the 95% bootstrap interval over "
           "units. Definitions: Methods page.")


def _parquet(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def downloads(df: pd.DataFrame, name: str, key: str) -> None:
    """CSV and Parquet of exactly the data a chart shows (built when a button is pressed, not on every rerun)."""
    a, b, _ = st.columns([1, 1, 4])
    a.download_button("CSV", lambda: df.to_csv(index=False).encode(), f"{name}.csv", "text/csv", key=f"{key}_csv")
    b.download_button("Parquet", lambda: _parquet(df), f"{name}.parquet", "application/octet-stream", key=f"{key}_pq")


def chart(fig, key: str) -> None:
    st.plotly_chart(fig, key=key, config=charts.IMAGE_CONFIG)


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


def tab_bars(v: View) -> None:
    n_langs = v.shown["lang"].nunique()
    limit = st.slider("Languages in the chart (sorted by mean premium)", 1, n_langs, min(60, n_langs),
                      key="px_limit") if n_langs > 1 else 1
    order = charts.language_order(v.shown)
    ends = st.radio("Show", ("highest premiums", "lowest premiums"), horizontal=True, key="px_ends")
    keep = set(order[-limit:] if ends == "highest premiums" else order[:limit])
    bars = v.shown[charts.language_labels(v.shown).isin(keep)]
    chart(charts.premium_bars(bars, reference_name=v.ref_name, policy=v.policy), "px_bars")
    downloads(bars, f"premiums-{v.corpus}-{v.reference}", "px_dl_bars")


def tab_heatmap(v: View) -> None:
    chart(charts.premium_heatmap(v.shown, reference_name=v.ref_name), "px_heatmap")
    downloads(v.shown.pivot_table(index="lang", columns="tokenizer", values="premium").reset_index(),
              f"premium-matrix-{v.corpus}-{v.reference}", "px_dl_heat")


def tab_map(v: View) -> None:
    map_tok = st.selectbox("Tokenizer on the map", v.tokenizers, key="px_map_tokenizer")
    chart(charts.premium_map(v.shown, v.langs, tokenizer=map_tok, reference_name=v.ref_name), "px_map")
    placed = v.shown[v.shown["tokenizer"] == map_tok].merge(v.langs[["lang", "latitude", "longitude"]], on="lang")
    downloads(placed, f"premium-map-{v.corpus}-{map_tok}", "px_dl_map")


def tab_scripts(v: View) -> None:
    chart(charts.script_distribution(v.shown, reference_name=v.ref_name), "px_scripts_chart")
    downloads(v.shown[["tokenizer", "lang", "name", "script", "premium"]], f"premium-by-script-{v.corpus}",
              "px_dl_script")


def tab_units(v: View) -> None:
    options = sorted(v.shown["lang"].unique(), key=lambda c: v.names.get(c, c))
    if ss.get("px_unit_lang") not in options:
        ss.px_unit_lang = "hin" if "hin" in options else options[0]
    one = st.selectbox("Language", options, key="px_unit_lang", format_func=lambda c: f"{v.names[c]} ({c})")
    units = query("unit_ratios", v.corpus, one, v.reference, v.tokenizers)
    chart(charts.unit_distribution(units, language_name=v.names[one], reference_name=v.ref_name), "px_units")
    downloads(units, f"unit-premiums-{v.corpus}-{one}", "px_dl_units")
    st.page_link("views/playground.py", label=f"Open {v.names[one]} in the Playground with these tokenizers",
                 icon="🔤", query_params={"tokenizers": ",".join(v.tokenizers), "corpus": v.corpus, "lang": one,
                                         "unit": "(all)"})


def tab_fairness(v: View) -> None:
    fair = query("fairness", v.corpus, v.reference, v.tokenizers, complete_only=v.complete)
    chart(charts.fairness_chart(fair), "px_fairness")
    st.dataframe(fair, hide_index=True, key="px_fair_table")
    downloads(fair, f"fairness-{v.corpus}-{v.reference}", "px_dl_fair")
    st.caption("Gini of the premiums over the stated language set (0: every language pays the same).")


def tab_table(v: View) -> None:
    st.dataframe(v.shown, hide_index=True, key="px_table",
                 column_config={c: st.column_config.NumberColumn(format="%.3f") for c in ("premium", "ci_low", "ci_high")})
    downloads(v.shown, f"premiums-{v.corpus}-{v.reference}-all", "px_dl_table")


def tab_published(v: View) -> None:
    """Petrov et al.'s published premiums beside ours: only for a corpus imported with the petrov2023 protocol."""
    shared = set(shared_columns().values())
    chosen = tuple(t for t in v.tokenizers if t in shared)
    if not chosen:
        counted = sorted(shared & set(query("counted_tokenizers", v.corpus)))
        st.info("None of the tokenizers picked is in the published table. "
                + (f"Pick {', '.join(counted)}." if counted else
                   f"Count the corpus with {', '.join(sorted(shared))} first: `python -m analysis build --corpus "
                   f"{v.corpus} --tokenizers {' '.join(sorted(shared))}`."))
        return
    both = query("published_vs_ours", v.corpus, chosen)
    both = both[both["lang"].isin(set(v.shown["lang"]))].reset_index(drop=True)
    agree = int(both["same_to_4_decimals"].sum())
    st.caption(f"Published premiums of Petrov et al. (2023) and ours on this corpus, both against English (eng_Latn) "
               f"whatever the reference chosen above: {agree} of {len(both)} (column, language) cells agree to 4 "
               f"decimals, {int(both['same_tokens'].sum())} with the very same token count (English, the reference, "
               "is 1 on both sides by definition). difference = ours − published. Their GPT-2 column is the "
               f"r50k_base vocabulary, ByT5 counts UTF-8 bytes, UTF-32 code points. Source: {CITATION}")
    st.dataframe(both, hide_index=True, key="px_published_table",
                 column_config={c: st.column_config.NumberColumn(format="%.4f")
                                for c in ("published_premium", "our_premium", "difference")})
    downloads(both, f"published-vs-ours-{v.corpus}", "px_dl_published")


TABS = {"Bars": tab_bars, "Heatmap": tab_heatmap, "Map": tab_map, "By script": tab_scripts, "Per unit": tab_units,
        "Fairness": tab_fairness, "Table": tab_table, "Cost": tab_cost}


add_tokenizer_panel(select_key=None)
try:
    corpora = query("corpora")
    if not corpora:
        raise AnalysisError("The statistics database has no corpus yet. Run `python -m analysis build`.")
    top = st.columns([1, 2, 3])
    corpus = top[0].selectbox("Corpus", corpora, key="px_corpus")
    langs = query("languages", corpus)
    names = dict(zip(langs["lang"], langs["name"].fillna(langs["lang"])))
    if ss.get("px_reference") not in names:
        ss.px_reference = next((c for c in ("eng", "eng_Latn") if c in names), next(iter(names)))
    reference = top[1].selectbox("Reference language", list(names), key="px_reference",
                                 format_func=lambda c: f"{names[c]} ({c})")
    counted = query("counted_tokenizers", corpus) + (counted_ids() if corpus == "udhr" else [])  # + the visitor's
    if "px_tokenizers" not in ss or not set(ss.px_tokenizers) <= set(counted):
        ss.px_tokenizers = [t for t in DEFAULT_TOKENIZERS if t in counted] or counted[:6]
    tokenizers = top[2].multiselect("Tokenizers", counted, key="px_tokenizers")

    f = st.columns([2, 2, 1])
    search = f[0].text_input("Search languages by name or code", key="px_search", placeholder="e.g. Hindi, amh, Cyrl")
    scripts = f[1].multiselect("Scripts", sorted(langs["script"].dropna().unique()), key="px_scripts")
    complete = f[2].checkbox("Complete variants only", value=False, key="px_complete",
                             help="Variants with the preamble and all 30 articles")
    if not tokenizers:
        st.info("Pick at least one tokenizer.")
        st.stop()

    prem = premiums_with_yours(corpus, reference, tuple(tokenizers))
    shown = filter_languages(prem, langs, search=search, scripts=tuple(scripts), complete_only=complete)
    meta = query("meta")
    policy = policy_line(meta, query("corpus_info", corpus))
    ref_name = names[reference]
    st.caption(f"{shown['lang'].nunique():,} of {langs['lang'].nunique():,} variants shown · {policy}")
    protocol = query("corpus_protocol", corpus)
    if protocol == "petrov2023":
        st.caption("No confidence intervals: this corpus was imported with the petrov2023 protocol, one unit per "
                   "language (its dev and devtest lines joined into one string, as Petrov et al. (2023) counted), so "
                   "there are no units to resample. Bars have no error bars; the table's CI columns are empty.")
    elif shown["ci_low"].isna().any():
        st.caption(f"{int(shown['ci_low'].isna().sum())} (tokenizer, language) cells have no confidence interval: "
                   "they share fewer than two units with the reference.")
    flagged = shown[shown["unk_flag"].fillna(False)]
    if len(flagged):
        st.warning(f"{len(flagged)} (tokenizer, language) cells map more than 10% of the text to UNK; their premiums "
                   "are not meaningful and are marked in the table: "
                   + ", ".join(sorted({f'{r.tokenizer}/{r.lang}' for r in flagged.itertuples()})[:12])
                   + (" …" if len(flagged) > 12 else ""))
    if shown.empty:
        st.info("No language matches the filters.")
        st.stop()

    # Tabs that query the store per unit (map, units, fairness, cost) take the catalogue tokenizers; the others all.
    view = View(corpus, reference, ref_name, tuple(t for t in tokenizers if not t.startswith("yours:")) or
                tuple(tokenizers), shown, langs, names, policy, complete)
    pages = {**TABS, "Published vs ours": tab_published} if protocol == "petrov2023" else TABS
    # Lazy tabs: only the open tab is computed and sent (switching tabs reruns the page).
    tabs = st.tabs(list(pages), key="px_tab", on_change="rerun")
    for tab, draw in zip(tabs, pages.values(), strict=True):
        if tab.open:
            with tab:
                draw(view)
except AnalysisError as e:
    show_error(e)
