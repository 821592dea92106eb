"""The catalogue's Whisper, Llama 1/2 and Jurassic-2 vocabularies against their packages' own encoders.

- (a) whisper-multilingual / whisper-gpt2: the tiktoken encodings openai-whisper's ``get_encoding`` builds (its
  ``tokenizer.py`` loaded by path from the verified cache, without torch) equal ours field by field, and give the
  same ids on every unit of the UDHR;
- (b) llama2: the tokenizer.json rebuilt from llama-tokenizer-js is the package's vocabulary (32,000 pieces, 61,249
  merges, ``<unk>``/``<s>``/``</s>`` = 0/1/2, 256 byte pieces, "▁" = 29871); the package's own test cases pass in
  node and in our backend; ids equal the package's JS encoder on every unit of the UDHR;
- (c) jurassic2: ids equal AI21's own ``JurassicTokenizer`` (ai21-tokenizer 1.0.0) on every unit of the UDHR.

The UDHR is the store's corpus: 16,235 units in 532 language variants (tests/test_udhr.py).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from analysis import AssetError, get_tokenizer, load_catalogue
from analysis.corpus.udhr import load_udhr
from analysis.llama_js import llama_js_to_tokenizer_json, read_llama_js
from analysis.tokenizers.ai21_backend import Jurassic2Tokenizer
from analysis.tokenizers.whisper_encodings import WHISPER_ENCODINGS
from tests.reference_encoders import ai21_jurassic, cached, llama_js_encode, whisper_module

CATALOGUE = load_catalogue()


@pytest.fixture(scope="module")
def udhr_texts() -> list[str]:
    corpus = load_udhr()
    assert (len(corpus.units), len({u.lang for u in corpus.units})) == (16235, 532)
    return [u.text for u in corpus.units]


# ---------------------------------------------------------------- (a) Whisper


def test_whisper_reference_needs_no_torch() -> None:
    """whisper/tokenizer.py imports tiktoken only: loading it by path, in a clean interpreter, pulls in neither torch
    nor the rest of whisper, and its get_encoding works there."""
    code = ("import sys; from tests.reference_encoders import whisper_module; "
            "n = whisper_module().get_encoding('multilingual').n_vocab; "
            "print(n, sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'whisper', 'numba'}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parent.parent)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split("\n")[-2] == "51865 []"


@pytest.mark.parametrize(("tid", "name", "n_ranks", "n_vocab"), [
    ("whisper-multilingual", "multilingual", 50257, 51865),  # 50,257 ranks + 2 + 99 languages + 6 + 1,501 timestamps
    ("whisper-gpt2", "gpt2", 50256, 51864),
])
def test_whisper_encodings_are_whisper_get_encoding(tid: str, name: str, n_ranks: int, n_vocab: int) -> None:
    ref = whisper_module().get_encoding(name)
    ours = get_tokenizer(tid).encoding
    assert WHISPER_ENCODINGS[tid] == name
    assert len(ours._mergeable_ranks) == n_ranks and ours.n_vocab == ref.n_vocab == n_vocab
    assert ours._pat_str == ref._pat_str
    assert ours._special_tokens == ref._special_tokens
    assert ours._mergeable_ranks == ref._mergeable_ranks
    assert CATALOGUE.tokenizer(tid).vocab_size == n_vocab
    specials = ours._special_tokens
    assert (specials["<|endoftext|>"], specials["<|startoftranscript|>"], specials["<|en|>"], specials["<|su|>"],
            specials["<|translate|>"], specials["<|notimestamps|>"], specials["<|0.00|>"]) == (
        n_ranks, n_ranks + 1, n_ranks + 2, n_ranks + 100, n_ranks + 101, n_ranks + 106, n_ranks + 107)
    assert "<|yue|>" not in specials  # the 100th language: large-v3 and turbo only


def test_whisper_multilingual_has_an_empty_token_and_gpt2_is_r50k() -> None:
    """multilingual.tiktoken's rank 50256 is the empty token "="; gpt2.tiktoken is r50k_base.tiktoken exactly."""
    lines = cached("openai/whisper/assets/multilingual.tiktoken").read_bytes().splitlines()
    assert lines[-1] == b"= 50256" and len(lines) == 50257
    assert get_tokenizer("whisper-multilingual").encoding._mergeable_ranks[b""] == 50256
    assert CATALOGUE.files["openai/whisper/assets/gpt2.tiktoken"].sha256 == \
        CATALOGUE.files["openai/r50k_base.tiktoken"].sha256


@pytest.mark.parametrize(("tid", "name", "total"), [
    ("whisper-multilingual", "multilingual", 3191682), ("whisper-gpt2", "gpt2", 3823720)])
