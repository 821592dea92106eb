"""Monolingual corpora: folder scanning, shards, sampling, streaming, and hand-counted metrics in the store.

The corpus below is the tiny corpus of tests/test_store.py written as monolingual files, so the token counts are
the ones worked out by hand there (per line, in order):

    eng  "All people are free." | "We are equal." | "Be kind."    bytes 20+13+8 = 41, chars 41, ICU words 4+3+2 = 9
    xxx  "ሰላም ዓለም" | "ሰላም."                                    bytes 19+10 = 29, chars 7+4 = 11, ICU words 2+1 = 3
    yyy  "བོད་ཡིག" | "བོད་ཡིག བོད" | "ཡིག"                          bytes 21+31+9 = 61, chars 7+11+3 = 21, words withheld

    tokens        eng            xxx          yyy
    utf8-bytes    20+13+8 = 41   19+10 = 29   21+31+9 = 61
    codepoints    41             7+4 = 11     7+11+3 = 21
    words         4+3+2 = 9      2+1 = 3      1+2+1 = 4
    bert-uncased  5+4+3 = 12     2+2 = 4      4+6+1 = 11     UNK: eng 0, xxx 2+1 = 3, yyy 1+1+1 = 3

Here they are spread over a folder per language and single files, plain, gzip and Zstandard, with a byte-order
mark, a CRLF line ending and blank lines (which are not units).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.corpus.imports import read_corpus
from analysis.corpus.monolingual import (
    BATCH_BYTES,
    MonoFile,
    Shard,
    _plan,
    batch_totals,
    keep_line,
    read_shard,
    sample_key,
    scan_monolingual,
    splitmix64,
    text_stats,
)
from analysis.errors import CorpusFormatError
from analysis.store.build import build
from analysis.store.corpora import import_into_store, import_mono_into_store
from analysis.store.mono import mono_stats
from analysis.store.schema import StoreError, open_readonly

TIBETAN_NOTE = ("no word segmenter for Tibetan script: ICU has no dictionary for it and it separates syllables with "
                "a tsheg, not words with spaces, so ICU's segments are syllables")
TOKENS = {"utf8-bytes": {"eng": 41, "xxx": 29, "yyy": 61}, "codepoints": {"eng": 41, "xxx": 11, "yyy": 21},
          "words": {"eng": 9, "xxx": 3, "yyy": 4}, "bert-uncased": {"eng": 12, "xxx": 4, "yyy": 11}}
LINES, BYTES, CHARS = {"eng": 3, "xxx": 2, "yyy": 3}, {"eng": 41, "xxx": 29, "yyy": 61}, {"eng": 41, "xxx": 11, "yyy": 21}
ICU_WORDS = {"eng": 9, "xxx": 3, "yyy": None}
TOKENIZERS = ["bert-uncased", "codepoints", "utf8-bytes", "words"]


def zst(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


def write_tiny_mono(root: Path) -> Path:
    (root / "eng").mkdir(parents=True)
    (root / "eng" / "a.txt").write_bytes(b"All people are free.\n\nWe are equal.\r\n")  # 37 bytes: lines at 0, 21, 22
    (root / "eng" / "b.txt.gz").write_bytes(gzip.compress(b"Be kind."))  # no final newline
    (root / "xxx.txt.zst").write_bytes(zst("\ufeffሰላም ዓለም\n   \nሰላም.\n".encode()))
    (root / "yyy.txt").write_bytes("བོད་ཡིག\nབོད་ཡིག བོད\nཡིག\n\n".encode())
    (root / ".DS_Store").write_bytes(b"\x00\x01")  # hidden: ignored
    return root


@pytest.fixture(scope="module")
def tiny_mono(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_mono(tmp_path_factory.mktemp("mono") / "tiny")


@pytest.fixture(scope="module")
def tiny_db(tiny_mono: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("monodb") / "atlas.duckdb"
    import_mono_into_store(db, scan_monolingual(tiny_mono, name="tinymono", shard_bytes=1024))
    build(db, corpora=["tinymono"], tokenizers=["utf8-bytes", "bert-uncased"], workers=2)
    build(db, corpora=["tinymono"], tokenizers=TOKENIZERS, workers=2)
    return db


# ------------------------------------------------------------------ scanning and the shard plan


def test_scan_languages_files_and_shards(tiny_mono: Path) -> None:
    c = scan_monolingual(tiny_mono, name="tinymono", shard_bytes=1024)
    assert c.source == f"monolingual:{tiny_mono.resolve()}"
    assert [(g.code, g.script, g.iso639_3, g.direction, g.words_ok) for g in c.languages.values()] == [
        ("eng", "Latn", "eng", "ltr", True), ("xxx", "Ethi", "xxx", "ltr", True), ("yyy", "Tibt", "yyy", "ltr", False)]
    assert c.languages["yyy"].words_note == TIBETAN_NOTE
    assert [(f.lang, f.path, f.compression) for f in c.files] == [
        ("eng", "eng/a.txt", "none"), ("eng", "eng/b.txt.gz", "gzip"), ("xxx", "xxx.txt.zst", "zstd"),
        ("yyy", "yyy.txt", "none")]
    # yyy.txt is 21 + 1 + 31 + 1 + 9 + 1 + 1 = 65 bytes: one shard; compressed files are one shard each.
    assert c.shards == [Shard(0, "eng", "eng/a.txt", "none", 0, 37), Shard(1, "eng", "eng/b.txt.gz", "gzip", 0, None),
                        Shard(2, "xxx", "xxx.txt.zst", "zstd", 0, None), Shard(3, "yyy", "yyy.txt", "none", 0, 65)]
    assert len(c.sha256) == 64 and c.sha256 == scan_monolingual(tiny_mono, name="other", shard_bytes=1024).sha256
    assert c.sha256 != scan_monolingual(tiny_mono, name="tinymono", shard_bytes=2048).sha256
    assert c.sha256 != scan_monolingual(tiny_mono, name="tinymono", shard_bytes=1024, sample=0.5).sha256


def test_plain_files_are_cut_into_byte_ranges() -> None:
    f = MonoFile("eng", "eng.txt", "none", 2500, 0)
    assert _plan([f, MonoFile("eng", "b.gz", "gzip", 9999, 0)], 1000) == [
        Shard(0, "eng", "eng.txt", "none", 0, 1000), Shard(1, "eng", "eng.txt", "none", 1000, 2000),
        Shard(2, "eng", "eng.txt", "none", 2000, 2500), Shard(3, "eng", "b.gz", "gzip", 0, None)]


def test_shard_texts_and_line_endings(tiny_mono: Path) -> None:
    c = scan_monolingual(tiny_mono, name="t", shard_bytes=1024)
    texts = [[t for batch in read_shard(c.root, s) for t in batch] for s in c.shards]
    assert texts == [["All people are free.", "We are equal."], ["Be kind."], ["ሰላም ዓለም", "ሰላም."],
                     ["བོད་ཡིག", "བོད་ཡིག བོད", "ཡིག"]]
    stats = [text_stats(c.root, s, words_ok=c.languages[s.lang].words_ok) for s in c.shards]
    assert [(s.lines, s.bytes, s.chars, s.words) for s in stats] == [
        (2, 33, 33, 7), (1, 8, 8, 2), (2, 29, 11, 3), (3, 61, 21, None)]


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(st.text(alphabet="ab é中\r", max_size=12), max_size=25),
       ending=st.sampled_from(["\n", "\r\n"]), final=st.booleans(), shard_bytes=st.integers(1, 40))
def test_every_line_is_in_exactly_one_shard(tmp_path_factory, lines: list[str], ending: str, final: bool,
                                            shard_bytes: int) -> None:
    # Whatever the shard size, the shards' units, in shard order, are the file's non-blank lines, each once.
    root = tmp_path_factory.mktemp("prop")
    data = ending.join(lines) + (ending if final and lines else "")
    (root / "x.txt").write_bytes(data.encode())
    size = len(data.encode())
    shards = _plan([MonoFile("x", "x.txt", "none", size, 0)], shard_bytes)
    got = [t for s in shards for batch in read_shard(root, s) for t in batch]
    expected = []
    for line in data.split("\n")[: None if not data.endswith("\n") else -1] if data else []:
        line = line[:-1] if line.endswith("\r") else line
        if line.strip():
            expected.append(line)
    assert got == expected


def test_a_big_file_is_streamed_in_batches(tmp_path: Path) -> None:
    # 3.5 MB of 100-byte lines: read in batches of about BATCH_BYTES (1 MiB), never as one list.
    line = "x" * 99 + "\n"
    (tmp_path / "eng.txt").write_text(line * 35_000)
    c = scan_monolingual(tmp_path, name="big")
    sizes = [sum(len(t) + 1 for t in batch) for batch in read_shard(c.root, c.shards[0])]
    assert len(sizes) == 4 and sum(sizes) == 3_500_000
    assert all(BATCH_BYTES <= s < BATCH_BYTES + 100 for s in sizes[:-1])


def test_totals_equal_unit_stats_for_every_tokenizer(any_tokenizer) -> None:
    # The totals-only path (ids and the id class table, no spans) against the full per-text statistics, on text with
    # UNK (BERT on Ethiopic, Tibetan), byte fallback (SentencePiece on rare characters), emoji, special-looking text,
    # a typed U+2581 (SentencePiece's slow path) and characters that NFKC/NFC normalizers change.
    texts = ["All people are free.", "ሰላም ዓለም", "བོད་ཡིག བོད", "人人生而自由，在尊严和权利上一律平等。", "𠜎𠜱𠝹 ꧁꧂",
             "👩‍👩‍👧 ok", "<|endoftext|> [CLS] <s>", "a\u2581b ▁▁", "ﬁ ① Å e\u0301", "  spaced   out  ", "नमस्ते दुनिया"]
    stats = any_tokenizer.unit_stats(texts, [None] * len(texts))
    expected = (sum(stats.n_tokens), sum(stats.n_unk), sum(stats.n_byte_fallback))
    assert batch_totals(any_tokenizer)(texts) == expected
    assert expected[0] > 0


# ------------------------------------------------------------------ sampling


def test_splitmix64_reference_values() -> None:
    # The first outputs of the reference SplitMix64 generator seeded with 0 (state advances by 0x9E3779B97F4A7C15):
    # 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4. splitmix64(x) is its output for state x.
    assert splitmix64(0) == 0xE220A8397B1DCDAF
    assert splitmix64(0x9E3779B97F4A7C15) == 0x6E789E6AA1B965F4


def by_the_recipe(seed: int, file: str, offset: int, sample: float) -> bool:
    """The module docstring's recipe, written out again: sha256 key, SplitMix64, threshold round(p * 2^64)."""
    key = int.from_bytes(hashlib.sha256(f"{seed}:{file}".encode()).digest()[:8], "little")
    z = ((key ^ offset) + 0x9E3779B97F4A7C15) % 2**64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64
    return (z ^ (z >> 31)) < round(sample * 2**64)


