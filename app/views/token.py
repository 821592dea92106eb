"""Token page: one token's bytes, entry, kind and script; its frequency by language; its glitch evidence; the same
bytes in other tokenizers; corpus sentences where it occurs. Opened from any token of the Playground's token view
(``token?tokenizer=ID&id=N``)."""

from __future__ import annotations

from html import escape

import pandas as pd
import streamlit as st

from analysis import AnalysisError, load_catalogue
from analysis.i18n import format_number
from analysis.i18n import gettext as _
from analysis.token_page import FREQUENCY_HEADERS, same_bytes_in, token_facts
from app import keys, state
from app.language import headers, localized_grid, page_params, with_language
from app.state import DEFAULT_TOKENIZERS, show_error

catalogue = load_catalogue()
ids = catalogue.ids
ss = st.session_state

params = page_params()  # without the interface language (lang=fr), which the app keeps in the URL
if keys.TK_INIT not in ss or (params and params != ss.get(keys.TK_LAST_QUERY)):
    ss[keys.TK_INIT] = True
    tid = params.get("tokenizer", "o200k_base")
    if tid not in ids:
        st.warning(_("The link names tokenizer {id}, which is not in the catalogue; showing o200k_base. Token pages "
                     "exist for catalogue tokenizers only.").format(id=repr(tid)))
        tid = "o200k_base"
    ss[keys.TK_TOKENIZER] = tid
    try:
        ss[keys.TK_ID] = int(params.get("id", "290"))
    except ValueError:
        ss[keys.TK_ID] = -1
    if ss[keys.TK_ID] < 0:
        st.warning(_("The link's id {id} is not a whole number 0 or above; showing id 0.").format(
            id=repr(params.get("id"))))
        ss[keys.TK_ID] = 0

st.title(_("Token"))
c = st.columns([2, 1])
tid = c[0].selectbox(_("Tokenizer"), ids, key=keys.TK_TOKENIZER)
token_id = int(c[1].number_input(_("Token id"), min_value=0, step=1, key=keys.TK_ID))
link = with_language({"tokenizer": tid, "id": str(token_id)})
if params != link:
    st.query_params.from_dict(link)
ss[keys.TK_LAST_QUERY] = link

try:
    facts = token_facts(tid, token_id)
except AnalysisError as e:
    show_error(e)
    st.stop()

st.subheader(_("{text} · id {id} of {tokenizer}").format(text=repr(facts.text), id=format_number(token_id),
                                                         tokenizer=tid))
st.table(pd.DataFrame([{_("bytes (hex)"): facts.token_bytes.hex(" ") or "—", _("as text"): facts.text,
                        _("vocabulary entry"): facts.entry, _("kind"): facts.kind, _("script"): facts.script}]),
         hide_index=True)

try:
    state.meta()
    have_store = True
except AnalysisError as e:
    have_store = False
    st.info(_("No statistics database to read frequencies, glitch evidence and examples from: {why}").format(
        why=e.translated()))

if have_store:
    st.markdown(_("#### Glitch-token evidence"))
    evidence = state.glitch_evidence(tid, token_id)
    if not evidence.scanned:
        st.caption(_("This database has no glitch-token checks of {tokenizer} (build it with token checks).").format(
            tokenizer=tid))
    elif evidence.categories or evidence.verifications:
        st.markdown("\n".join(f"- {c}" for c in evidence.categories if c != "under-trained (verified)"))
        st.markdown("\n".join(f"- {v}" for v in evidence.verifications))
    else:
        st.caption(_("No glitch category and no verification."))

    st.markdown(_("#### Frequency by language in this database's corpora"))
    freq = state.frequency_by_language(tid, token_id)
    if len(freq):
        st.caption(_("{n} occurrences in {pairs} (corpus, language) pairs.").format(
            n=format_number(int(freq["n"].sum())), pairs=format_number(len(freq))))
        st.dataframe(localized_grid(freq, keep=("share",)), hide_index=True, key="tk_freq",
                     column_config=headers(FREQUENCY_HEADERS, share=st.column_config.ProgressColumn(
                         format="percent", min_value=0, max_value=1)))
    else:
        st.caption(_("Never occurs in the counted corpora (or this tokenizer's frequencies were not counted)."))

    st.markdown(_("#### Where it occurs (UDHR)"))
    examples = state.example_units(tid, token_id)
    for ex in examples:
        st.html(f'<p dir="auto"><b>{escape(str(ex.name))}</b> ({escape(str(ex.lang))}, {escape(str(ex.unit))}): '
                f'{ex.html()}</p>')
    if not examples:
        st.caption(_("No UDHR sentence in this database contains it."))

st.markdown(_("#### The same bytes in other tokenizers"))
others = st.multiselect(_("Tokenizers to compare"), [t for t in ids if t != tid], key="tk_others",
                        placeholder=_("Choose options"),
                        default=[t for t in DEFAULT_TOKENIZERS if t != tid and t in ids])
rows = []
try:
    for e in same_bytes_in(facts.token_bytes, others):
        rows.append({_("tokenizer"): e.tokenizer_id, _("single token"): _("yes") if e.single else _("no"),
                     _("id there"): ", ".join(str(i) for i in e.ids) or "—",
                     _("tokens as text"): e.n_tokens if e.n_tokens is not None else None})
except AnalysisError as e:
    show_error(e)
st.table(pd.DataFrame(rows, columns=[_("tokenizer"), _("single token"), _("id there"), _("tokens as text")]),
         hide_index=True)
st.caption(_("Single token: an ordinary (not special) vocabulary entry with exactly these bytes. Tokens as text: how "
           "many tokens the bytes take when they are a text of their own (— where they are not valid UTF-8)."))
