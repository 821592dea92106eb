"""Bad input gets a correct result or a clear error, never a crash, from every catalogue tokenizer.

Covers: empty text, multi-megabyte text, a long run of one letter, lone surrogates, NUL and other
control characters, mixed scripts, emoji ZWJ sequences, right-to-left text, unknown tokenizer ids,
corrupted and missing vocabulary files (in a private ``ATLAS_CACHE``; the shared cache is never
touched), and the same cases through ``python -m analysis``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from analysis import (
    AssetError,
    AssetIntegrityError,
    InputTextError,
    TokenKind,
    UnknownTokenizerError,
    available_ids,
    get_tokenizer,
    load_catalogue,
)
from analysis.config import ROOT
from analysis.tokenizers import registry

ALL_IDS = load_catalogue().ids

#: Byte-level tokenizers with no normalizer (and the code-point baseline): token bytes are the
#: text's UTF-8 and decode gives the text back, for any text.
EXACT_IDS = {"o200k_base", "cl100k_base", "p50k_base", "r50k_base", "llama3", "gpt-oss", "deepseek-v3",
             "mistral-tekken", "utf8-bytes", "codepoints"}

def bert_deletes(c: str) -> bool:
    """What BERT-uncased's normalizer deletes (clean_text, strip_accents); test_properties.py checks the rule."""
    return c not in "\t\n\r" and (c in "\x00\ufffd" or unicodedata.category(c) in ("Cc", "Cf", "Co", "Mn"))


def assert_well_formed(enc, tid: str) -> None:
    """Spans in range and in order; every non-space character covered (all of them for EXACT_IDS)."""
    text = enc.text
    n = len(enc.ids)
    assert len(enc.starts) == len(enc.ends) == len(enc.token_bytes) == len(enc.kinds) == n
    assert all(0 <= s <= e <= len(text) for s, e in zip(enc.starts, enc.ends, strict=True))
    assert enc.starts == sorted(enc.starts) and enc.ends == sorted(enc.ends)
    covered = [False] * len(text)
    for s, e in zip(enc.starts, enc.ends, strict=True):
        covered[s:e] = [True] * (e - s)
    missing = [(i, c) for i, c in enumerate(text) if not covered[i]
               and (tid in EXACT_IDS or not (c.isspace() or (tid == "bert-uncased" and bert_deletes(c))))]
    assert missing == []
    if tid in EXACT_IDS:
        assert b"".join(enc.token_bytes) == text.encode("utf-8")
        assert enc.tokenizer.decode(enc.ids) == text


# ----------------------------------------------------------------------------- empty text


def test_empty_text(any_tokenizer) -> None:
    tok = any_tokenizer
    enc = tok.encode("")
    assert (enc.ids, enc.starts, enc.ends, enc.token_bytes, enc.kinds, enc.tokens) == ([], [], [], [], [], [])
    assert enc.count == len(enc) == 0
    assert tok.count("") == 0
    assert tok.count_batch([""]) == [0]
    assert tok.count_batch([]) == []
    assert tok.decode([]) == ""
    assert tok.roundtrip("")


def test_empty_text_with_special_tokens_has_only_empty_special_spans(any_tokenizer) -> None:
    """BOS/EOS/[CLS]/[SEP] added to empty text are special tokens that cover nothing."""
    enc = any_tokenizer.encode("", add_special_tokens=True)
    assert all(k is TokenKind.SPECIAL for k in enc.kinds), enc.tokens
    assert all(s == e == 0 for s, e in zip(enc.starts, enc.ends, strict=True)), enc.tokens


# ----------------------------------------------------------------------------- very long text

#: One line in eight scripts, with an emoji ZWJ family, a flag, a decomposed é and a tab; it ends
#: in a newline so that repeating it never merges across copies.
UNIT = ("The quick brown fox jumps over the lazy dog. Привет, мир! مرحبا بالعالم. नमस्ते दुनिया। 你好，世界。 "
        "안녕하세요 세계. ሰላም ለዓለም። สวัสดีชาวโลก 👩\u200d👩\u200d👧 🇺🇳 e\u0301 x\ty\n")
