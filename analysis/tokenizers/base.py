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
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import InputTextError
from ..i18n import N_
from .tables import TokenClass, TokenKind, TokenTables, kinds_of
from .unit_stats import UnitStats, flat_ids, stats_from_encodings

_UNKNOWN, _BYTE = int(TokenClass.UNKNOWN), int(TokenClass.BYTE_FALLBACK)
_N_CLASSES = len(TokenClass)

__all__ = ["ROUNDTRIP_PROBES", "Encoding", "Token", "TokenClass", "TokenKind", "TokenTables", "Tokenizer",
           "check_batch", "check_text", "encoding_from_tables", "overlap_flags", "spans_from_byte_offsets"]


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
        for kind, n in Counter(self.kinds).items():
            counts[kind.value] = n
        return counts

    def with_added(self, bos: tuple[int, bytes] | None, eos: tuple[int, bytes] | None) -> Encoding:
        """This encoding with a BOS and/or EOS token added around it (empty spans at the ends)."""
        ids, starts, ends = list(self.ids), list(self.starts), list(self.ends)
        token_bytes, kinds = list(self.token_bytes), list(self.kinds)
        if bos is not None:
            ids.insert(0, bos[0]), starts.insert(0, 0), ends.insert(0, 0)
            token_bytes.insert(0, bos[1]), kinds.insert(0, TokenKind.SPECIAL)
        if eos is not None:
            n = len(self.text)
            ids.append(eos[0]), starts.append(n), ends.append(n), token_bytes.append(eos[1])
            kinds.append(TokenKind.SPECIAL)
        return Encoding(self.tokenizer, self.text, ids, starts, ends, token_bytes, kinds)

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
            N_("The text has a lone surrogate (U+{code}) at character {at}, which is not valid Unicode and has no "
               "UTF-8 form. It usually comes from a broken UTF-16 source; re-decode the source, or replace it with "
               "U+FFFD: text.encode('utf-8', 'replace').decode('utf-8')."),
            code=f"{ord(text[e.start]):04X}", at=e.start,
        ) from None


def check_texts(texts: Sequence[str], *, numbered: bool = False) -> None:
    """Raise :func:`check_text`'s error for the first of ``texts`` that is not valid Unicode; in the common case one
    UTF-8 encode of all of them instead of one call per text (the backends' ``unit_stats``: a build checks every unit
    for every tokenizer). ``numbered``: the message names the text's place in ``texts`` (a batch call's error).

    >>> check_texts(["ok", "é"])
    """
    try:
        "".join(texts).encode("utf-8")
        return
    except (TypeError, UnicodeEncodeError):
        pass
    for n, t in enumerate(texts):
        try:
            check_text(t)
        except InputTextError as e:
            if not numbered:
                raise
            raise InputTextError(f"Text #{n} of the batch (counting from 0): {e.message}") from None


def check_batch(texts: Sequence[str], method: str) -> None:
    """Raise a clear error unless ``texts`` is a sequence of valid Unicode texts (one UTF-8 encode of all of them
    in the common case; text by text only to name the bad one).

    >>> check_batch(["ok", "fine"], "ids_batch")
    """
    if isinstance(texts, str):
        raise InputTextError(f"{method} takes a list of texts, not one text (which it would count character by "
                             f"character); for one text use {'count' if method == 'count_batch' else 'encode'}(text).")
    check_texts(texts, numbered=True)


