"""Playground: paste text, see it tokenized by several tokenizers side by side."""

from __future__ import annotations

import streamlit as st

from analysis import AnalysisError, load_catalogue
from analysis.render import CSS, tokens_html
from app.state import catalogue_ids, show_error, tokenizer

DEFAULT_TOKENIZERS = ["o200k_base", "llama3", "gemma3", "qwen3", "mistral-tekken", "bert-uncased"]
DEFAULT_TEXT = "Every human being is born free. सभी मनुष्य जन्म से स्वतंत्र हैं। 人人生而自由。 ሰው ሁሉ ሲወለድ ነጻ ነው።"
MAX_CHARS = 200_000

st.title("Playground")
text = st.text_area("Text", value=DEFAULT_TEXT, height=140, key="pg_text", max_chars=MAX_CHARS)
ids = catalogue_ids()
chosen = st.multiselect("Tokenizers", ids, default=[i for i in DEFAULT_TOKENIZERS if i in ids], key="pg_tokenizers")
show_ws = st.toggle("Show spaces, tabs and newlines", value=False, key="pg_ws")

st.html(f"<style>{CSS}</style>")
catalogue = load_catalogue()
rows = []
for tid in chosen:
    try:
        enc = tokenizer(tid).encode(text)
    except AnalysisError as e:
        show_error(e)
        continue
    entry = catalogue.tokenizer(tid)
    kinds = enc.kind_counts()
    n = enc.count
    rows.append({
        "tokenizer": tid,
        "tokens": n,
        "chars/token": round(len(text) / n, 2) if n else None,
        "bytes/token": round(len(text.encode()) / n, 2) if n else None,
        "% of context": round(100 * n / entry.context_window, 3) if entry.context_window else None,
        "unknown": kinds["unknown"],
        "byte fallback": kinds["byte_fallback"],
    })
    with st.container(border=True):
        st.markdown(f"**{entry.name}** · `{tid}` · {n} tokens")
        st.html(tokens_html(enc, show_whitespace=show_ws))
if rows:
    st.dataframe(rows, hide_index=True, key="pg_summary")