REPEATS = 2_000_000 // len(UNIT.encode("utf-8")) + 1
BIG = UNIT * REPEATS  # a little over 2 MB of UTF-8
#: One of each backend kind, fast enough on 2 MB (about 0.1-0.4 s each here).
BIG_COUNT_IDS = ["o200k_base", "gemma3", "mistral-v3", "mistral-tekken", "utf8-bytes", "codepoints", "words"]


def test_big_text_is_over_two_megabytes() -> None:
    assert len(BIG.encode("utf-8")) >= 2_000_000


@pytest.mark.parametrize("tid", BIG_COUNT_IDS)
def test_multi_megabyte_count(tid: str) -> None:
    """Counting 2 MB gives REPEATS times the count of one line (each line ends in a newline)."""
    tok = get_tokenizer(tid)
    assert tok.count(BIG) == REPEATS * tok.count(UNIT)


@pytest.mark.parametrize("tid", ALL_IDS)
def test_long_text_count_every_tokenizer(tid: str) -> None:
    """Every tokenizer on ~128 KB (2 MB for all would take ~13 s here): linear in the copies, as above."""
    tok = get_tokenizer(tid)
    copies = 128_000 // len(UNIT.encode("utf-8"))
    assert tok.count(UNIT * copies) == copies * tok.count(UNIT)


@pytest.mark.parametrize("tid", ["o200k_base", "codepoints"])
def test_multi_megabyte_encode(tid: str) -> None:
    tok = get_tokenizer(tid)
    enc = tok.encode(BIG)
    assert enc.count == tok.count(BIG) == REPEATS * tok.count(UNIT)
    assert b"".join(enc.token_bytes) == BIG.encode("utf-8")
    assert enc.starts[0] == 0 and enc.ends[-1] == len(BIG)
    # Spans tile the text: each token starts where the last ended, or inside the character it shares.
    assert all(s in (e, e - 1) for s, e in zip(enc.starts[1:], enc.ends, strict=False))


#: A run of one letter with no space is a single pre-token of 200 000 characters: the case where
#: BPE can go quadratic. Counts: o200k/cl100k have 'aaaaaaaa' (8) as their longest all-'a' token,
#: p50k/r50k 'aaaa' (4), and Tekken ends up in 'aa' pairs.
LONG_RUN_COUNTS = {"o200k_base": 25_000, "cl100k_base": 25_000, "p50k_base": 50_000, "r50k_base": 50_000,
                   "mistral-tekken": 100_000}


@pytest.mark.parametrize("tid", list(LONG_RUN_COUNTS))
def test_long_run_of_one_letter(tid: str) -> None:
    tok = get_tokenizer(tid)
    text = "a" * 200_000
    assert tok.count(text) == LONG_RUN_COUNTS[tid]
    assert tok.count_batch([text, "a"]) == [LONG_RUN_COUNTS[tid], 1]


# ----------------------------------------------------------------------------- lone surrogates and non-text


def _assert_surrogate_error(err: pytest.ExceptionInfo, code: str, position: int) -> None:
    msg = str(err.value)
    assert isinstance(err.value, ValueError)  # callers that catch ValueError still catch it
    assert f"U+{code}" in msg
    assert f"at character {position}" in msg
    assert "U+FFFD" in msg and "encode('utf-8', 'replace')" in msg  # the fix
    assert err.value.title == "Text cannot be tokenized"


@pytest.mark.parametrize(("text", "code", "position"), [
    ("a\ud800b", "D800", 1),
    ("abc\udfff", "DFFF", 3),
    ("\ud83d\ude00", "D83D", 0),  # a UTF-16 surrogate *pair* left as two code points is not an emoji either
], ids=["high-in-middle", "low-at-end", "unjoined-pair"])
def test_lone_surrogates_are_refused_clearly(any_tokenizer, text: str, code: str, position: int) -> None:
    tok = any_tokenizer
    with pytest.raises(InputTextError) as err:
        tok.encode(text)
    _assert_surrogate_error(err, code, position)
    with pytest.raises(InputTextError) as err:
        tok.count(text)
    _assert_surrogate_error(err, code, position)
    with pytest.raises(InputTextError) as err:
        tok.count_batch(["fine", text])
    _assert_surrogate_error(err, code, position)


