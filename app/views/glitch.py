"""Glitch tokens: tokenizer checks per vocabulary, and weight indicators and verdicts per scanned model."""

from __future__ import annotations

import html
import os

import streamlit as st

from analysis import AnalysisError
from analysis.glitch import CATEGORY_NAMES, LEGEND, RARE_MAX_COUNT
from analysis.glitch import store as gstore
from analysis.glitch.charts import indicator_histogram
from app.state import db_path, show_error, store

MAX_ROWS = 5000


def _version() -> tuple[str, int, int]:
    """Cache key of the database file now in place (a rebuild swaps in a new file)."""
    path = db_path()
    try:
        s = os.stat(path)
        return str(path), s.st_mtime_ns, s.st_size
    except FileNotFoundError:
        return str(path), 0, 0


@st.cache_data(show_spinner=False, max_entries=64)
def _counts(version: tuple) -> object:
    return gstore.category_counts(store())


@st.cache_data(show_spinner=False, max_entries=64)
def _notes(version: tuple) -> object:
    return gstore.scanned_tokenizers(store())


@st.cache_data(show_spinner=False, max_entries=64)
def _scripts(version: tuple, tokenizer: str) -> list:
    return gstore.scripts_of(store(), tokenizer)


@st.cache_data(show_spinner=False, max_entries=64)
def _table(version: tuple, tokenizer: str, categories: tuple, script: str | None, search: str, max_total: int | None):
    return gstore.token_table(store(), tokenizer, categories=categories, script=script, search=search or None,
                              max_total=max_total)


@st.cache_data(show_spinner=False, max_entries=16)
def _models(version: tuple) -> object:
    return gstore.models(store())


@st.cache_data(show_spinner=False, max_entries=16)
def _model(version: tuple, model: str) -> tuple:
    con = store()
    return gstore.model_scores(con, model), gstore.model_candidates(con, model)


st.title("Glitch tokens")
st.caption("Under-trained (\"glitch\") tokens, found as in Land & Bartolo, *Fishing for Magikarp*: tokenizer checks "
           "for every vocabulary, weight indicators and prompt verification for models scanned with "
           "`python -m analysis glitch indicators` / `verify`.")
version = _version()
try:
    counts = _counts(version)
    notes = _notes(version)
except AnalysisError as e:
    show_error(e)
    st.stop()

with st.expander("What the categories mean", expanded=False):
    st.html("<dl>" + "".join(f"<dt><b>{html.escape(n)}</b></dt><dd>{html.escape(d)}</dd>" for n, d in LEGEND) + "</dl>")

st.subheader("Tokenizer checks")
st.dataframe(counts, hide_index=True, key="gl_counts")
skipped = notes[notes["note"].notna()]
for row in skipped.itertuples():
    st.caption(f"`{row.tokenizer}` not scanned: {row.note}")  # markdown: raw HTML is never rendered here

tokenizers = counts["tokenizer"].tolist()
if not tokenizers:
    st.info("No vocabulary has been scanned yet. Run `python -m analysis build`.")
    st.stop()
default = tokenizers.index("o200k_base") if "o200k_base" in tokenizers else 0
tid = st.selectbox("Tokenizer", tokenizers, index=default, key="gl_tokenizer")
c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
categories = c1.multiselect("In all of these categories", CATEGORY_NAMES, key="gl_categories")
scripts = _scripts(version, tid)
script_label = {f"{s} ({n:,})": s for s, n in scripts}
script_choice = c2.selectbox("Script", ["any", *script_label], key="gl_script")
search = c3.text_input("Token contains", key="gl_search", max_chars=200)
max_total = c4.number_input(f"Seen at most (times; rare = 1..{RARE_MAX_COUNT})", min_value=0, value=None, step=1,
                            key="gl_max_total")
try:
    table = _table(version, tid, tuple(categories), script_label.get(script_choice), search,
                   None if max_total is None else int(max_total))
except AnalysisError as e:
    show_error(e)
    st.stop()
st.caption(f"{len(table):,} token id(s) match" + (f"; the first {MAX_ROWS:,} are shown" if len(table) > MAX_ROWS else "")
           + ". `total`: occurrences in all corpora of the database; `top_langs`: where they occur most.")
st.dataframe(table.drop(columns=["flags"]).head(MAX_ROWS), hide_index=True, key="gl_table",
             column_config={"token": st.column_config.TextColumn("token", help="bytes that are not valid UTF-8 "
                                                                  "on their own are written <0xNN>")})

st.subheader("Models")
model_rows = _models(version)
if model_rows.empty:
    st.info("No model has been scanned into this database. Weight indicators: `python -m analysis glitch indicators "
            "--model PATH_OR_ID`; verification of the candidates: `python -m analysis glitch verify --model ...`.")
    st.stop()
st.dataframe(model_rows, hide_index=True, key="gl_models")
model = st.selectbox("Model", model_rows["model"].tolist(), key="gl_model")
info = model_rows.set_index("model").loc[model]
scores, cands = _model(version, model)
st.plotly_chart(indicator_histogram(scores, threshold=float(info["threshold"]),
                                    title=f"{info['indicator']} — candidates at or below the "
                                          f"{float(info['percentile']):g}th percentile of reachable tokens"),
                key="gl_hist")
verified = int(cands["max_prob"].notna().sum())
st.caption(f"{len(cands):,} candidate(s); {verified:,} verified by prompting, "
           f"{int(cands['under_trained'].fillna(False).astype(bool).sum()):,} of them under-trained "
           "(probability of repeating the token below the threshold).")
st.dataframe(cands, hide_index=True, key="gl_candidates")
