"""Token Atlas dashboard entry point: `streamlit run app/streamlit_app.py`."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run` puts app/ on the path, not the checkout
    sys.path.insert(0, str(ROOT))

from analysis.i18n import gettext as _  # noqa: E402
from app import wire  # noqa: E402  (needs the checkout on the path)
from app.charts import presentation_switch  # noqa: E402
from app.language import choose_language  # noqa: E402
from app.state import provide_static_files, show_unexpected, sweep_leftovers  # noqa: E402

st.set_page_config(page_title="Token Atlas", page_icon="🗺️", layout="wide")
wire.install()  # a lone surrogate typed in the browser arrives as U+FFFD instead of dropping the connection
sweep_leftovers()
provide_static_files()
choose_language()  # once per rerun, before any string is drawn: the pages, their titles and the navigation
presentation_switch()  # sidebar: large fonts and markers on every chart (app/charts.py)

# The pages live in app/views/, not app/pages/: Streamlit would treat a pages/ folder as old-style pages and
# serve them without this entry point (no navigation, no page config) when a URL names one directly.
VIEWS = Path(__file__).parent / "views"
pages = [
    st.Page(str(VIEWS / "playground.py"), title=_("Playground"), icon="🔤", default=True),
    st.Page(str(VIEWS / "premiums.py"), title=_("Premium explorer"), icon="🌍", url_path="premiums"),
    st.Page(str(VIEWS / "vocab.py"), title=_("Vocabularies"), icon="🧮", url_path="vocabulary"),
    st.Page(str(VIEWS / "glitch.py"), title=_("Glitch tokens"), icon="👾", url_path="glitch"),
    st.Page(str(VIEWS / "lab.py"), title=_("Tokenizer lab"), icon="🧪", url_path="lab"),
    st.Page(str(VIEWS / "import_corpus.py"), title=_("Import a corpus"), icon="📥", url_path="import"),
    st.Page(str(VIEWS / "sql_console.py"), title=_("SQL console"), icon="🗄️", url_path="sql"),
    st.Page(str(VIEWS / "methods.py"), title=_("Methods"), icon="📐", url_path="methods"),
    st.Page(str(VIEWS / "catalogue.py"), title=_("Tokenizers"), icon="📚", url_path="tokenizers"),
    st.Page(str(VIEWS / "token.py"), title=_("Token"), icon="🔎", url_path="token"),
]
try:
    st.navigation(pages).run()
except Exception as e:  # every page's boundary: a message, never a stack trace
    show_unexpected(e)