def test_whisper_ids_equal_whisper_on_the_udhr(udhr_texts: list[str], tid: str, name: str, total: int) -> None:
    ref = whisper_module().get_encoding(name).encode_ordinary_batch(udhr_texts)
    tok = get_tokenizer(tid)
    ours = [tok.encode(t).ids for t in udhr_texts]
    assert len(ours) == len(ref) == 16235
    assert [i for i, (a, b) in enumerate(zip(ours, ref, strict=True)) if a != b] == []
    assert sum(map(len, ours)) == total  # measured once; any change of ids or counts shows here
    assert tok.count_batch(udhr_texts) == [len(r) for r in ref]


# ---------------------------------------------------------------- (b) Llama 1/2


def test_llama2_file_is_the_package_vocabulary_rebuilt() -> None:
    entry = CATALOGUE.files["meta/llama2/tokenizer.json"]
    source = cached("meta/llama-tokenizer-js/llama-tokenizer.js").read_bytes()
    assert hashlib.sha256(source).hexdigest() == entry.source_sha256
    rebuilt = llama_js_to_tokenizer_json(source)  # deterministic: the same bytes every time
    assert rebuilt == cached("meta/llama2/tokenizer.json").read_bytes()
    assert hashlib.sha256(rebuilt).hexdigest() == entry.sha256
    pieces, merges = read_llama_js(source)
    assert (len(pieces), len(merges)) == (32000, 61249)
    assert pieces[:3] == ["<unk>", "<s>", "</s>"]
    assert pieces[3:259] == [f"<0x{b:02X}>" for b in range(256)]
    assert pieces[29871] == "\u2581" and pieces[29889] == "."  # Mistral v1 has "▁" at 28705
    assert (pieces[merges[0][0]], pieces[merges[0][1]]) == ("\u2581", "t")  # the first merge: "▁" + "t"
    doc = json.loads(rebuilt)
    assert doc["model"]["byte_fallback"] is True and doc["model"]["unk_token"] == "<unk>"
    assert doc["normalizer"]["normalizers"][0] == {"type": "Prepend", "prepend": "\u2581"}


def test_llama2_is_not_mistral_v1() -> None:
    """Same size, same layout, different vocabulary: most ids above the byte pieces name other pieces."""
    llama, mistral = get_tokenizer("llama2"), get_tokenizer("mistral-v1-hf")
    assert llama.vocab_size == mistral.vocab_size == 32000
    assert [llama.piece(i) for i in range(259)] == [mistral.piece(i) for i in range(259)]
    same = sum(llama.piece(i) == mistral.piece(i) for i in range(259, 32000))
    assert same < 2000, same
    assert (llama.hf.token_to_id("\u2581"), mistral.hf.token_to_id("\u2581")) == (29871, 28705)


#: llama-tokenizer-js 1.2.2's own test cases (its defaultTests), with the BOS (1) its encode adds by default.
LLAMA_JS_CASES = [
    ("grabbed", [1, 2646, 1327, 287]),
    (" grabbed", [1, 29871, 2646, 1327, 287]),
    ("           grabbed", [1, 9651, 2646, 1327, 287]),
    ("\n", [1, 29871, 13]),
    (" \n", [1, 259, 13]),
    ("\ttabs\t\t\t\tout here", [1, 29871, 12, 21175, 12, 12, 12, 12, 449, 1244]),
    ("ax\n####\nboo", [1, 4853, 13, 4136, 13, 833, 29877]),
    ("镇", [1, 29871, 30411]),
    ("🦙", [1, 29871, 243, 162, 169, 156]),
    ("🦙Ꙋ", [1, 29871, 243, 162, 169, 156, 237, 156, 141]),
    ("Ꙋ🦙", [1, 29871, 237, 156, 141, 243, 162, 169, 156]),
    ("Hello world!", [1, 15043, 3186, 29991]),  # the README's example
]


@pytest.mark.parametrize(("text", "ids"), LLAMA_JS_CASES, ids=[repr(t) for t, _ in LLAMA_JS_CASES])
def test_llama2_passes_the_package_test_cases(text: str, ids: list[int]) -> None:
    tok = get_tokenizer("llama2")
    enc = tok.encode(text, add_special_tokens=True)
    assert enc.ids == ids
    assert tok.count(text) == len(ids) - 1  # counts never include the BOS
    assert tok.decode(enc.ids[1:]) == text