def test_sampling_keeps_the_lines_the_recipe_names_in_any_shard_layout(tmp_path: Path) -> None:
    lines = [f"line {i:04d}" for i in range(400)]  # 10 bytes + newline: line i starts at offset 10 * i
    (tmp_path / "eng.txt").write_text("".join(f"{t}\n" for t in lines))
    expected = [t for i, t in enumerate(lines) if by_the_recipe(7, "eng.txt", 10 * i, 0.25)]
    assert 80 <= len(expected) <= 120  # about a quarter (binomial(400, 0.25): mean 100, sd 8.7)
    for shard_bytes in (1024, 1500, 10_000):
        c = scan_monolingual(tmp_path, name="s", sample=0.25, seed=7, shard_bytes=shard_bytes)
        got = [t for s in c.shards for b in read_shard(c.root, s, sample=c.sample, seed=c.seed) for t in b]
        assert got == expected
    other_seed = scan_monolingual(tmp_path, name="s", sample=0.25, seed=8)
    assert [t for b in read_shard(other_seed.root, other_seed.shards[0], sample=0.25, seed=8) for t in b] != expected
    assert keep_line(sample_key(7, "eng.txt"), 0, None) and keep_line(0, 0, 1.0)


# ------------------------------------------------------------------ the store: hand-counted metrics


