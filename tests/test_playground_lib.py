"""The Playground's library parts: uploads, summary rows, exports, boundary diff, permalinks, language detection."""

from __future__ import annotations

import csv
import io
import json

import pytest

from analysis import get_tokenizer
from analysis.corpus.udhr import load_udhr
from analysis.langdetect import Detection, detect, match_language
from analysis.playground import (
    MAX_URL_TEXT,
    PlaygroundState,
    boundaries,
    boundary_diff,
    pair_premiums,
    state_from_query,
    summary_row,
    token_records,
    tokens_csv,
    tokens_json,
)
from analysis.textio import MAX_UPLOAD_BYTES, Decoded, UploadError, decode_bytes, read_upload

# ------------------------------------------------------------------ decoding uploads


@pytest.mark.parametrize(("data", "encoding"), [
    ("héllo".encode(), "utf-8"),
    (b"\xef\xbb\xbf" + "héllo".encode(), "utf-8"),
    (b"\xff\xfe" + "héllo".encode("utf-16-le"), "utf-16-le"),
    (b"\xfe\xff" + "héllo".encode("utf-16-be"), "utf-16-be"),
    (b"\xff\xfe\x00\x00" + "héllo".encode("utf-32-le"), "utf-32-le"),
    (b"\x00\x00\xfe\xff" + "héllo".encode("utf-32-be"), "utf-32-be"),
], ids=["utf8", "utf8-bom", "utf16le", "utf16be", "utf32le", "utf32be"])
def test_decode_detects_bom(data: bytes, encoding: str) -> None:
    assert decode_bytes(data) == Decoded("héllo", encoding, 0)


def test_latin1_is_refused_with_the_place_and_the_fix() -> None:
    with pytest.raises(UploadError, match=r"not valid UTF-8 at byte 6 \(line 2\): e9 74 e9") as e:
        decode_bytes(b"hello\n\xe9t\xe9", name="notes.txt")
    assert "replacement characters" in e.value.message and e.value.title == "Not UTF-8 text"


def test_replacement_decoding_counts_what_it_replaced() -> None:
    # Two undecodable bytes (é in Latin-1); a U+FFFD already in the text is not counted as replaced.
    assert decode_bytes(b"\xe9t\xe9 \xef\xbf\xbd", errors="replace") == Decoded("\ufffdt\ufffd \ufffd", "utf-8", 2)


def test_text_upload() -> None:
    up = read_upload("a.md", "# Titre\n\nBonjour".encode("utf-16"))
    assert (up.kind, up.text(), up.decoded.encoding) == ("text", "# Titre\n\nBonjour", "utf-16-le")


def test_csv_upload_with_quoted_newline_and_column_pick() -> None:
    data = b'id,text\n1,"first line\nsecond"\n2,"a, b"\n\n3,\n'
    up = read_upload("t.csv", data)
    assert up.fields == ["id", "text"]
    assert up.text("text") == "first line\nsecond\na, b"  # the empty field of row 3 is skipped
    assert up.text("id") == "1\n2\n3"
    with pytest.raises(UploadError, match=r"no field 'txt'; choose one of: id, text"):
        up.text("txt")


def test_jsonl_upload_keeps_string_fields() -> None:
    data = b'{"id": 1, "lang": "fr", "text": "Bonjour"}\n\n{"lang": "de", "text": "Hallo"}\n'
    up = read_upload("x.jsonl", data)
    assert (up.fields, up.text("text"), up.text("lang")) == (["lang", "text"], "Bonjour\nHallo", "fr\nde")


@pytest.mark.parametrize(("name", "data", "message"), [
    ("x.pdf", b"%PDF", r"files of type \.pdf are not supported. Upload one of: \.txt \.md \.csv \.tsv \.jsonl"),
    ("x.txt", b"  \n\t", r"x.txt is empty"),
    ("x.txt", b"a" * (MAX_UPLOAD_BYTES + 1), r"x.txt is 5.0 MB; the limit is 5 MB"),
    ("x.tsv", b"a\tb\n1\t2\t3\n", r"x.tsv line 2: 3 fields, the header has 2"),
    ("x.csv", b"a,a\n1,2\n", r"must name every column once"),
    ("x.jsonl", b'{"text": "ok"}\n[1, 2]\n', r"x.jsonl line 2: a JSON list, not an object"),
    ("x.jsonl", b'{"text": "ok"}\n{"text": \n', r"x.jsonl line 2: not JSON \(Expecting value at column 10\)"),
    ("x.jsonl", b'{"n": 1}\n', r"no string fields"),
], ids=["type", "empty", "too-big", "tsv-fields", "csv-header", "jsonl-list", "jsonl-broken", "jsonl-no-text"])
def test_bad_uploads(name: str, data: bytes, message: str) -> None:
    with pytest.raises(UploadError, match=message):
        read_upload(name, data)


