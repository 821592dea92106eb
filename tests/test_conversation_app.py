"""AppTest: the Playground's Conversation mode shows exact counts per tokenizer and per message."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis.render import shown_text
from tests.app_harness import APP, clear_app_caches


@pytest.fixture(autouse=True)
def _store(app_db: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ATLAS_DB", str(app_db))
    clear_app_caches()
    yield


def conversation() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.radio(key="pg_mode").set_value("Conversation").run()
    assert not at.exception
    return at


def table(at: AppTest, column: str):
    return next(t.value for t in [*at.table, *at.dataframe] if column in t.value.columns)


def test_conversation_counts_exact_for_llama3_and_mistral_v3() -> None:
    at = conversation()
    at.multiselect(key="cv_tokenizers").set_value(["llama3", "mistral-v3", "o200k_base"])
    while at.session_state["cv_n"] > 1:
        at.button(key="cv_remove").click().run()
    at.selectbox(key="cv_role_0").set_value("user")
    at.text_area(key="cv_text_0").set_value("Hi there").run()
    assert not at.exception
    totals = table(at, "total tokens")
    # llama3: <|begin_of_text|> <|start_header_id|> user <|end_header_id|> ĊĊ | Hi Ġthere | <|eot_id|> + the
    # 4-token assistant header; mistral-v3: <s> [INST] | ▁Hi ▁there | [/INST].
    assert totals.set_index("tokenizer")[["total tokens", "content tokens", "template tokens"]].to_dict("index") == {
        "llama3": {"total tokens": 12, "content tokens": 2, "template tokens": 10},
        "mistral-v3": {"total tokens": 5, "content tokens": 2, "template tokens": 3}}
    assert any("o200k_base: No known chat template" in w.value for w in at.warning)
    per = table(at, "message")
    assert per[per.tokenizer == "llama3"][["message", "content", "template"]].values.tolist() == [
        ["1 · user", 2, 5], ["closing", 0, 5]]
    views = [h.proto.body for h in at.get("html") if 'class="ta-chat"' in h.proto.body]
    assert shown_text(views[1]) == "<s>[INST] Hi there[/INST]"


def test_conversation_add_a_message_and_template_error() -> None:
    at = conversation()
    at.multiselect(key="cv_tokenizers").set_value(["gemma"]).run()
    assert any("System role not supported" in w.value for w in at.warning)  # the default starts with a system turn
    at.button(key="cv_add").click().run()
    assert at.session_state["cv_n"] == 5 and at.session_state["cv_role_4"] == "assistant"
