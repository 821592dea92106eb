"""Token Atlas dashboard entry point: `streamlit run app/streamlit_app.py`."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run` puts app/ on the path, not the checkout
    sys.path.insert(0, str(ROOT))

st.set_page_config(page_title="Token Atlas", page_icon="🗺️", layout="wide")

pages = [
    st.Page(str(Path(__file__).parent / "pages" / "playground.py"), title="Playground", icon="🔤", default=True),
    st.Page(str(Path(__file__).parent / "pages" / "catalogue.py"), title="Tokenizers", icon="📚",
            url_path="tokenizers"),
    st.Page(str(Path(__file__).parent / "pages" / "glitch.py"), title="Glitch tokens", icon="🐟", url_path="glitch"),
]
st.navigation(pages).run()
