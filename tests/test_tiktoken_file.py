"""A ``.tiktoken`` file loaded as a tokenizer (analysis.tokenizers.tiktoken_backend.TiktokenFileTokenizer): its
tiktoken.Encoding is made on first use only, a count over many texts never makes it, and everything it gives equals
what the eagerly made encoding gives; a file that forms no encoding fails on first use with the loader's message."""

from __future__ import annotations

from pathlib import Path

import pytest
import tiktoken

from analysis.assets import asset_path
from analysis.catalogue import load_catalogue
from analysis.errors import AssetError
from analysis.tokenizers import get_tokenizer
from analysis.tokenizers.registry import load_file
from analysis.tokenizers.tiktoken_backend import TiktokenFileTokenizer, read_tiktoken_ranks

TEXTS = ["Hello, world!", "", "नमस्ते दुनिया", "你好，世界", "e\u0301 \U0001F600", "  spaces  ", "<|endoftext|>"]


def _cl100k_file() -> Path:
    return asset_path(load_catalogue().files["openai/cl100k_base.tiktoken"])


def test_counting_never_makes_the_encoding_and_equals_it() -> None:
    pattern = get_tokenizer("cl100k_base").split_pattern
    tok = load_file(_cl100k_file(), tokenizer_id="file:cl100k-test", pattern=pattern)
    assert isinstance(tok, TiktokenFileTokenizer)
    assert tok.vocab_size == 100_256  # ranks 0..100255, no special token
    stats = tok.unit_stats(TEXTS, [None] * len(TEXTS))
    assert "encoding" not in vars(tok)
    eager = tiktoken.Encoding(name="eager", pat_str=pattern, mergeable_ranks=read_tiktoken_ranks(_cl100k_file()),
                              special_tokens={})
    expected = [eager.encode_ordinary(t) for t in TEXTS]
    assert stats.n_tokens == [len(x) for x in expected]
    assert stats.ids.tolist() == [i for x in expected for i in x]
    assert stats.n_tokens[0] == 4  # "Hello" "," " world" "!"
    assert tok.encode("<|endoftext|>").ids == eager.encode_ordinary("<|endoftext|>")  # plain text: no special token
    assert tok.vocab_size == eager.n_vocab
    assert tok.token_tables().token_bytes[9906] == eager.decode_single_token_bytes(9906) == b"Hello"


def test_a_file_that_forms_no_encoding_fails_on_first_use() -> None:
    tok = load_file(_cl100k_file(), tokenizer_id="file:bad-pattern", pattern="(")  # the ranks read; no encoding made
    with pytest.raises(AssetError, match="does not form a tiktoken encoding"):
        tok.count("x")
    with pytest.raises(AssetError, match="does not form a tiktoken encoding"):
        tok.unit_stats(["x"], [None])
