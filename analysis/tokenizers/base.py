"""The one encoding contract every backend implements.

An :class:`Encoding` is columnar (ids, spans, bytes, kinds as parallel lists) so that
corpus-sized texts stay cheap; :attr:`Encoding.tokens` materialises :class:`Token` records.

Spans are character offsets into the text as given. Tokens that split one character (byte-level
pieces of an emoji, byte-fallback pieces of a rare Han character) share that character's span,
which is what lets a UI draw the character once with a split marker instead of "�".
"""

from __future__ import annotations

import abc
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cached_property

import numpy as np

from ..errors import InputTextError


class TokenKind(str, Enum):
    """What a token is, for display and for the UNK / byte-fallback rates.

    Precedence when several apply: unknown > special > byte_fallback > split > normal
    (BERT's ``[UNK]`` is also an added special token; it counts as unknown).
    """

    NORMAL = "normal"
    SPECIAL = "special"  # control / added special token (BOS, <|endoftext|>, ...)
    UNKNOWN = "unknown"  # the tokenizer's UNK token
    BYTE_FALLBACK = "byte_fallback"  # a raw-byte token such as <0xE4>
    SPLIT = "split"  # shares a character with a neighbouring token (part of a split character)


@dataclass(frozen=True, slots=True)
class Token:
    """One token of an encoding."""

    id: int
    bytes: bytes  # the bytes this token stands for when decoded (b" the", b"\\xe4")
    start: int  # character offsets into the input text
    end: int
    kind: TokenKind
    piece: str  # the vocabulary entry as the tokenizer stores it ("Ġthe", "▁the", "<0xE4>", "##ing")

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "bytes_hex": self.bytes.hex(), "start": self.start, "end": self.end,
                "kind": self.kind.value, "piece": self.piece}


@dataclass(frozen=True)
class Encoding:
    """The result of encoding one text with one tokenizer."""

    tokenizer: Tokenizer
    text: str
    ids: list[int]
    starts: list[int]
    ends: list[int]
    token_bytes: list[bytes]
    kinds: list[TokenKind]

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def tokens(self) -> list[Token]:
        piece = self.tokenizer.piece
        return [Token(i, b, s, e, k, piece(i)) for i, b, s, e, k in
                zip(self.ids, self.token_bytes, self.starts, self.ends, self.kinds)]

    def kind_counts(self) -> dict[str, int]:
        """How many tokens of each kind (every kind present as a key)."""
        counts = dict.fromkeys((k.value for k in TokenKind), 0)
        for k in self.kinds:
            counts[k.value] += 1
        return counts

    def to_json(self) -> dict[str, object]:
        """``{"tokenizer": ID, "count": N, "tokens": [...]}`` as the CLI prints it."""
        return {"tokenizer": self.tokenizer.id, "count": self.count, "tokens": [t.to_json() for t in self.tokens]}


def check_text(text: str) -> bytes:
    """Return the UTF-8 of ``text``, or raise a clear error for text that is not valid Unicode."""
    if not isinstance(text, str):
        raise InputTextError(f"Expected text (str), got {type(text).__name__}. Decode bytes first, e.g. data.decode('utf-8').")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InputTextError(
            f"The text has a lone surrogate (U+{ord(text[e.start]):04X}) at character {e.start}, which is not valid "
            "Unicode and has no UTF-8 form. It usually comes from a broken UTF-16 source; re-decode the source, or "
            "replace it with U+FFFD: text.encode('utf-8', 'replace').decode('utf-8')."
        ) from None


def spans_from_byte_offsets(
    text_utf8: bytes, byte_starts: np.ndarray, byte_ends: np.ndarray
) -> tuple[list[int], list[int], np.ndarray]:
    """Map token byte ranges to character spans; also flag tokens cut inside a character.

    A token covering bytes [bs, be) covers every character any of those bytes belongs to.
    Empty ranges (bs == be, e.g. an added BOS) become empty spans at that character.

    >>> s, e, cut = spans_from_byte_offsets("aé".encode(), np.array([0, 1, 2]), np.array([1, 2, 3]))
    >>> s, e, cut.tolist()
    ([0, 1, 1], [1, 2, 2], [False, True, True])
    """
    buf = np.frombuffer(text_utf8, dtype=np.uint8)
    is_start = (buf & 0xC0) != 0x80
    # char_of[b] = index of the character that byte b belongs to; one sentinel for b == len.
    char_of = np.empty(len(buf) + 1, dtype=np.int64)
    np.cumsum(is_start, out=char_of[:-1])
    char_of[:-1] -= 1
    char_of[-1] = char_of[-2] + 1 if len(buf) else 0
    boundary = np.append(is_start, True)  # byte offset b is a character boundary
    bs = np.asarray(byte_starts, dtype=np.int64)
    be = np.asarray(byte_ends, dtype=np.int64)
    empty = be <= bs
    starts = char_of[bs]
    last = np.where(empty, bs, np.maximum(be - 1, 0))
    ends = np.where(empty, starts, char_of[last] + 1)
    cut = ~(boundary[bs] & boundary[be]) & ~empty
    return starts.tolist(), ends.tolist(), cut


