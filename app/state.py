"""Shared, cached resources for the pages (the only place Streamlit caching lives)."""

from __future__ import annotations

import streamlit as st

from analysis import Tokenizer, get_tokenizer, load_catalogue


@st.cache_resource(show_spinner="Loading tokenizer…")
def tokenizer(tokenizer_id: str) -> Tokenizer:
    """One loaded tokenizer per server process, shared by every session."""
    return get_tokenizer(tokenizer_id)


def catalogue_ids() -> list[str]:
    return load_catalogue().ids


def show_error(e: Exception) -> None:
    """An AnalysisError as title + message, never a stack trace."""
    title = getattr(e, "title", "Error")
    st.error(f"**{title}**\n\n{getattr(e, 'message', str(e))}")