# ------------------------------------------------------------------ summary and exports


def test_summary_row_exact() -> None:
    # "héllo wörld": 11 characters, 13 UTF-8 bytes; é and ö are each split over 2 byte tokens.
    row = summary_row(get_tokenizer("utf8-bytes").encode("héllo wörld"))
    assert row == {"tokenizer": "utf8-bytes", "tokens": 13, "chars/token": round(11 / 13, 2), "bytes/token": 1.0,
                   "% of context": None, "unknown": 0, "byte fallback": 0, "split chars": 4}
    row = summary_row(get_tokenizer("o200k_base").encode("hello world"))
    # o200k_base serves GPT-4o's 128,000-token window; 2 tokens are 0.0016% of it, rounded to 3 places.
    assert (row["tokens"], row["chars/token"], row["% of context"]) == (2, 5.5, 0.002)


def test_summary_counts_unknown_tokens() -> None:
    row = summary_row(get_tokenizer("bert-uncased").encode("a 😀 b"))
    assert (row["tokens"], row["unknown"]) == (3, 1)  # [a] [UNK] [b]


def test_token_records_and_exports() -> None:
    enc = get_tokenizer("cl100k_base").encode("hello world")
    assert token_records(enc) == [
        {"index": 0, "id": 15339, "piece": "hello", "text": "hello", "bytes_hex": "68 65 6c 6c 6f", "start": 0,
         "end": 5, "kind": "normal"},
        {"index": 1, "id": 1917, "piece": " world", "text": " world", "bytes_hex": "20 77 6f 72 6c 64", "start": 5,
         "end": 11, "kind": "normal"},
    ]
    rows = list(csv.DictReader(io.StringIO(tokens_csv(enc).decode())))
    assert [(r["id"], r["text"]) for r in rows] == [("15339", "hello"), ("1917", " world")]
    doc = json.loads(tokens_json([enc]))
    assert doc[0]["tokenizer"] == "cl100k_base" and [t["id"] for t in doc[0]["tokens"]] == [15339, 1917]


# ------------------------------------------------------------------ boundary diff


def test_split_character_is_not_a_boundary() -> None:
    # "a😀b" in UTF-8 bytes: a | 4 bytes of the emoji sharing the span [1, 2) | b.
    enc = get_tokenizer("utf8-bytes").encode("a😀b")
    assert enc.count == 6
    assert boundaries(enc) == {1, 2}


def test_boundary_diff_by_hand() -> None:
    encs = [get_tokenizer(t).encode("hello world") for t in ("cl100k_base", "codepoints", "words")]
    diff = boundary_diff(encs)
    # cl100k: hello| world -> {5}; codepoints: every offset 1..10; words: hello| |world -> {5, 6}.
    assert diff.shared == [5]
    assert diff.disputed == [1, 2, 3, 4, 6, 7, 8, 9, 10]
    assert diff.cuts[6] == frozenset({"codepoints", "words"})
    agreement = {r["tokenizer"]: r for r in diff.agreement()}
    assert agreement["cl100k_base"]["codepoints"] == 0.1
    assert agreement["cl100k_base"]["words"] == 0.5
    assert agreement["words"]["codepoints"] == 0.2
    html = diff.html()
    assert html.count("ta-cut-all") == 1 and html.count("ta-cut-some") == 9


def test_boundary_diff_escapes() -> None:
    html = boundary_diff([get_tokenizer(t).encode("<b>&") for t in ("words", "codepoints")]).html()
    assert "<b>" not in html and "&lt;" in html and "&amp;" in html


def test_pair_premiums() -> None:
    tok = get_tokenizer("utf8-bytes")
    rows = pair_premiums([tok.encode("free")], [tok.encode("libre")])
    assert rows == [{"tokenizer": "utf8-bytes", "tokens (first)": 4, "tokens (second)": 5, "premium": 1.25}]
    assert pair_premiums([tok.encode("")], [tok.encode("x")])[0]["premium"] is None


# ------------------------------------------------------------------ permalinks


