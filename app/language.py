"""The interface language on the page: chosen once per rerun, a sidebar picker, the URL's ``lang=``, right to left.

Which language: the link's ``?lang=`` when it names an interface language (a link opened in a running session
switches to it), else the one picked in the sidebar this session, else the browser's (``st.context.locale``),
else English. The URL carries ``lang=`` whenever it is not English or was asked for, so a copied link opens in
the same language. ``lang=`` with a corpus language code (``hin``, from older Playground links) is not an
interface language and is left to the page.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from analysis.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    current_language,
    format_frame,
    is_rtl,
    native_name,
    normalize_language,
    resolve_language,
    set_language,
)
from analysis.i18n import gettext as _
from app import keys

KEY = keys.UI_LANG  # the picker's session-state key
_SEEN = keys.UI_LANG_SEEN  # the last interface language read from the URL

#: Right to left: the main block and the sidebar flow from the right; code, token views and tables of tokens keep
#: their own direction (``dir="auto"`` in the token HTML), and Plotly charts are mirrored by :func:`mirror`.
#: The sidebar sits on the right (``row-reverse`` on the app's container). Streamlit collapses it by shrinking it to
#: width 0 *and* sliding it left by its width (``translateX``), which on the right would lay its content over the
#: page: collapsed (``data-collapsed="true"``) it is not slid, and what overflows its zero width is clipped. The
#: header flows from the right too, so the button that opens the sidebar again is at the top right; both arrows are
#: mirrored. (Checked in Chromium by tests/test_i18n_browser.py: open, collapse, open again.)
RTL_CSS = """<style>
[data-testid="stAppViewContainer"] { flex-direction: row-reverse; }
[data-testid="stSidebar"][data-collapsed="true"] { transform: none !important; overflow: hidden; }
[data-testid="stHeader"] { direction: rtl; }
[data-testid="stExpandSidebarButton"] > *, [data-testid="stSidebarCollapseButton"] button > * { transform: scaleX(-1); }
[data-testid="stMain"], [data-testid="stSidebar"], [data-testid="stSidebarNav"] { direction: rtl; }
[data-testid="stMain"] [data-testid="stMarkdownContainer"], [data-testid="stSidebar"] [data-testid="stMarkdownContainer"],
[data-testid="stMain"] h1, [data-testid="stMain"] h2, [data-testid="stMain"] h3,
[data-testid="stWidgetLabel"], [data-testid="stCaptionContainer"], [data-testid="stAlert"] { text-align: right; }
[data-testid="stMain"] code, [data-testid="stMain"] pre, [data-testid="stMain"] textarea { direction: ltr; }
</style>"""


def interface_lang_in(params: Mapping[str, str]) -> str | None:
    """The interface language a URL's parameters name (``lang=fr``), or None (none, or a corpus code)."""
    return normalize_language(params.get("lang"))


def choose_language() -> str:
    """Decide this rerun's interface language, set it for every string of the run, and draw the sidebar picker."""
    ss = st.session_state
    url_lang = interface_lang_in(st.query_params.to_dict())
    if url_lang is not None and url_lang != ss.get(_SEEN):
        ss[KEY] = url_lang  # a link that names a language wins over the picker's earlier choice
    ss[_SEEN] = url_lang
    if ss.get(KEY) not in LANGUAGES:
        ss[KEY] = resolve_language(None, st.context.locale)
    set_language(ss[KEY])
    st.sidebar.selectbox(_("Language"), LANGUAGES, key=KEY, format_func=native_name,
                         help=_("The interface language. Links you copy open in it."))
    lang = ss[KEY]
    set_language(lang)
    # Carry the language in the URL; a corpus language code in lang= (an older Playground link) is the page's.
    own = "lang" not in st.query_params or url_lang is not None
    if own and (lang != DEFAULT_LANGUAGE or url_lang is not None):
        if st.query_params.get("lang") != lang:
            st.query_params["lang"] = lang
        ss[_SEEN] = lang
    if is_rtl(lang):
        st.html(RTL_CSS)
    return lang


def with_language(link: dict[str, str]) -> dict[str, str]:
    """A page's permalink parameters plus the interface language when the URL carries it (pages that rewrite the
    whole query string call this, so the language survives)."""
    lang = current_language()
    if "lang" in link or (lang == DEFAULT_LANGUAGE and interface_lang_in(st.query_params.to_dict()) is None):
        return link
    return {**link, "lang": lang}


def page_params() -> dict[str, str]:
    """The URL's parameters without the interface language (what a page's own permalink state is read from)."""
    params = st.query_params.to_dict()
    if interface_lang_in(params) is not None:
        params.pop("lang")
    return params


def headers(labels: Mapping[str, str | tuple[str, Mapping[str, object]]], **config) -> dict:
    """A ``column_config`` that shows each column under its translated header; the frame keeps its English column
    names (which the page's code and the CSV downloads use).

    ``labels``: column -> msgid marked with ``N_``, or (template msgid, values) for a column named after a value
    (``("premium {tokenizer}", {"tokenizer": "BPE"})``: the template is translated, then filled). ``config`` gives
    columns more settings (a format, a help text); a column of ``config`` without a label keeps its own.

    >>> set_language("fr"); headers({"premium BPE": ("premium {tokenizer}", {"tokenizer": "BPE"})})["premium BPE"]["label"]
    'surcoût BPE'
    >>> set_language("en")
    """
    out = dict(config)
    for column, msgid in labels.items():
        label = _(msgid) if isinstance(msgid, str) else _(msgid[0]).format(**msgid[1])
        base = config.get(column)
        out[column] = {**base, "label": label} if base is not None else st.column_config.Column(label)
    return out


def localized_grid(rows, *, decimals: dict[str, int] | None = None, keep: tuple[str, ...] = ()):
    """A small table for ``st.dataframe`` with its numbers written for the interface language (``1 234,5`` in French,
    ``12,34,567`` in Hindi): the columns become text, so use it where a reader does not sort by them (a few rows, or a
    page that orders the rows itself). ``rows``: a frame or a list of dicts. English keeps the grid's own number
    formatting and numeric sorting (``analysis.i18n.format_frame`` does the writing)."""
    import pandas as pd

    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    if current_language() == DEFAULT_LANGUAGE:
        return frame
    return format_frame(frame, decimals=decimals, keep=keep)


def mirror(fig, *, lang: str | None = None):
    """A Plotly figure mirrored for a right-to-left interface: value axes grow leftward, the category/value axis
    labels sit on the right, the legend on the left. Unchanged for left-to-right languages. Returns ``fig``."""
    if not is_rtl(lang):
        return fig
    fig.update_xaxes(autorange="reversed")
    fig.update_yaxes(side="right")
    fig.update_layout(legend={"x": 0, "xanchor": "left"}, title={"x": 1, "xanchor": "right"})
    return fig