def test_llama2_ids_equal_the_package_encoder_on_the_udhr(udhr_texts: list[str]) -> None:
    """Every UDHR unit, encoded by llama-tokenizer-js in node (after its own test cases pass) and by our llama2."""
    ref = llama_js_encode(udhr_texts, run_package_tests=True)
    tok = get_tokenizer("llama2")
    ours = [e.ids for e in tok.hf.encode_batch(udhr_texts, add_special_tokens=False)]
    assert len(ours) == len(ref) == 16235
    assert [i for i, (a, b) in enumerate(zip(ours, ref, strict=True)) if a != b] == []
    assert sum(map(len, ref)) == 3181998  # measured once
    assert tok.count_batch(udhr_texts) == [len(r) for r in ref]
    sample = udhr_texts[::97]  # and through the full encode (spans, kinds) on a spread of units
    assert [tok.encode(t).ids for t in sample] == ref[::97]


# ---------------------------------------------------------------- (c) Jurassic-2


def test_jurassic2_ids_equal_ai21_on_the_udhr(udhr_texts: list[str]) -> None:
    ref = ai21_jurassic()
    expected = [ref.encode(t) for t in udhr_texts]
    tok = get_tokenizer("jurassic2")
    ours = [tok.ids_of(t) for t in udhr_texts]
    assert len(ours) == len(expected) == 16235
    assert [i for i, (a, b) in enumerate(zip(ours, expected, strict=True)) if a != b] == []
    assert tok.count_batch(udhr_texts) == [len(e) for e in expected]
    assert sum(map(len, expected)) == 2979075  # measured once
    sample = udhr_texts[::29]  # the full encode (spans) on a spread of units
    assert [tok.encode(t).ids for t in sample] == expected[::29]


J2_CASES = ["Hello  World\tTab\nnew line ", "  lead", "trail  ", "a\n\n\nb", "\n", " ", "x" + " " * 40 + "y",
            "1234567890123 ０１２３ 12,345.678", "ﬁ ½ x² ㎏", "<|newline|> <|endoftext|>", "e\u0301 🦙\u200d"]


@pytest.mark.parametrize("text", J2_CASES)
def test_jurassic2_edge_cases_equal_ai21(text: str) -> None:
    tok = get_tokenizer("jurassic2")
    assert tok.encode(text).ids == tok.ids_of(text) == ai21_jurassic().encode(text)


def test_jurassic2_spaces_newlines_and_numbers_by_hand() -> None:
    tok = get_tokenizer("jurassic2")
    sp = tok.sp
    # "a  b": the line is " a  b"; the two spaces are written as "▁" (the run's length - 1) and "▁b" takes the last.
    assert tok.encode("a  b").ids == [sp.piece_to_id("\u2581a"), sp.piece_to_id("\u2581"), sp.piece_to_id("\u2581b")]
    # A newline is <|newline|> (id 4), and the next line gets its own dummy prefix.
    enc = tok.encode("a\nb")
    assert enc.ids == [sp.piece_to_id("\u2581a"), 4, sp.piece_to_id("\u2581b")]
    assert enc.token_bytes[1] == b"\n" and (enc.starts[1], enc.ends[1]) == (1, 2)
    # 1234567 is no piece: split in threes from the right, each group a piece.
    groups = [sp.piece_to_id(g) for g in ("1", "234", "567")]
    assert tok.encode("1234567").ids == [sp.piece_to_id("\u2581"), *groups]
    assert [(s, e) for s, e in zip(tok.encode("1234567").starts, tok.encode("1234567").ends, strict=True)] == [
        (0, 0), (0, 1), (1, 4), (4, 7)]


def test_jurassic2_refuses_another_config(tmp_path) -> None:
    config = tmp_path / "config.json"
    settings = json.loads(cached("ai21/j2-tokenizer/config.json").read_text(encoding="utf-8"))
    config.write_text(json.dumps(settings | {"number_mode": "left"}), encoding="utf-8")
    with pytest.raises(AssetError, match="implements AI21's"):
        Jurassic2Tokenizer("j2-test", cached("ai21/j2-tokenizer/j2-tokenizer.model"), config)


def test_catalogue_models_of_the_new_entries() -> None:
    """Which models each new vocabulary serves is written in the catalogue (and shown by the CLI and the app)."""
    models = {t: CATALOGUE.tokenizer(t).models for t in ("whisper-multilingual", "whisper-gpt2", "llama2", "jurassic2")}
    assert "Whisper large-v2" in models["whisper-multilingual"]
    assert models["whisper-gpt2"][0] == "Whisper tiny.en"
    assert models["llama2"][:2] == ("LLaMA (1)", "Llama 2")
    assert "Jurassic-2 Ultra" in models["jurassic2"]
    assert CATALOGUE.tokenizer("mistral-v1-hf").name.startswith("Mistral v1")
