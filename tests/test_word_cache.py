"""A counting job's larger word cache (``Tokenizer.reserve_word_cache``, called by analysis.user_counts.count_into):
what it sets, and that counting the whole UDHR with it, the cache cold and then warm, gives every unit's statistics
and every id exactly as without it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.assets import asset_path
from analysis.catalogue import load_catalogue
from analysis.tokenizers import get_tokenizer
from analysis.tokenizers.hf_backend import HFTokenizersTokenizer, load_hf_file
from analysis.user_counts import HELD, WORD_CACHE, held_corpus
from tests.test_unit_stats_udhr import MAIN_BUILT, digest


def _fresh(rel: str) -> HFTokenizersTokenizer:
    """A tokenizer of its own (not the registry's shared one, whose cache other tests would inherit)."""
    return HFTokenizersTokenizer("cache-test", load_hf_file(asset_path(load_catalogue().files[rel])))


def test_reserve_raises_and_never_lowers() -> None:
    tok = _fresh("meta/llama2/tokenizer.json")
    assert tok.reserve_word_cache(5_000) == 10_000  # tokenizers' default already holds that many
    assert tok.reserve_word_cache(20_000) == 20_000
    assert tok.reserve_word_cache(15_000) == 20_000


def test_backends_without_a_word_cache_say_so() -> None:
    assert get_tokenizer("cl100k_base").reserve_word_cache(WORD_CACHE) is None
    assert get_tokenizer("utf8-bytes").reserve_word_cache(WORD_CACHE) is None


@pytest.mark.slow
def test_udhr_counts_and_ids_unchanged_with_the_cache_cold_and_warm(app_db: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Llama 3 (the one digest of a byte-level BPE at hand) counts through its rank twin, which needs no word cache:
    # switched off here, so that tokenizers' own encode runs with the larger cache (as for Qwen, DeepSeek, ...).
    monkeypatch.setenv("ATLAS_RANK_TWIN", "0")
    HELD.clear()
    pieces = held_corpus(app_db).pieces
    HELD.clear()
    plain = _fresh("lenml/llama3/tokenizer.json")  # tokenizers' default cache
    cached = _fresh("lenml/llama3/tokenizer.json")
    assert cached.reserve_word_cache(WORD_CACHE) == WORD_CACHE
    reference_ids = np.concatenate([plain.unit_stats(texts, spans).ids for texts, spans in pieces])
    for _ in ("cold", "warm"):
        rows: list[tuple] = []
        ids = []
        for texts, spans in pieces:
            stats = cached.unit_stats(texts, spans)
            rows += zip(stats.n_tokens, stats.n_unk, stats.n_byte_fallback, stats.n_continued, strict=True)
            ids.append(stats.ids)
        totals = (sum(r[0] for r in rows), sum(r[1] for r in rows), sum(r[2] for r in rows),
                  sum(r[3] for r in rows if r[3] is not None), sum(r[3] is None for r in rows))
        assert (totals, digest(rows)) == MAIN_BUILT["llama3"]
        assert np.array_equal(np.concatenate(ids), reference_ids)