def test_lone_surrogate_in_batch_names_the_text() -> None:
    texts = ["fine"] * 5 + ["a\ud800b"] + ["fine"] * 5
    with pytest.raises(InputTextError, match=r"\b5\b.*character 1|character 1.*\b5\b"):
        get_tokenizer("o200k_base").count_batch(texts)


def test_count_batch_refuses_a_bare_string(any_tokenizer) -> None:
    with pytest.raises((InputTextError, TypeError)):
        any_tokenizer.count_batch("hello")


@pytest.mark.parametrize("value", [b"abc", None, 42], ids=["bytes", "None", "int"])
def test_non_text_is_refused_clearly(any_tokenizer, value) -> None:
    for call in (any_tokenizer.encode, any_tokenizer.count, lambda v: any_tokenizer.count_batch([v])):
        with pytest.raises(InputTextError, match=rf"Expected text \(str\), got {type(value).__name__}.*decode"):
            call(value)


# ----------------------------------------------------------------------------- NUL and control characters


def test_nul_is_one_token_of_its_own(any_tokenizer) -> None:
    """'a\\x00b': NUL is byte 0, which every byte-level/byte-fallback vocabulary has as a token of its own.

    BERT deletes NUL (clean_text) and reads 'ab'; the words baseline sees one word.
    """
    tok = any_tokenizer
    text = "a\x00b"
    enc = tok.encode(text)
    assert_well_formed(enc, tok.id)
    spans = list(zip(enc.starts, enc.ends, strict=True))
    if tok.id == "bert-uncased":
        assert (enc.tokens[0].piece, spans) == ("ab", [(0, 3)])
    elif tok.id == "words":
        assert (enc.token_bytes, spans) == ([b"a\x00b"], [(0, 3)])
    else:
        assert enc.count == 3
        assert (spans[1], enc.token_bytes[1]) == ((1, 2), b"\x00")
    assert tok.count(text) == enc.count == tok.count_batch([text])[0]


CONTROL_TEXT = "a\x01b\x7fc\x1b[31mred\x1b[0m\x08\x07\x0b\x0c\x1c\x85\u2028end\x00"


def test_control_characters(any_tokenizer) -> None:
    tok = any_tokenizer
    enc = tok.encode(CONTROL_TEXT)
    assert_well_formed(enc, tok.id)
    assert tok.count(CONTROL_TEXT) == enc.count == tok.count_batch([CONTROL_TEXT])[0]
    if tok.id == "bert-uncased":  # controls deleted, ESC[31m -> '[', '31', 'm'; nothing unknown
        assert TokenKind.UNKNOWN not in enc.kinds
        assert enc.tokens[0].piece == "abc" and (enc.starts[0], enc.ends[0]) == (0, 5)


# ----------------------------------------------------------------------------- mixed scripts, ZWJ, RTL

MIXED = "Hello Привет مرحبا नमस्ते 你好 안녕 ሰላም สวัสดี"


def test_mixed_scripts(any_tokenizer) -> None:
    tok = any_tokenizer
    enc = tok.encode(MIXED)
    assert_well_formed(enc, tok.id)
    assert tok.count(MIXED) == enc.count
    expected = {"codepoints": 42, "utf8-bytes": len(MIXED.encode("utf-8")), "words": 8}
    if tok.id in expected:
        assert enc.count == expected[tok.id]
    if tok.id == "utf8-bytes":
        assert enc.count == 5 + 7 * 1 + 12 + 10 + 18 + 6 + 6 + 9 + 18  # ASCII, spaces, then per script
    if tok.id == "bert-uncased":  # English vocabulary: Ethiopic and Thai are [UNK], each covering its word
        unk = [(s, e) for s, e, k in zip(enc.starts, enc.ends, enc.kinds, strict=True) if k is TokenKind.UNKNOWN]
        assert (32, 35) in unk and (36, 41) in unk  # Thai's last character (U+0E35, Mn) is stripped


