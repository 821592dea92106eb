"""A Hugging Face tokenizer's per-id tables kept in the asset cache (analysis.tokenizers.tables_cache): read back, they
are exactly the tables made from the vocabulary; a file that does not match is never read; the key is the loaded
file's sha256, so a changed file makes new tables."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from analysis.assets import asset_path
from analysis.catalogue import load_catalogue
from analysis.tokenizers.backends import get_backend
from analysis.tokenizers.registry import load_file
from analysis.tokenizers.tables import TokenTables
from analysis.tokenizers.tables_cache import cache_path, cached_tables

CATALOGUE = load_catalogue()
HF = [t for t in CATALOGUE.ids if CATALOGUE.describe(t).backend == "hf"]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_TABLES_CACHE", str(tmp_path / "tables"))
    return tmp_path / "tables"


def _fresh(tokenizer_id: str):
    entry = CATALOGUE.describe(tokenizer_id)
    return get_backend("hf").load_entry(entry, {role: asset_path(f) for role, f in entry.files.items()})


def _made(tok) -> TokenTables:
    return TokenTables.from_bytes(tok._bytes_table, tok._classes)  # what _tables makes without the cache


def _same(a: TokenTables, b: TokenTables) -> None:
    assert a.token_bytes.tolist() == b.token_bytes.tolist()
    assert a.lengths.dtype == b.lengths.dtype and np.array_equal(a.lengths, b.lengths)
    assert a.classes.dtype == b.classes.dtype and np.array_equal(a.classes, b.classes)
    ids = np.arange(len(a.lengths))[::97]
    assert a.spell(ids) == b.spell(ids) == b"".join(a.token_bytes[ids].tolist())


@pytest.mark.parametrize("tokenizer_id", HF)
def test_tables_read_back_equal_the_tables_made_from_the_vocabulary(cache, tokenizer_id: str) -> None:
    entry = CATALOGUE.describe(tokenizer_id)
    first = _fresh(tokenizer_id)
    assert first.file_sha256 == entry.files["tokenizer"].sha256
    path = cache_path("hf", first.file_sha256)
    assert not path.exists()
    made = first.token_tables()  # made, and kept
    assert path.is_file()
    _same(made, _made(first))
    again = _fresh(tokenizer_id)
    read = again.token_tables()  # read back: the vocabulary is not walked
    assert "_pieces" not in again.__dict__ and "_bytes_table" not in again.__dict__
    _same(read, made)
    assert len(read.lengths) == {"llama3": 128_256, "gpt-oss": 200_019, "bert-uncased": 30_522}.get(
        tokenizer_id, len(made.lengths))
    text = "Everyone has the right to life, liberty — 人人生而自由 😀 <|begin_of_text|>"
    assert again.encode(text).ids == first.encode(text).ids
    assert again.unit_stats([text], [None]) == first.unit_stats([text], [None])


def test_a_file_that_does_not_match_is_a_miss_and_is_replaced(cache) -> None:
    tables = TokenTables.from_bytes([b"a", b" b", b"<s>"], np.array([0, 0, 1], dtype=np.uint8))
    sha = "1" * 64
    path = cache_path("hf", sha)
    cached_tables("hf", sha, lambda: tables)
    good = path.read_bytes()
    other = TokenTables.from_bytes([b"x", b"y", b"z"], np.array([0, 0, 0], dtype=np.uint8))

    for bad in (b"", b"not a zip file", good[: len(good) // 2]):
        path.write_bytes(bad)
        got = cached_tables("hf", sha, lambda: other)  # unreadable: made again ...
        assert got.token_bytes.tolist() == [b"x", b"y", b"z"]
        assert cached_tables("hf", sha, lambda: 1 / 0).token_bytes.tolist() == [b"x", b"y", b"z"]  # ... and kept
    # Another key in the file (another vocabulary, tables version or tokenizers release): never read.
    cached_tables("hf", "2" * 64, lambda: tables)
    path.write_bytes(cache_path("hf", "2" * 64).read_bytes())
    assert cached_tables("hf", sha, lambda: other).token_bytes.tolist() == [b"x", b"y", b"z"]
    # Arrays that do not fit together: never read.
    with np.load(cache_path("hf", "2" * 64)) as f:
        arrays = dict(f)
    arrays["key"] = np.array(["hf", sha, *arrays["key"][2:].tolist()])
    arrays["lengths"] = arrays["lengths"] + 1
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    assert cached_tables("hf", sha, lambda: tables).token_bytes.tolist() == [b"a", b" b", b"<s>"]
    assert not list(cache.glob(".*.tmp"))  # no temporary left behind


def test_no_key_no_file(cache) -> None:
    tables = TokenTables.from_bytes([b"a"], np.zeros(1, dtype=np.uint8))
    assert cached_tables("hf", None, lambda: tables) is tables
    assert not cache.exists()


def test_a_read_only_cache_costs_nothing_but_the_making(cache) -> None:
    cache.parent.mkdir(exist_ok=True)
    cache.write_text("a file where the folder should be")
    tables = TokenTables.from_bytes([b"a"], np.zeros(1, dtype=np.uint8))
    assert cached_tables("hf", "3" * 64, lambda: tables) is tables


def test_a_file_spec_is_keyed_by_the_bytes_it_was_loaded_from(cache, tmp_path) -> None:
    """A visitor's tokenizer.json: its tables are kept under its own sha256; a changed file is another key."""
    source = asset_path(CATALOGUE.describe("llama3").files["tokenizer"]).read_bytes()
    path = tmp_path / "mine.json"
    path.write_bytes(source)
    tok = load_file(path)
    assert tok.file_sha256 == hashlib.sha256(source).hexdigest() == CATALOGUE.describe("llama3").files[
        "tokenizer"].sha256
    tok.token_tables()
    data = json.loads(source)
    data["added_tokens"][0]["content"] = "<|start of my text|>"  # id 128000 spelled otherwise
    changed = json.dumps(data).encode()
    path.write_bytes(changed)
    mine = load_file(path)
    assert mine.file_sha256 == hashlib.sha256(changed).hexdigest()
    assert mine.token_tables().token_bytes[128000] == b"<|start of my text|>"
    assert tok.token_tables().token_bytes[128000] == b"<|begin_of_text|>"
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        cache_path("hf", s).name for s in (tok.file_sha256, mine.file_sha256))


def test_a_tokenizer_made_in_memory_is_not_kept(cache) -> None:
    from tokenizers import Tokenizer, models

    from analysis.tokenizers.hf_backend import HFTokenizersTokenizer

    tok = HFTokenizersTokenizer("lab", Tokenizer(models.WordLevel({"a": 0, "[UNK]": 1}, unk_token="[UNK]")))
    assert tok.file_sha256 is None
    assert tok.token_tables().token_bytes.tolist() == [b"a", b"[UNK]"]
    assert not cache.exists()
