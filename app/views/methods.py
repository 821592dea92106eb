"""Methods: how every number is counted, where the data comes from, and the papers behind the metrics."""

from __future__ import annotations

import streamlit as st

from analysis import AnalysisError
from analysis.downloads import to_csv_bytes
from analysis.i18n import current_language
from analysis.i18n import gettext as _
from analysis.i18n_methods import counting_policy_text, localized_intro, localized_sections
from analysis.methods import (
    SOURCE_HEADERS,
    build_settings,
    counting_policy,
    data_sources,
    papers,
    papers_for,
)
from app.language import headers
from app.state import show_error, store

st.title(_("Methods"))
if current_language() != "en":
    st.caption(_("The papers' abstracts are quoted in English, as published; formulas keep their notation."))
st.markdown(localized_intro())

all_papers = papers()
number = {p.title: n for n, p in enumerate(all_papers, 1)}
sections = localized_sections()

st.header(_("Counting policy"))
try:
    con = store()
    policy = counting_policy(con)
    settings = build_settings(con)
    sources = data_sources(con)
except AnalysisError as e:
    show_error(e)
    policy = settings = sources = None
if policy is not None:
    st.info(_("**As recorded in this database:** {policy}.").format(policy=counting_policy_text(policy)))
    shown = settings[settings["key"] != "counting_policy"]  # the policy is in full just above
    shown = shown.assign(setting=shown["setting"].map(_))  # the labels are msgids (N_ in analysis.methods)
    st.dataframe(shown[["setting", "value"]], hide_index=True, key="methods_settings", height="content",
                 column_config={"setting": st.column_config.TextColumn(_("setting")),
                                "value": st.column_config.TextColumn(_("value"))})
for section in sections:
    if section.anchor == "counting-policy":
        st.markdown(section.markdown)

st.header(_("Metric definitions"))
for section in sections:
    if section.anchor == "counting-policy":
        continue
    st.subheader(section.title, anchor=section.anchor)
    st.markdown(section.markdown)
    cited = papers_for(section.english)
    if cited:
        st.caption(_("Draws on:") + " " + "; ".join(f"[{number[p.title]}] *{p.title}*" for p in cited))

st.header(_("Data sources"))
if sources is not None:
    st.caption(_("Every vocabulary and corpus the numbers in this database were computed from, with the package "
               "version and the sha256 of the file that was counted."))
    st.dataframe(sources, hide_index=True, key="methods_sources", column_config=headers(SOURCE_HEADERS))
    st.download_button(_("Data sources as CSV"), lambda: to_csv_bytes(sources), file_name="data_sources.csv",
                       mime="text/csv", key="methods_sources_csv", on_click="ignore")
    stale = sources[sources["catalogue_sha256_matches"] == False]  # noqa: E712 (None = not applicable)
    if len(stale):
        st.warning(_("The catalogue now lists other files for: {ids}. Rebuild the database with `python -m analysis "
                     "build --rebuild` to count with them.").format(ids=", ".join(stale["id"])))

st.header(_("Papers"))
for n, paper in enumerate(all_papers, 1):
    with st.expander(f"[{n}] {paper.title}"):  # i18n-exempt: a paper's own title
        st.markdown(paper.abstract)
