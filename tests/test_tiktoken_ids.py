"""tiktoken ids for counting (analysis.tokenizers.tiktoken_backend.ordinary_id_arrays): straight from tiktoken's core as
uint32 buffers, equal to ``encode_ordinary`` whatever the text holds, for encodings with special tokens (the
catalogue's) and without any (a visitor's ``.tiktoken``, Tekken's core: counted through a twin core)."""

from __future__ import annotations

import numpy as np
import pytest
import tiktoken

from analysis.errors import InputTextError
from analysis.tokenizers import get_tokenizer
from analysis.tokenizers.tiktoken_backend import TWIN_SPECIAL, TiktokenTokenizer, ordinary_id_arrays

#: Bytes 0-255 as ranks 0-255, "ab" merged as 256; pieces are runs of a-z or any other single character.
TOY = tiktoken.Encoding("toy", pat_str=r"[a-z]+|[^a-z]", mergeable_ranks={**{bytes([b]): b for b in range(256)},
                                                                           b"ab": 256}, special_tokens={})


def test_by_hand_without_special_tokens() -> None:
    """"abc\\0ab": pieces "abc" (a+b merged, then c), NUL, "ab"; "" has no id; "é" is its two UTF-8 bytes."""
    flat, counts = ordinary_id_arrays(TOY)(["abc\x00ab", "", "é"])
    assert flat.dtype == np.int64 and counts.dtype == np.int64
    assert flat.tolist() == [256, 99, 0, 256, 195, 169] and counts.tolist() == [4, 0, 2]
    # The twin's special token, typed, is text like any other: its bytes, one by one but for no merge.
    assert ordinary_id_arrays(TOY)([TWIN_SPECIAL])[0].tolist() == list(TWIN_SPECIAL.encode())
    empty = ordinary_id_arrays(TOY)([])
    assert empty[0].tolist() == [] and empty[1].tolist() == []


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base", "whisper-multilingual"])
def test_equal_to_encode_ordinary(name: str) -> None:
    """With the encoding's special tokens (typed, they are text) and without any (the same ranks and pattern: a
    visitor's upload of the file), the ids are encode_ordinary's."""
    enc = get_tokenizer(name).encoding
    texts = ["Hello world", "<|endoftext|> and <|fim_prefix|> typed", TWIN_SPECIAL + " x \x00 y", "", "नमस्ते दुनिया",
             "人人生而自由", " \n\n  trailing  "]
    # A plain dict: once the shared tokenizer's tables exist (another test in this process counted with it), its
    # encoding holds its ranks as a RanksFromTable mapping, which tiktoken's constructor does not take.
    plain = tiktoken.Encoding(f"{name}-plain", pat_str=enc._pat_str, mergeable_ranks=dict(enc._mergeable_ranks),
                              special_tokens={})
    for encoding in (enc, plain):
        flat, counts = ordinary_id_arrays(encoding)(texts)
        expected = [encoding.encode_ordinary(t) for t in texts]
        assert counts.tolist() == [len(ids) for ids in expected]
        assert flat.tolist() == [i for ids in expected for i in ids]
    assert enc.special_tokens_set and not plain.special_tokens_set


def test_a_text_that_is_not_unicode_is_refused_with_its_message() -> None:
    tok = TiktokenTokenizer("toy", TOY)
    with pytest.raises(InputTextError, match=r"lone surrogate \(U\+D800\) at character 1"):
        tok.unit_stats(["fine", "a\ud800b"], [None, None])
    assert tok.unit_stats(["ab", "abc"], [[(0, 2)], [(0, 3)]]).n_continued == [0, 1]  # "abc": "ab" + "c"


class _Counting:
    """A tiktoken core that counts its encode calls."""

    def __init__(self, core) -> None:
        self.core, self.calls = core, []

    def encode_to_tiktoken_buffer(self, text, allowed):
        self.calls.append(sorted(allowed))
        return self.core.encode_to_tiktoken_buffer(text, allowed)


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base", "whisper-multilingual"])
def test_a_batch_is_one_call_cut_at_the_separator_and_equal_text_by_text(name: str) -> None:
    """The texts go to the core joined by one special token (the encoding's last), allowed for that call only: one
    call, and each text's ids are encode_ordinary's, its ends included (trailing spaces, a text ending in the start of
    the separator, empty texts); a batch where a text holds the separator is encoded text by text, nothing allowed."""
    from analysis.tokenizers.tiktoken_backend import core_id_arrays

    enc = get_tokenizer(name).encoding
    separator = max(enc._special_tokens, key=enc._special_tokens.__getitem__)
    assert separator == {"o200k_base": "<|endofprompt|>", "cl100k_base": "<|endofprompt|>"}.get(name, separator)
    texts = ["Hello world  ", "", "  leading", "ends in <|endof", "prompt|> starts it", "\n\n", "<|endoftext|> typed",
             "人人生而自由", "x"]
    core = _Counting(enc._core_bpe)
    arrays = core_id_arrays(core, separator, enc._special_tokens[separator])
    flat, counts = arrays(texts)
    expected = [enc.encode_ordinary(t) for t in texts]
    assert core.calls == [[separator]]
    assert counts.tolist() == [len(e) for e in expected] and flat.tolist() == [i for e in expected for i in e]
    assert counts[1] == 0 and enc._special_tokens[separator] not in flat.tolist()

    typed = [*texts[:3], f"the separator {separator} typed", *texts[3:]]
    core.calls.clear()
    flat, counts = arrays(typed)
    expected = [enc.encode_ordinary(t) for t in typed]
    assert core.calls == [[]] * len(typed)  # text by text, nothing allowed: the typed separator is text
    assert counts.tolist() == [len(e) for e in expected] and flat.tolist() == [i for e in expected for i in e]
    core.calls.clear()
    assert arrays(["just one"])[0].tolist() == enc.encode_ordinary("just one") and core.calls == [[]]
    assert [a.tolist() for a in arrays([])] == [[], []]
