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
from importlib import metadata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..glitch.frequency import LangIdCounts

#: Rough relative cost of counting with each backend: the slow ones are started first, so that the
#: last tasks to finish are short ones and neither core idles long at the end.
BACKEND_COST = {"hf": 0, "ai21": 0, "sentencepiece": 1, "mistral": 1, "tiktoken": 2, "baseline": 3}
#: Relative cost per byte of each backend (tiktoken = 1), measured on the UDHR; the local pool's dealing order and
#: first split use it (the queues even out what it gets wrong).
BACKEND_RATE = {"hf": 1.6, "ai21": 1.6, "sentencepiece": 1.3, "mistral": 1.2, "tiktoken": 1.0, "baseline": 0.3}
#: The Python package whose version each backend's counts depend on (stored with each tokenizer's counts).
BACKEND_PACKAGE = {"tiktoken": "tiktoken", "hf": "tokenizers", "mistral": "mistral-common",
                   "sentencepiece": "sentencepiece", "ai21": "sentencepiece"}


def count_units(tokenizer_id: str, texts: Sequence[str], word_spans: Sequence[list[tuple[int, int]] | None],
                lang_of_text: Sequence[str] | None = None
                ) -> tuple[list[int], list[int], list[int], list[int | None], float, LangIdCounts | None]:
    """Per text: tokens, UNK tokens, byte-fallback tokens, words split over several tokens; seconds taken; and, given
    each text's language, the (token id, language) counts that token frequencies are made of (None otherwise)."""
    from ..glitch.frequency import LangIdCounts
    from ..tokenizers import get_tokenizer

    tok = get_tokenizer(tokenizer_id)
    t0 = time.perf_counter()
    stats = tok.unit_stats(texts, word_spans)
    counted = (LangIdCounts.of(stats.ids, stats.n_tokens, lang_of_text)
               if lang_of_text is not None and stats.ids is not None else None)
    return (stats.n_tokens, stats.n_unk, stats.n_byte_fallback, stats.n_continued, time.perf_counter() - t0,
            counted)


def library_version(backend: str) -> str:
    """The counting library and its version for a backend, as stored in the ``tokenizers`` table.

    >>> library_version("baseline")
    'built in'
    """
    package = BACKEND_PACKAGE.get(backend)
    return f"{package} {metadata.version(package)}" if package else "built in"