@pytest.mark.parametrize("tokenizer", TOKENIZERS)
def test_mono_stats_by_hand(tiny_db: Path, tokenizer: str) -> None:
    con = open_readonly(tiny_db)
    df = mono_stats(con, "tinymono", [tokenizer])
    con.close()
    assert list(df["lang"]) == ["eng", "xxx", "yyy"]
    for row in df.itertuples():
        lang, tokens = row.lang, TOKENS[tokenizer][row.lang]
        unk = {"eng": 0, "xxx": 3, "yyy": 3}[lang] if tokenizer == "bert-uncased" else 0
        assert (row.lines, row.tokens, row.bytes, row.chars, row.unk, row.byte_fallback) == (
            LINES[lang], tokens, BYTES[lang], CHARS[lang], unk, 0)
        assert row.bytes_per_token == BYTES[lang] / tokens  # e.g. codepoints xxx 29 / 11
        assert row.chars_per_token == CHARS[lang] / tokens  # e.g. utf8-bytes yyy 21 / 61
        assert row.tokens_per_kb == 1000 * tokens / BYTES[lang]
        assert row.unk_rate == unk / tokens and bool(row.unk_flag) is (unk / tokens > 0.10)  # bert: 3/4, 3/11
        assert row.byte_fallback_rate == 0.0
        if ICU_WORDS[lang] is None:
            assert pd.isna(row.words)
            assert pd.isna(row.fertility) and row.words_note == TIBETAN_NOTE
        else:
            assert (row.words, row.fertility) == (ICU_WORDS[lang], tokens / ICU_WORDS[lang])  # bert eng 12/9
            assert pd.isna(row.words_note)


