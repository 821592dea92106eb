"""What the AppTest files share: the app's entry script, and Streamlit caches emptied between tests (each test's
app must load the database it was pointed at, not one a previous test cached)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

APP = str(Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py")


def clear_app_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()
