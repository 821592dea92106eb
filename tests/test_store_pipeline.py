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


#: What a build stores from its counting: every path (pool, threads, one process) must store the same rows.
COUNTED_TABLES = (
    "SELECT tokenizer, lang, unit, n_tokens, n_unk, n_byte_fallback, n_continued FROM counts ORDER BY ALL",
    "SELECT tokenizer, token_id, lang, n FROM token_lang_counts ORDER BY ALL",
    "SELECT tokenizer, token_id, total, n_langs FROM token_frequency ORDER BY ALL",
    "SELECT tokenizer, lang, premium, ci_low, ci_high FROM premium_ci ORDER BY ALL")


def assert_same_tables(db: Path, reference: Path) -> None:
    for sql in COUNTED_TABLES:
        assert _table(db, sql) == _table(reference, sql), sql


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
    assert_same_tables(pooled, inline)
    # "Hello world." with bert-uncased: hello, world, "." -> 3 tokens, no word continued
    assert _table(pooled, "SELECT n_tokens, n_continued FROM counts WHERE tokenizer = 'bert-uncased' AND lang = 'eng' "
                          "AND unit = '1'") == [(3, 0)]


def test_chunks_of_a_corpus() -> None:
    offsets = np.array([0, 10, 20, 25, 100, 101])
    inputs = local_pool.CorpusInputs(offsets)
    assert inputs.chunks(20) == [(0, 2), (2, 4), (4, 5)]  # cuts at the first unit ending at or after 20, 40, 60, 80
    assert inputs.chunks(1000) == [(0, 5)]
    assert inputs.chunks(1) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    assert local_pool.CorpusInputs(np.array([0])).chunks(10) == []


def test_published_texts_are_read_by_chunk_with_nothing_mapped(tmp_path: Path) -> None:
    """The published folder is read a chunk at a time: each chunk's texts, word spans and languages exactly, in the
    storage order (ell before eng), and no file of the folder stays mapped in the process (its pages would count in
    the build's resident memory)."""
    db = import_lines(tmp_path, TEXTS)
    folder = tmp_path / "inputs"
    con = duckdb.connect(str(db))
    try:
        inputs = local_pool.publish_inputs(con, ["tiny"], folder)
    finally:
        con.close()
    assert inputs["tiny"].offsets.tolist() == [0, 16, 25, 37, 45]  # UTF-8 bytes: 16 and 9 in Greek, 12 and 8
    texts, spans, langs = local_pool.load_chunk(str(folder), "tiny", 1, 3)
    assert texts == ["Καλό.", "Hello world."]
    assert langs == ["ell", "eng"]
    assert list(spans) == [[(0, 4)], [(0, 5), (6, 11)]]
    assert [a.tolist() for a in spans.arrays] == [[0, 1, 1], [0, 0, 6], [4, 5, 11]]
    assert local_pool.load_chunk(str(folder), "tiny", 0, 4)[0] == ["Γειά σου.", "Καλό.", "Hello world.", "Be kind."]
    maps = Path("/proc/self/maps")
    if maps.exists():
        assert str(folder) not in maps.read_text()
    local_pool._MAPPED.clear()


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


# ------------------------------------------------------------------ issue 20, second pass: threads, imports, pandas


@pytest.mark.parametrize(("text", "bounds"), [
    ("It's 3.5 km.", [0, 4, 5, 8, 9, 11]),  # "It's", "3.5", "km": the apostrophe and the decimal point stay inside
    ("😀 ok", [2, 4]),  # the emoji is one str character (two UTF-16 units) and no word
    ("𝐀𝐁𝐂 def", [0, 3, 4, 7]),  # three astral letters: one word of three str characters
    ("a😀b c", [0, 1, 2, 3, 4, 5]),
    ("人人生而自由", [0, 1, 1, 3, 3, 4, 4, 6]),  # ICU's dictionary: 人 / 人生 / 而 / 自由
    ("", []),
])
def test_word_bounds_are_the_words_flattened(text: str, bounds: list[int]) -> None:
    from analysis.words import word_bounds, words

    assert word_bounds(text) == bounds
    assert words(text) == list(zip(bounds[0::2], bounds[1::2], strict=True))