def test_incremental_mono_build_and_tables(tiny_db: Path) -> None:
    con = duckdb.connect(str(tiny_db), read_only=True)
    runs = con.execute("SELECT tokenizer, tokenizer_sha256 = 'built in', built_at FROM mono_runs ORDER BY 1").fetchall()
    assert [r[:2] for r in runs] == [("bert-uncased", False), ("codepoints", True), ("utf8-bytes", True),
                                     ("words", True)]
    # The first build counted utf8-bytes and bert-uncased; the second only the other two.
    first = {r[0]: r[2] for r in runs if r[0] in ("utf8-bytes", "bert-uncased")}
    later = {r[0]: r[2] for r in runs if r[0] in ("codepoints", "words")}
    assert max(first.values()) < min(later.values())
    assert con.execute("SELECT count(*) FROM mono_counts").fetchone()[0] == 4 * 4
    assert con.execute("SELECT shard, lines, bytes, chars, words FROM mono_shards ORDER BY shard").fetchall() == [
        (0, 2, 33, 33, 7), (1, 1, 8, 8, 2), (2, 2, 29, 11, 3), (3, 3, 61, 21, None)]
    row = con.execute("SELECT n_languages, n_files, n_shards, file_bytes, sample, seed, shard_bytes, normalization "
                      "FROM mono_corpora").fetchone()
    assert row[:3] == (3, 4, 4) and row[4:] == (None, 0, 1024, "none")
    con.close()
    report = build(tiny_db, corpora=["tinymono"], tokenizers=TOKENIZERS, workers=2)
    assert report.pairs_counted == [] and sorted(report.pairs_skipped) == [("tinymono", t) for t in TOKENIZERS]


def test_a_rebuilt_database_reuses_the_finished_partitions(tiny_db: Path, tiny_mono: Path, tmp_path: Path) -> None:
    # A new database file with the same parts folder: every (shard x tokenizer) partition is there already.
    db = tmp_path / "again.duckdb"
    import_mono_into_store(db, scan_monolingual(tiny_mono, name="tinymono", shard_bytes=1024))
    report = build(db, corpora=["tinymono"], tokenizers=TOKENIZERS, parts=f"{tiny_db}.parts")
    assert (report.tasks_run, report.tasks_reused) == (0, 4 + 4 * 4)
    a, b = open_readonly(tiny_db), open_readonly(db)
    assert a.execute("SELECT * FROM mono_stats ORDER BY ALL").fetchall() == b.execute(
        "SELECT * FROM mono_stats ORDER BY ALL").fetchall()
    a.close()
    b.close()


