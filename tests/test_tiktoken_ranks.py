"""A catalogue tiktoken encoding gives up its dict of ranks once the tokenizer's per-id tables exist
(analysis.tokenizers.tiktoken_backend.RanksFromTable): the ranks it reads back, and those a pickled encoding carries,
are exactly the verified file's, and the ids do not change."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from analysis.assets import asset_path
from analysis.catalogue import load_catalogue
from analysis.tokenizers.backends import get_backend
from analysis.tokenizers.tables import TokenTables
from analysis.tokenizers.tiktoken_backend import RanksFromTable, read_tiktoken_ranks

CATALOGUE = load_catalogue()
TIKTOKEN = [t for t in CATALOGUE.ids if CATALOGUE.describe(t).backend == "tiktoken"]
TEXTS = ["Hello, world!", "नमस्ते दुनिया", "你好，世界", "e\u0301 \U0001F600  x", "<|endoftext|>"]


def test_every_tiktoken_entry_is_covered() -> None:
    assert TIKTOKEN == ["o200k_base", "cl100k_base", "p50k_base", "r50k_base", "whisper-multilingual", "whisper-gpt2"]


@pytest.mark.parametrize("tokenizer_id", TIKTOKEN)
def test_ranks_read_back_and_pickled_equal_the_file(tokenizer_id: str) -> None:
    entry = CATALOGUE.describe(tokenizer_id)
    files = {role: asset_path(f) for role, f in entry.files.items()}
    tok = get_backend("tiktoken").load_entry(entry, files)  # a fresh load: the shared one may have given it up
    enc = tok.encoding
    before = [enc.encode_ordinary(t) for t in TEXTS]
    tables = tok.token_tables()
    assert isinstance(enc._mergeable_ranks, RanksFromTable)
    ranks = read_tiktoken_ranks(asset_path(entry.files["ranks"]))
    assert dict(enc._mergeable_ranks) == ranks
    assert len(enc._mergeable_ranks) == len(ranks) == {"o200k_base": 199_998, "cl100k_base": 100_256,
                                                       "whisper-multilingual": 50_257}.get(tokenizer_id, len(ranks))
    assert [enc.encode_ordinary(t) for t in TEXTS] == before
    assert tables.token_bytes[ranks[b" world"]] == b" world"
    again = pickle.loads(pickle.dumps(enc))  # tiktoken pickles its ranks: a plain dict, the same as the file's
    assert type(again._mergeable_ranks) is dict and again._mergeable_ranks == ranks
    assert [again.encode_ordinary(t) for t in TEXTS] == before
    assert again.encode("<|endoftext|>", allowed_special="all") == enc.encode("<|endoftext|>", allowed_special="all")


def test_the_mapping_reads_no_gap_and_no_special_token() -> None:
    tables = TokenTables.from_bytes([b"a", b"", b"ab", b"<|x|>", b""], np.zeros(5, dtype=np.uint8))
    r = RanksFromTable(tables, skip=[1, 3])  # id 1 a gap; id 4 the empty bytes' rank
    assert "token_bytes" not in vars(tables)  # nothing read yet: no bytes object per id made
    assert dict(r) == {b"a": 0, b"ab": 2, b"": 4} and len(r) == 3 and list(r) == [b"a", b"ab", b""]
    with pytest.raises(KeyError):
        r[b"<|x|>"]
    assert pickle.loads(pickle.dumps(r)) == {b"a": 0, b"ab": 2, b"": 4}


def test_the_file_is_parsed_block_by_block_as_one_list_of_lines_would_be(tmp_path) -> None:
    """The parser reads ~64 KiB at a time (no list of every line): every line of every catalogue file is read as
    tiktoken's own loader reads it, in file order; a bad line far past the first block is named by its number in the
    whole file, whatever line ends the file uses."""
    import base64

    from analysis.errors import AssetError

    for tokenizer_id in TIKTOKEN:
        data = asset_path(CATALOGUE.describe(tokenizer_id).files["ranks"]).read_bytes()
        assert len(data) > 2 * 64 * 1024  # several blocks
        ranks = read_tiktoken_ranks(asset_path(CATALOGUE.describe(tokenizer_id).files["ranks"]))
        # tiktoken's load_tiktoken_bpe, but for the empty token "=" (whisper's multilingual file)
        expected = {(b"" if t == b"=" else base64.b64decode(t)): int(r)
                    for t, r in (line.split() for line in data.splitlines() if line)}
        assert list(ranks.items()) == list(expected.items())
    lines = [f"{base64.b64encode(bytes([b % 256]) * (1 + b // 256)).decode()} {b}" for b in range(9000)]
    lines[8500] = "not-base64! 8500"  # ~110 KiB in: the second block
    for end in ("\n", "\r\n", "\r"):
        path = tmp_path / f"bad{len(end)}{end == chr(13)}.tiktoken"
        path.write_bytes(end.join(lines).encode() + end.encode())
        with pytest.raises(AssetError, match=r"line 8501 is b'not-base64! 8500'\."):
            read_tiktoken_ranks(path)
