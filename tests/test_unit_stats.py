"""The batch statistics a corpus build stores equal those of encoding each text on its own.

Every backend's ``unit_stats`` (flat, vectorized) is compared with the generic path that builds a
full Encoding per text (``Tokenizer.unit_stats`` of the base class), on UDHR units in every script
and on strings that take the backends' fallback paths.
"""

from __future__ import annotations

import pytest

from analysis import load_catalogue
from analysis.corpus.udhr import load_udhr
from analysis.tokenizers import Tokenizer, get_tokenizer
from analysis.tokenizers.unit_stats import UnitStats
from analysis.words import words

TRICKY = ["", " leading space", "a\u2581typed block", "e\u0301 composed", "\u2581", "x  \t\n  y", "👩\u200d👩\u200d👧 ok",
          "ሰላም ዓለም", "𠮷野家 です", "<|endoftext|> <s> [INST]", "\x00 nul", "ﬁne"]


@pytest.fixture(scope="module")
def sample() -> tuple[list[str], list]:
    units = load_udhr().units[::40]  # ~400 units across the variants, every script
    texts = [u.text for u in units] + TRICKY
    spans = [words(t) if i % 7 else None for i, t in enumerate(texts)]  # some texts with words withheld
    return texts, spans


@pytest.mark.parametrize("tid", load_catalogue().ids)
def test_batch_stats_equal_per_text_encoding(tid: str, sample) -> None:
    texts, spans = sample
    tok = get_tokenizer(tid)
    fast = tok.unit_stats(texts, spans)
    slow = Tokenizer.unit_stats(tok, texts, spans)
    assert isinstance(fast, UnitStats)
    for field in ("n_tokens", "n_unk", "n_byte_fallback", "n_continued"):
        got, want = getattr(fast, field), getattr(slow, field)
        diff = [(i, texts[i][:40], got[i], want[i]) for i in range(len(texts)) if got[i] != want[i]]
        assert diff == [], field
    assert fast.n_tokens == [tok.count(t) for t in texts]
    # Every id, text after text, as encode gives them: what a build counts token frequencies from.
    want_ids = [i for t in texts for i in tok.encode(t).ids]
    assert fast.ids is not None and fast.ids.tolist() == want_ids
    assert slow.ids.tolist() == want_ids


def test_continued_words_by_hand() -> None:
    tok = get_tokenizer("codepoints")  # one token per character: every word of 2+ characters is continued
    stats = tok.unit_stats(["ab c", "x"], [[(0, 2), (3, 4)], None])
    assert stats == UnitStats([4, 1], [0, 0], [0, 0], [1, None])
    assert stats.ids.tolist() == [ord(c) for c in "ab cx"]
    assert get_tokenizer("utf8-bytes").unit_stats(["é a", "ab"], [[(0, 1), (2, 3)], [(0, 2)]]) == UnitStats(
        [4, 2], [0, 0], [0, 0], [1, 1])


@pytest.mark.parametrize("tid", load_catalogue().ids)
def test_token_tables_are_what_encode_reports(tid: str) -> None:
    """The public per-id tables agree with encode's bytes and kinds; the words baseline has none (hashed ids)."""
    tok = get_tokenizer(tid)
    tables = tok.token_tables()
    if tid == "words":
        assert tables is None
        return
    assert len(tables.token_bytes) == len(tables.lengths) == len(tables.classes) >= tok.vocab_size
    enc = tok.encode("Hello ሰላም 👋 <|endoftext|>")
    assert [tables.token_bytes[i] for i in enc.ids] == enc.token_bytes
    assert all(tables.lengths[i] == len(b) for i, b in zip(enc.ids, enc.token_bytes, strict=True))
    added = tok.encode("Hello", add_special_tokens=True)  # BOS/EOS where the tokenizer adds them
    assert [tables.classes[i] == 1 for i in added.ids] == [k.value == "special" for k in added.kinds]
    assert [tables.token_bytes[i] for i in added.ids] == added.token_bytes  # e.g. utf8-bytes' EOS is b"</s>"
