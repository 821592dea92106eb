"""Counting tokens of units with one tokenizer: the work every engine's workers do, and what it costs per backend.

Runs in worker processes (the local pool, a Ray worker) as well as in the builder's own process, so it imports only
what counting needs.

Example (one text, "héllo": six UTF-8 bytes, one word, split over those six byte tokens):
    >>> n_tokens, n_unk, n_byte, n_cont, seconds, _ = count_units("utf8-bytes", ["héllo"], [[(0, 5)]])
    >>> n_tokens, n_unk, n_byte, n_cont
    ([6], [0], [0], [1])
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from ..tokenizers.backends import BACKENDS
from ..tokenizers.backends import library_version as library_version  # stored with every count
from .lang_counts import LangIdCounts

#: Each backend's start order (dearest, 0, first, so that neither core idles long at the end) and its counting time
#: per byte relative to tiktoken's (the local pool's first split): read from the backends' descriptors.
BACKEND_COST = {name: b.cost for name, b in BACKENDS.items()}
BACKEND_RATE = {name: b.rate for name, b in BACKENDS.items()}


def count_units(tokenizer_id: str, texts: Sequence[str], word_spans: Sequence[list[tuple[int, int]] | None],
                lang_of_text: Sequence[str] | None = None
                ) -> tuple[list[int], list[int], list[int], list[int | None], float, LangIdCounts | None]:
    """Per text: tokens, UNK tokens, byte-fallback tokens, words split over several tokens; seconds taken; and, given
    each text's language, the (token id, language) counts of those texts (None otherwise)."""
    from ..tokenizers import get_tokenizer

    tok = get_tokenizer(tokenizer_id)
    t0 = time.perf_counter()
    stats = tok.unit_stats(texts, word_spans)
    counted = (LangIdCounts.of(stats.ids, stats.n_tokens, lang_of_text)
               if lang_of_text is not None and stats.ids is not None else None)
    return (stats.n_tokens, stats.n_unk, stats.n_byte_fallback, stats.n_continued, time.perf_counter() - t0,
            counted)


