"""Property tests (hypothesis) of the one encoding interface, over every catalogue tokenizer.

The generated texts mix scripts on purpose: Latin, Cyrillic, Arabic, Devanagari, Han, Hangul
(syllables and conjoining jamo), Ethiopic, Thai, emoji (ZWJ families, skin tones, flags), combining
marks, whitespace runs, tabs/newlines, control characters (NUL included) and format characters.
Surrogates (category Cs) are never generated: they are not text (see test_bad_input.py).
Parametrized by catalogue id, so a failure names the tokenizer and hypothesis prints the text.

Properties, per tokenizer:
  (a) spans lie in [0, len(text)], start <= end, starts and ends never go backwards;
  (b) every non-whitespace character lies in some token's span, apart from what the tokenizer's
      own normalizer deletes (stated per tokenizer below); for the byte-level lossless tokenizers
      every character, whitespace included;
  (c) byte-level lossless tokenizers: token bytes concatenate to the UTF-8, decode(ids) == text;
  (d) the interface's count is the backend's own count, and encode/count/count_batch agree;
  (e) tokens of kind ``split`` come in groups that share a character, a token whose bytes are exactly
      its span's text is never ``split``, and neighbours that share a character are marked as pieces;
  (f) tokenizers that report ``lossless[0] is True`` round-trip the generated text;
  (g) the token view's text (every mark drawn by CSS) is exactly the input.

Library bugs these properties found are fixed; regression tests for each stand at the end of the file
(their *_REASON texts describe the original bug).
"""

from __future__ import annotations

import os
import unicodedata

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from analysis import TokenKind, get_tokenizer, load_catalogue
from analysis.render import shown_text, tokens_html
from tests.reference_encoders import ai21_jurassic

ALL_IDS = load_catalogue().ids

#: Byte-level tokenizers whose token bytes are exactly the text's UTF-8 and whose decoder gives the
#: text back (no normalizer): every character, whitespace included, lies in some token's span.
#: ``codepoints`` is not byte-level but has the same exactness, so it is held to the same properties.
EXACT_IDS = ["o200k_base", "cl100k_base", "p50k_base", "r50k_base", "whisper-multilingual", "whisper-gpt2", "llama3",
             "gpt-oss", "deepseek-v3",
             "mistral-tekken", "utf8-bytes", "codepoints"]

#: SentencePiece-style tokenizers: "▁" (U+2581) stands for a space in their vocabularies.
METASPACE_IDS = ["gemma", "gemma3", "llama2", "mistral-v1", "mistral-v1-hf", "mistral-v3"]

#: Tokenizers whose HF normalizer composes characters, and its form: see test_composed_marks_are_covered.
COMPOSING = {"qwen3": "NFC", "claude-legacy": "NFKC"}


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
    "   leading", "trailing   ", "a\u2581b", "\u2581\u2581",
])
TEXTS = st.lists(st.one_of(st.text(CHARS, max_size=12), FRAGMENTS), max_size=8).map("".join)

