"""AI21's Jurassic-2 tokenizer: a SentencePiece model plus AI21's own rules around it.

AI21's encoder (``JurassicTokenizer`` of PyPI ``ai21-tokenizer`` up to 1.0.0; 1.1.0 still ships the model and its
``config.json`` but no longer the encoder) does not call SentencePiece on the whole text. With the shipped config
(``add_dummy_prefix: false``, ``newline_piece: <|newline|>``, ``space_mode: left``, ``number_mode: right_keep``):

1. the text is cut at ``\\n``; each newline is the ``<|newline|>`` piece, and every line gets a leading space
   (the dummy prefix, added by hand because the model's own is off);
2. tabs become spaces; each run of 2+ spaces is written with the longest ``▁▁…`` pieces, greedily, and its last
   space starts the next stretch of text, which SentencePiece encodes (``nmt_nfkc`` normalization);
3. each run of all-digit pieces is joined and re-split: the whole number if it is one piece, else in groups of
   three from the right (``12345`` -> ``12``, ``345``).

tests/test_whisper_llama_j2.py checks the ids against the package's own encoder (ai21-tokenizer 1.0.0).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cached_property
from itertools import accumulate
from pathlib import Path

import numpy as np

from ..errors import AssetError
from .base import Encoding, check_text, overlap_flags, spans_from_byte_offsets
from .sentencepiece_backend import SentencePieceTokenizer, load_sentencepiece_file
from .tables import id_classes, kinds_of
from .unit_stats import UnitStats, stats_from_flat

_SPACE_RUN = re.compile("( {2,})")
_DIGITS = frozenset("0123456789")


def _is_number(piece: str) -> bool:
    return bool(piece) and all(c in _DIGITS for c in piece)


class Jurassic2Tokenizer(SentencePieceTokenizer):
    """A Jurassic-2 SentencePiece model with AI21's line, space and number rules (see the module docstring)."""

    backend = "ai21"

    def __init__(self, tokenizer_id: str, model: Path, config: Path, *, name: str | None = None) -> None:
        try:
            cfg = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise AssetError(f"Cannot read AI21's tokenizer config {config}: {e}. Run "
                             "`python -m analysis assets fetch --force`.") from e
        # Only the configuration AI21 ships is implemented; another would need its other branches.
        expected = {"add_dummy_prefix": False, "newline_piece": "<|newline|>", "number_mode": "right_keep",
                    "space_mode": "left"}
        got = {k: cfg.get(k) for k in expected}
        if got != expected:
            raise AssetError(f"{config} sets {got}; this backend implements AI21's {expected} only. Use the "
                             "catalogue's file, or load the model as a plain SentencePiece file with 'file:PATH'.")
        super().__init__(tokenizer_id, load_sentencepiece_file(model), name=name)
        sp = self.sp
        self._newline = sp.piece_to_id(cfg["newline_piece"])
        self._unk = sp.unk_id()
        # (id, count) of the "▁" * count pieces, longest first, as AI21's _map_space_tokens lists them.
        self._space_pieces = [(sp.piece_to_id("\u2581" * n), n) for n in range(32, 0, -1)
                              if sp.piece_to_id("\u2581" * n) != self._unk]
        if not self._space_pieces or self._space_pieces[-1][1] != 1:
            raise AssetError(f"{model} has no '▁' piece; it is not AI21's Jurassic-2 model.")

    @cached_property
    def _pieces(self) -> list[str]:
        return [self.sp.id_to_piece(i) for i in range(self.sp.get_piece_size())]

    @cached_property
    def _piece_ids(self) -> dict[str, int]:
        return {p: i for i, p in enumerate(self._pieces)}

    @cached_property
    def _number_ids(self) -> frozenset[int]:
        """Ids of the all-digit pieces, which AI21's number rule regroups."""
        return frozenset(i for i, p in enumerate(self._pieces) if _is_number(p))

    @cached_property
    def _classes(self) -> np.ndarray:
        sp = self.sp
        n = sp.get_piece_size()  # <|newline|> is a control piece that stands for text: a normal token here
        return id_classes(n, special=[i for i in range(n) if sp.is_control(i) and i != self._newline],
                          unk=self._unk, byte_ids=sorted(self._byte_ids))

    @cached_property
    def _bytes_table(self) -> list[bytes]:
        table = list(super()._bytes_table)
        table[self._newline] = b"\n"
        return table

    # ------------------------------------------------------------ encoding

    def _line_pieces(self, line: str, spans: bool) -> list[tuple[int, int, int]]:
        """``(id, byte_start, byte_end)`` of one line with its dummy-prefix space, offsets into that ``" " + line``
        (all 0 unless ``spans``: SentencePiece's alignment costs more than its ids)."""
        out: list[tuple[int, int, int]] = []
        table = self._bytes_table
        text = (" " + line).replace("\t", " ")
        pos = 0  # byte offset of the current stretch in text
        remainder = ""

        def encode_stretch(stretch: str, start: int) -> None:
            ids = self.sp.encode(stretch)
            if not spans:
                out.extend((i, 0, 0) for i in ids)
                return
            pieces = [table[i] for i in ids]
            if b"".join(pieces) == stretch.encode("utf-8"):  # spelled (no NFKC change, no UNK): ranges from lengths
                bounds = list(accumulate(map(len, pieces), initial=start))
                out.extend(zip(ids, bounds[:-1], bounds[1:]))
            else:  # SentencePiece's own alignment to the text it was given
                out.extend((p.id, start + p.begin, start + p.end)
                           for p in self.sp.encode(stretch, out_type="proto").pieces)

        for sub in _SPACE_RUN.split(text):
            if not sub:
                continue
            size = len(sub.encode("utf-8"))
            if not sub.startswith("  "):
                encode_stretch(remainder + sub, pos - len(remainder))
                remainder = ""
                pos += size
                continue
            remaining, at, k = len(sub) - 1, pos, 0
            while remaining:
                while self._space_pieces[k][1] > remaining:
                    k += 1
                piece_id, n = self._space_pieces[k]
                out.append((piece_id, at, at + n))
                remaining -= n
                at += n
            remainder = " "
            pos += size
        if remainder:
            encode_stretch(remainder, pos - 1)
        return out

    def _numbers(self, toks: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
        """AI21's number rule (``right_keep``) over ``(id, start, end)``; new pieces share their run's span when the
        run's source is not one byte per digit (a full-width digit NFKC made ASCII)."""
        numbers = self._number_ids
        if numbers.isdisjoint(t[0] for t in toks):
            return toks
        pieces, ids = self._pieces, self._piece_ids
        out: list[tuple[int, int, int]] = []
        i = 0
        while i < len(toks):
            if toks[i][0] not in numbers:
                out.append(toks[i])
                i += 1
                continue
            j = i
            while j < len(toks) and toks[j][0] in numbers:
                j += 1
            num = "".join(pieces[t[0]] for t in toks[i:j])
            start, end = toks[i][1], toks[j - 1][2]
            if num in ids:
                groups = [num]
            else:
                head = len(num) % 3
                groups = ([num[:head]] if head else []) + [num[k:k + 3] for k in range(head, len(num), 3)]
            exact = end - start == len(num)
            at = start
            for g in groups:
                gid = ids.get(g, self._unk)
                out.append((gid, at, at + len(g)) if exact else (gid, start, end))
                at += len(g)
            i = j
        return out

    def _tokens(self, text: str, *, spans: bool = True) -> list[tuple[int, int, int]]:
        """``(id, byte_start, byte_end)`` of AI21's encoding of ``text``, offsets into its UTF-8 (if ``spans``)."""
        toks: list[tuple[int, int, int]] = []
        line_start = 0
        for k, line in enumerate(text.split("\n")):
            if k:
                toks.append((self._newline, line_start - 1, line_start))
            if line:
                # offsets in " " + line: 0 is the dummy prefix, which stands for no byte of the text
                off = line_start - 1
                toks.extend([(i, s + off if s else line_start, e + off if e else line_start)
                             for i, s, e in self._line_pieces(line, spans)])
            line_start += len(line.encode("utf-8")) + 1
        return self._numbers(toks)

    def ids_of(self, text: str) -> list[int]:
        """AI21's ids for ``text`` (no BOS)."""
        return [t[0] for t in self._tokens(text, spans=False)]

    def _ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.ids_of(t) for t in texts]  # ids without the spans unit_stats works out

    def _model_ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        # The SentencePiece model alone, without AI21's rules (what the glitch checks have always asked of it).
        return self.sp.encode(list(texts))

    def _byte_spans(self, text: str) -> tuple[list[int], np.ndarray, np.ndarray]:
        """Ids and each token's byte range in ``text``'s UTF-8."""
        toks = self._tokens(text)
        ids = [t[0] for t in toks]
        byte_starts = np.array([t[1] for t in toks], dtype=np.int64)
        byte_ends = np.array([t[2] for t in toks], dtype=np.int64)
        byte_ids = self._byte_ids
        # SentencePiece gives a byte-fallback run's surface to its last piece only: give the others the same range.
        for k in range(len(ids) - 2, -1, -1):
            if byte_starts[k] == byte_ends[k] and ids[k] in byte_ids and ids[k + 1] in byte_ids:
                byte_starts[k], byte_ends[k] = byte_starts[k + 1], byte_ends[k + 1]
        return ids, byte_starts, byte_ends

    def _encode(self, text: str, utf8: bytes, *, add_special_tokens: bool, allow_special: bool) -> Encoding:
        # AI21's encoder adds no <|startoftext|> (its API adds what a model needs), so add_special_tokens adds
        # nothing, as for tiktoken; control pieces cannot come from typed text, so allow_special has no effect.
        ids, byte_starts, byte_ends = self._byte_spans(text)
        starts, ends, cut = spans_from_byte_offsets(utf8, byte_starts, byte_ends)
        cut |= overlap_flags(starts, ends)
        table = self._bytes_table
        kinds = kinds_of(np.array(ids, dtype=np.int64), cut, self._classes)
        return Encoding(self, text, ids, starts, ends, [table[i] for i in ids], kinds)

    def unit_stats(self, texts: Sequence[str], word_spans: Sequence) -> UnitStats:
        """From the byte ranges of :meth:`_byte_spans` (one pass per text, no Encoding built): the shared
        spelled-or-not split would encode about half the UDHR twice (each line of a multi-line text has its own
        dummy-prefix space, so those texts are never spelled)."""
        for t in texts:
            check_text(t)
        per_text = [self._byte_spans(t) for t in texts]
        counts = np.fromiter((len(ids) for ids, _, _ in per_text), dtype=np.int64, count=len(texts))
        n_bytes = np.fromiter((len(t.encode("utf-8")) for t in texts), dtype=np.int64, count=len(texts))
        token_text = np.repeat(np.arange(len(texts)), counts)
        base = np.concatenate([[0], np.cumsum(n_bytes)])[:-1][token_text]
        ids = np.fromiter((i for x, _, _ in per_text for i in x), dtype=np.int64, count=int(counts.sum()))
        starts = np.concatenate([np.empty(0, dtype=np.int64), *(s for _, s, _ in per_text)]) + base
        ends = np.concatenate([np.empty(0, dtype=np.int64), *(e for _, _, e in per_text)]) + base
        return stats_from_flat(texts, word_spans, token_text, self._classes[ids], starts, ends, ids, unit="byte")

    def _count(self, text: str) -> int:
        return len(self.ids_of(text))

    def _count_batch(self, texts: Sequence[str]) -> list[int]:
        return [len(self.ids_of(t)) for t in texts]

    def decode(self, ids: Sequence[int]) -> str:
        """As AI21 decodes: ``<|newline|>`` is ``\\n``, and each line loses the one space its dummy prefix added."""
        lines: list[list[int]] = [[]]
        for i in ids:
            if i == self._newline:
                lines.append([])
            else:
                lines[-1].append(i)
        texts = [self.sp.decode(line) for line in lines]
        return "\n".join(t[1:] if t.startswith(" ") else t for t in texts)
