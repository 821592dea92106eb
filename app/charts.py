"""The one place every page draws a chart, and the sidebar's presentation switch (issue 17).

Pages call :func:`show_chart` instead of ``st.plotly_chart``: it fills the container, uses the app's Plotly config
(PNG export, local map outlines) and, when the presentation switch is on, enlarges fonts and markers through
:func:`analysis.charts.presentation_style`. The switch lives in the sidebar of every page (the entry script calls
:func:`presentation_switch`); its state is the session-state key :data:`PRESENTATION_KEY`, and a link with
``?present=1`` turns it on when the page opens (what a teacher hands out for a projector).
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from analysis import charts
from analysis.i18n import gettext as _
from app import keys

#: Session-state key of the presentation switch (a widget key, so the toggle and the state are one).
PRESENTATION_KEY = keys.PRESENTATION
#: The query parameter that turns presentation on when a link is opened.
PRESENTATION_PARAM = "present"


def presentation_on() -> bool:
    """Whether charts are drawn for a projector in this session."""
    return bool(st.session_state.get(PRESENTATION_KEY, False))


def presentation_switch() -> None:
    """The sidebar toggle; on a session's first run a ``?present=1`` in the URL turns it on."""
    ss = st.session_state
    if PRESENTATION_KEY not in ss:
        ss[PRESENTATION_KEY] = st.query_params.get(PRESENTATION_PARAM, "0") in ("1", "true", "on")
    st.sidebar.toggle(_("Presentation"), key=PRESENTATION_KEY,
                      help=_("Large fonts and markers on every chart, for a projector. A link with ?present=1 "
                             "opens with it on."))


def show_chart(fig: go.Figure, *, key: str, where=None, mirrored: bool = False) -> None:
    """Draw ``fig`` filling its container (``where``: a column or container; the page's main area by default);
    ``mirrored``: flipped for a right-to-left interface language (:func:`app.language.mirror`) where that reads
    better (value axes growing leftward)."""
    if mirrored:
        from app.language import mirror

        fig = mirror(fig)
    if presentation_on():
        fig = charts.presentation_style(fig)
    fig.update_layout(autosize=True)
    (where or st).plotly_chart(fig, key=key, width="stretch", config=charts.IMAGE_CONFIG)
