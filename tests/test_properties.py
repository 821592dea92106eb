"""Property tests (hypothesis) of the one encoding interface, over every catalogue tokenizer.

The generated texts mix scripts on purpose: Latin, Cyrillic, Arabic, Devanagari, Han, Hangul
(syllables and conjoining jamo), Ethiopic, Thai, emoji (ZWJ families, skin tones, flags), combining
marks, whitespace runs, tabs/newlines, control characters (NUL included) and format characters.
Surrogates (category Cs) are never generated: they are not text (see test_bad_input.py).

Properties, per tokenizer:
  (a) spans lie in [0, len(text)], start <= end, starts and ends never go backwards;
  (b) every non-whitespace character lies in some token's span, apart from what the tokenizer's
      own normalizer deletes (stated per tokenizer below); for the byte-level lossless tokenizers
      every character, whitespace included;
  (c) byte-level lossless tokenizers: token bytes concatenate to the UTF-8, decode(ids) == text;
  (d) the interface's count is the backend's own count, and encode/count/count_batch agree;
  (e) tokens of kind ``split`` come in groups that share a character;
  (f) tokenizers that report ``lossless[0] is True`` round-trip the generated text.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from analysis import TokenKind, get_tokenizer, load_catalogue

ALL_IDS = load_catalogue().ids

#: Byte-level tokenizers whose token bytes are exactly the text's UTF-8 and whose decoder gives the
#: text back (no normalizer): every character, whitespace included, lies in some token's span.
#: ``codepoints`` is not byte-level but has the same exactness, so it is held to the same properties.
EXACT_IDS = ["o200k_base", "cl100k_base", "p50k_base", "r50k_base", "llama3", "gpt-oss", "deepseek-v3",
             "mistral-tekken", "utf8-bytes", "codepoints"]

#: Tokenizers whose HF normalizer composes characters (NFC / NFKC): see the xfail below.
COMPOSING_IDS = ["qwen3", "claude-legacy"]


def _id_of(tid: str) -> str:
    return tid


# ----------------------------------------------------------------------------- text strategies


def _block(lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.characters(min_codepoint=lo, max_codepoint=hi, exclude_categories=("Cs",))


LATIN = st.sampled_from(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789éüßøñçÅİı.,;:!?'\"-()"))
EMOJI = st.one_of(
    _block(0x1F300, 0x1F5FF), _block(0x1F600, 0x1F64F), _block(0x1F900, 0x1F9FF),
    st.sampled_from(["\u2764", "\ufe0f", "\u200d", "\U0001F3FD", "\U0001F1FA", "\U0001F1F3", "\u2640"]),
)
WHITESPACE = st.sampled_from([" ", " ", " ", "\t", "\n", "\r", "\u00a0", "\u2009", "\u3000", "\x0b", "\x0c",
                              "\u2028", "\x85"])
#: Controls (NUL first) and format characters: ZW(N)J, ZWSP, LRM/RLM, BOM, soft hyphen, bidi isolates.
CONTROL = st.sampled_from(["\x00", "\x01", "\x07", "\x08", "\x1b", "\x7f", "\x80", "\x9f", "\u200b", "\u200c",
                           "\u200d", "\u200e", "\u200f", "\ufeff", "\u00ad", "\u2066", "\u2069", "\ufffd"])
CHARS = st.one_of(
    LATIN,
    _block(0x0400, 0x04FF),  # Cyrillic
    _block(0x0600, 0x06FF),  # Arabic
    _block(0x0900, 0x097F),  # Devanagari
    _block(0x4E00, 0x9FFF),  # Han
    _block(0xAC00, 0xD7A3),  # Hangul syllables
    _block(0x1100, 0x11FF),  # Hangul conjoining jamo
    _block(0x1200, 0x137F),  # Ethiopic
    _block(0x0E00, 0x0E7F),  # Thai
    _block(0x0300, 0x036F),  # combining diacritical marks
    EMOJI,
    WHITESPACE,
    CONTROL,
)
FRAGMENTS = st.sampled_from([
    "👩\u200d👩\u200d👧", "👨🏽\u200d💻", "🏳\ufe0f\u200d🌈", "🇺🇳", "e\u0301", "Ὀδυσσεύς", "नमस्ते", "你好，世界",
    "안녕하세요", "ሰላም", "สวัสดีครับ", "مرحبا بالعالم", "Привет, мир", "שָׁלוֹם", "<|endoftext|>", "<s>", "</s>",
    "[CLS]", "<unk>", "    ", "\r\n", "\t\t", "\n\n\n", "ﬁne", "１２３", "1234567", "'s", " don't", "\x00\x00",
    "   leading", "trailing   ",
])
TEXTS = st.lists(st.one_of(st.text(CHARS, max_size=12), FRAGMENTS), max_size=8).map("".join)

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ----------------------------------------------------------------------------- what normalizers delete


def bert_deletes(c: str) -> bool:
    """Characters BERT-uncased's normalizer removes, so no token can cover them.

    Found by running ``BertNormalizer(clean_text, handle_chinese_chars, lowercase)`` over every code
    point (``test_bert_deletion_rule_matches_its_normalizer`` keeps this honest for our alphabets):
    clean_text drops NUL, U+FFFD, controls (Cc other than \\t \\n \\r, which become spaces), format
    characters (Cf: soft hyphen, ZWSP, ZWNJ, ZWJ, LRM/RLM, BOM, bidi isolates, ...) and private use
    (Co); lowercase implies strip_accents, which drops nonspacing marks (Mn) after NFD.
    """
    if c in "\t\n\r":
        return False
    return c in "\x00\ufffd" or unicodedata.category(c) in ("Cc", "Cf", "Co", "Mn")


def excused(tid: str, c: str) -> bool:
    """Whether character ``c`` may lie outside every span for tokenizer ``tid``."""
    if tid in EXACT_IDS:
        return False
    if c.isspace():
        return True
    return tid == "bert-uncased" and bert_deletes(c)


def uncovered(enc, tid: str, *, excuse=excused) -> list[tuple[int, str]]:
    covered = bytearray(len(enc.text))
    for s, e in zip(enc.starts, enc.ends):
        covered[s:e] = b"\x01" * (e - s)
    return [(i, c) for i, c in enumerate(enc.text) if not covered[i] and not excuse(tid, c)]


# ----------------------------------------------------------------------------- properties


@pytest.mark.parametrize("tid", ALL_IDS, ids=_id_of)
@PROPERTY
@given(text=TEXTS)
def test_spans_in_range_and_in_order(tid: str, text: str) -> None:
    enc = get_tokenizer(tid).encode(text)
    n = len(enc.ids)
    assert len(enc.starts) == len(enc.ends) == len(enc.token_bytes) == len(enc.kinds) == n
    for k, (s, e) in enumerate(zip(enc.starts, enc.ends)):
        assert 0 <= s <= e <= len(text), (k, s, e, len(text))
    assert all(a <= b for a, b in zip(enc.starts, enc.starts[1:])), enc.starts
    assert all(a <= b for a, b in zip(enc.ends, enc.ends[1:])), enc.ends


def _coverage_params() -> list:
    reason = ("library bug: spans of NFC/NFKC tokenizers leave out characters absorbed by canonical composition "
              "('e\\u0301' -> one token with span (0, 1); U+0301 at 1 is in no span). HF gives the composed "
              "character the offsets of its first source character and the adapter passes them through.")
    return [pytest.param(t, marks=pytest.mark.xfail(strict=True, reason=reason)) if t in COMPOSING_IDS else t
            for t in ALL_IDS]


@pytest.mark.parametrize("tid", _coverage_params(), ids=_id_of)
@PROPERTY
@given(text=TEXTS)
@example(text="ae\u0301b")  # fails for the composing tokenizers on every run, so their strict xfail is stable
def test_spans_cover_text(tid: str, text: str) -> None:
    enc = get_tokenizer(tid).encode(text)
    assert uncovered(enc, tid) == []


def _composed_away(text: str, i: int) -> bool:
    """Whether text[i] is absorbed into an earlier character by NFC (a combining mark, a jamo)."""
    j = i
    while j > 0 and unicodedata.combining(text[j - 1]) == 0 and j == i:
        j -= 1
    start = max(0, i - 4)
    return len(unicodedata.normalize("NFC", text[start:i + 1])) <= len(unicodedata.normalize("NFC", text[start:i]))


@pytest.mark.parametrize("tid", COMPOSING_IDS, ids=_id_of)
@PROPERTY
@given(text=TEXTS)
def test_composing_tokenizers_cover_all_but_composed_characters(tid: str, text: str) -> None:
    """Apart from the bug above, the NFC/NFKC tokenizers cover every non-whitespace character."""
    enc = get_tokenizer(tid).encode(text)
    missing = [(i, c) for i, c in uncovered(enc, tid) if not _composed_away(text, i)]
    assert missing == []


@pytest.mark.parametrize("tid", EXACT_IDS, ids=_id_of)
@PROPERTY
@given(text=TEXTS)
def test_byte_level_bytes_concatenate_and_decode(tid: str, text: str) -> None:
    tok = get_tokenizer(tid)
    enc = tok.encode(text)
    assert b"".join(enc.token_bytes) == text.encode("utf-8")
    assert tok.decode(enc.ids) == text
    # Each token's bytes are exactly the UTF-8 of its span when the span is whole characters.
    for s, e, b, k in zip(enc.starts, enc.ends, enc.token_bytes, enc.kinds):
        if k is TokenKind.NORMAL:
            assert text[s:e].encode("utf-8") == b


def backend_count(tok, text: str) -> int:
    """The count the backend library itself gives, called directly."""
    if tok.backend == "tiktoken":
        return len(tok.encoding.encode_ordinary(text))
    if tok.backend == "hf":
        return len(tok.hf.encode(text, add_special_tokens=False).ids)
    if tok.backend == "mistral":
        return len(tok.raw.encode(text, bos=False, eos=False))
    formula = {"utf8-bytes": lambda t: len(t.encode("utf-8")), "codepoints": len, "words": lambda t: len(t.split())}
    return formula[tok.id](text)


@pytest.mark.parametrize("tid", ALL_IDS, ids=_id_of)
@PROPERTY
@given(text=TEXTS, other=TEXTS)
def test_count_is_the_backends_count(tid: str, text: str, other: str) -> None:
    tok = get_tokenizer(tid)
    n = backend_count(tok, text)
    assert tok.count(text) == n
    assert tok.encode(text).count == n
    assert tok.count_batch([text]) == [n]
    assert tok.count_batch([other, text, ""]) == [backend_count(tok, other), n, 0]


@pytest.mark.parametrize("tid", ALL_IDS, ids=_id_of)
@PROPERTY
@given(text=TEXTS)
@example(text="👩\u200d👩\u200d👧 e\u0301 你好 \U00020000")
def test_split_tokens_share_a_character(tid: str, text: str) -> None:
    enc = get_tokenizer(tid).encode(text)
    s, e, kinds = enc.starts, enc.ends, enc.kinds
    n = len(kinds)

    def shares(a: int, b: int) -> bool:  # tokens a < b share a character
        return s[a] < s[a] + 1 <= e[a] and s[b] < e[b] and s[b] < e[a]

    for k in range(n):
        if kinds[k] is TokenKind.SPLIT:
            assert (k > 0 and shares(k - 1, k)) or (k + 1 < n and shares(k, k + 1)), (k, enc.tokens[max(0, k - 2):k + 3])
        # Conversely, neighbours that share a character are marked as pieces of it.
        if k + 1 < n and shares(k, k + 1):
            pieces = {TokenKind.SPLIT, TokenKind.BYTE_FALLBACK, TokenKind.UNKNOWN}
            assert kinds[k] in pieces and kinds[k + 1] in pieces, enc.tokens[k:k + 2]


LOSSLESS_IDS = [t for t in ALL_IDS if get_tokenizer(t).lossless[0]]


@pytest.mark.parametrize("tid", LOSSLESS_IDS, ids=_id_of)
@PROPERTY
@given(text=TEXTS)
def test_lossless_tokenizers_roundtrip(tid: str, text: str) -> None:
    assert get_tokenizer(tid).roundtrip(text)


def test_exact_ids_report_lossless() -> None:
    """The hand-made lists above still name catalogue entries that report themselves lossless."""
    assert set(EXACT_IDS) <= set(LOSSLESS_IDS)
    assert set(COMPOSING_IDS) <= set(ALL_IDS)


def test_bert_deletion_rule_matches_its_normalizer() -> None:
    """``bert_deletes`` says exactly what BERT's normalizer deletes, on every character we generate from."""
    normalizer = get_tokenizer("bert-uncased").hf.normalizer
    ranges = [(0x00, 0x24F), (0x0300, 0x036F), (0x0400, 0x04FF), (0x0600, 0x06FF), (0x0900, 0x097F),
              (0x0E00, 0x0E7F), (0x1100, 0x11FF), (0x1200, 0x137F), (0x2000, 0x206F), (0x3000, 0x303F),
              (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFF0, 0xFFFD), (0xE000, 0xE0FF), (0x1F300, 0x1F9FF)]
    wrong = []
    for lo, hi in ranges:
        for cp in range(lo, hi + 1):
            c = chr(cp)
            if unicodedata.category(c) == "Cn":  # unassigned: Unicode versions of Python and Rust differ
                continue
            if (normalizer.normalize_str(c) == "") != bert_deletes(c):
                wrong.append(f"U+{cp:04X}")
    assert wrong == []
