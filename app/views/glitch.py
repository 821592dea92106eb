"""Glitch tokens: tokenizer checks per vocabulary, and weight indicators and verdicts per scanned model."""

from __future__ import annotations

import html

import streamlit as st

from analysis import AnalysisError, load_catalogue
from analysis.glitch import CATEGORY_NAMES, LEGEND
from analysis.glitch import published as gpub
from analysis.glitch.charts import indicator_histogram
from analysis.glitch.headers import (
    CANDIDATE_HEADERS,
    CATEGORY_LABELS,
    COUNTS_HEADERS,
    MODEL_HEADERS,
    PUBLISHED_MODEL_HEADERS,
    PUBLISHED_SUMMARY_HEADERS,
    PUBLISHED_TOKEN_HEADERS,
    TOKEN_HEADERS,
)
from analysis.i18n import N_, format_number
from analysis.i18n import gettext as _
from app import state
from app.charts import show_chart
from app.language import headers, localized_grid
from app.state import show_error

MAX_ROWS = 5000
#: The agreement table's headers (its rows are built below; "Jaccard" is a name and stays as it is).
AGREEMENT_HEADERS = {"published": N_("published"), "published verified": N_("published verified"),
                     "ours verified": N_("ours verified"), "both": N_("both"), "ids ranked by both": N_("ids ranked by both"),
                     "Spearman": N_("Spearman (indicator vs our score)")}


st.title(_("Glitch tokens"))
st.caption(_("Under-trained (\"glitch\") tokens, found as in Land & Bartolo, *Fishing for Magikarp*: tokenizer checks "
           "for every vocabulary, the published verifications of 13 open models, and weight indicators and prompt "
           "verification for models scanned with `python -m analysis glitch indicators` / `verify`."))
try:
    counts = state.glitch_counts()
    notes = state.glitch_scans()
except AnalysisError as e:
    show_error(e)
    st.stop()

with st.expander(_("What the categories mean"), expanded=False):
    # The translated name, and the name the table's `category` cells and the command line use.
    st.html("<dl>" + "".join(f"<dt><b>{html.escape(_(CATEGORY_LABELS[n]))}</b>"
                             + (f" (<code>{html.escape(n)}</code>)" if _(CATEGORY_LABELS[n]) != n else "")
                             + f"</dt><dd>{html.escape(_(d))}</dd>" for n, d in LEGEND) + "</dl>")

st.subheader(_("Tokenizer checks"))
st.dataframe(localized_grid(counts), hide_index=True, key="gl_counts", column_config=headers(COUNTS_HEADERS))
skipped = notes[notes["note"].notna()]
for row in skipped.itertuples():
    st.caption(_("`{tokenizer}` not scanned: {note}").format(tokenizer=row.tokenizer, note=row.note))  # markdown, no HTML

tokenizers = counts["tokenizer"].tolist()
if not tokenizers:
    st.info(_("No vocabulary has been scanned yet. Run `python -m analysis build`."))
    st.stop()
default = tokenizers.index("o200k_base") if "o200k_base" in tokenizers else 0
tid = st.selectbox(_("Tokenizer"), tokenizers, index=default, key="gl_tokenizer")
c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
categories = c1.multiselect(_("In all of these categories"), CATEGORY_NAMES, key="gl_categories",
                            format_func=lambda n: _(CATEGORY_LABELS[n]), placeholder=_("Choose options"))
scripts = state.glitch_scripts(tid)
script_label = {f"{s} ({n:,})": s for s, n in scripts}
script_choice = c2.selectbox(_("Script"), ["any", *script_label], key="gl_script",
                             format_func=lambda s: _("any") if s == "any" else s)
search = c3.text_input(_("Token contains"), key="gl_search", max_chars=200)
max_total = c4.number_input(_("Occurrences in this database's corpora, at most"), min_value=0, value=None, step=1,
                            key="gl_max_total", help=_("How often the token occurs when the database's corpora are "
                            "tokenized: information about these corpora (a few MB), not evidence of a glitch token."))
