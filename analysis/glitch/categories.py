"""The categories a token can fall in, as bit flags, their names and the legend shown with them.

A token can be in several categories at once (``<0xE4>`` of a SentencePiece vocabulary is both byte-fallback and
partial UTF-8). Flags are stored as one small integer per token; names are the strings every interface shows.

Example:
    >>> names(Category.BYTE_FALLBACK | Category.PARTIAL_UTF8)
    ['byte-fallback', 'partial-utf8']
    >>> int(from_names(["special", "unreachable"]))
    9
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from analysis.i18n import N_

from ..errors import GlitchError


class Category(enum.IntFlag):
    """Tokenizer-check categories (bits of the ``flags`` column of ``glitch_tokens``)."""

    SPECIAL = 1  # a control / added special token (BOS, <|endoftext|>, [CLS]) or the UNK token
    BYTE_FALLBACK = 2  # a raw-byte token such as <0xE4>
    PARTIAL_UTF8 = 4  # its bytes are not valid UTF-8 on their own
    UNREACHABLE = 8  # decode it, encode the result: not that single id
    NORMALIZATION_CHANGED = 16  # the tokenizer's own normalizer changes its text
    # Bits 32 and 64 were "never-seen" and "rare" (occurrences in the store's corpora) until checks version 2: how
    # often a token occurs in the UDHR says nothing about what a model saw in training, so they are no category.
    # Token frequencies stay in ``token_frequency``, named for what they are.


#: The name of the verdict from prompt verification (not a tokenizer check, so not a bit of ``Category``): ours, or
#: published (:mod:`analysis.glitch.published`).
UNDER_TRAINED_VERIFIED = "under-trained (verified)"

_NAMES: dict[Category, str] = {
    Category.SPECIAL: "special",
    Category.BYTE_FALLBACK: "byte-fallback",
    Category.PARTIAL_UTF8: "partial-utf8",
    Category.UNREACHABLE: "unreachable",
    Category.NORMALIZATION_CHANGED: "normalization-changed",
}
_BY_NAME = {v: k for k, v in _NAMES.items()}
#: Every category name, in bit order (the tokenizer checks).
CATEGORY_NAMES: tuple[str, ...] = tuple(_NAMES.values())
CHECK_NAMES = CATEGORY_NAMES
#: What a token of a user's text is flagged for (⚠): evidence that it misbehaves, nothing else. Special, byte-fallback
#: and partial-UTF-8 tokens keep their own badges; how often a token occurs in the store's corpora is no evidence.
EVIDENCE_NAMES: tuple[str, ...] = ("unreachable", "normalization-changed", UNDER_TRAINED_VERIFIED)

#: (name, what it means) for every flag a token of a user's text can carry; for a legend beside flagged text.
#: The meanings are msgids, translated where they are shown (``gettext(meaning)``).
LEGEND: tuple[tuple[str, str], ...] = (
    ("special", N_("a control or added special token (BOS, <|endoftext|>, [CLS], the UNK token)")),
    ("byte-fallback", N_("a raw-byte token such as <0xE4>: the vocabulary had no piece for this text")),
    ("partial-utf8", N_("its bytes are not valid UTF-8 on their own (a piece of a multi-byte character)")),
    ("unreachable", N_("decoding the token and encoding the result does not give back this token, so ordinary "
                       "text almost never produces it")),
    ("normalization-changed", N_("the tokenizer's own normalizer (NFKC, lower-casing, ...) changes its text")),
    (UNDER_TRAINED_VERIFIED, N_("a model with this vocabulary was prompted to repeat the token and gave it a "
                                "probability below the verification threshold (0.01): a glitch token of that model. "
                                "Published (Land & Bartolo 2024, the Magikarp reports) or from our own verification; "
                                "the hover names the model and the source")),
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
                              title=N_("Unknown category"))
        flags |= _BY_NAME[item]
    return flags