def test_nfc_normalization_applies_to_monolingual_text(tmp_path: Path) -> None:
    # "Cafe" + U+0301: 5 code points, 6 bytes as given; NFC makes it "Café", 4 code points, 5 bytes.
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "fra.txt").write_text("Cafe\u0301\n")
    db = tmp_path / "nfc.duckdb"
    import_mono_into_store(db, scan_monolingual(tmp_path / "c", name="c"), normalization="NFC")
    build(db, corpora=["c"], tokenizers=["codepoints"], normalization="NFC", workers=1)
    con = open_readonly(db)
    assert con.execute("SELECT bytes, chars, tokens FROM mono_stats").fetchone() == (5, 4, 4)
    con.close()


# ------------------------------------------------------------------ bad input


def expect_error(path: Path, match: str, **kw) -> None:
    with pytest.raises(CorpusFormatError, match=match):
        scan_monolingual(path, name="bad", **kw)


def test_bad_folders_and_files(tmp_path: Path) -> None:
    expect_error(tmp_path / "nope", "does not exist")
    (tmp_path / "f.txt").write_text("x\n")
    expect_error(tmp_path / "f.txt", "is a file, not a folder")
    (tmp_path / "empty").mkdir()
    expect_error(tmp_path / "empty", "holds no language folders or files")
    (tmp_path / "readme").mkdir()
    (tmp_path / "readme" / "eng.txt").write_text("Hello.\n")
    (tmp_path / "readme" / "README.md").write_text("about\n")
    expect_error(tmp_path / "readme", r"README.md: is not plain text named \*.txt, or compressed \*.gz / \*.zst")
    (tmp_path / "zero").mkdir()
    (tmp_path / "zero" / "eng.txt").write_bytes(b"")
    expect_error(tmp_path / "zero", r"eng.txt: is empty")
    (tmp_path / "twice" / "eng").mkdir(parents=True)
    (tmp_path / "twice" / "eng" / "a.txt").write_text("a\n")
    (tmp_path / "twice" / "eng.txt").write_text("b\n")
    expect_error(tmp_path / "twice", "is a second source for language 'eng'")
    (tmp_path / "u16").mkdir()
    (tmp_path / "u16" / "eng.txt").write_bytes("Hello\n".encode("utf-16"))
    expect_error(tmp_path / "u16", r"is UTF-16 or UTF-32.*iconv")
    (tmp_path / "latin1").mkdir()
    (tmp_path / "latin1" / "fra.txt").write_bytes("Ça va\nDéjà\n".encode("latin-1"))
    expect_error(tmp_path / "latin1", r"fra.txt: byte 0xC7 at offset 0 \(line 1\) is not valid UTF-8")
    (tmp_path / "badgz").mkdir()
    (tmp_path / "badgz" / "eng.txt.gz").write_bytes(b"not gzip at all")
    expect_error(tmp_path / "badgz", r"eng.txt.gz: cannot be read \(BadGzipFile")
    (tmp_path / "badzst").mkdir()
    (tmp_path / "badzst" / "eng.zst").write_bytes(b"not zstd at all")
    expect_error(tmp_path / "badzst", r"eng.zst: cannot be read \(ZstdError")
    expect_error(tmp_path / "readme", r"sample 1.5 is not a fraction in \(0, 1\]", sample=1.5)


def test_bad_bytes_past_the_probe_are_named_at_build(tmp_path: Path) -> None:
    # The import reads the first 64 KiB; a bad byte beyond it is found by the build, with its offset.
    (tmp_path / "c").mkdir()
    good = b"abc\n" * 20_000  # 80,000 bytes
    (tmp_path / "c" / "eng.txt").write_bytes(good + b"caf\xe9\n")
    db = tmp_path / "x.duckdb"
    import_mono_into_store(db, scan_monolingual(tmp_path / "c", name="c"))
    with pytest.raises(CorpusFormatError, match=r"eng.txt: byte 0xE9 at offset 80,003 is not valid UTF-8"):
        build(db, corpora=["c"], tokenizers=["utf8-bytes"], workers=1)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM mono_runs").fetchone()[0] == 0  # nothing half-built
    con.close()