def overlap_flags(starts: Sequence[int], ends: Sequence[int]) -> np.ndarray:
    """Flag tokens whose span overlaps a neighbour's (they share a split character).

    >>> overlap_flags([0, 1, 1, 2], [1, 2, 2, 3]).tolist()
    [False, True, True, False]
    """
    s = np.asarray(starts, dtype=np.int64)
    e = np.asarray(ends, dtype=np.int64)
    n = len(s)
    flags = np.zeros(n, dtype=bool)
    if n > 1:
        nonempty = e > s
        shared = (s[1:] < e[:-1]) & nonempty[1:] & nonempty[:-1]
        flags[1:] |= shared
        flags[:-1] |= shared
    return flags


def assign_kinds(
    ids: Sequence[int], cut: np.ndarray, *, special: frozenset[int] | set[int] = frozenset(),
    unk: int | None = None, byte_ids: frozenset[int] | set[int] = frozenset(),
) -> list[TokenKind]:
    """Kinds by precedence unknown > special > byte_fallback > split > normal."""
    out: list[TokenKind] = []
    normal, split = TokenKind.NORMAL, TokenKind.SPLIT
    for i, c in zip(ids, cut.tolist()):
        if i == unk:
            out.append(TokenKind.UNKNOWN)
        elif i in special:
            out.append(TokenKind.SPECIAL)
        elif i in byte_ids:
            out.append(TokenKind.BYTE_FALLBACK)
        else:
            out.append(split if c else normal)
    return out


#: Strings that expose normalizers, lowercasing, whitespace handling and byte-level gaps.
ROUNDTRIP_PROBES: tuple[str, ...] = (
    "Hello world",
    "Hello  World\tTab\nnew line ",
    " leading space",
    "ﬁne café",  # NFKC folds the ligature
    "e\u0301",  # decomposed é; NFC composes it
    "Ὀδυσσεύς — नमस्ते — 你好 — ሰላም",
    "👩‍👩‍👧 🇺🇳",
)


class Tokenizer(abc.ABC):
    """A loaded tokenizer behind the common interface.

    Subclasses implement :meth:`_encode`, :meth:`_count` (and :meth:`_count_batch`), :meth:`decode`
    and :meth:`piece`. Options are keyword-only with safe defaults: no BOS/EOS, and text that looks
    like a special token (``<|endoftext|>``) is encoded as plain text.
    """

    backend: str = "?"

    def __init__(self, tokenizer_id: str, *, name: str | None = None, vocab_size: int | None = None) -> None:
        self.id = tokenizer_id
        self.name = name or tokenizer_id
        self.vocab_size = vocab_size
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id!r}>"

    def encode(self, text: str, *, add_special_tokens: bool = False, allow_special: bool = False) -> Encoding:
        """Encode ``text``: ids, per-token bytes, character spans and kinds.

        Args:
            add_special_tokens: add the tokenizer's BOS/EOS (as its own post-processor would).
            allow_special: let text such as ``<|endoftext|>`` become a control token.

        Raises:
            InputTextError: the text is not valid Unicode (lone surrogates).
        """
        utf8 = check_text(text)
        return self._encode(text, utf8, add_special_tokens=add_special_tokens, allow_special=allow_special)

    @abc.abstractmethod
    def _encode(self, text: str, utf8: bytes, *, add_special_tokens: bool, allow_special: bool) -> Encoding: ...

    def count(self, text: str) -> int:
        """Number of tokens under the counting policy (no BOS/EOS, special-looking text is plain)."""
        check_text(text)
        return self._count(text)

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        """Counts for many texts, through the backend's fast batch path where it has one."""
        for t in texts:
            check_text(t)
        return self._count_batch(texts)

    @abc.abstractmethod
    def _count(self, text: str) -> int: ...

    def _count_batch(self, texts: Sequence[str]) -> list[int]:
        return [self._count(t) for t in texts]

    @abc.abstractmethod
    def decode(self, ids: Sequence[int]) -> str:
        """Text for ``ids`` as the tokenizer's own decoder gives it."""

    @abc.abstractmethod
    def piece(self, token_id: int) -> str:
        """The vocabulary entry for ``token_id`` as the tokenizer stores it."""

    def roundtrip(self, text: str) -> bool:
        """Whether ``decode(encode(text))`` gives back ``text`` exactly."""
        return self.decode(self.encode(text).ids) == text

    @cached_property
    def lossless(self) -> tuple[bool, str]:
        """``(True, "")`` if every probe string round-trips, else ``(False, why)`` naming the first that does not."""
        for probe in ROUNDTRIP_PROBES:
            back = self.decode(self.encode(probe).ids)
            if back != probe:
                nfc = " (equal after NFKC)" if unicodedata.normalize("NFKC", back) == unicodedata.normalize("NFKC", probe) else ""
                return False, f"decode(encode({probe!r})) = {back!r}{nfc}"
        return True, ""