try:
    table = state.glitch_tokens(tid, categories=tuple(categories), script=script_label.get(script_choice), search=search,
                               max_total=None if max_total is None else int(max_total))
except AnalysisError as e:
    show_error(e)
    st.stop()
st.caption(_("{n} token id(s) match").format(n=format_number(len(table)))
           + ("; " + _("the first {n} are shown").format(n=format_number(MAX_ROWS)) if len(table) > MAX_ROWS else "")
           + ". " + _("**{total}**: occurrences in this database's corpora (not a glitch category); **{top}**: the "
                      "languages where they occur most.").format(total=_(TOKEN_HEADERS["total"]),
                                                                 top=_(TOKEN_HEADERS["top_langs"])))
st.dataframe(table.drop(columns=["flags"]).head(MAX_ROWS), hide_index=True, key="gl_table", column_config=headers(
    TOKEN_HEADERS, token=st.column_config.TextColumn(help=_("bytes that are not valid UTF-8 on their own are written "
                                                            "<0xNN>"))))

st.subheader(_("Published verifications"))
pub_models = state.published_models()
if pub_models.empty:
    st.info(_("This database has no published verifications yet; `python -m analysis build` loads them."))
else:
    st.caption(_("The under-trained token tables of {n} open models' reports ({citation}; repository {repository}). "
                 "*Verified*: the model's largest probability of repeating the token was below {threshold}. Every row "
                 "is checked against our vocabulary: the id's entry must be the report's token; only matching rows "
                 "flag tokens in the Playground.").format(n=format_number(len(pub_models)), citation=gpub.CITATION,
                                                          repository=gpub.REPOSITORY, threshold=gpub.VERIFY_THRESHOLD))
    st.dataframe(pub_models[["name", "tokenizer", "n_rows", "n_verified", "n_match", "n_mismatch", "n_unchecked",
                             "indicator_name", "tested", "below_p001", "source_path", "commit"]],
                 hide_index=True, key="gl_pub_models", column_config=headers(PUBLISHED_MODEL_HEADERS))
    differ = pub_models[pub_models["n_mismatch"] > 0]
    st.caption(_("Rows that differ from our vocabulary: {list}.").format(list="; ".join(
        _("{name}: {n} of {total}").format(name=r.name, n=format_number(r.n_mismatch), total=format_number(r.n_rows))
        for r in differ.itertuples()) or _("none")))
    unchecked = pub_models[pub_models["n_unchecked"] > 0]
    if not unchecked.empty:
        known = set(load_catalogue().ids)
        st.caption(_("Not checked here: {list}.").format(list="; ".join(
            (_("{name} (`{tokenizer}` is not in this database: build with it to check its rows)") if r.tokenizer in known
             else _("{name} (`{tokenizer}` is not in the catalogue yet)")).format(name=r.name, tokenizer=r.tokenizer)
            for r in unchecked.itertuples())))
    names = dict(zip(pub_models["model"], pub_models["name"] + " (" + pub_models["tokenizer"] + ")"))
    checked = pub_models.loc[pub_models["n_match"] > 0, "model"].tolist()
    first = "meta_llama_Meta_Llama_3_8B" if "meta_llama_Meta_Llama_3_8B" in checked else (checked or list(names))[0]
    pmodel = st.selectbox(_("Published report"), list(names), index=list(names).index(first), format_func=names.get,
                          key="gl_pub_model")
    prow = pub_models.set_index("model").loc[pmodel]
    st.markdown(_("Source: `{path}` at commit `{commit}` · indicator: {indicator} · {tested} tokens tested, {below} "
                  "below p = 0.01, {rows} in the table (below the soft threshold {soft}).").format(
        path=prow["source_path"], commit=prow["commit"], indicator=prow["indicator_name"],
        tested=format_number(int(prow["tested"])), below=format_number(int(prow["below_p001"])),
        rows=format_number(int(prow["n_rows"])), soft=f"{prow['soft_threshold']:g}"))
    if int(prow["below_p001"]) == 0:
        every = state.published_tokens(pmodel, search="", verified_only=False)
        listed = ", ".join(sorted({f"{x:g}" for x in every["max_prob"]}))
        st.warning(_("This report's verification found no token below p = 0.01 (every listed max_prob is {values}): its "
                     "rows are candidates ranked by the indicator, not verified under-trained tokens, and flag "
                     "nothing.").format(values=listed))
    summary = state.published_summary(pmodel)
    st.dataframe(localized_grid([summary]), hide_index=True, key="gl_pub_summary",
                 column_config=headers(PUBLISHED_SUMMARY_HEADERS))
    st.caption(_("The report's rows that match our vocabulary, by our tokenizer checks: how many of its under-trained "
               "tokens the checks alone would have found (most are ordinary, reachable tokens), and how many occur "
               "nowhere in this database's corpora."))
    p1, p2 = st.columns([3, 1])
    psearch = p1.text_input(_("Token or id contains"), key="gl_pub_search", max_chars=200)
    verified_only = p2.toggle(_("Verified only"), key="gl_pub_verified")
    pub_rows = state.published_tokens(pmodel, search=psearch, verified_only=verified_only)
    st.dataframe(pub_rows, hide_index=True, key="gl_pub_tokens", column_config=headers(  # max_prob: the report's name
        PUBLISHED_TOKEN_HEADERS, token=st.column_config.TextColumn(help=_("▁ is a space; escapes as the report prints "
                                                                          "them")),
        vocab_entry=st.column_config.TextColumn(), indicator=st.column_config.NumberColumn(format="scientific"),
        max_prob=st.column_config.NumberColumn(format="scientific")))

