"""SentencePiece models (``.model``), and Mistral's tokenizers through ``mistral-common``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np
import sentencepiece as spm

from ..errors import AssetError
from .base import Encoding, Tokenizer, check_texts, encoding_from_tables, overlap_flags, spans_from_byte_offsets
from .tables import TokenTables, id_classes, kinds_of, spelling_skip
from .unit_stats import FlatIds, UnitStats, stats_from_token_lengths, stats_spelled_or


def load_sentencepiece_file(path: Path) -> spm.SentencePieceProcessor:
    try:
        return spm.SentencePieceProcessor(model_file=str(path))
    except (OSError, RuntimeError) as e:
        raise AssetError(
            f"{path} is not a loadable SentencePiece model ({e}). If it is a catalogue file, run "
            "`python -m analysis assets fetch --force`; otherwise check that the file is complete."
        ) from e


class _SentencePieceSpans:
    """Shared by the plain and the Mistral SentencePiece tokenizers: spans, bytes, kinds."""

    sp: spm.SentencePieceProcessor

    @cached_property
    def _byte_ids(self) -> frozenset[int]:
        return frozenset(i for i in range(self.sp.get_piece_size()) if self.sp.is_byte(i))

    @cached_property
    def _classes(self) -> np.ndarray:
        sp = self.sp
        n = sp.get_piece_size()
        return id_classes(n, special=[i for i in range(n) if sp.is_control(i)],
                          unk=sp.unk_id() if sp.unk_id() >= 0 else None, byte_ids=sorted(self._byte_ids))

    @cached_property
    def _bytes_table(self) -> list[bytes]:
        sp = self.sp
        out = []
        for i in range(sp.get_piece_size()):
            p = sp.id_to_piece(i)
            if sp.is_byte(i):
                out.append(bytes([int(p[3:5], 16)]))
            elif sp.is_control(i) or sp.is_unknown(i):
                out.append(p.encode())
            else:
                out.append(p.replace("\u2581", " ").encode())
        return out

    @cached_property
    def _tables(self) -> TokenTables:
        return TokenTables.from_bytes(self._bytes_table, self._classes)

    def token_tables(self) -> TokenTables:
        return self._tables

    def token_classes(self) -> np.ndarray:
        return self._classes  # the classes alone: token_tables() would also build the bytes of every id

    def token_totals(self, texts: Sequence[str]) -> tuple[int, int, int]:
        return self._totals_from_ids(texts)  # type: ignore[attr-defined]

    def normalizer(self) -> Callable[[str], str] | None:
        sp = getattr(self, "sp", None)  # Tekken files (MistralTokenizer) have no SentencePiece model
        if sp is not None and hasattr(sp, "normalize"):
            return sp.normalize
        return None

    def _sp_unit_stats(self, tokenizer: Tokenizer, texts: Sequence[str], word_spans: Sequence) -> UnitStats:
        """Batch statistics from byte lengths for texts whose pieces spell them (with or without the dummy-prefix
        space); the others (a typed U+2581, a normalizing model) through the full encoding.

        The ids come from one batch call of the SentencePiece model on one thread (the counting processes already
        take a core each; by default it would start a thread per core), as int32 buffers rather than a list per
        text; they are the ids the model's ``encode(text)`` gives, which mistral-common's ``encode`` also returns."""
        check_texts(texts)
        arrays = self.sp.encode(list(texts), out_type="numpy", num_threads=1)
        counts = np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays))
        flat = np.concatenate(arrays, dtype=np.int64) if arrays else np.empty(0, dtype=np.int64)
        return stats_spelled_or(texts, word_spans, flat, counts, self._tables, lambda slow: Tokenizer.unit_stats(
            tokenizer, [texts[i] for i in slow], [word_spans[i] for i in slow]))

    def _spans_encoding(self, tokenizer: Tokenizer, text: str, utf8: bytes, *, bos: int | None,
                        eos: int | None, ids: list[int] | None = None) -> Encoding:
        """Spans from ``ids``' byte lengths when their bytes spell the text (with or without the dummy-prefix
        space: identity normalization, as Mistral's models have); else from SentencePiece's own alignment."""
        if ids is not None:
            tables = self._tables
            token_bytes = tables.token_bytes[np.array(ids, dtype=np.int64)].tolist() if ids else []
            joined = b"".join(token_bytes)
            skip = spelling_skip(joined, utf8)
            if skip is not None:
                enc = encoding_from_tables(tables, tokenizer, text, utf8, ids, token_bytes=token_bytes, skip=skip)
                table = self._bytes_table
                return enc.with_added(None if bos is None else (bos, table[bos]),
                                      None if eos is None else (eos, table[eos]))
        proto = self.sp.encode(text, out_type="proto")
        pieces = proto.pieces
        ids = [p.id for p in pieces]
        byte_starts = np.fromiter((p.begin for p in pieces), dtype=np.int64, count=len(pieces))
        byte_ends = np.fromiter((p.end for p in pieces), dtype=np.int64, count=len(pieces))
        byte_ids = self._byte_ids
        # SentencePiece gives a byte-fallback run's surface to its last piece only; the earlier
        # pieces of the same character get empty ranges. Give them the character they belong to.
        for k in range(len(ids) - 2, -1, -1):
            if byte_starts[k] == byte_ends[k] and ids[k] in byte_ids and ids[k + 1] in byte_ids:
                byte_starts[k], byte_ends[k] = byte_starts[k + 1], byte_ends[k + 1]
        if bos is not None:
            ids.insert(0, bos)
            byte_starts = np.insert(byte_starts, 0, 0)
            byte_ends = np.insert(byte_ends, 0, 0)
        if eos is not None:
            ids.append(eos)
            byte_starts = np.append(byte_starts, len(utf8))
            byte_ends = np.append(byte_ends, len(utf8))
        starts, ends, cut = spans_from_byte_offsets(utf8, byte_starts, byte_ends)
        cut |= overlap_flags(starts, ends)
        table = self._bytes_table
        kinds = kinds_of(np.array(ids, dtype=np.int64), cut, self._classes)
        return Encoding(tokenizer, text, ids, starts, ends, [table[i] for i in ids], kinds)


class SentencePieceTokenizer(_SentencePieceSpans, Tokenizer):
    """A plain SentencePiece ``.model`` (e.g. from a Hugging Face repo or a local file)."""

    backend = "sentencepiece"

    def __init__(self, tokenizer_id: str, sp: spm.SentencePieceProcessor, *, name: str | None = None) -> None:
        super().__init__(tokenizer_id, name=name, vocab_size=sp.get_piece_size())
        self.sp = sp

    def _encode(self, text: str, utf8: bytes, *, add_special_tokens: bool, allow_special: bool) -> Encoding:
        bos = self.sp.bos_id() if add_special_tokens and self.sp.bos_id() >= 0 else None
        return self._spans_encoding(self, text, utf8, bos=bos, eos=None, ids=self.sp.encode(text))

    def unit_stats(self, texts: Sequence[str], word_spans: Sequence) -> UnitStats:
        return self._sp_unit_stats(self, texts, word_spans)

    def _ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return self.sp.encode(list(texts))

    def _count(self, text: str) -> int:
        return len(self.sp.encode(text))

    def _count_batch(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self.sp.encode(list(texts))]

    def decode(self, ids: Sequence[int]) -> str:
        return self.sp.decode(list(ids))

    def piece(self, token_id: int) -> str:
        return self.sp.id_to_piece(token_id)


class MistralTokenizer(_SentencePieceSpans, Tokenizer):
    """A Mistral tokenizer file (SentencePiece ``.model.vN`` or Tekken ``.json``) via ``mistral-common``.

    Ids and counts come from mistral-common's own ``encode(text, bos, eos)``. ``add_special_tokens``
    adds BOS only, as Mistral prompts start (and as the HF files' ``add_eos_token = false`` say).
    Mistral's control tokens can never be produced from typed text, so ``allow_special`` has no effect.
    """

    backend = "mistral"

    def __init__(self, tokenizer_id: str, path: Path, *, name: str | None = None) -> None:
        from mistral_common.exceptions import TokenizerException
        from mistral_common.tokens.tokenizers.mistral import MistralTokenizer as _MT
        from mistral_common.tokens.tokenizers.tekken import Tekkenizer

        try:
            self.mistral = _MT.from_file(str(path))
        except (TokenizerException, OSError, ValueError, AssertionError, RuntimeError) as e:
            raise AssetError(
                f"{path} is not a loadable Mistral tokenizer ({e!r}). Run `python -m analysis assets fetch --force`."
            ) from e
        self.raw = self.mistral.instruct_tokenizer.tokenizer
        self.is_tekken = isinstance(self.raw, Tekkenizer)
        super().__init__(tokenizer_id, name=name, vocab_size=self.raw.n_words)
        if not self.is_tekken:
            self.sp = self.raw._model  # the SentencePieceProcessor mistral-common wraps; used for spans only
        else:
            self._n_special = self.raw.num_special_tokens
            self._core = self.raw._model  # the tiktoken core Tekken wraps

    def _encode(self, text: str, utf8: bytes, *, add_special_tokens: bool, allow_special: bool) -> Encoding:
        raw = self.raw
        bos = raw.bos_id if add_special_tokens else None
        ids = raw.encode(text, bos=False, eos=False)
        if not self.is_tekken:
            return self._spans_encoding(self, text, utf8, bos=bos, eos=None, ids=ids)
        enc = encoding_from_tables(self._tekken_tables, self, text, utf8, ids)
        return enc.with_added(None if bos is None else (bos, raw.id_to_piece(bos).encode()), None)

    def token_tables(self) -> TokenTables:
        return self._tekken_tables if self.is_tekken else self._tables

    def token_classes(self) -> np.ndarray:
        return self.token_tables().classes

    def _ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        # mistral-common's own encode, text by text: its SentencePiece model's, or Tekken's tiktoken core's ids plus
        # num_special_tokens.
        encode = self.raw.encode
        return [encode(t, bos=False, eos=False) for t in texts]

    def _model_ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        if self.is_tekken:  # the tiktoken core's ids, shifted past the control ids, as Tekken's encode does
            core, n = self._core.encode_ordinary, self._n_special
            return [[i + n for i in core(t)] for t in texts]
        return self.sp.encode(list(texts))  # the same ids as raw.encode, in one batch call

    @cached_property
    def _tekken_tables(self) -> TokenTables:
        """Tekken ids: ``num_special_tokens`` control ids first, then the tiktoken core's ranks."""
        n = self._n_special
        core = self._core
        table = [self.raw.id_to_piece(i).encode() for i in range(n)]
        table += [core.decode_single_token_bytes(r) for r in range(core.n_vocab)]
        classes = np.zeros(len(table), dtype=np.uint8)
        classes[:n] = id_classes(n, special=range(n))
        return TokenTables.from_bytes(table, classes)

    def unit_stats(self, texts: Sequence[str], word_spans: Sequence) -> UnitStats:
        if not self.is_tekken:
            return self._sp_unit_stats(self, texts, word_spans)
        check_texts(texts)
        # Tekken's encode is its tiktoken core's plus num_special_tokens on every id, added here to all at once.
        flat, counts = self._core_id_arrays(texts)
        tables = self._tekken_tables
        return stats_from_token_lengths(texts, word_spans, (flat + self._n_special, counts), tables.lengths,
                                        tables.classes)

    @cached_property
    def _core_id_arrays(self) -> Callable[[Sequence[str]], FlatIds]:
        """Tekken's tiktoken core's ``encode_ordinary`` of many texts as flat arrays (a twin core, see
        :func:`~.tiktoken_backend.ordinary_id_arrays`)."""
        from .tiktoken_backend import ordinary_id_arrays

        return ordinary_id_arrays(self._core)

    def _count(self, text: str) -> int:
        return len(self.raw.encode(text, bos=False, eos=False))

    def _count_batch(self, texts: Sequence[str]) -> list[int]:
        if self.is_tekken:
            return [len(ids) for ids in self._core.encode_ordinary_batch(list(texts))]
        return [len(ids) for ids in self.sp.encode(list(texts))]

    def decode(self, ids: Sequence[int]) -> str:
        # mistral-common's default policy drops control tokens (its KEEP path joins raw pieces, "▁" included).
        return self.raw.decode(list(ids))

    def piece(self, token_id: int) -> str:
        if self.is_tekken:
            if token_id < self._n_special:
                return self.raw.id_to_piece(token_id)
            return self._core.decode_single_token_bytes(token_id - self._n_special).decode("utf-8", "backslashreplace")
        return self.sp.id_to_piece(token_id)
