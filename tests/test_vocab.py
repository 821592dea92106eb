"""Vocabulary comparison on the real catalogue vocabularies, with values derived by hand.

How the expected numbers follow:
- r50k_base (GPT-2) has 50,256 mergeable tokens (ranks 0-50255) and <|endoftext|> at 50256. p50k_base is r50k_base
  with 24 tokens added for runs of 2 to 25 spaces (ids 50257-50280, for code indentation); every r50k rank is kept.
  So the intersection is 50,256, the union 50,280, Jaccard 50256/50280, and the tokens only p50k has are those 24.
- Byte-level BPEs start from all 256 single bytes, so utf8-bytes (256 entries) lies inside r50k_base: 256/50256.
- gpt-oss (o200k_harmony) has o200k_base's 199,998 byte pieces exactly; only special tokens differ: Jaccard 1.
- Llama 3 kept all 100,256 cl100k_base tokens and added 27,744: intersection 100,256, Jaccard 100256/128000.
- utf8-bytes: 3 special ids + 256 one-byte tokens. 0x00-0x7F decode alone: 52 ASCII letters (Latin), 76 other
  (digits, punctuation, controls, space); 0x80-0xFF are never a character on their own: partial UTF-8.
- codepoints: every scalar value, U+0000-U+10FFFF less 2,048 surrogates. UTF-8 lengths: 1 byte for 128 code points,
  2 for U+0080-07FF (1,920), 3 for U+0800-FFFF less surrogates (63,488 - 2,048 = 61,440), 4 for the 16 supplementary
  planes (1,048,576).
"""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import get_tokenizer
from analysis.charts import vocab_jaccard_figure, vocab_length_figure, vocab_script_figure
from analysis.scripts import script_share
from analysis.vocab import (
    Comparison,
    Vocabulary,
    VocabularyError,
    has_vocabulary,
    length_histogram,
    load_vocabulary,
    script_classes,
    script_shares,
    size_table,
    token_chips_html,
)

SPACE_RUNS = [b" " * n for n in range(2, 26)]


@pytest.fixture(scope="module")
def r50_p50() -> Comparison:
    return Comparison([load_vocabulary("r50k_base"), load_vocabulary("p50k_base")])


def test_p50k_extends_r50k_by_24_space_runs(r50_p50: Comparison) -> None:
    assert r50_p50.sizes.tolist() == [50256, 50280]
    assert r50_p50.intersections.tolist() == [[50256, 50256], [50256, 50280]]
    assert r50_p50.union_size == 50280
    j = r50_p50.jaccard()
    assert j.loc["r50k_base", "p50k_base"] == j.loc["p50k_base", "r50k_base"] == float(Fraction(50256, 50280))
    assert j.loc["r50k_base", "r50k_base"] == 1.0
    assert r50_p50.unique_counts() == {"r50k_base": 0, "p50k_base": 24}
    page = r50_p50.unique_tokens("p50k_base", limit=100)
    assert page.total == 24
    assert page.rows["id"].tolist() == list(range(50257, 50281))
    assert page.rows["length"].tolist() == list(range(2, 26))
    assert page.rows["token"].tolist() == ["␣" * n for n in range(2, 26)]
    assert set(page.rows["script"]) == {"bytes/other"}
    assert r50_p50.unique_tokens("r50k_base").total == 0


def test_jaccard_long_has_intersections_and_unions(r50_p50: Comparison) -> None:
    rows = r50_p50.jaccard_long().set_index(["a", "b"])
    assert rows.loc[("p50k_base", "r50k_base")].to_dict() == {
        "intersection": 50256, "union": 50280, "jaccard": 50256 / 50280}


def test_unique_token_paging_search_sort_and_script(r50_p50: Comparison) -> None:
    # Runs of 3 or more spaces: the 23 tokens with ids 50258-50280; the third page of 10 holds the last three.
    page = r50_p50.unique_tokens("p50k_base", search="   ", offset=20, limit=10)
    assert (page.total, page.rows["id"].tolist()) == (23, [50278, 50279, 50280])
    longest = r50_p50.unique_tokens(None, sort="length", limit=2)
    assert longest.rows["id"].tolist() == [50280, 50279] and longest.total == 24
    assert r50_p50.unique_tokens("p50k_base", script="bytes/other").total == 24
    assert r50_p50.unique_tokens("p50k_base", script="Latn").total == 0
    assert r50_p50.unique_tokens("p50k_base", search="x").total == 0
    assert len(r50_p50.unique_tokens_all("p50k_base")) == 24


def test_unique_token_errors(r50_p50: Comparison) -> None:
    with pytest.raises(VocabularyError, match="not among the compared"):
        r50_p50.unique_tokens("o200k_base")
    with pytest.raises(VocabularyError, match="limit ≥ 1"):
        r50_p50.unique_tokens("p50k_base", limit=0)
    with pytest.raises(VocabularyError, match="Unknown sort"):
        r50_p50.unique_tokens("p50k_base", sort="size")  # type: ignore[arg-type]