st.subheader(_("Models"))
model_rows = state.scanned_models()
if model_rows.empty:
    st.info(_("No model has been scanned into this database. Weight indicators: `python -m analysis glitch indicators "
            "--model PATH_OR_ID`; verification of the candidates: `python -m analysis glitch verify --model ...`."))
    st.stop()
st.dataframe(localized_grid(model_rows), hide_index=True, key="gl_models", column_config=headers(MODEL_HEADERS))
model = st.selectbox(_("Model"), model_rows["model"].tolist(), key="gl_model")
info = model_rows.set_index("model").loc[model]
scores, cands = state.model_indicators(model)
show_chart(indicator_histogram(scores, threshold=float(info["threshold"]),
                               title=_("{indicator} — candidates at or below the {p}th percentile of reachable "
                                       "tokens").format(indicator=info["indicator"],
                                                        p=f"{float(info['percentile']):g}")),
           key="gl_hist", mirrored=True)
verified = int(cands["max_prob"].notna().sum())
st.caption(_("{n} candidate(s); {verified} verified by prompting, {under} of them under-trained (probability of "
             "repeating the token below the threshold).").format(
    n=format_number(len(cands)), verified=format_number(verified),
    under=format_number(int(cands["under_trained"].fillna(False).astype(bool).sum()))))
st.dataframe(localized_grid(cands), hide_index=True, key="gl_candidates", column_config=headers(CANDIDATE_HEADERS))
same = pub_models[pub_models["tokenizer"] == info["tokenizer"]] if not pub_models.empty else pub_models
if not same.empty:
    st.markdown(_("**Agreement with the published reports of models with the same vocabulary**"))
    rows = []
    for r in same.itertuples():
        a = state.published_agreement(r.model, model)
        rows.append({"published": r.name, "published verified": a.published_verified,
                     "ours verified": a.ours_verified, "both": a.both_verified, "Jaccard": a.jaccard,
                     "ids ranked by both": a.common_ranked, "Spearman": a.spearman})
    st.dataframe(localized_grid(rows, decimals={"Jaccard": 3}), hide_index=True, key="gl_agreement",
                 column_config=headers(AGREEMENT_HEADERS))
