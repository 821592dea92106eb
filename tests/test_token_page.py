"""The token page: facts from the vocabulary, frequency and examples from a real UDHR store, links from the token
view, and the page itself (AppTest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from analysis import get_tokenizer
from analysis.render import shown_text, token_href, tokens_html
from analysis.store.schema import open_readonly
from analysis.token_page import (
    TokenPageError,
    example_units,
    frequency_by_language,
    glitch_evidence,
    ids_with_bytes,
    same_bytes_in,
    token_facts,
)
from tests.app_harness import APP, clear_app_caches

THE_LLAMA3 = 279  # "Ġthe" in llama3's tokenizer.json (the same id as cl100k_base's " the")


@pytest.fixture(scope="module")
def con(app_db: Path):
    c = open_readonly(app_db)
    yield c
    c.close()


def test_facts_of_ordinary_special_and_unknown_tokens():
    f = token_facts("llama3", THE_LLAMA3)
    assert (f.token_bytes, f.entry, f.kind, f.script, f.text) == (b" the", "Ġthe", "normal", "Latn", " the")
    bos = token_facts("llama3", 128000)
    assert (bos.token_bytes, bos.kind, bos.script) == (b"<|begin_of_text|>", "special", "—")
    unk = token_facts("bert-uncased", 100)  # [UNK] is line 101 of BERT's vocab.txt
    assert (unk.entry, unk.kind) == ("[UNK]", "unknown")


def test_partial_utf8_token_shows_its_bytes():
    # o200k_base.tiktoken line 161: "5A== 160", the byte 0xE4 alone (a lead byte of a 3-byte character).
    f = token_facts("o200k_base", 160)
    assert (f.token_bytes, f.script, f.text) == (b"\xe4", "partial UTF-8", "\\xe4")


@pytest.mark.parametrize("tid, token_id, why", [
    ("llama3", 128256, "0 to 128,255"),
    ("llama3", -1, "0 to 128,255"),
    ("file:/etc/passwd", 0, "not a catalogue tokenizer"),
    ("words", 0, "no vocabulary table"),
])
def test_bad_pages_say_what_to_do(tid, token_id, why):
    with pytest.raises(TokenPageError, match=why):
        token_facts(tid, token_id)


def test_same_bytes_elsewhere():
    assert ids_with_bytes(get_tokenizer("o200k_base"), b" the") == (290,)
    rows = {e.tokenizer_id: (e.ids, e.n_tokens) for e in same_bytes_in(b" the", ["o200k_base", "bert-uncased"])}
    # BERT has "the" (1996) but no entry for the bytes " the": it takes one token as text, the space dropped.
    assert rows == {"o200k_base": ((290,), 1), "bert-uncased": ((), 1)}
    assert same_bytes_in(b"\xe4", ["o200k_base"])[0].n_tokens is None  # not text on its own


def test_frequency_by_language_matches_encoding_the_corpus(con):
    freq = frequency_by_language(con, "llama3", THE_LLAMA3)
    tok = get_tokenizer("llama3")
    expected = {}
    for lang, text in con.execute("SELECT lang, text FROM units WHERE corpus = 'udhr'").fetchall():
        n = tok.encode(text).ids.count(THE_LLAMA3)
        if n:
            expected[lang] = expected.get(lang, 0) + n
    assert dict(zip(freq["lang"], freq["n"])) == expected
    assert freq["n"].is_monotonic_decreasing and abs(freq["share"].sum() - 1) < 1e-12
    assert freq.set_index("lang").loc["eng", "name"] == "English"  # names from the store's languages table


def test_examples_mark_each_occurrence(con):
    examples = example_units(con, "llama3", THE_LLAMA3, limit=2)
    assert len(examples) == 2 and len({e.lang for e in examples}) == 2
    for e in examples:
        assert e.spans and all(e.text[s:t] == " the" for s, t in e.spans)
        assert e.html().count("<mark> the</mark>") == len(e.spans)


def test_glitch_evidence_of_a_published_under_trained_token(con):
    # llama3's " ForCanBeConverted" is verified under-trained in Meta-Llama-3-8B by the Magikarp report.
    (token_id,) = get_tokenizer("llama3").encode(" ForCanBeConverted").ids
    ev = glitch_evidence(con, "llama3", token_id)
    assert ev.scanned and "under-trained (verified)" in ev.categories
    assert any("Meta-Llama-3-8B" in v for v in ev.verifications)
    plain = glitch_evidence(con, "llama3", THE_LLAMA3)
    assert plain.categories == [] and plain.verifications == []


def test_token_view_links_each_token_and_adds_no_text():
    enc = get_tokenizer("llama3").encode('a "<b>"')
    html = tokens_html(enc, link=True)
    assert html.count('<a class="ta-link" href="token?tokenizer=llama3&amp;id=') == len(enc.ids)
    assert f'href="{token_href("llama3", enc.ids[0]).replace("&", "&amp;")}"' in html
    assert shown_text(html) == enc.text
    assert "ta-link" not in tokens_html(enc)


@given(text=st.text(max_size=40))
def test_linked_token_view_text_is_the_input(text):
    enc = get_tokenizer("o200k_base").encode(text)
    assert shown_text(tokens_html(enc, link=True, max_tokens=len(enc.ids) + 1)) == text


@pytest.fixture
def _store(app_db: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ATLAS_DB", str(app_db))
    clear_app_caches()
    yield


def test_token_page_app(_store, con) -> None:
    at = AppTest.from_file(APP, default_timeout=90).switch_page("views/token.py")
    at.query_params["tokenizer"], at.query_params["id"] = "llama3", str(THE_LLAMA3)
    at.run()
    assert not at.exception
    assert at.session_state["tk_tokenizer"] == "llama3" and at.session_state["tk_id"] == THE_LLAMA3
    facts = at.table[0].value
    assert facts.iloc[0].to_dict() == {"bytes (hex)": "20 74 68 65", "as text": " the", "vocabulary entry": "Ġthe",
                                       "kind": "normal", "script": "Latn"}
    freq = next(d.value for d in at.dataframe if "share" in d.value.columns)
    assert list(freq["n"]) == list(frequency_by_language(con, "llama3", THE_LLAMA3)["n"])
    elsewhere = at.table[-1].value.set_index("tokenizer")
    assert elsewhere.loc["o200k_base", "id there"] == "290" and elsewhere.loc["o200k_base", "single token"] == "yes"
    at.number_input(key="tk_id").set_value(128256).run()
    assert any("0 to 128,255" in e.value for e in at.error)


@pytest.mark.parametrize("bad", ["-5", "abc"])
def test_token_page_bad_link_ids_are_explained(_store, bad: str) -> None:
    at = AppTest.from_file(APP, default_timeout=90).switch_page("views/token.py")
    at.query_params["tokenizer"], at.query_params["id"] = "file:/etc/passwd", bad
    at.run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "not in the catalogue" in warnings and "0 or above" in warnings
    assert (at.session_state["tk_tokenizer"], at.session_state["tk_id"]) == ("o200k_base", 0)
