"""Per-id tables of a vocabulary: what kind of token each id is, and the bytes it stands for.

Every backend builds these once per tokenizer; its encoder, the corpus counts and the glitch checks read them.
This module imports nothing else of the package, so that :mod:`.base` and :mod:`.unit_stats` can both build on it.

Example:
    >>> classes = id_classes(4, special=[0], unk=1, byte_ids=[2])
    >>> [TokenClass(c).name for c in classes]
    ['SPECIAL', 'UNKNOWN', 'BYTE_FALLBACK', 'NORMAL']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum, IntEnum
from functools import cached_property

import numpy as np

__all__ = ["TokenClass", "TokenKind", "TokenTables", "id_classes", "kinds_of", "spelling_skip"]


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


class TokenClass(IntEnum):
    """The code of a token's kind in per-id tables (:meth:`Tokenizer.token_classes`, :attr:`TokenTables.classes`):
    a ``uint8`` per id, in :class:`TokenKind`'s order. An id's class never says SPLIT: that depends on the text
    around a token, not on its id.

    >>> TokenClass.BYTE_FALLBACK.kind, int(TokenClass.UNKNOWN)
    (<TokenKind.BYTE_FALLBACK: 'byte_fallback'>, 2)
    """

    NORMAL = 0
    SPECIAL = 1
    UNKNOWN = 2
    BYTE_FALLBACK = 3
    SPLIT = 4

    @property
    def kind(self) -> TokenKind:
        """The :class:`TokenKind` this code stands for."""
        return _KIND_BY_CODE[self]


#: TokenKind by numeric code (the enum's order): 0 normal, 1 special, 2 unknown, 3 byte_fallback, 4 split.
_KIND_BY_CODE = np.array(list(TokenKind), dtype=object)
# Plain ints of the codes, for numpy expressions on hot paths.
_SPECIAL, _UNKNOWN, _BYTE, _SPLIT = (int(c) for c in (TokenClass.SPECIAL, TokenClass.UNKNOWN,
                                                      TokenClass.BYTE_FALLBACK, TokenClass.SPLIT))


def id_classes(size: int, *, special: Sequence[int] = (), unk: int | None = None,
               byte_ids: Sequence[int] = ()) -> np.ndarray:
    """A per-id table of :class:`TokenClass` codes, built once per tokenizer (precedence unknown > special >
    byte_fallback).

    >>> id_classes(5, special=[0, 4], unk=4, byte_ids=[1, 2]).tolist()
    [1, 3, 3, 0, 2]
    """
    table = np.zeros(size, dtype=np.uint8)
    table[np.asarray(list(byte_ids), dtype=np.int64)] = _BYTE
    table[np.asarray(list(special), dtype=np.int64)] = _SPECIAL
    if unk is not None:
        table[unk] = _UNKNOWN
    return table


def kinds_of(ids: np.ndarray, cut: np.ndarray, classes: np.ndarray | None = None) -> list[TokenKind]:
    """Kinds of a whole encoding at once: the id's class, else split where ``cut``, else normal.

    >>> [k.value for k in kinds_of(np.array([0, 3, 1]), np.array([True, True, False]), np.array([1, 0, 0, 0]))]
    ['special', 'split', 'normal']
    """
    codes = classes[ids] if classes is not None else np.zeros(len(ids), dtype=np.uint8)
    codes = np.where((codes == 0) & cut, _SPLIT, codes)
    return _KIND_BY_CODE[codes].tolist()


def spelling_skip(joined: bytes, utf8: bytes) -> int | None:
    """How many leading bytes the tokenizer added if the pieces' bytes spell the text: 0, or 1 for the
    dummy-prefix space; None if they do not spell it (normalization, a typed U+2581).

    >>> spelling_skip(b" ab", b"ab"), spelling_skip(b"ab", b"ab"), spelling_skip(b" a b", b"a_b")
    (1, 0, None)
    """
    if joined == utf8:
        return 0
    if len(joined) == len(utf8) + 1 and joined[:1] == b" " and joined[1:] == utf8:
        return 1
    return None


@dataclass(frozen=True)
class TokenTables:
    """Per-id lookup tables of a vocabulary: every id's bytes end to end in one buffer (``joined``, ``uint8``) with
    where each starts, byte lengths, kind classes (:class:`TokenClass` codes); and, made on first use only,
    :attr:`token_bytes`, a ``bytes`` object per id.

    Counting reads the buffer, the lengths and the classes only: a Python ``bytes`` per id (o200k_base: 200k objects,
    ~9 MB with their array) is made only when something asks for an id's bytes (an encoding shown, the checks).

    >>> t = TokenTables.from_bytes([b"a", b" b", b"", b"c"], np.zeros(4, dtype=np.uint8))
    >>> t.joined.tobytes(), t.starts.tolist(), t.lengths.tolist(), "token_bytes" in vars(t)
    (b'a bc', [0, 1, 3, 3], [1, 2, 0, 1], False)
    >>> t.token_bytes.tolist(), t.token_bytes.dtype
    ([b'a', b' b', b'', b'c'], dtype('O'))
    """

    joined: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    classes: np.ndarray

    @classmethod
    def from_bytes(cls, table: Sequence[bytes], classes: np.ndarray) -> TokenTables:
        return cls.from_joined(b"".join(table), np.fromiter(map(len, table), dtype=np.int64, count=len(table)),
                               classes)

    @classmethod
    def from_joined(cls, joined: bytes, lengths: np.ndarray, classes: np.ndarray) -> TokenTables:
        """From every id's bytes end to end and each id's length (what :mod:`.tables_cache` keeps): the same tables as
        :meth:`from_bytes` of the pieces.

        >>> t = TokenTables.from_joined(b"a bc", np.array([1, 2, 0, 1]), np.zeros(4, dtype=np.uint8))
        >>> t.token_bytes.tolist(), t.spell(np.array([1, 0, 3]))
        ([b'a', b' b', b'', b'c'], b' bac')
        """
        lengths = np.asarray(lengths, dtype=np.int64)
        return cls(np.frombuffer(joined, dtype=np.uint8), np.cumsum(lengths) - lengths, lengths, classes)

    @cached_property
    def token_bytes(self) -> np.ndarray:
        """Each id's bytes, as an object array of ``bytes`` (made on first use, then kept)."""
        blob = self.joined.tobytes()
        arr = np.empty(len(self.lengths), dtype=object)
        arr[:] = [blob[a:a + n] for a, n in zip(self.starts.tolist(), self.lengths.tolist(), strict=True)]
        return arr

    def spell(self, ids: np.ndarray) -> bytes:
        """The bytes of ``ids`` one after another (``b"".join(token_bytes[ids])``), gathered from one buffer with
        numpy instead of joining a bytes object per token.

        >>> TokenTables.from_bytes([b" a", b"b", b""], np.zeros(3, dtype=np.uint8)).spell(np.array([1, 0, 2, 1]))
        b'b ab'
        """
        buffer, starts = self.joined, self.starts
        lengths = self.lengths[ids]
        before = np.cumsum(lengths) - lengths  # where each token's bytes go in the result
        at = np.repeat(starts[ids] - before, lengths) + np.arange(int(lengths.sum()), dtype=np.int64)
        return buffer[at].tobytes()