FAMILY = "👩\u200d👩\u200d👧"  # woman, ZWJ, woman, ZWJ, girl: 5 code points, 18 bytes


def test_emoji_zwj_sequence_splits_sensibly(any_tokenizer) -> None:
    """Pieces of one character share that character's span; no token claims a character it has no part of."""
    tok = any_tokenizer
    enc = tok.encode(FAMILY)
    assert_well_formed(enc, tok.id)
    spans = list(zip(enc.starts, enc.ends, strict=True))
    pieces = {TokenKind.SPLIT, TokenKind.BYTE_FALLBACK}
    for i in range(len(FAMILY)):
        on_i = [k for k, (s, e) in enumerate(spans) if s <= i < e]
        if len(on_i) > 1:  # a split character: its tokens are consecutive and marked as pieces
            assert on_i == list(range(on_i[0], on_i[-1] + 1))
            assert all(enc.kinds[k] in pieces for k in on_i), enc.tokens
            if tok.id in EXACT_IDS:
                assert b"".join(enc.token_bytes[k] for k in on_i) == FAMILY[i].encode("utf-8")
    if tok.id == "o200k_base":  # each emoji is F0 9F 91 + one byte; ZWJ is one token
        assert spans == [(0, 1), (0, 1), (1, 2), (2, 3), (2, 3), (3, 4), (4, 5), (4, 5)]
        assert enc.kinds == [TokenKind.SPLIT, TokenKind.SPLIT, TokenKind.NORMAL] * 2 + [TokenKind.SPLIT] * 2
    if tok.id == "utf8-bytes":
        assert spans == [(0, 1)] * 4 + [(1, 2)] * 3 + [(2, 3)] * 4 + [(3, 4)] * 3 + [(4, 5)] * 4
    if tok.id == "codepoints":
        assert spans == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    if tok.id in ("bert-uncased", "words"):  # one [UNK] / one word for the whole sequence
        assert spans == [(0, 5)]


RTL_TEXTS = {
    "hebrew-pointed": "שָׁלוֹם עולם",
    "arabic": "مرحبا بالعالم ١٢٣",
    "bidi-mixed": "He said \u202bمرحبا 123\u202c and left\u200f.",
    "override": "\u202eabc\u202c",
}


@pytest.mark.parametrize("key", list(RTL_TEXTS))
def test_right_to_left_text(any_tokenizer, key: str) -> None:
    """Spans are in logical (memory) order, whatever the display direction."""
    tok = any_tokenizer
    text = RTL_TEXTS[key]
    enc = tok.encode(text)
    assert_well_formed(enc, tok.id)
    assert tok.count(text) == enc.count == tok.count_batch([text])[0]
    if tok.lossless[0]:
        assert tok.roundtrip(text)


# ----------------------------------------------------------------------------- unknown ids


@pytest.mark.parametrize("spec", ["o200k", "GPT-4o", "", "tiktoken:o200k_base"])
def test_unknown_tokenizer_lists_the_ids(spec: str) -> None:
    with pytest.raises(UnknownTokenizerError) as err:
        get_tokenizer(spec)
    msg = str(err.value)
    assert repr(spec) in msg
    for tid in available_ids():
        assert tid in msg
    assert "file:PATH" in msg and "hf:ORG/NAME" in msg
    assert isinstance(err.value, KeyError)
    assert err.value.title == "Unknown tokenizer"


def test_malformed_hub_spec_says_what_it_should_look_like() -> None:
    with pytest.raises(UnknownTokenizerError, match=r"hf:ORG/NAME"):
        get_tokenizer("hf:not-a-repo")


# ----------------------------------------------------------------------------- corrupted / missing files


