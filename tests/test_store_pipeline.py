"""The build's per-job machinery (issue 20): word spans stored at import, counting in chunks spread over workers,
the single-process path for small jobs, the upgrade of schema-2 databases, and the vocabulary checks' cache.

Values are the tiny corpus's (tests/tiny_store.py), counted by hand: utf8-bytes gives one token per byte
(eng 12 + 8, ell 16 + 9) and codepoints one per character (eng 12 + 8, ell 9 + 5).
"""

from __future__ import annotations

import importlib
import multiprocessing
from pathlib import Path

import duckdb
import numpy as np
import pytest

from analysis.glitch import scan_cache
from analysis.store import local_pool, open_readonly
from analysis.store.build import build
from analysis.store.schema import StoreError
from analysis.store.spans import unpack
from tests.tiny_store import TEXTS, import_lines

build_module = importlib.import_module("analysis.store.build")

BY_HAND = {  # (tokenizer, lang, unit) -> tokens
    ("utf8-bytes", "eng", "1"): 12, ("utf8-bytes", "eng", "2"): 8, ("utf8-bytes", "ell", "1"): 16,
    ("utf8-bytes", "ell", "2"): 9,
    ("codepoints", "eng", "1"): 12, ("codepoints", "eng", "2"): 8, ("codepoints", "ell", "1"): 9,
    ("codepoints", "ell", "2"): 5,
}


def _counts(db: Path) -> dict[tuple[str, str, str], int]:
    con = open_readonly(db)
    try:
        return {(t, lang, u): n for t, lang, u, n in con.execute(
            "SELECT tokenizer, lang, unit, n_tokens FROM counts WHERE tokenizer IN ('utf8-bytes', 'codepoints')"
        ).fetchall()}
    finally:
        con.close()


def _table(db: Path, sql: str) -> list[tuple]:
    con = open_readonly(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_word_spans_are_stored_at_import(tmp_path: Path) -> None:
    db = import_lines(tmp_path, TEXTS)
    rows = {(lang, unit): unpack(blob) for lang, unit, blob in _table(
        db, "SELECT lang, unit, spans FROM word_spans WHERE corpus = 'tiny'")}
    # "Hello world." / "Be kind." / "Γειά σου." / "Καλό.": ICU words, as character offsets
    assert rows == {("eng", "1"): [(0, 5), (6, 11)], ("eng", "2"): [(0, 2), (3, 7)],
                    ("ell", "1"): [(0, 4), (5, 8)], ("ell", "2"): [(0, 4)]}


def test_a_unit_whose_words_are_withheld_has_no_spans_row(tmp_path: Path) -> None:
    # Tibetan: ICU's segments are syllables, so word counts are withheld (analysis.words.UNSPACED_SCRIPTS)
    db = import_lines(tmp_path, {"eng": ["One two."], "bod": ["བོད་ཀྱི་སྐད་ཡིག"]})
    assert _table(db, "SELECT lang, unit FROM word_spans ORDER BY lang") == [("eng", "1")]
    assert _table(db, "SELECT lang, n_words FROM units ORDER BY lang") == [("bod", None), ("eng", 2)]


def test_small_jobs_count_in_this_process(tmp_path: Path) -> None:
    db = import_lines(tmp_path, TEXTS)
    said: list[str] = []
    build(db, corpora=["tiny"], tokenizers=["utf8-bytes", "codepoints"], workers=2, progress=said.append)
    assert "counting 2 (corpus x tokenizer) pair(s) on 1 worker(s), in 2 chunk(s) (in this process: a small job)" in said
    assert _counts(db) == BY_HAND


def test_the_pool_splits_pairs_into_chunks_and_gives_the_same_rows(tmp_path: Path, monkeypatch) -> None:
    """Forced onto two workers, with chunks of one unit each: every pair is cut into 4 chunks, and the rows (counts,
    continued words, (token id, language) counts) equal those counted in one process."""
    inline = import_lines(tmp_path / "a", TEXTS)
    build(inline, corpora=["tiny"], tokenizers=["utf8-bytes", "codepoints", "bert-uncased"], workers=1)
    pooled = import_lines(tmp_path / "b", TEXTS)
    monkeypatch.setenv("ATLAS_POOL_MIN_BYTES", "0")
    monkeypatch.setattr(local_pool, "CHUNK_BYTES", 1)  # 1 byte: each chunk is one unit
    said: list[str] = []
    build(pooled, corpora=["tiny"], tokenizers=["utf8-bytes", "codepoints", "bert-uncased"], workers=2,
          progress=said.append)
    assert "counting 3 (corpus x tokenizer) pair(s) on 2 worker(s), in 12 chunk(s)" in said
    assert multiprocessing.active_children() == []
    assert _counts(pooled) == BY_HAND
    for sql in ("SELECT tokenizer, lang, unit, n_tokens, n_unk, n_byte_fallback, n_continued FROM counts ORDER BY ALL",
                "SELECT tokenizer, token_id, lang, n FROM token_lang_counts ORDER BY ALL",
                "SELECT tokenizer, token_id, total, n_langs FROM token_frequency ORDER BY ALL",
                "SELECT tokenizer, lang, premium, ci_low, ci_high FROM premium_ci ORDER BY ALL"):
        assert _table(pooled, sql) == _table(inline, sql), sql
    # "Hello world." with bert-uncased: hello, world, "." -> 3 tokens, no word continued
    assert _table(pooled, "SELECT n_tokens, n_continued FROM counts WHERE tokenizer = 'bert-uncased' AND lang = 'eng' "
                          "AND unit = '1'") == [(3, 0)]


def test_chunks_of_a_corpus() -> None:
    offsets = np.array([0, 10, 20, 25, 100, 101])
    inputs = local_pool.CorpusInputs([("x", str(i)) for i in range(5)], offsets)
    assert inputs.chunks(20) == [(0, 2), (2, 4), (4, 5)]  # cuts at the first unit ending at or after 20, 40, 60, 80
    assert inputs.chunks(1000) == [(0, 5)]
    assert inputs.chunks(1) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    assert local_pool.CorpusInputs([], np.array([0])).chunks(10) == []


def test_a_schema_2_database_is_upgraded_in_place(tmp_path: Path) -> None:
    db = import_lines(tmp_path, TEXTS)
    build(db, corpora=["tiny"], tokenizers=["utf8-bytes", "codepoints"], workers=1)
    spans = _table(db, "SELECT * FROM word_spans ORDER BY ALL")
    counts = _table(db, "SELECT * FROM counts ORDER BY ALL")
    con = duckdb.connect(str(db))  # what a schema-2 database looks like: no word_spans table
    con.execute("DROP TABLE word_spans")
    con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match=r"schema version 2, this code reads 3\. Upgrade it in place with "
                                         r"`python -m analysis build --db .*` \(your imported corpora are kept\)"):
        open_readonly(db)
    build(db, corpora=["tiny"], tokenizers=["utf8-bytes", "codepoints"], workers=1)
    assert _table(db, "SELECT value FROM meta WHERE key = 'schema_version'") == [("3",)]
    assert _table(db, "SELECT * FROM word_spans ORDER BY ALL") == spans
    assert _table(db, "SELECT * FROM counts ORDER BY ALL") == counts