def test_changed_folder_and_name_clashes(tiny_mono: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(tiny_mono, root)
    db = tmp_path / "x.duckdb"
    import_mono_into_store(db, scan_monolingual(root, name="m"))
    with open(root / "yyy.txt", "ab") as f:
        f.write("ཡིག\n".encode())
    with pytest.raises(CorpusFormatError, match=r"yyy.txt: changed since the corpus was imported.*Import the folder "
                                                r"again"):
        build(db, corpora=["m"], tokenizers=["utf8-bytes"], workers=1)
    os.remove(root / "yyy.txt")
    with pytest.raises(CorpusFormatError, match=r"yyy.txt: is gone or unreadable"):
        build(db, corpora=["m"], tokenizers=["utf8-bytes"], workers=1)
    parallel = tmp_path / "par"
    parallel.mkdir()
    (parallel / "eng.txt").write_text("Hello.\n")
    with pytest.raises(StoreError, match="'m' is already the name of a monolingual corpus"):
        import_into_store(db, read_corpus("lines", parallel, name="m"))
    import_into_store(db, read_corpus("lines", parallel, name="p"))
    with pytest.raises(StoreError, match="'p' is already the name of a parallel corpus"):
        import_mono_into_store(db, scan_monolingual(tiny_mono, name="p"))
    con = open_readonly(db)
    with pytest.raises(StoreError, match=r"Not counted on 'm': words\. Counted: none"):
        mono_stats(con, "m", ["words"])
    with pytest.raises(StoreError, match=r"No monolingual corpus 'p' in the database; it has: m"):
        mono_stats(con, "p")
    con.close()


def test_cli_import_build_and_mono_stats(tiny_mono: Path, tmp_path: Path, capsys) -> None:
    from analysis.cli import main

    db = str(tmp_path / "cli.duckdb")
    assert main(["corpus", "import", "--kind", "monolingual", "--path", str(tiny_mono), "--name", "m", "--db", db,
                 "--shard-mb", "0.001"]) == 0
    assert "monolingual corpus m: 3 languages, 4 files" in capsys.readouterr().err
    assert main(["build", "--db", db, "--corpus", "m", "--tokenizers", "utf8-bytes", "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert "running 8 task(s) on the local engine" in err and "[8/8] tasks, " in err and " MB/s " in err
    assert main(["mono-stats", "--db", db, "--corpus", "m", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["tokenizer"], r["lang"], r["lines"], r["tokens"], r["bytes"]) for r in rows] == [
        ("utf8-bytes", "eng", 3, 41, 41), ("utf8-bytes", "xxx", 2, 29, 29), ("utf8-bytes", "yyy", 3, 61, 61)]
    assert main(["corpus", "import", "--kind", "monolingual", "--path", str(tmp_path / "nope"), "--name", "x",
                 "--db", db]) == 2
    assert "Corpus cannot be imported" in capsys.readouterr().err


def test_a_changed_corpus_gets_new_partitions_and_the_old_ones_go(tmp_path: Path) -> None:
    root, db = tmp_path / "c", tmp_path / "x.duckdb"
    root.mkdir()
    (root / "eng.txt").write_text("Hello world.\n")
    parts = Path(f"{db}.parts")

    def build_it() -> tuple[set[Path], tuple]:
        import_mono_into_store(db, scan_monolingual(root, name="c"))
        build(db, corpora=["c"], tokenizers=["utf8-bytes"], workers=1)
        con = open_readonly(db)
        row = con.execute("SELECT lines, tokens, bytes, words FROM mono_stats").fetchone()
        con.close()
        return {p.parent.relative_to(parts) for p in parts.rglob("part-*.parquet")}, row

    first, row = build_it()
    assert row == (1, 12, 12, 2)  # "Hello world.": 12 bytes, 2 words
    assert {p.parts[0] for p in first} == {"mono_text", "mono_counts"} and len(first) == 2
    (root / "eng.txt").write_text("Hello there, world.\n")  # another size: a new fingerprint
    second, row = build_it()
    assert row == (1, 19, 19, 3)
    assert len(second) == 2 and not first & second  # new versions; the old folders are deleted
