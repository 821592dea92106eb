"""Memory at workshop scale (issue 16): a server process loads a tokenizer only when a session uses it.

A replica starts with no tokenizer loaded; the Premium explorer reads counts from the database and loads none;
the Playground loads exactly the tokenizers it shows. (RSS per replica, idle and after a workshop run, is measured
by tests/bench/bench_protocol.py; docs/scaling.md.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis.tokenizers import clear_cache, loaded_ids
from tests.app_harness import APP, clear_app_caches


@pytest.fixture(autouse=True)
def _fresh(app_db: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ATLAS_DB", str(app_db))
    clear_app_caches()
    clear_cache()
    yield
    clear_app_caches()


def test_premium_explorer_loads_no_tokenizer():
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["tokenizers"] = "utf8-bytes"  # the first run is the Playground's: one tokenizer, the cheapest
    at.run()
    assert loaded_ids() == ["utf8-bytes"]
    at.switch_page("views/premiums.py").run()
    assert not at.exception and not at.error
    assert at.selectbox(key="px_reference").value == "eng"
    assert loaded_ids() == ["utf8-bytes"]


def test_playground_loads_exactly_the_tokenizers_it_shows():
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["tokenizers"] = "utf8-bytes,bert-uncased"
    at.query_params["text"] = "abc"
    at.run()
    assert not at.exception and not at.error
    assert "**utf8-bytes** · 3 tokens" in [m.value for m in at.markdown]
    assert loaded_ids() == ["bert-uncased", "utf8-bytes"]
    at.multiselect(key="pg_tokenizers").set_value(["utf8-bytes"]).run()
    assert loaded_ids() == ["bert-uncased", "utf8-bytes"]  # loaded once per process, kept for the next session
