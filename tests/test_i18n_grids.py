"""Numbers inside the pages' small data grids in the interface language's locale (issue 17)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from analysis.i18n import format_frame, set_language


@pytest.fixture(autouse=True)
def _english_after():
    yield
    set_language("en")


FRAME = pd.DataFrame({"tokenizer": ["llama3", "gemma3"], "tokens": [1234567, 12], "premium": [2.5, math.nan],
                      "share": [0.25, 0.5], "flagged": [True, False]})


@pytest.mark.parametrize(("lang", "tokens", "premium"), [
    ("en", ["1,234,567", "12"], ["2.50", "—"]),
    ("fr", ["1\u202f234\u202f567", "12"], ["2,50", "—"]),
    ("es", ["1.234.567", "12"], ["2,50", "—"]),
    ("hi", ["12,34,567", "12"], ["2.50", "—"]),
    ("ar", ["1,234,567", "12"], ["2.50", "—"]),
    ("zh_Hans", ["1,234,567", "12"], ["2.50", "—"]),
])
def test_format_frame_writes_numbers_for_the_locale(lang: str, tokens: list[str], premium: list[str]) -> None:
    out = format_frame(FRAME, decimals={"premium": 2}, keep=("share",), lang=lang)
    assert out["tokens"].tolist() == tokens and out["premium"].tolist() == premium
    assert out["share"].tolist() == [0.25, 0.5]  # kept a number (a progress bar draws it)
    assert out["tokenizer"].tolist() == ["llama3", "gemma3"] and out["flagged"].tolist() == [True, False]
    assert FRAME["tokens"].tolist() == [1234567, 12]  # a copy: the page's frame is not changed


def test_english_grids_keep_their_numbers() -> None:
    from app.language import localized_grid

    assert localized_grid(FRAME) is FRAME
    set_language("fr")
    assert localized_grid([{"tokens": 1200}])["tokens"].tolist() == ["1\u202f200"]


def test_the_playground_pair_table_in_french(app_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """600 × é against 700 × ü: 1,200 and 1,400 UTF-8 bytes, 600 and 700 code points, premium 7/6 rounded to 1.167."""
    from streamlit.testing.v1 import AppTest

    from tests.app_harness import APP, clear_app_caches

    monkeypatch.setenv("ATLAS_DB", str(app_db))
    clear_app_caches()
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in {"lang": "fr", "tokenizers": "utf8-bytes,codepoints", "text": "é" * 600, "compare": "ü" * 700}.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception
    assert len(at.dataframe) == 1  # the translation mode's table (the summary is a static table)
    assert at.dataframe[0].value.to_dict("records") == [
        {"tokenizer": "utf8-bytes", "tokens (first)": "1\u202f200", "tokens (second)": "1\u202f400",
         "premium": "1,167"},
        {"tokenizer": "codepoints", "tokens (first)": "600", "tokens (second)": "700", "premium": "1,167"}]
