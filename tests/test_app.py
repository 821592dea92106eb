"""AppTest: each page renders, and the Playground shows exact counts for a chosen text."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py")


@pytest.fixture(autouse=True)
def _clear_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


def test_playground_counts_exact():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    at.text_area(key="pg_text").set_value("hello world")
    at.multiselect(key="pg_tokenizers").set_value(["cl100k_base", "utf8-bytes"])
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    got = dict(zip(table["tokenizer"], table["tokens"]))
    assert got == {"cl100k_base": 2, "utf8-bytes": 11}  # [15339, 1917]; 11 UTF-8 bytes


def test_playground_escapes_html():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_area(key="pg_text").set_value("<script>alert(1)</script>")
    at.multiselect(key="pg_tokenizers").set_value(["words", "cl100k_base"])
    at.run()
    html = "".join(h.proto.body for h in at.get("html"))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_catalogue_page_lists_every_entry():
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/catalogue.py").run()
    assert not at.exception
    from analysis import load_catalogue

    assert list(at.dataframe[0].value["id"]) == load_catalogue().ids