#: Modest by default so the file runs in seconds; ATLAS_PROPERTY_EXAMPLES=2000 for a deeper search.
PROPERTY = settings(max_examples=int(os.environ.get("ATLAS_PROPERTY_EXAMPLES", "40")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


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


def _rewritten_mark(form: str, text: str, i: int) -> bool:
    """Whether text[i] is a non-starter (combining mark, Hangul vowel/final jamo) whose cluster ``form`` rewrites."""

    def non_starter(c: str) -> bool:
        return unicodedata.combining(c) != 0 or 0x1160 <= ord(c) <= 0x11FF

    if not non_starter(text[i]):
        return False
    lo = i
    while lo > 0 and non_starter(text[lo]):
        lo -= 1
    hi = i + 1
    while hi < len(text) and non_starter(text[hi]):
        hi += 1
    return unicodedata.normalize(form, text[lo:hi]) != text[lo:hi]


def excused(tid: str, text: str, i: int) -> bool:
    """Whether text[i] may lie outside every span for tokenizer ``tid``."""
    c = text[i]
    if tid in EXACT_IDS:
        return False
    if c.isspace():
        return True
    return tid == "bert-uncased" and bert_deletes(c)


def uncovered(enc, tid: str) -> list[tuple[int, str]]:
    """Characters of the text in no token's span, apart from the excused ones."""
    covered = bytearray(len(enc.text))
    for s, e in zip(enc.starts, enc.ends, strict=True):
        covered[s:e] = b"\x01" * (e - s)
    return [(i, c) for i, c in enumerate(enc.text) if not covered[i] and not excused(tid, enc.text, i)]


# ----------------------------------------------------------------------------- properties


@pytest.mark.parametrize("tid", ALL_IDS)
@PROPERTY
@given(text=TEXTS)
def test_spans_in_range_and_in_order(tid: str, text: str) -> None:
    enc = get_tokenizer(tid).encode(text)
    n = len(enc.ids)
    assert len(enc.starts) == len(enc.ends) == len(enc.token_bytes) == len(enc.kinds) == n
    for k, (s, e) in enumerate(zip(enc.starts, enc.ends, strict=True)):
        assert 0 <= s <= e <= len(text), (k, s, e, len(text))
    assert all(a <= b for a, b in zip(enc.starts, enc.starts[1:], strict=False)), enc.starts
    assert all(a <= b for a, b in zip(enc.ends, enc.ends[1:], strict=False)), enc.ends


@pytest.mark.parametrize("tid", ALL_IDS)
@PROPERTY
@given(text=TEXTS)
def test_spans_cover_text(tid: str, text: str) -> None:
    enc = get_tokenizer(tid).encode(text)
    assert uncovered(enc, tid) == []


@pytest.mark.parametrize("tid", ALL_IDS)
@PROPERTY
@given(text=TEXTS, show_whitespace=st.booleans(), add_special_tokens=st.booleans(), flag_every=st.integers(1, 4))
@example(text="<img src=x onerror=alert(1)>", show_whitespace=False, add_special_tokens=False, flag_every=1)
@example(text="a\r\n\tb  👩\u200d👩\u200d👧 e\u0301", show_whitespace=True, add_special_tokens=True, flag_every=1)
def test_token_view_text_is_the_input(tid: str, text: str, show_whitespace: bool, add_special_tokens: bool,
                                      flag_every: int) -> None:
    """(g) The token view's text (its text nodes: what a reader selects and copies) is exactly the input, with every
    mark drawn: boundaries, badges, ×n, whitespace signs, pieces of tokens that cover no text, glitch flags."""
    enc = get_tokenizer(tid).encode(text, add_special_tokens=add_special_tokens)
    flags = {i: ["unreachable"] for i in enc.ids[::flag_every]}
    html = tokens_html(enc, show_whitespace=show_whitespace, max_tokens=len(enc.ids) + 1, flags=flags)
    assert shown_text(html) == text


@pytest.mark.parametrize("tid", EXACT_IDS)
@PROPERTY
@given(text=TEXTS)
def test_byte_level_bytes_concatenate_and_decode(tid: str, text: str) -> None:
    tok = get_tokenizer(tid)
    enc = tok.encode(text)
    assert b"".join(enc.token_bytes) == text.encode("utf-8")
    assert tok.decode(enc.ids) == text
    # Each token's bytes are exactly the UTF-8 of its span when the span is whole characters.
    for s, e, b, k in zip(enc.starts, enc.ends, enc.token_bytes, enc.kinds, strict=True):
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
    if tok.backend == "ai21":  # AI21's own encoder (ai21-tokenizer 1.0.0) on the same model and config
        return len(ai21_jurassic().encode(text))
    formula = {"utf8-bytes": lambda t: len(t.encode("utf-8")), "codepoints": len, "words": lambda t: len(t.split())}
    return formula[tok.id](text)


@pytest.mark.parametrize("tid", ALL_IDS)
@PROPERTY
@given(text=TEXTS, other=TEXTS)
def test_count_is_the_backends_count(tid: str, text: str, other: str) -> None:
    tok = get_tokenizer(tid)
    n = backend_count(tok, text)
    assert tok.count(text) == n
    assert tok.encode(text).count == n
    assert tok.count_batch([text]) == [n]
    assert tok.count_batch([other, text, ""]) == [backend_count(tok, other), n, 0]


@pytest.mark.parametrize("tid", ALL_IDS)
@PROPERTY
@given(text=TEXTS)
@example(text="👩\u200d👩\u200d👧 e\u0301 你好 \U00020000")
def test_split_tokens_share_a_character(tid: str, text: str) -> None:
    enc = get_tokenizer(tid).encode(text)
    s, e, kinds = enc.starts, enc.ends, enc.kinds
    n = len(kinds)

    def shares(a: int, b: int) -> bool:  # non-empty tokens a < b share a character (spans are in order)
        return s[a] < e[a] and s[b] < e[b] and s[b] < e[a]

    pieces = {TokenKind.SPLIT, TokenKind.BYTE_FALLBACK, TokenKind.UNKNOWN}
    for k in range(n):
        if kinds[k] is TokenKind.SPLIT:
            assert (k > 0 and shares(k - 1, k)) or (k + 1 < n and shares(k, k + 1)), enc.tokens[max(0, k - 2):k + 3]
            # A token whose bytes are exactly its span's text is whole, not a piece of a character.
            assert enc.token_bytes[k] != text[s[k]:e[k]].encode("utf-8"), enc.tokens[k]
        # Conversely, neighbours that share a character are marked as pieces of it.
        if k + 1 < n and shares(k, k + 1):
            assert kinds[k] in pieces and kinds[k + 1] in pieces, enc.tokens[k:k + 2]


@pytest.mark.parametrize("tid", ALL_IDS)
@PROPERTY
@given(text=TEXTS)
def test_lossless_tokenizers_roundtrip(tid: str, text: str) -> None:
    tok = get_tokenizer(tid)
    if tid in METASPACE_IDS:
        # Their one lossy probe is a typed U+2581 (decoded as a space); everything else must round-trip.
        assert tok.lossless == (False, "decode(encode('a▁b')) = 'a b'")
        text = text.replace("\u2581", "_")
    elif not tok.lossless[0]:
        pytest.skip(f"{tid} reports itself lossy: {tok.lossless[1]}")
    assert tok.roundtrip(text)


def test_hand_made_lists_match_the_catalogue() -> None:
    """EXACT_IDS report themselves lossless; the other lists name catalogue entries."""
    assert all(get_tokenizer(t).lossless == (True, "") for t in EXACT_IDS)
    assert set(METASPACE_IDS) | set(COMPOSING) <= set(ALL_IDS)
    assert {t for t in ALL_IDS if get_tokenizer(t).backend == "hf" and get_tokenizer(t).normalizer_types
            & {"NFC", "NFKC"}} == set(COMPOSING)


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


# ----------------------------------------------------------------------------- regressions: bugs these properties found


COMPOSED_REASON = (
    "library bug: tokenizers with an NFC/NFKC normalizer (qwen3, claude-legacy) leave characters that normalization "
    "composes or reorders out of every span: 'e\\u0301' -> one token, span (0, 1), U+0301 at 1 in no span; "
    "'A\\u0315\\u0300' -> the U+0315 piece gets span (2, 3) (the U+0300 that went into 'À'), index 1 in no span; "
    "conjoining jamo '\\u1100\\u1161\\u11a8' -> span (0, 1). HF's normalizer alignments give a composed "
    "character the offsets of its first source character and hf_backend passes them through.")


@pytest.mark.parametrize("tid", ALL_IDS)
@pytest.mark.parametrize("text", ["e\u0301", "A\u0315\u0300", "\u1100\u1161\u11a8"],
                         ids=["e-acute", "reordered-marks", "jamo"])
def test_composed_marks_are_covered(tid: str, text: str) -> None:
    enc = get_tokenizer(tid).encode(text)
    covered = {i for s, e in zip(enc.starts, enc.ends, strict=True) for i in range(s, e)}
    deleted = {i for i, c in enumerate(text) if tid == "bert-uncased" and bert_deletes(c)}
    assert covered | deleted == set(range(len(text)))


METASPACE_REASON = (
    "library bug: lossless reports (True, '') for SentencePiece-style tokenizers (gemma, gemma3, mistral-v1, "
    "mistral-v1-hf, mistral-v3), but decode(encode('a\\u2581b')) == 'a b': their decoders turn every U+2581 into a "
    "space. ROUNDTRIP_PROBES has no U+2581; with one, they would be reported lossy.")


@pytest.mark.parametrize("tid", ALL_IDS)
@pytest.mark.parametrize("text", ["a\u2581b", "\u2581", "<\uff5cbegin\u2581of\u2581sentence\uff5c>"],
                         ids=["a-block-b", "block", "deepseek-bos-text"])
def test_lossless_report_knows_u2581(tid: str, text: str) -> None:
    """A tokenizer that reports itself lossless gives back U+2581 LOWER ONE EIGHTH BLOCK too."""
    tok = get_tokenizer(tid)
    assert not tok.lossless[0] or tok.decode(tok.encode(text).ids) == text


U2581_REASON = (
    "library bug: mistral-v1-hf gives tokens made of U+2581 typed in the text an empty span, so those characters "
    "are in no span: encode('\\u2581\\u2581') -> one token '▁▁▁' with span (0, 0) (HF says (0, 2)); "
    "'x \\u2581\\u2581y' -> '▁▁' at (1, 1). hf_backend's rule for a prepended '▁' (token bytes all space, span "
    "text not all space -> empty span) also fires when the '▁' is in the text.")


@pytest.mark.parametrize("tid", ALL_IDS)
@pytest.mark.parametrize("text", ["\u2581\u2581", "x \u2581\u2581y", "a \u2581"], ids=["alone", "inside", "end"])
def test_literal_u2581_is_covered(tid: str, text: str) -> None:
    enc = get_tokenizer(tid).encode(text)
    covered = {i for s, e in zip(enc.starts, enc.ends, strict=True) for i in range(s, e)}
    assert [i for i, c in enumerate(text) if c == "\u2581" and i not in covered] == []


SPLIT_REASON = (
    "library bug: mistral-v1-hf marks whole tokens as split when the text starts with whitespace: encode(' a') -> "
    "'▁' span (0, 1) and '▁a' span (0, 2), both kind split, though no character is split (mistral-v1, the same "
    "vocabulary through SentencePiece, gives '▁' (0, 0) and '▁a' (0, 2), both normal); '\\ta' -> '▁' (0, 1) split "
    "next to '<0x09>' (0, 1); '\\x85' -> the whole '\\x85' token marked split. The prepended '▁' keeps the "
    "offsets of the first character when that character is whitespace, so it overlaps the real token.")


@pytest.mark.parametrize("tid", ALL_IDS)
@pytest.mark.parametrize("text", [" a", " :", "\ta", "\x85"], ids=["space-a", "space-colon", "tab-a", "NEL"])
def test_real_leading_space_is_not_split(tid: str, text: str) -> None:
    """No character of ASCII text can be split; a token whose bytes are its span's text is whole (property (e))."""
    enc = get_tokenizer(tid).encode(text)
    whole = [t for t in enc.tokens if text.isascii() or t.bytes == text[t.start:t.end].encode()]
    assert [t for t in whole if t.kind is TokenKind.SPLIT] == []
