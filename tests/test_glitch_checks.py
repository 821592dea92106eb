"""Tokenizer checks on real vocabularies: expectations derived by hand, token by token.

How the ids below are known:
- Byte-level BPE (GPT-2 style, cl100k_base): the first 256 ranks are the single bytes in the order of GPT-2's
  bytes_to_unicode (printable ``!``..``~`` = 0x21..0x7E -> ids 0..93, then 0xA1.. -> 94..). Id 378 is the two bytes
  E2 80: E2 opens a three-byte UTF-8 sequence (U+2000..U+2FFF, e.g. the em dash E2 80 94), 80 continues it, and the
  third byte is missing, so the token is partial UTF-8 and shows as ``<0xE2><0x80>``.
- SentencePiece with byte fallback (mistral-v1, the Llama-2-style 32k vocabulary): ids 0, 1, 2 are <unk>, <s>,
  </s>; ids 3..258 are the pieces <0x00>..<0xFF>, so <0xE4> is 3 + 0xE4 = 231 and <0x41> is 3 + 0x41 = 68.
  <0xE4> is a lead byte alone: byte-fallback and partial UTF-8. <0x41> is "A", which has pieces of its own ("▁A"
  at the start of a text, "A" after another piece), so the byte piece is never produced: unreachable.
- BERT WordPiece: [PAD] 0, [unused0] 1, [CLS] 101 are in the vocabulary file's order. "[unused0]" typed as text is
  split by BERT's punctuation rule into "[", "unused", "##0", "]" (1031 15171 2692 1033): unreachable. "##!" is
  unreachable because punctuation is always a word of its own, never the continuation of one.
- o200k_base 3413 is " I'": its pattern splits the apostrophe off, so " I'" encodes as " I" (357) + "'" (6).
- qwen3 132515 stores "ế" decomposed, ê (C3 AA) + combining acute U+0301 (CC 81); Qwen's NFC normalizer composes
  it to U+1EBF, so the token is changed by normalization, and unreachable (composed text never meets its bytes).
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.glitch import Category, GlitchError, scan_vocabulary
from analysis.glitch.categories import from_names, names
from analysis.glitch.checks import display, encode_plain
from analysis.tokenizers import get_tokenizer


@pytest.fixture(scope="module")
def scans():
    cache: dict[str, object] = {}

    def get(tid: str):
        if tid not in cache:
            cache[tid] = scan_vocabulary(get_tokenizer(tid))
        return cache[tid]

    return get


def test_cl100k_partial_utf8_token(scans) -> None:
    s = scans("cl100k_base")
    assert len(s) == 100277
    assert s.token_bytes[378] == b"\xe2\x80"
    assert s.display[378] == "<0xE2><0x80>"
    assert s.categories(378) == ["partial-utf8"]
    assert s.script[378] == "partial UTF-8"
    assert s.token_bytes[94] == b"\xa1" and s.categories(94) == ["partial-utf8"]  # a continuation byte alone
    assert s.token_bytes[0] == b"!" and s.categories(0) == []
    assert s.categories(100257) == ["special"] and s.display[100257] == "<|endoftext|>"
    assert s.display[2275] == "о<0xD0>" and s.script[2275] == "partial UTF-8"  # Cyrillic о + a lead byte


@pytest.mark.parametrize("tid", ["mistral-v1", "mistral-v1-hf"])
def test_sentencepiece_byte_fallback_tokens(scans, tid: str) -> None:
    s = scans(tid)
    assert [s.categories(i) for i in (0, 1, 2)] == [["special"]] * 3
    assert s.token_bytes[231] == b"\xe4" and s.display[231] == "<0xE4>"
    assert s.categories(231) == ["byte-fallback", "partial-utf8"]
    assert s.token_bytes[68] == b"A" and s.categories(68) == ["byte-fallback", "unreachable"]
    tok = get_tokenizer(tid)
    assert encode_plain(tok, ["A"]) == [[330]] and tok.piece(330) == "▁A"
    assert encode_plain(tok, ["«A"]) == [[1509, 28741]] and tok.piece(28741) == "A"
    assert s.token_bytes[28705] == b" " and s.categories(28705) == []  # "▁"
    # 256 byte pieces; the 128 from 0x80 up are partial UTF-8
    assert s.counts()["byte-fallback"] == 256 and s.counts()["partial-utf8"] == 128


def test_two_backends_of_one_vocabulary_agree(scans) -> None:
    """mistral-v1 (SentencePiece through mistral-common) and mistral-v1-hf (HF tokenizers) hold the same 32,000
    pieces id for id; every check must come out the same through both code paths."""
    a, b = scans("mistral-v1"), scans("mistral-v1-hf")
    assert np.array_equal(a.flags, b.flags)
    assert a.display.tolist() == b.display.tolist()
    assert a.script.tolist() == b.script.tolist()


def test_bert_wordpiece(scans) -> None:
    s = scans("bert-uncased")
    tok = get_tokenizer("bert-uncased")
    assert s.categories(0) == ["special"] and s.categories(101) == ["special"]
    assert s.categories(1) == ["unreachable"] and s.display[1] == "[unused0]"
    assert encode_plain(tok, ["[unused0]"]) == [[1031, 15171, 2692, 1033]]
    assert s.categories(tok.hf.token_to_id("##!")) == ["unreachable"]
    assert s.categories(2133) == ["unreachable"]  # "..." is three "."
    ing = tok.hf.token_to_id("##ing")
    assert s.display[ing] == "ing" and s.categories(ing) == []  # reachable after a letter: "walking" -> walk ##ing
    assert s.categories(1996) == [] and s.display[1996] == "the"
    unused = [i for i in range(len(s)) if tok.piece(i).startswith("[unused")]
    assert len(unused) == 994 and all(s.categories(i) == ["unreachable"] for i in unused)


def test_o200k_unreachable_contraction(scans) -> None:
    s = scans("o200k_base")
    assert s.display[3413] == " I'" and s.categories(3413) == ["unreachable"]
    assert encode_plain(get_tokenizer("o200k_base"), [" I'"]) == [[357, 6]]


def test_qwen3_normalization_changed(scans) -> None:
    s = scans("qwen3")
    assert s.token_bytes[132515] == b"\xc3\xaa\xcc\x81"
    assert s.categories(132515) == ["unreachable", "normalization-changed"]


def test_utf8_bytes_baseline(scans) -> None:
    s = scans("utf8-bytes")
    assert len(s) == 259
    assert [s.categories(i) for i in range(3)] == [["special"]] * 3
    assert s.display[3 + 0x41] == "A" and s.categories(3 + 0x41) == []
    assert s.display[3 + 0xE4] == "<0xE4>" and s.categories(3 + 0xE4) == ["partial-utf8"]
    assert s.counts() == {"special": 3, "byte-fallback": 0, "partial-utf8": 128, "unreachable": 0,
                          "normalization-changed": 0}


@pytest.mark.parametrize("tid", ["codepoints", "words"])
def test_baselines_without_a_vocabulary_are_refused(tid: str) -> None:
    with pytest.raises(GlitchError, match="no finite vocabulary"):
        scan_vocabulary(get_tokenizer(tid))


def test_flags_match_the_bytes(scans) -> None:
    """Partial UTF-8 exactly where the bytes do not decode; special exactly the tokenizer's special ids."""
    s = scans("cl100k_base")
    bad = np.array([not _decodes(b) for b in s.token_bytes.tolist()])
    assert np.array_equal(bad, (s.flags & Category.PARTIAL_UTF8) > 0)
    assert set(np.flatnonzero(s.flags & Category.SPECIAL).tolist()) == {100257, 100258, 100259, 100260, 100276}


def _decodes(b: bytes) -> bool:
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def test_category_names_round_trip() -> None:
    assert names(int(from_names(["unreachable", "special"]))) == ["special", "unreachable"]
    with pytest.raises(GlitchError, match="choose from: special, byte-fallback"):
        from_names(["glitchy"])
    # Occurrences in the store's corpora are no category (they say nothing about what a model saw in training).
    for retired in ("rare", "never-seen"):
        with pytest.raises(GlitchError, match="Unknown token category"):
            from_names([retired])
    assert display(b"\xf0\x9f\x99") == "<0xF0><0x9F><0x99>"


def test_torch_stays_inside_the_glitch_model_modules() -> None:
    """The checks, the store functions and the CLI import no torch (the build and the app use them); only the
    model-side modules of analysis/glitch import it."""
    import re
    import subprocess
    import sys

    from analysis.config import ROOT

    code = ("import sys, analysis.glitch, analysis.glitch.cli, analysis.glitch.store, analysis.glitch.charts;"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"
    users = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "analysis").rglob("*.py")
                   if re.search(r"^\s*(import torch|from torch)", p.read_text(), re.M))
    assert users == ["analysis/glitch/indicators.py", "analysis/glitch/probe.py", "analysis/glitch/verify.py"]