def test_spans_of_many_units_pack_as_one_by_one() -> None:
    from analysis.store.spans import pack, pack_flat

    # little-endian int32: 0, 2, 3, 4 | nothing | 1, 5
    assert pack_flat([[0, 2, 3, 4], [], [1, 5]]) == [
        bytes([0, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0]), b"", bytes([1, 0, 0, 0, 5, 0, 0, 0])]
    assert pack_flat([[0, 2, 3, 4], [], [1, 5]]) == [pack([(0, 2), (3, 4)]), pack([]), pack([(1, 5)])]
    assert pack_flat([]) == []


def test_insert_columns_puts_rows_in_as_given() -> None:
    from analysis.store.writer import insert_columns

    con = duckdb.connect()
    con.execute("CREATE TABLE t (a VARCHAR, n INTEGER, m BIGINT, b BLOB, f DOUBLE, ok BOOLEAN)")
    insert_columns(con, "t", {"a": ["x", None, "ü"], "n": [1, None, 3], "m": np.array([2**40, 0, -1]),
                              "b": [b"\x00\x01", None, b""], "f": [0.1, None, 2.5], "ok": [True, None, False]})
    assert con.execute("SELECT * FROM t").fetchall() == [("x", 1, 2**40, b"\x00\x01", 0.1, True),
                                                         (None, None, 0, None, None, None),
                                                         ("ü", 3, -1, b"", 2.5, False)]
    insert_columns(con, "t", {"a": [], "n": []})  # nothing to insert
    with pytest.raises(ValueError, match="different lengths"):
        insert_columns(con, "t", {"a": ["x"], "n": [1, 2]})


def test_importing_a_new_corpus_asks_no_extension_to_forget_it(tmp_path: Path) -> None:
    from analysis.extensions import BuildExtension, register, unregister

    class Recorder(BuildExtension):
        name = "recorder"

        def __init__(self) -> None:
            self.forgot: list[str] = []

        def forget_corpus(self, con, corpus: str) -> None:
            self.forgot.append(corpus)

    rec = Recorder()
    register(rec.name, rec)
    try:
        db = import_lines(tmp_path, TEXTS)
        assert rec.forgot == []  # a new name: nothing of it to forget
        import_lines(tmp_path, TEXTS, db)
        assert rec.forgot == ["tiny"]  # imported again
    finally:
        unregister(rec.name)


FLORES_TEXTS = {"eng_Latn": TEXTS["eng"], "ell_Grek": TEXTS["ell"]}


def test_premiums_are_stored_against_the_corpus_s_english_and_read_without_pandas(tmp_path: Path) -> None:
    """A FLORES-style corpus has eng_Latn, not eng: the build stores premiums against it, and premium_records reads
    them straight from DuckDB; the values and the CLI's JSON are those computed on the fly from the counts."""
    import json
    import subprocess
    import sys

    from analysis.store import read

    db = import_lines(tmp_path, FLORES_TEXTS)
    build(db, corpora=["tiny"], tokenizers=["utf8-bytes"], workers=1)
    assert _table(db, "SELECT lang, reference, premium FROM premium_ci ORDER BY lang") == [
        ("ell_Grek", "eng_Latn", 25 / 20), ("eng_Latn", "eng_Latn", 1.0)]  # bytes: ell 16 + 9, eng 12 + 8
    with open_readonly(db) as con:
        stored = read.premium_records(con, "tiny", "eng_Latn")
        computed = read.premiums(con, "tiny", "ell_Grek")  # no stored rows for this reference: computed here
    assert [(r["lang"], r["premium"], r["units"], r["unk_flag"]) for r in stored] == [
        ("eng_Latn", 1.0, 2, False), ("ell_Grek", 1.25, 2, False)]
    assert computed["premium"].tolist() == [20 / 25, 1.0]

    con = duckdb.connect(str(db))  # the same database without the stored rows: premiums computed when asked for
    con.execute("DELETE FROM premium_ci")
    con.close()
    with open_readonly(db) as con:
        assert read.premium_records(con, "tiny", "eng_Latn") == stored

    build(db, corpora=["tiny"], tokenizers=["utf8-bytes"], workers=1)  # stores them again
    code = ("import json, sys; from analysis.cli import main; main(sys.argv[1:]); "
            "print(json.dumps('pandas' in sys.modules), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code, "premiums", "--db", str(db), "--corpus", "tiny",
                          "--reference", "eng_Latn", "--format", "json"], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == stored
    assert out.stderr.strip().splitlines()[-1] == "false"  # no pandas imported for precomputed premiums


