"""SQL console: read-only SQL over the statistics store, for researchers and workshop exercises."""

from __future__ import annotations

import streamlit as st

from analysis import AnalysisError
from analysis.downloads import to_csv_bytes, to_parquet_bytes
from analysis.i18n import N_, format_number, ngettext
from analysis.i18n import gettext as _
from analysis.sql_console import (
    COLUMN_HEADERS,
    DEFAULT_ROWS,
    DEFAULT_TIMEOUT_S,
    EXAMPLES,
    MAX_ROWS,
    SCHEMA_HEADERS,
    display_frame,
)
from app import keys, state
from app.language import headers
from app.state import show_error

EXAMPLE_SQL = dict(EXAMPLES)
CHOOSE = N_("— choose an example —")


def use_example() -> None:
    chosen = st.session_state.get(keys.SQL_EXAMPLE)
    if chosen in EXAMPLE_SQL:
        st.session_state[keys.SQL_TEXT] = EXAMPLE_SQL[chosen]


st.title(_("SQL console"))
st.caption(_("Read-only SQL (DuckDB) over the statistics database. One SELECT at a time; no writes, no settings, no "
             "file or network access. At most {rows} rows come back; a query stops after {seconds} s.").format(
    rows=format_number(MAX_ROWS), seconds=format_number(DEFAULT_TIMEOUT_S)))
try:
    tables, columns = state.console_schema()
except AnalysisError as e:
    show_error(e)
    st.stop()

left, right = st.columns([1, 2], gap="large")
with left:
    st.subheader(_("Schema"))
    st.dataframe(tables[["name", "kind", "rows", "columns"]], hide_index=True, key="sql_schema", height="content",
                 column_config=headers(SCHEMA_HEADERS, rows=st.column_config.NumberColumn(
                     help=_("exact for tables; views are computed when queried"), format="%d")))
    for name, description in zip(tables["name"], tables["description"]):
        with st.expander(f"`{name}`"):  # i18n-exempt: a table's name
            if description:
                st.caption(description)
            st.dataframe(columns[name], hide_index=True, key=f"sql_columns_{name}",
                         column_config=headers(COLUMN_HEADERS))

with right:
    st.selectbox(_("Example queries"), [CHOOSE, *EXAMPLE_SQL], key=keys.SQL_EXAMPLE, on_change=use_example,
                 format_func=_)  # the example names are msgids (N_ in analysis.sql_console)
    if keys.SQL_TEXT not in st.session_state:
        st.session_state[keys.SQL_TEXT] = EXAMPLES[0][1]
    sql = st.text_area(_("SQL"), height=200, key=keys.SQL_TEXT)
    c1, c2 = st.columns([1, 3])
    max_rows = int(c1.number_input(_("Row cap"), min_value=1, max_value=MAX_ROWS, value=DEFAULT_ROWS, step=100,
                                   key="sql_max_rows"))
    c2.write("")
    if c2.button(_("Run"), type="primary", key="sql_run"):
        st.session_state[keys.SQL_SUBMITTED] = sql

submitted = st.session_state.get(keys.SQL_SUBMITTED)
if submitted:
    st.subheader(_("Result"))
    try:
        result = state.console_run(submitted, max_rows=max_rows)
    except AnalysisError as e:
        show_error(e)
        st.stop()
    n = len(result.frame)
    more = (" — " + _("capped at {cap}; there are more (raise the cap or add a LIMIT)").format(
        cap=format_number(result.max_rows)) if result.truncated and not result.stopped else "")
    st.caption(ngettext("{n} row in {ms} ms", "{n} rows in {ms} ms", n).format(
        n=format_number(n), ms=format_number(round(result.seconds * 1000))) + more + ".")
    if result.stopped:
        st.warning(_("**Result cut: size limit**") + f"\n\n{result.stopped}")
    shown, cut = display_frame(result.frame)
    if cut:
        st.info(_("{n} long cell(s) are cut for display; the CSV and Parquet downloads hold them whole.").format(
            n=format_number(cut)))
    st.dataframe(shown, hide_index=True, key="sql_result")
    d1, d2, _pad = st.columns([1, 1, 3])
    d1.download_button(_("CSV"), lambda: to_csv_bytes(result.frame), file_name="query.csv", mime="text/csv",
                       key="sql_csv", on_click="ignore")
    d2.download_button(_("Parquet"), lambda: to_parquet_bytes(result.frame), file_name="query.parquet",
                       mime="application/vnd.apache.parquet", key="sql_parquet", on_click="ignore")
