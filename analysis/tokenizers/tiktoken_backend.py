"""tiktoken encodings (OpenAI), loaded from verified local ``.tiktoken`` files."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tiktoken
from tiktoken.load import load_tiktoken_bpe

from ..errors import AssetError
from .base import Encoding, Tokenizer, assign_kinds, spans_from_byte_offsets


def load_encoding(name: str, ranks_path: Path, meta_path: Path, *, ranks_sha256: str | None) -> tiktoken.Encoding:
    """Build a ``tiktoken.Encoding`` from a ``.tiktoken`` file and its pattern/special-token JSON.

    ``load_tiktoken_bpe`` checks ``ranks_sha256`` itself, the same hash tiktoken expects for the
    official file of that name.
    """
    try:
        ranks = load_tiktoken_bpe(str(ranks_path), expected_hash=ranks_sha256)
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        kwargs = {}
        if meta.get("explicit_n_vocab"):
            kwargs["explicit_n_vocab"] = meta["explicit_n_vocab"]
        return tiktoken.Encoding(name=name, pat_str=meta["pat_str"], mergeable_ranks=ranks,
                                 special_tokens=meta["special_tokens"], **kwargs)
    except (ValueError, KeyError, OSError, AssertionError) as e:
        raise AssetError(
            f"Cannot load the tiktoken encoding {name!r} from {ranks_path} / {meta_path}: {e}. "
            "Run `python -m analysis assets fetch --force` to restore verified files."
        ) from e


class TiktokenTokenizer(Tokenizer):
    """Any ``tiktoken.Encoding`` behind the common interface."""

    backend = "tiktoken"

    def __init__(self, tokenizer_id: str, encoding: tiktoken.Encoding, *, name: str | None = None) -> None:
        super().__init__(tokenizer_id, name=name, vocab_size=encoding.n_vocab)
        self.encoding = encoding
        self._special_ids = frozenset(encoding.encode_single_token(s) for s in encoding.special_tokens_set)

    def _encode(self, text: str, utf8: bytes, *, add_special_tokens: bool, allow_special: bool) -> Encoding:
        # tiktoken has no BOS/EOS of its own, so add_special_tokens adds nothing.
        enc = self.encoding
        ids = enc.encode(text, allowed_special="all") if allow_special else enc.encode_ordinary(text)
        token_bytes = enc.decode_tokens_bytes(ids)
        lengths = np.fromiter((len(b) for b in token_bytes), dtype=np.int64, count=len(token_bytes))
        ends = np.cumsum(lengths)
        starts, ends_c, cut = spans_from_byte_offsets(utf8, ends - lengths, ends)
        kinds = assign_kinds(ids, cut, special=self._special_ids)
        return Encoding(self, text, ids, starts, ends_c, token_bytes, kinds)

    def _count(self, text: str) -> int:
        return len(self.encoding.encode_ordinary(text))

    def _count_batch(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self.encoding.encode_ordinary_batch(list(texts))]

    def decode(self, ids: Sequence[int]) -> str:
        return self.encoding.decode(list(ids))

    def piece(self, token_id: int) -> str:
        return self.encoding.decode_single_token_bytes(token_id).decode("utf-8", "backslashreplace")