def test_utf8_bytes_inside_r50k() -> None:
    cmp = Comparison([load_vocabulary("utf8-bytes"), load_vocabulary("r50k_base")])
    assert cmp.intersections[0, 1] == 256
    assert cmp.jaccard().iloc[0, 1] == 256 / 50256
    assert cmp.unique_counts() == {"utf8-bytes": 0, "r50k_base": 50000}


def test_gpt_oss_has_o200k_base_pieces_exactly() -> None:
    o200k, oss = load_vocabulary("o200k_base"), load_vocabulary("gpt-oss")
    assert o200k.n_entries == oss.n_entries == 199998
    cmp = Comparison([o200k, oss])
    assert cmp.jaccard().iloc[0, 1] == 1.0
    assert cmp.unique_counts() == {"o200k_base": 0, "gpt-oss": 0}


def test_llama3_keeps_every_cl100k_token() -> None:
    cmp = Comparison([load_vocabulary("cl100k_base"), load_vocabulary("llama3")])
    assert cmp.sizes.tolist() == [100256, 128000]
    assert cmp.intersections[0, 1] == 100256
    assert cmp.jaccard().iloc[0, 1] == 100256 / 128000
    assert cmp.unique_counts() == {"cl100k_base": 0, "llama3": 27744}


def test_utf8_bytes_statistics() -> None:
    v = load_vocabulary("utf8-bytes")
    assert (v.size, v.n_special, v.n_unused, v.n_entries, v.n_distinct) == (259, 3, 0, 256, 256)
    assert v.ids.tolist() == list(range(3, 259))
    hist = length_histogram([v])
    assert hist[["length", "label", "count", "share"]].to_dict("records") == [
        {"length": 1, "label": "1", "count": 256, "share": 1.0}]
    shares = script_shares([v]).set_index("script")
    assert shares["count"].to_dict() == {"partial UTF-8": 128, "bytes/other": 76, "Latn": 52}
    assert shares.loc["Latn", "script_name"] == "Latin"
    assert shares.loc["partial UTF-8", "share"] == 0.5


def test_codepoints_length_histogram() -> None:
    v = load_vocabulary("codepoints")
    assert (v.size, v.n_unused, v.n_entries) == (0x110000, 2048, 1_112_064)
    hist = length_histogram([v])
    assert dict(zip(hist["length"], hist["count"])) == {1: 128, 2: 1920, 3: 61440, 4: 1_048_576}
    capped = length_histogram([v], cap=3)
    assert capped[["length", "label", "count"]].to_dict("list") == {
        "length": [1, 2, 3], "label": ["1", "2", "3+"], "count": [128, 1920, 61440 + 1_048_576]}


def test_size_table_r50k() -> None:
    row = size_table([load_vocabulary("r50k_base")]).iloc[0].to_dict()
    assert {k: row[k] for k in ("tokenizer", "ids", "special", "unused", "byte_fallback", "entries",
                                "distinct_byte_strings")} == {
        "tokenizer": "r50k_base", "ids": 50257, "special": 1, "unused": 0, "byte_fallback": 0, "entries": 50256,
        "distinct_byte_strings": 50256}


def test_byte_fallback_pieces_are_counted_as_their_byte() -> None:
    # Mistral v1 (SentencePiece) has 256 byte-fallback pieces <0x00>..<0xFF>, and <unk>, <s>, </s> as special.
    v = load_vocabulary("mistral-v1")
    assert (v.size, v.n_special, v.n_byte_fallback, v.n_entries) == (32000, 3, 256, 31997)
    assert v.lookup(3) == (b"\x00", "bytes/other")  # <0x00>, the first byte piece after the 3 specials
    assert v.lookup(3 + 0xE4) == (b"\xe4", "partial UTF-8")


@pytest.mark.parametrize(("tokenizer", "text", "script"), [
    ("r50k_base", " the", "Latn"),
    ("o200k_base", " мир", "Cyrl"),
    ("o200k_base", "中国", "Hani"),
    ("o200k_base", "ść", "Latn"),
    ("gemma3", " नमस्ते", "Deva"),
    ("gemma3", "🙂", "bytes/other"),  # an emoji is a symbol (So), not a letter: no script votes
])
def test_script_of_known_tokens(tokenizer: str, text: str, script: str) -> None:
    ids = get_tokenizer(tokenizer).encode(text).ids
    assert len(ids) == 1, f"{text!r} is expected to be one {tokenizer} token, got {ids}"
    assert load_vocabulary(tokenizer).lookup(ids[0]) == (text.encode(), script)