def test_a_corpus_import_imports_no_pandas(tmp_path: Path) -> None:
    import subprocess
    import sys

    folder = tmp_path / "tiny"
    folder.mkdir()
    for lang, lines in TEXTS.items():
        (folder / f"{lang}.txt").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    code = "import sys; from analysis.cli import main; main(sys.argv[1:]); print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code, "corpus", "import", "--kind", "lines", "--path", str(folder),
                          "--name", "tiny", "--db", str(tmp_path / "a.duckdb")], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
    assert _table(tmp_path / "a.duckdb", "SELECT lang, unit, n_bytes, n_chars, n_words FROM units ORDER BY ALL") == [
        ("ell", "1", 16, 9, 2), ("ell", "2", 9, 5, 1), ("eng", "1", 12, 12, 2), ("eng", "2", 8, 8, 2)]


def test_the_pool_kind_follows_the_backends(monkeypatch) -> None:
    assert local_pool.pool_kind(["hf", "tiktoken"]) == "threads"
    assert local_pool.pool_kind(["hf", "sentencepiece"]) == "processes"
    assert local_pool.pool_kind(["baseline"]) == "processes"
    monkeypatch.setenv("ATLAS_POOL_KIND", "processes")
    assert local_pool.pool_kind(["hf"]) == "processes"
    monkeypatch.setenv("ATLAS_POOL_KIND", "forks")
    from analysis.errors import SettingError

    with pytest.raises(SettingError, match="ATLAS_POOL_KIND is 'forks'; set it to 'threads' or 'processes'"):
        local_pool.pool_kind(["hf"])


def test_counting_threads_give_the_rows_of_one_process(tmp_path: Path, monkeypatch) -> None:
    """HF and tiktoken release the GIL: a large job of theirs is counted by threads of the build's own process (no
    worker process), in chunks of one unit here, and every stored row equals the single-process build's."""
    tids = ["bert-uncased", "o200k_base"]
    inline = import_lines(tmp_path / "a", TEXTS)
    build(inline, corpora=["tiny"], tokenizers=tids, workers=1)
    threaded = import_lines(tmp_path / "b", TEXTS)
    monkeypatch.setenv("ATLAS_POOL_MIN_BYTES", "0")
    monkeypatch.setattr(local_pool, "CHUNK_BYTES", 1)
    from analysis.tokenizers import get_tokenizer
    from analysis.tokenizers.registry import loaded_ids, release_tokenizers

    release_tokenizers()
    get_tokenizer("utf8-bytes")  # held by this process before the build (as a dashboard holds its tokenizers)
    said: list[str] = []
    build(threaded, corpora=["tiny"], tokenizers=tids, workers=2, progress=said.append)
    assert ("counting 2 (corpus x tokenizer) pair(s) on 2 worker(s), in 8 chunk(s) (threads of this process)"
            in said)
    assert multiprocessing.active_children() == []
    assert loaded_ids() == ["utf8-bytes"]  # the build's two were released when counted; the one held before stays
    assert_same_tables(threaded, inline)
    # o200k_base: "Hello world." is Hello / " world" / "." (3 tokens, no word split over two)
    assert _table(threaded, "SELECT n_tokens, n_continued FROM counts WHERE tokenizer = 'o200k_base' AND "
                            "lang = 'eng' AND unit = '1'") == [(3, 0)]
