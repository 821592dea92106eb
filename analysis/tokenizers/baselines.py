"""Baselines with no vocabulary: UTF-8 bytes, Unicode code points, whitespace-separated words."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from functools import cached_property

import numpy as np

from .base import Encoding, Tokenizer, check_text, spans_from_byte_offsets
from .tables import TokenKind, TokenTables, id_classes
from .unit_stats import UnitStats, WordSpanList, char_bases, stats_from_flat

_WORD = re.compile(r"\S+")


class Utf8BytesTokenizer(Tokenizer):
    """One token per UTF-8 byte. Ids follow ByT5: byte value + 3 (0 pad, 1 eos, 2 unk)."""

    backend = "baseline"
    OFFSET = 3

    def __init__(self, tokenizer_id: str = "utf8-bytes", *, name: str | None = None) -> None:
        super().__init__(tokenizer_id, name=name, vocab_size=256 + self.OFFSET)

    def _encode(self, text: str, utf8: bytes, *, add_special_tokens: bool, allow_special: bool) -> Encoding:
        n = len(utf8)
        ids = (np.frombuffer(utf8, dtype=np.uint8).astype(np.int64) + self.OFFSET).tolist()
        positions = np.arange(n, dtype=np.int64)
        starts, ends, cut = spans_from_byte_offsets(utf8, positions, positions + 1)
        kinds = [TokenKind.SPLIT if c else TokenKind.NORMAL for c in cut.tolist()]
        token_bytes = [utf8[i:i + 1] for i in range(n)]
        if add_special_tokens:  # ByT5 appends EOS (id 1)
            ids.append(1)
            starts.append(len(text))
            ends.append(len(text))
            kinds.append(TokenKind.SPECIAL)
            token_bytes.append(self.piece(1).encode())  # its piece's text, as every backend gives special tokens
        return Encoding(self, text, ids, starts, ends, token_bytes, kinds)

    def unit_stats(self, texts: Sequence[str], word_spans: Sequence) -> UnitStats:
        for t in texts:
            check_text(t)
        utf8 = [t.encode("utf-8") for t in texts]
        n = np.fromiter((len(b) for b in utf8), dtype=np.int64, count=len(utf8))
        ids = np.frombuffer(b"".join(utf8), dtype=np.uint8).astype(np.int64) + self.OFFSET
        # One token per byte: a word is split over several tokens exactly when it has more than one byte.
        spans_list = word_spans if isinstance(word_spans, WordSpanList) else WordSpanList(word_spans)
        word_text, w_start, w_end = spans_list.offsets(texts, "byte")
        per_text = np.bincount(word_text, weights=w_end - w_start > 1, minlength=len(texts)).astype(np.int64).tolist()
        continued = [None if spans is None else per_text[i] for i, spans in enumerate(word_spans)]
        zeros = [0] * len(texts)
        return UnitStats(n.tolist(), zeros, list(zeros), continued, ids)

    def _ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        offset = self.OFFSET
        return [[b + offset for b in t.encode("utf-8")] for t in texts]

    def _count(self, text: str) -> int:
        return len(text.encode("utf-8"))

    def decode(self, ids: Sequence[int]) -> str:
        return bytes(i - self.OFFSET for i in ids if i >= self.OFFSET).decode("utf-8", "replace")

    def piece(self, token_id: int) -> str:
        if token_id < self.OFFSET:
            return ("<pad>", "</s>", "<unk>")[token_id]
        return f"<0x{token_id - self.OFFSET:02X}>"

    @cached_property
    def _tables(self) -> TokenTables:
        # ByT5 ids: 0 pad, 1 eos (special), 2 unk, then byte b at id b + 3.
        table = [self.piece(i).encode() for i in range(self.OFFSET)] + [bytes([b]) for b in range(256)]
        return TokenTables.from_bytes(table, id_classes(len(table), special=[0, 1], unk=2))

    def token_tables(self) -> TokenTables:
        return self._tables


class CodepointTokenizer(Tokenizer):
    """One token per Unicode code point; the id is the code point."""

    backend = "baseline"

    def __init__(self, tokenizer_id: str = "codepoints", *, name: str | None = None) -> None:
        super().__init__(tokenizer_id, name=name, vocab_size=0x110000)

    def _encode(self, text: str, utf8: bytes, *, add_special_tokens: bool, allow_special: bool) -> Encoding:
        n = len(text)
        return Encoding(self, text, [ord(c) for c in text], list(range(n)), list(range(1, n + 1)),
                        [c.encode() for c in text], [TokenKind.NORMAL] * n)

    def unit_stats(self, texts: Sequence[str], word_spans: Sequence) -> UnitStats:
        for t in texts:
            check_text(t)
        counts = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
        starts = np.arange(int(counts.sum()), dtype=np.int64)  # one token per character of the concatenation
        token_text = np.repeat(np.arange(len(texts)), counts)
        ids = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)  # the code points
        return stats_from_flat(texts, word_spans, token_text, np.zeros(len(starts), dtype=np.uint8), starts, starts + 1,
                               ids)

    has_vocabulary = False  # the id is the code point: every character its own id, no table to check

    def _ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [[ord(c) for c in t] for t in texts]

    def _count(self, text: str) -> int:
        return len(text)

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(map(chr, ids))

    def piece(self, token_id: int) -> str:
        return chr(token_id)

    @cached_property
    def _tables(self) -> TokenTables:
        # Every Unicode scalar value; surrogates have no UTF-8 form, so their ids stand for no bytes.
        table = [chr(c).encode("utf-8", "surrogatepass") for c in range(0x110000)]
        table[0xD800:0xE000] = [b""] * 0x800
        return TokenTables.from_bytes(table, np.zeros(0x110000, dtype=np.uint8))

    def token_tables(self) -> TokenTables:
        return self._tables


class WhitespaceWordTokenizer(Tokenizer):
    """Maximal runs of non-whitespace. There is no vocabulary: an id is the CRC-32 of the word's UTF-8.

    Whitespace is not covered by any token, and this is wrong for scripts written without spaces
    (Chinese, Japanese, Thai, ...): it is a baseline, not a word segmenter.
    """

    backend = "baseline"
    has_vocabulary = False  # an id is a word's CRC-32
    MAX_REMEMBERED = 200_000  # words remembered for decode()/piece()

    def __init__(self, tokenizer_id: str = "words", *, name: str | None = None) -> None:
        super().__init__(tokenizer_id, name=name, vocab_size=None)
        self._seen: dict[int, str] = {}

    def _encode(self, text: str, utf8: bytes, *, add_special_tokens: bool, allow_special: bool) -> Encoding:
        ids, starts, ends, token_bytes = [], [], [], []
        for m in _WORD.finditer(text):
            b = m.group().encode()
            i = zlib.crc32(b)
            if len(self._seen) >= self.MAX_REMEMBERED:  # keep a long-running server's memory bounded
                self._seen.clear()
            self._seen.setdefault(i, m.group())
            ids.append(i)
            starts.append(m.start())
            ends.append(m.end())
            token_bytes.append(b)
        return Encoding(self, text, ids, starts, ends, token_bytes, [TokenKind.NORMAL] * len(ids))

    def unit_stats(self, texts: Sequence[str], word_spans: Sequence) -> UnitStats:
        """All texts in one pass over their concatenation, joined by a newline that no word can cross."""
        for t in texts:
            check_text(t)
        bounds = [m.span() for m in _WORD.finditer("\n".join(texts))]
        flat = np.array(bounds, dtype=np.int64).reshape(-1, 2)
        # Text i starts at char_bases[i] + i in the joined string (one newline after each text before it).
        text_start = char_bases(texts)[:-1] + np.arange(len(texts))
        token_text = np.searchsorted(text_start, flat[:, 0], side="right") - 1
        starts = flat[:, 0] - token_text  # offsets into the plain concatenation (text i has i newlines before it)
        ends = flat[:, 1] - token_text
        joined = "".join(texts)
        ids = np.fromiter((zlib.crc32(joined[a:b].encode()) for a, b in zip(starts.tolist(), ends.tolist())),
                          dtype=np.int64, count=len(starts))
        return stats_from_flat(texts, word_spans, token_text, np.zeros(len(starts), dtype=np.uint8), starts, ends, ids)

    def _count(self, text: str) -> int:
        return len(text.split())

    def decode(self, ids: Sequence[int]) -> str:
        return " ".join(self._seen.get(i, "\ufffd") for i in ids)

    def piece(self, token_id: int) -> str:
        return self._seen.get(token_id, f"<crc32 {token_id:08x}>")


#: The baselines by catalogue id.
BASELINES: dict[str, type[Tokenizer]] = {"utf8-bytes": Utf8BytesTokenizer, "codepoints": CodepointTokenizer,
                                         "words": WhitespaceWordTokenizer}
