"""The statistics a build stores (analysis.tokenizers.unit_stats, through each backend's ``unit_stats``) on every unit of
the UDHR equal those a build on main stored before they were vectorised, and hand-worked cases of the spelled-text path.

``MAIN_BUILT`` holds, per tokenizer, the totals and a digest of the ``counts`` rows (n_tokens, n_unk, n_byte_fallback,
n_continued of all 16,235 units, in the store's order) of a store built on main on 2026-12-06 (21:38 UTC), before the
statistics became the flat-array passes below: the digest pins every unit's four values, the totals are readable.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from analysis.store.counting import count_units
from analysis.tokenizers.tables import TokenTables
from analysis.tokenizers.unit_stats import UnitStats, class_counts, spelled_split, stats_from_token_lengths, stats_spelled_or
from analysis.user_counts import HELD, held_corpus

#: tokenizer -> ((tokens, UNK, byte-fallback, split words, units with words withheld), digest of the 16,235 rows).
MAIN_BUILT = {
    "cl100k_base": ((3107176, 0, 0, 619783, 217), "7325fe2753b945c5"),
    "whisper-multilingual": ((3191682, 0, 0, 615442, 217), "78240aa167761b57"),  # holds the empty token "="
    "llama3": ((2913672, 0, 0, 592883, 217), "79ba1d95713eb8e3"),
    "llama2": ((3181998, 0, 715131, 642619, 217), "13cb78911fdda3bd"),  # dummy prefix, byte fallback
    "bert-uncased": ((2234533, 96342, 0, 560379, 217), "efd868962611d02b"),  # normalizes: the offsets path
    "mistral-v1": ((3158433, 0, 636724, 646707, 217), "3942f43fc36c8bb9"),  # SentencePiece via mistral-common
    "mistral-v1-hf": ((3158433, 0, 636724, 646707, 217), "3942f43fc36c8bb9"),  # the same vocabulary, HF's file
    "mistral-tekken": ((2656286, 0, 0, 565047, 217), "c0c3de1e6d9f8a79"),
    "jurassic2": ((2979075, 0, 229324, 595578, 217), "a0e20967c0bb5b8d"),
    "utf8-bytes": ((6756321, 0, 0, 819912, 217), "6c1c2c6b07c49f78"),
    "words": ((805051, 0, 0, 6, 217), "628b6087c3349ab2"),
}


def digest(rows: list[tuple]) -> str:
    h = hashlib.sha256()
    for row in rows:
        h.update((",".join("" if v is None else str(v) for v in row) + "\n").encode())
    return h.hexdigest()[:16]


@pytest.mark.slow
@pytest.mark.parametrize("tokenizer", list(MAIN_BUILT))
def test_every_udhr_unit_as_main_stored_it(app_db: Path, tokenizer: str) -> None:
    HELD.clear()
    held = held_corpus(app_db)  # the units and word spans a build counts, in the store's order, in 20 pieces
    rows: list[tuple] = []
    for texts, spans in held.pieces:
        n_tokens, n_unk, n_byte, n_continued, _, _ = count_units(tokenizer, texts, spans)
        rows += zip(n_tokens, n_unk, n_byte, n_continued, strict=True)
    HELD.clear()
    totals = (sum(r[0] for r in rows), sum(r[1] for r in rows), sum(r[2] for r in rows),
              sum(r[3] for r in rows if r[3] is not None), sum(r[3] is None for r in rows))
    assert len(rows) == 16_235
    assert (totals, digest(rows)) == MAIN_BUILT[tokenizer]


# ------------------------------------------------------------------ by hand

#: ids 0-7: " a", "b", "<unk>" (UNK), "" (an empty token), " " (a dummy prefix alone), "c", "d" (byte fallback), "ab"
TABLES = TokenTables.from_bytes([b" a", b"b", b"<unk>", b"", b" ", b"c", b"d", b"ab"],
                                np.array([0, 0, 2, 0, 0, 0, 3, 0], dtype=np.uint8))


def test_spelled_texts_by_hand() -> None:
    """"ab" as " a"+"b" after an added space (the space ends at byte 0, "a" at 1: "ab" is split); "cd" as " "+""+"c"+"d"
    (the prefix and the empty token end where the text starts; "c" ends inside "cd"); "" with no token."""
    texts = ["ab", "cd", ""]
    ids = [[0, 1], [4, 3, 5, 6], []]
    got = stats_from_token_lengths(texts, [[(0, 2)], [(0, 2)], None], ids, TABLES.lengths, TABLES.classes,
                                   skips=[1, 1, 0])
    assert got == UnitStats([2, 4, 0], [0, 0, 0], [0, 1, 0], [1, 1, None])
    assert got.ids.tolist() == [0, 1, 4, 3, 5, 6]
    # One-character words: no token can end strictly inside them.
    assert stats_from_token_lengths(texts, [[(0, 1), (1, 2)], [(0, 1), (1, 2)], []], ids, TABLES.lengths,
                                    TABLES.classes, skips=[1, 1, 0]).n_continued == [0, 0, 0]


def test_an_empty_token_before_the_added_space_ends_where_its_text_starts() -> None:
    """"cd" starts with an empty token, then the added space: both end where "cd" starts, not a byte before it, inside
    the word "ab" that ends there (one token, not split)."""
    got = stats_from_token_lengths(["ab", "cd"], [[(0, 2)], [(0, 2)]], [[7], [3, 4, 5, 6]], TABLES.lengths,
                                   TABLES.classes, skips=[0, 1])
    assert got == UnitStats([1, 4], [0, 0], [0, 1], [0, 1])


def test_a_text_the_tokens_do_not_spell_keeps_its_place() -> None:
    """"xy" encoded as <unk> is not spelled: its counts come from ``rest``, and "cd" after it is still placed after
    its two bytes (were they left out, no token would end inside "cd" and it would count 0 split words)."""
    texts = ["ab", "xy", "cd"]
    flat, counts = np.array([0, 1, 2, 4, 3, 5, 6]), np.array([2, 1, 4])
    assert spelled_split(texts, flat, counts, TABLES) == ([0, 2], [1, 1], [1])
    asked: list[list[int]] = []

    def rest(indices: list[int]) -> UnitStats:  # what the backend's own path says of those texts
        asked.append(indices)
        return UnitStats([1], [1], [0], [2])

    got = stats_spelled_or(texts, [[(0, 2)], [(0, 2)], [(0, 2)]], flat, counts, TABLES, rest)
    assert asked == [[1]]
    assert got == UnitStats([2, 1, 4], [0, 1, 0], [0, 0, 1], [1, 2, 1]) and got.ids.tolist() == flat.tolist()


def test_spelled_split_all_at_once_and_text_by_text() -> None:
    # Every text spelled (one comparison of all of them): the spaces added before "ab" and before the empty text.
    assert spelled_split(["ab", "b", ""], np.array([0, 1, 1, 4]), np.array([2, 1, 1]), TABLES) == \
        ([0, 1, 2], [1, 0, 1], [])
    # Two added bytes, and bytes that differ from the text's: text by text, both unspelled.
    assert spelled_split(["b", "c", "b"], np.array([4, 4, 1, 1, 1]), np.array([3, 1, 1]), TABLES) == \
        ([2], [0], [0, 1])
    # Lengths that fit but bytes that differ ("b" for "c"): the comparison of all texts fails, then text by text.
    assert spelled_split(["c", "ab"], np.array([1, 0, 1]), np.array([1, 2]), TABLES) == ([1], [1], [0])
    assert spelled_split([], np.array([], dtype=np.int64), np.array([], dtype=np.int64), TABLES) == ([], [], [])


def test_class_counts_and_spelling_by_hand() -> None:
    assert class_counts(np.array([2, 6, 6, 0, 2]), np.array([3, 0, 2]), TABLES.classes) == ([1, 0, 1], [2, 0, 0])
    assert class_counts(np.array([0, 1]), np.array([1, 1]), np.zeros(7, dtype=np.uint8)) == ([0, 0], [0, 0])
    assert TABLES.spell(np.array([4, 3, 5, 6, 0])) == b" cd a"
    assert TABLES.spell(np.array([], dtype=np.int64)) == b""