def spans_from_byte_offsets(
    text_utf8: bytes, byte_starts: np.ndarray, byte_ends: np.ndarray, *, as_lists: bool = True
) -> tuple:
    """Map token byte ranges to character spans; also flag tokens cut inside a character.

    A token covering bytes [bs, be) covers every character any of those bytes belongs to.
    Empty ranges (bs == be, e.g. an added BOS) become empty spans at that character.

    >>> s, e, cut = spans_from_byte_offsets("aé".encode(), np.array([0, 1, 2]), np.array([1, 2, 3]))
    >>> s, e, cut.tolist()
    ([0, 1, 1], [1, 2, 2], [False, True, True])
    """
    bs = np.asarray(byte_starts, dtype=np.int64)
    be = np.asarray(byte_ends, dtype=np.int64)
    n = len(text_utf8)
    if text_utf8.isascii():  # one byte per character: offsets are already character offsets
        ends = np.maximum(be, bs)
        cut = np.zeros(len(bs), dtype=bool)
        return (bs.tolist(), ends.tolist(), cut) if as_lists else (bs, ends, cut)
    buf = np.frombuffer(text_utf8, dtype=np.uint8)
    # cont[b]: byte b continues a character (n is a boundary); conts[b]: continuation bytes in [0, b).
    cont = np.zeros(n + 1, dtype=bool)
    np.equal(buf & 0xC0, 0x80, out=cont[:n])
    conts = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(cont[:n], out=conts[1:])
    # The character holding byte b is b - conts[b + 1]; the characters before offset b are b - conts[b].
    empty = be <= bs
    cut = cont[bs] | cont[be]
    if empty.any():
        starts = np.where(empty, bs - conts[bs], bs - conts[np.minimum(bs + 1, n)])
        ends = np.where(empty, starts, be - conts[be])
        cut &= ~empty
    else:
        starts = bs - conts[bs + 1]
        ends = be - conts[be]
    return (starts.tolist(), ends.tolist(), cut) if as_lists else (starts, ends, cut)


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


def encoding_from_tables(tables: TokenTables, tokenizer: Tokenizer, text: str, utf8: bytes, ids: list[int], *,
                         token_bytes: list[bytes] | None = None, skip: int = 0) -> Encoding:
    """The encoding of tokens whose bytes, concatenated, are ``utf8`` (after ``skip`` leading bytes the tokenizer
    added itself, e.g. SentencePiece's dummy-prefix space): spans follow from the byte lengths in ``tables``.
    """
    ids_arr = np.array(ids, dtype=np.int64)
    lengths = tables.lengths[ids_arr]
    ends = np.cumsum(lengths) - skip
    starts, ends_c, cut = spans_from_byte_offsets(utf8, np.maximum(ends - lengths, 0), np.maximum(ends, 0))
    if token_bytes is None:
        token_bytes = tables.token_bytes[ids_arr].tolist()
    return Encoding(tokenizer, text, ids, starts, ends_c, token_bytes, kinds_of(ids_arr, cut, tables.classes))