def test_split_emoji_is_partial_utf8() -> None:
    # GPT-2 has no token for 🙂 (F0 9F 99 82): it is two byte-level tokens, neither a whole character.
    ids = get_tokenizer("r50k_base").encode("🙂").ids
    v = load_vocabulary("r50k_base")
    assert [v.lookup(i) for i in ids] == [(b"\xf0\x9f", "partial UTF-8"), (b"\x99\x82", "partial UTF-8")]


def test_lookup_of_a_special_id_is_refused() -> None:
    with pytest.raises(VocabularyError, match="not a compared entry"):
        load_vocabulary("r50k_base").lookup(50256)  # <|endoftext|>


@pytest.mark.parametrize("tokenizer", ["gemma3", "bert-uncased", "mistral-tekken", "claude-legacy"])
def test_vectorized_scripts_equal_script_share(tokenizer: str) -> None:
    v = load_vocabulary(tokenizer)
    assert v.scripts.tolist() == [script_share(b) for b in v.token_bytes.tolist()]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.binary(min_size=1, max_size=3), min_size=1, max_size=30), min_size=1, max_size=5))
def test_comparison_equals_python_sets(lists: list[list[bytes]]) -> None:
    vocabs = [Vocabulary.from_entries(f"v{i}", entries) for i, entries in enumerate(lists)]
    sets = [set(v.token_bytes.tolist()) for v in vocabs]
    cmp = Comparison(vocabs)
    j = cmp.jaccard().to_numpy()
    for a, sa in enumerate(sets):
        others = set().union(*(s for b, s in enumerate(sets) if b != a))
        assert cmp.unique_counts()[f"v{a}"] == len(sa - others)
        for b, sb in enumerate(sets):
            assert cmp.intersections[a, b] == len(sa & sb)
            assert j[a, b] == len(sa & sb) / len(sa | sb)
    assert cmp.union_size == len(set().union(*sets))


@given(st.lists(st.binary(min_size=1, max_size=6), max_size=40))
def test_script_classes_equal_script_share(entries: list[bytes]) -> None:
    assert script_classes(entries).tolist() == [script_share(b) for b in entries]


def test_words_baseline_has_no_vocabulary() -> None:
    assert not has_vocabulary("words") and has_vocabulary("utf8-bytes") and has_vocabulary("gemma3")
    with pytest.raises(VocabularyError, match="no fixed vocabulary"):
        load_vocabulary("words")


def test_comparison_refuses_bad_selections() -> None:
    v = load_vocabulary("utf8-bytes")
    with pytest.raises(VocabularyError, match="at least one"):
        Comparison([])
    with pytest.raises(VocabularyError, match="chosen twice"):
        Comparison([v, v])
    with pytest.raises(VocabularyError, match="At most 64"):
        Comparison([Vocabulary.from_entries(f"t{i}", [b"a"]) for i in range(65)])
    with pytest.raises(VocabularyError, match="non-empty byte string"):
        Vocabulary.from_entries("bad", [b""])
    with pytest.raises(VocabularyError, match="cap must be"):
        length_histogram([v], cap=0)


def test_chips_escape_every_token() -> None:
    cmp = Comparison([load_vocabulary("r50k_base"), load_vocabulary("utf8-bytes")])
    page = cmp.unique_tokens("r50k_base", search="<", limit=500)
    assert page.total > 10 and "</" in page.rows["token"].tolist()
    html = token_chips_html(page.rows)
    ours = re.sub(r'<span class="ta-vchip" title="[^"<>]*">|</span>|<div class="ta-vchips" dir="auto">|</div>', "", html)
    assert "<" not in ours and ">" not in ours  # every < and > of a token is an entity
    assert "&lt;/" in html
    evil = pd.DataFrame({"tokenizer": ['x"><script>'], "id": [1], "token": ["<img src=x onerror=alert(1)>"],
                         "bytes_hex": ["00"], "script": ["Latn"]})
    html = token_chips_html(evil)
    assert "<img" not in html and "<script" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_charts_take_the_frames_and_escape_labels() -> None:
    vocabs = [load_vocabulary("utf8-bytes"), load_vocabulary("r50k_base")]
    hist = length_histogram(vocabs, cap=4)
    fig = vocab_length_figure(hist, value="count")
    assert [t.name for t in fig.data] == ["utf8-bytes", "r50k_base"]
    assert list(fig.data[0].y) == [256]
    shares = script_shares(vocabs)
    fig = vocab_script_figure(shares, top=1)
    names = [t.name for t in fig.data]
    assert names[0] == "Latin (Latn)" and names[-3:] == ["mixed", "partial UTF-8", "bytes/other"]
    assert "other scripts" in names
    matrix = Comparison(vocabs).jaccard()
    matrix.index = matrix.columns = ["<b>a</b>", "r50k_base"]
    fig = vocab_jaccard_figure(matrix)
    assert list(fig.data[0].x) == ["&lt;b&gt;a&lt;/b&gt;", "r50k_base"]
    assert np.allclose(np.array(fig.data[0].z, dtype=float), [[1, 256 / 50256], [256 / 50256, 1]])
