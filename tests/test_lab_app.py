"""AppTest: the Tokenizer lab page renders, trains, compares, registers its files, and escapes the sample text."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis import get_tokenizer
from analysis.lab.compare import compare_specs
from analysis.lab.data import load_lab_data
from app.state import LAB_TOKENIZERS
from tests.app_harness import APP, clear_app_caches


@pytest.fixture(autouse=True)
def _clear_caches():
    clear_app_caches()
    yield


def _frame(at: AppTest, first_column: str, k: int = 0):
    """The k-th dataframe whose first column is ``first_column`` (AppTest does not look dataframes up by key)."""
    return [d.value for d in at.dataframe if list(d.value.columns)[:1] == [first_column]][k]


def _lab() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("views/lab.py").run()
    assert not at.exception
    return at


def test_lab_page_renders_its_controls():
    at = _lab()
    assert at.title[0].value == "Tokenizer lab"
    assert at.multiselect(key="lab_langs").value == ["eng", "fra", "hin", "arb", "cmn_hans", "amh", "rus", "tha"]
    assert at.selectbox(key="lab_algorithm").value == "parity-bpe"
    assert at.number_input(key="lab_vocab").value == 2000
    assert "up to 12 languages, 16,000 vocabulary entries" in at.caption[0].value
    assert not at.dataframe  # nothing trained yet


def test_training_compares_registers_and_steps_through():
    at = _lab()
    at.multiselect(key="lab_langs").set_value(["eng", "hin", "tha"])
    at.number_input(key="lab_vocab").set_value(600)
    at.button(key="lab_train").click().run()
    assert not at.exception and not at.error
    registry = at.session_state[LAB_TOKENIZERS]
    assert len(registry) == 2
    specs = list(registry.values())
    assert all(s.startswith("file:/") and s.endswith("/tokenizer.json") for s in specs)
    assert sorted(Path(s[5:]).parent.name for s in specs) == ["bpe", "parity-bpe"]
    # The page shows exactly what the library computes for the same choices.
    data = load_lab_data("udhr", ["eng", "hin", "tha"])
    by_alg = {Path(s[5:]).parent.name: s for s in specs}
    expect = compare_specs({"Parity-aware BPE": by_alg["parity-bpe"], "BPE": by_alg["bpe"]}, data)
    summary = _frame(at, "tokenizer")
    assert list(summary["tokenizer"]) == ["Parity-aware BPE", "BPE"]
    assert list(summary["vocab size"]) == [600, 600]
    assert list(summary["worst premium"]) == [r.fairness.max for r in expect.reports]
    table = _frame(at, "lang")
    assert list(table["lang"]) == ["eng", "hin", "tha"]
    assert len(at.get("plotly_chart")) == 3
    # Step-through of both BPE runs on the sample sentence (the baseline's worst language by default).
    assert at.selectbox(key="lab_sample_lang").value == expect.reports[1].fairness.argmax
    steps = _frame(at, "merge #", 0)
    ranks = list(steps["merge #"])
    assert len(ranks) == 25 and ranks == sorted(set(ranks)) and ranks[0] >= 1
    assert set(steps["for"]) <= {"eng", "hin", "tha"}
    assert set(_frame(at, "merge #", 1)["for"]) == {"all"}
    # Both trained files are offered for download and load through the catalogue interface.
    assert get_tokenizer(by_alg["parity-bpe"]).vocab_size == 600


def test_sample_sentence_is_escaped_and_a_bad_choice_shows_an_error():
    at = _lab()
    at.multiselect(key="lab_langs").set_value(["eng", "fra"])
    at.number_input(key="lab_vocab").set_value(400)
    at.selectbox(key="lab_algorithm").set_value("bpe")
    at.button(key="lab_train").click().run()
    assert not at.exception
    assert len(at.session_state[LAB_TOKENIZERS]) == 1
    lang = at.selectbox(key="lab_sample_lang").value
    at.text_area(key=f"lab_sample_{lang}").set_value("<script>alert(1)</script>")
    at.run()
    html = "".join(h.proto.body for h in at.get("html"))
    pieces = re.findall(r'<span class="ta-tok[^"]*" style="[^"]*">(.*?)</span>', html)
    assert "<script" not in html and "&lt;" in pieces
    assert unescape("".join(pieces)) == "<script>alert(1)</script>"
    at.multiselect(key="lab_langs").set_value(["eng"])
    at.button(key="lab_train").click().run()
    assert not at.exception
    assert "Choose at least two languages" in at.error[0].value