def test_permalink_round_trip() -> None:
    state = PlaygroundState(["o200k_base", "words"], "a&b=c", True, "ids", None, "x")
    q = state.to_query()
    assert q == {"tokenizers": "o200k_base,words", "text": "a&b=c", "compare": "x", "ws": "1", "view": "ids"}
    assert state_from_query(q, ["o200k_base", "words"]) == (state, [])


def test_permalink_long_text_and_samples() -> None:
    long = "x" * (MAX_URL_TEXT + 1)
    assert "text" not in PlaygroundState(["words"], long).to_query()
    q = PlaygroundState(["words"], long, sample=("udhr", "hin", "1")).to_query()
    assert q == {"tokenizers": "words", "corpus": "udhr", "sample_lang": "hin", "unit": "1"}
    assert state_from_query(q, ["words"])[0].sample == ("udhr", "hin", "1")
    # Older links (and the explorer's) name the sample's language lang=; an interface language there is not a sample.
    legacy = {"tokenizers": "words", "corpus": "udhr", "lang": "hin", "unit": "1"}
    assert state_from_query(legacy, ["words"])[0].sample == ("udhr", "hin", "1")
    assert state_from_query({**legacy, "lang": "fr"}, ["words"])[0].sample is None
    assert state_from_query({**legacy, "lang": "fr", "sample_lang": "hin"}, ["words"])[0].sample == ("udhr", "hin", "1")


def test_permalink_bad_values_are_dropped_with_warnings() -> None:
    state, warnings = state_from_query({"tokenizers": "words,,<script>,words", "view": "x"}, ["words"])
    assert state.tokenizers == ["words"] and state.view == "tokens"
    assert warnings == ["Unknown tokenizer '<script>' in the link was left out.",
                        "Unknown view 'x' in the link; showing tokens."]


# ------------------------------------------------------------------ language detection on real UDHR text


@pytest.fixture(scope="module")
def udhr():
    return load_udhr()


@pytest.mark.parametrize(("lang", "code", "script"), [
    ("eng", "en", "Latn"), ("hin", "hi", "Deva"), ("amh", "am", "Ethi"), ("cmn_hans", "zh", "Hani"),
    ("arb", "ar", "Arab"), ("rus", "ru", "Cyrl"), ("fra", "fr", "Latn"), ("tha", "th", "Thai"),
])
def test_detect_udhr_article_and_link_back(udhr, lang: str, code: str, script: str) -> None:
    found = detect(udhr.texts(lang)["1"])
    assert (found.code, found.script) == (code, script)
    rows = [{"lang": lg.code, "bcp47": lg.bcp47, "iso639_3": lg.iso639_3, "script": lg.script,
             "complete": lg.complete} for lg in udhr.languages.values()]
    assert match_language(found, rows)["lang"] == lang


def test_detect_withholds_a_guess_on_short_text() -> None:
    found = detect("ok 42")
    assert found == Detection(None, 0.0, "Latn", "too short to guess the language (fewer than 12 letters)")
    assert match_language(found, [{"lang": "eng", "bcp47": "en"}]) is None


def test_detect_reports_an_uncertain_guess_as_such() -> None:
    found = detect("Ünïcödé → 😀 façade")  # accents and an emoji, no real language: langid's best guess is weak
    assert found.code is None and found.script == "Latn"
    assert found.note == f"uncertain (best guess lij, {found.probability:.0%}); mixed or short text?"
    assert found.probability < 0.5


def test_mixed_script_text_is_not_given_one_language() -> None:
    found = detect("Tokenizers treat languages differently: नमस्ते दुनिया, 你好世界, ሰላም ዓለም.")
    # Letters and marks: Latin 35, Devanagari 12 (6 + 6 with virama and vowel signs), Ethiopic 6, Han 4; of 57,
    # Latin is 61.4% < 75%; Deva 21.1%, Ethi 10.5%, Hani 7.0%.
    assert found.code is None and found.script == "Latn"
    assert found.note == ("mixed scripts (Latn 61%, Deva 21%, Ethi 11%, Hani 7%): paste one language at a time to link "
                          "it to the store")


def test_a_language_is_linked_only_in_its_own_script() -> None:
    rows = [{"lang": "san", "bcp47": "sa", "iso639_3": "san", "script": "Deva", "complete": True}]
    assert match_language(Detection("sa", 0.9, "Latn"), rows) is None
    assert match_language(Detection("sa", 0.9, "Deva"), rows)["lang"] == "san"
