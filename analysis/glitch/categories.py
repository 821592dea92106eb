"""The categories a token can fall in, as bit flags, their names and the legend shown with them.

A token can be in several categories at once (``<0xE4>`` of a SentencePiece vocabulary is both byte-fallback and
partial UTF-8). Flags are stored as one small integer per token; names are the strings every interface shows.

Example:
    >>> names(Category.BYTE_FALLBACK | Category.PARTIAL_UTF8)
    ['byte-fallback', 'partial-utf8']
    >>> int(from_names(["special", "never-seen"]))
    33
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from ..errors import AnalysisError


class GlitchError(AnalysisError):
    """Glitch-token probing cannot go on as asked (a model without embeddings, a vocabulary without ids, ...)."""

    title = "Glitch-token probing"


class Category(enum.IntFlag):
    """Tokenizer-check categories (bits of the ``flags`` column of ``glitch_tokens``)."""

    SPECIAL = 1  # a control / added special token (BOS, <|endoftext|>, [CLS]) or the UNK token
    BYTE_FALLBACK = 2  # a raw-byte token such as <0xE4>
    PARTIAL_UTF8 = 4  # its bytes are not valid UTF-8 on their own
    UNREACHABLE = 8  # decode it, encode the result: not that single id
    NORMALIZATION_CHANGED = 16  # the tokenizer's own normalizer changes its text
    NEVER_SEEN = 32  # occurs nowhere in the built corpora
    RARE = 64  # occurs, but at most RARE_MAX_COUNT times in all the built corpora together


#: Tokens seen at least once and at most this many times in all built corpora together are "rare".
RARE_MAX_COUNT = 3
#: The name of the verdict from prompt verification (not a tokenizer check, so not a bit of ``Category``).
UNDER_TRAINED_VERIFIED = "under-trained (verified)"

_NAMES: dict[Category, str] = {
    Category.SPECIAL: "special",
    Category.BYTE_FALLBACK: "byte-fallback",
    Category.PARTIAL_UTF8: "partial-utf8",
    Category.UNREACHABLE: "unreachable",
    Category.NORMALIZATION_CHANGED: "normalization-changed",
    Category.NEVER_SEEN: "never-seen",
    Category.RARE: "rare",
}
_BY_NAME = {v: k for k, v in _NAMES.items()}
#: Every category name, in bit order.
CATEGORY_NAMES: tuple[str, ...] = tuple(_NAMES.values())

#: (name, what it means) for every flag a token of a user's text can carry; for a legend beside flagged text.
LEGEND: tuple[tuple[str, str], ...] = (
    ("special", "a control or added special token (BOS, <|endoftext|>, [CLS], the UNK token)"),
    ("byte-fallback", "a raw-byte token such as <0xE4>: the vocabulary had no piece for this text"),
    ("partial-utf8", "its bytes are not valid UTF-8 on their own (a piece of a multi-byte character)"),
    ("unreachable", "decoding the token and encoding the result does not give back this token, so ordinary "
                    "text almost never produces it"),
    ("normalization-changed", "the tokenizer's own normalizer (NFKC, lower-casing, ...) changes its text"),
    ("never-seen", "occurs nowhere in the corpora of the statistics database"),
    ("rare", f"occurs at most {RARE_MAX_COUNT} times in all the corpora of the statistics database together"),
    (UNDER_TRAINED_VERIFIED, "a model with this vocabulary was prompted to repeat the token and gave it a "
                             "probability below the verification threshold (default 0.01): likely a glitch token"),
)


def names(flags: int) -> list[str]:
    """Category names of a flags value, in bit order."""
    return [name for bit, name in _NAMES.items() if flags & bit]


def from_names(items: Iterable[str]) -> Category:
    """Flags from category names; an unknown name is an error that lists the known ones."""
    flags = Category(0)
    for item in items:
        if item not in _BY_NAME:
            raise GlitchError(f"Unknown token category {item!r}; choose from: {', '.join(CATEGORY_NAMES)}.",
                              title="Unknown category")
        flags |= _BY_NAME[item]
    return flags