@pytest.fixture
def real_cache_dir() -> Path:
    """The shared verified cache (only read from here)."""
    env = os.environ.get("ATLAS_CACHE")
    return Path(env).expanduser() if env else ROOT / ".cache" / "atlas"


@pytest.fixture
def private_cache(real_cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An empty ATLAS_CACHE and an empty tokenizer registry; the shared registry is put back afterwards.

    (Putting the loaded tokenizers back saves the rest of the run from loading them all again.)
    """
    saved = dict(registry._cache)
    registry.clear_cache()
    monkeypatch.setenv("ATLAS_CACHE", str(tmp_path))
    yield tmp_path
    registry.clear_cache()
    registry._cache.update(saved)


def _copy_files(tid: str, src: Path, dest: Path) -> dict[str, Path]:
    """Copy the verified files of catalogue entry ``tid`` from cache ``src`` into cache ``dest``."""
    out = {}
    for role, f in load_catalogue().tokenizer(tid).files.items():
        out[role] = dest / "files" / f.path
        out[role].parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / "files" / f.path, out[role])
    return out


CORRUPTIONS = [("bert-uncased", "tokenizer"), ("r50k_base", "ranks"), ("mistral-v3", "model")]


@pytest.mark.parametrize(("tid", "role"), CORRUPTIONS, ids=[f"{t}-{r}" for t, r in CORRUPTIONS])
def test_corrupted_vocabulary_names_the_file_and_the_fix(real_cache_dir: Path, private_cache: Path,
                                                         tid: str, role: str) -> None:
    target = _copy_files(tid, real_cache_dir, private_cache)[role]
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit, same size
    target.write_bytes(bytes(data))

    with pytest.raises(AssetIntegrityError) as err:
        get_tokenizer(tid)
    msg = str(err.value)
    assert str(target) in msg
    assert "python -m analysis assets fetch --force" in msg
    assert "sha256" in msg

    # The error is about that file only: with a good copy back, the same id loads and works.
    _copy_files(tid, real_cache_dir, private_cache)
    registry.clear_cache()
    assert get_tokenizer(tid).count("hello world") >= 2


def test_missing_vocabulary_says_to_fetch(private_cache: Path) -> None:
    with pytest.raises(AssetError) as err:
        get_tokenizer("bert-uncased")
    assert not isinstance(err.value, AssetIntegrityError)
    msg = str(err.value)
    assert str(private_cache / "files" / "minilm" / "tokenizer.json") in msg
    assert "python -m analysis assets fetch" in msg
    assert err.value.title == "Vocabulary not fetched yet"


def test_missing_second_file_is_named(real_cache_dir: Path, private_cache: Path) -> None:
    """With tokenizer.json present but tokenizer_config.json missing, the error names the missing one."""
    entry = load_catalogue().tokenizer("bert-uncased")
    present = private_cache / "files" / entry.files["tokenizer"].path
    present.parent.mkdir(parents=True)
    shutil.copyfile(real_cache_dir / "files" / entry.files["tokenizer"].path, present)
    with pytest.raises(AssetError, match=r"tokenizer_config\.json is missing.*python -m analysis assets fetch"):
        get_tokenizer("bert-uncased")


# ----------------------------------------------------------------------------- the command line


def run_cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *args], input=stdin, capture_output=True,
                          cwd=ROOT, timeout=120)


def test_cli_encode_json() -> None:
    proc = run_cli("encode", "--tokenizer", "o200k_base", "--json", stdin=b"hello world")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) >= {"tokenizer", "count", "tokens"}
    assert (out["tokenizer"], out["count"]) == ("o200k_base", 2)
    assert [{k: t[k] for k in ("id", "bytes_hex", "start", "end", "kind")} for t in out["tokens"]] == [
        {"id": 24912, "bytes_hex": b"hello".hex(), "start": 0, "end": 5, "kind": "normal"},
        {"id": 2375, "bytes_hex": b" world".hex(), "start": 5, "end": 11, "kind": "normal"},
    ]


def test_cli_encode_json_on_hard_text() -> None:
    """Emoji, NUL, RTL and special-looking text: spans are character offsets, bytes add up, no control token."""
    text = "héllo 👩\u200d👩\u200d👧\x00 مرحبا <|endoftext|>\n"
    proc = run_cli("encode", "--tokenizer", "o200k_base", "--json", stdin=text.encode())
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    tokens = out["tokens"]
    assert out["count"] == len(tokens) == get_tokenizer("o200k_base").count(text)
    for t in tokens:
        assert set(t) >= {"id", "bytes_hex", "start", "end", "kind"}
        assert isinstance(t["id"], int) and isinstance(t["start"], int) and isinstance(t["end"], int)
        assert t["kind"] in {k.value for k in TokenKind}
    assert b"".join(bytes.fromhex(t["bytes_hex"]) for t in tokens) == text.encode()
    assert tokens[0]["start"] == 0 and tokens[-1]["end"] == len(text)  # characters, not bytes
    assert "special" not in {t["kind"] for t in tokens}
    lib = get_tokenizer("o200k_base").encode(text)
    assert [(t["id"], t["start"], t["end"]) for t in tokens] == list(zip(lib.ids, lib.starts, lib.ends, strict=True))


def test_cli_invalid_utf8_is_refused_with_the_fix() -> None:
    proc = run_cli("encode", "--tokenizer", "o200k_base", "--json", stdin=b"abc\xff\xfedef")
    assert proc.returncode == 2
    assert proc.stdout == b""
    err = proc.stderr.decode()
    assert "not valid UTF-8" in err and "byte 3" in err
    assert "--errors replace" in err
    assert "Traceback" not in err


def test_cli_encoded_surrogate_is_invalid_utf8() -> None:
    """A surrogate written as UTF-8 bytes (CESU-8 style) is not UTF-8: the same clear refusal, no traceback."""
    proc = run_cli("encode", "--tokenizer", "o200k_base", stdin=b"a\xed\xa0\x80b")
    assert proc.returncode == 2
    assert "--errors replace" in proc.stderr.decode() and "Traceback" not in proc.stderr.decode()


def test_cli_errors_replace() -> None:
    proc = run_cli("encode", "--tokenizer", "o200k_base", "--json", "--errors", "replace", stdin=b"abc\xffdef")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    text = "abc\ufffddef"
    assert out["count"] == get_tokenizer("o200k_base").count(text)
    assert b"".join(bytes.fromhex(t["bytes_hex"]) for t in out["tokens"]) == text.encode()
    assert out["tokens"][-1]["end"] == len(text)


def test_cli_unknown_tokenizer_lists_ids() -> None:
    proc = run_cli("encode", "--tokenizer", "no-such-tokenizer", stdin=b"hello")
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "no-such-tokenizer" in err and "Traceback" not in err
    for tid in ALL_IDS:
        assert tid in err


def test_cli_empty_stdin_counts_zero() -> None:
    proc = run_cli("encode", "--tokenizer", "o200k_base", "--json", stdin=b"")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"tokenizer": "o200k_base", "count": 0, "tokens": []}


def test_cli_tokenizers_json() -> None:
    proc = run_cli("tokenizers", "--json")
    assert proc.returncode == 0, proc.stderr
    entries = json.loads(proc.stdout)
    assert isinstance(entries, list)
    assert [e["id"] for e in entries] == ALL_IDS
    catalogue = load_catalogue()
    for e in entries:
        assert set(e) >= {"id", "name", "backend", "vocab_size", "models", "source", "sha256"}
        entry = catalogue.tokenizer(e["id"])
        assert (e["name"], e["backend"], e["vocab_size"]) == (entry.name, entry.backend, entry.vocab_size)
        assert e["models"] and all(isinstance(m, str) and m for m in e["models"])
        if entry.files:
            assert len(e["sha256"]) == 64 and int(e["sha256"], 16) >= 0
            assert "@" in e["source"] or "==" in e["source"]
        else:
            assert e["sha256"] is None and e["source"] == "built in"