#: Strings that expose normalizers, lowercasing, whitespace handling and byte-level gaps.
ROUNDTRIP_PROBES: tuple[str, ...] = (
    "Hello world",
    "Hello  World\tTab\nnew line ",
    " leading space",
    "ﬁne café",  # NFKC folds the ligature
    "e\u0301",  # decomposed é; NFC composes it
    "Ὀδυσσεύς — नमस्ते — 你好 — ሰላም",
    "👩‍👩‍👧 🇺🇳",
    "a\u2581b",  # a typed "▁": SentencePiece-style vocabularies decode it as a space
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
        check_batch(texts, "count_batch")
        return self._count_batch(texts)

    @abc.abstractmethod
    def _count(self, text: str) -> int: ...

    def _count_batch(self, texts: Sequence[str]) -> list[int]:
        return [self._count(t) for t in texts]

    def ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """Ids of each text under the counting policy (no BOS/EOS; special-looking text is plain), through the
        backend's fast path: equal to ``[encode(t).ids for t in texts]``.

        >>> from analysis.tokenizers import get_tokenizer
        >>> get_tokenizer("utf8-bytes").ids_batch(["hi", "é"])
        [[107, 108], [198, 172]]

        Raises:
            InputTextError: ``texts`` is one string, or one of them is not valid Unicode (the message numbers it).
        """
        check_batch(texts, "ids_batch")
        return self._ids_batch(texts)

    def _ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [self._encode(t, t.encode("utf-8"), add_special_tokens=False, allow_special=False).ids for t in texts]

    def model_ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """Ids of each text from the vocabulary's own model, as the glitch checks encode a token's text (is the token
        reachable?) and prompt verification encodes a prompt. Equal to :meth:`ids_batch` except for a backend that
        wraps its model in rules of its own, which this leaves out (AI21's line, space and number rules)."""
        check_batch(texts, "model_ids_batch")
        return self._model_ids_batch(texts)

    def _model_ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return self._ids_batch(texts)

    def model_ids_flat(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`model_ids_batch` as one flat int64 array of every id, text after text, and the number of ids of
        each text (for HF tokenizers the encodings are merged in Rust, not turned into a Python list each)."""
        check_batch(texts, "model_ids_flat")
        return self._model_ids_flat(texts)

    def _model_ids_flat(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        return flat_ids(self._model_ids_batch(texts))

    def token_classes(self) -> np.ndarray | None:
        """Per id (the index), its :class:`TokenClass` code as ``uint8``: what the id alone says of its kind
        (special, unknown, byte fallback, else normal). None for a tokenizer with no fixed vocabulary (the
        whitespace-words baseline)."""
        tables = self.token_tables()
        return None if tables is None else tables.classes

    def token_totals(self, texts: Sequence[str]) -> tuple[int, int, int]:
        """(tokens, unknown tokens, byte-fallback tokens) over many texts, each encoded on its own: what a
        monolingual corpus count stores. Equal to the sums of :meth:`unit_stats`; backends with a vocabulary
        override it with :meth:`_totals_from_ids`, which works out no spans."""
        stats = self.unit_stats(texts, [None] * len(texts))
        return sum(stats.n_tokens), sum(stats.n_unk), sum(stats.n_byte_fallback)

    def _totals_from_ids(self, texts: Sequence[str]) -> tuple[int, int, int]:
        """:meth:`token_totals` from :meth:`ids_batch` and :meth:`token_classes` (about twice as fast as
        ``unit_stats`` for tiktoken)."""
        check_batch(texts, "token_totals")
        classes = self.token_classes()
        ids = self._ids_batch(texts)
        total = sum(len(x) for x in ids)
        flat = np.fromiter((i for x in ids for i in x), dtype=np.int64, count=total)
        kinds = np.bincount(classes[flat], minlength=_N_CLASSES)
        return total, int(kinds[_UNKNOWN]), int(kinds[_BYTE])

    #: Whether the ids index a vocabulary that can be checked id by id (the glitch checks): False for the code-point
    #: and word baselines, whose ids are code points and word hashes.
    has_vocabulary: bool = True

    def normalizer(self) -> Callable[[str], str] | None:
        """The tokenizer's own text normalizer as a function, or None if it has none, or one that only turns spaces
        into ``▁`` or puts one before the text."""
        return None

    def continuation_prefix(self) -> str | None:
        """The prefix that marks a word-continuation piece (WordPiece's ``##``) for a WordPiece model, else None."""
        return None

    def reserve_word_cache(self, words: int) -> int | None:
        """Let the backend keep the results of at least ``words`` distinct words for later texts (a counting job over a
        whole corpus, which meets most words many times); returns the capacity now set, or None where the backend
        keeps no such cache (the default). What it encodes does not change."""
        return None

    def unit_stats(self, texts: Sequence[str], word_spans: Sequence) -> UnitStats:
        """Per text: tokens, UNK, byte-fallback, words split over several tokens (``word_spans[i]`` None: not
        counted) — what a corpus build stores. Backends override this with batch paths; results are equal."""
        return stats_from_encodings(texts, word_spans, [self.encode(t) for t in texts])

    @abc.abstractmethod
    def decode(self, ids: Sequence[int]) -> str:
        """Text for ``ids`` as the tokenizer's own decoder gives it."""

    @abc.abstractmethod
    def piece(self, token_id: int) -> str:
        """The vocabulary entry for ``token_id`` as the tokenizer stores it."""

    def token_tables(self) -> TokenTables | None:
        """Per id: the bytes it stands for when decoded, their length, and its kind class (0 normal, 1 special,
        2 unknown, 3 byte fallback) — built once per tokenizer and shared with its encoder. None for a tokenizer
        with no fixed vocabulary (the whitespace-words baseline, whose ids are hashes)."""
        return None

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