def test_vocabulary_checks_come_from_the_cache_on_a_fresh_database(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ATLAS_CHECKS_CACHE", str(tmp_path / "checks"))
    cold = import_lines(tmp_path / "a", TEXTS)
    said: list[str] = []
    build(cold, corpora=["tiny"], tokenizers=["bert-uncased", "utf8-bytes"], workers=1, progress=said.append)
    assert not any("taken from the cache" in m for m in said)
    from analysis import load_catalogue

    cached = scan_cache.cache_path(load_catalogue().describe("bert-uncased").sha256)
    assert [p.name for p in (tmp_path / "checks").iterdir()] == [cached.name]  # utf8-bytes is built in: not cached
    warm = import_lines(tmp_path / "b", TEXTS)
    said.clear()
    build(warm, corpora=["tiny"], tokenizers=["bert-uncased", "utf8-bytes"], workers=1, progress=said.append)
    assert "vocabulary checks of bert-uncased taken from the cache (see analysis.glitch.scan_cache)" in said
    sql = "SELECT tokenizer, token_id, token_bytes, display, script, flags FROM glitch_tokens ORDER BY ALL"
    rows = _table(warm, sql)
    assert rows == _table(cold, sql) and len(rows) == 30522 + 259
    # "[UNK]" (id 100) is special; "##s" is a reachable word piece
    assert _table(warm, "SELECT display, script FROM glitch_tokens WHERE tokenizer = 'bert-uncased' AND "
                        "token_id = 100") == [("[UNK]", "special")]


def test_a_damaged_cache_file_is_a_miss_and_is_replaced(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ATLAS_CHECKS_CACHE", str(tmp_path / "checks"))
    from analysis import get_tokenizer, load_catalogue
    from analysis.glitch.checks import scan_vocabulary

    tok = get_tokenizer("bert-uncased")
    scan = scan_vocabulary(tok)
    path = scan_cache.store_scan("bert-uncased", scan, 1.5)
    got, seconds = scan_cache.cached_scan("bert-uncased")
    assert seconds == 1.5 and got.tokenizer == "bert-uncased"
    assert list(got.token_bytes) == list(scan.token_bytes) and list(got.display) == list(scan.display)
    assert list(got.script) == list(scan.script) and np.array_equal(got.flags, scan.flags)
    assert path == scan_cache.cache_path(load_catalogue().describe("bert-uncased").sha256)
    path.write_bytes(b"not an arrow file")
    assert scan_cache.cached_scan("bert-uncased") is None
    assert scan_cache.cached_scan("utf8-bytes") is None  # built in: never cached
    assert scan_cache.store_scan("utf8-bytes", scan_vocabulary(get_tokenizer("utf8-bytes")), 0.1) is None


@pytest.mark.parametrize("tid", ["llama3", "bert-uncased", "gemma"])
def test_hf_counts_in_bounded_batches_equal_per_text_encoding(tid: str, monkeypatch) -> None:
    """Batches of 2 texts, texts the tokens spell (the ids path) and texts they do not (BERT lowercases: the
    offsets path) mixed: the statistics equal those of encoding each text on its own."""
    from analysis import get_tokenizer
    from analysis.tokenizers import hf_backend
    from analysis.tokenizers.base import Tokenizer
    from analysis.words import words

    monkeypatch.setattr(hf_backend, "UNIT_BATCH", 2)
    texts = ["Hello world.", "Γειά σου.", "Ünïcödé straße", "人人生而自由", "", "unbelievable things"]
    spans = [words(t) for t in texts[:-1]] + [None]
    tok = get_tokenizer(tid)
    got = tok.unit_stats(texts, spans)
    assert got == Tokenizer.unit_stats(tok, texts, spans)
    assert got.n_tokens == [len(tok.encode(t).ids) for t in texts]
