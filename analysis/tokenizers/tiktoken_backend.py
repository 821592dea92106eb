"""tiktoken encodings (OpenAI), loaded from verified local ``.tiktoken`` files."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tiktoken

from ..errors import AssetError, AssetIntegrityError
from .base import Encoding, Tokenizer, assign_kinds, spans_from_byte_offsets


def read_tiktoken_ranks(path: Path, *, expected_sha256: str | None = None) -> dict[bytes, int]:
    """Parse a ``.tiktoken`` file (``<base64 token> <rank>`` per line), as tiktoken's own loader does.

    Read directly rather than through ``tiktoken.load``, whose cache keys files by path (a changed
    local file would load stale) and copies them into a temp folder. Every single byte must have a
    rank, else tiktoken's core would panic on text that needs a missing byte.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.tiktoken"
    >>> _ = p.write_text("".join(f"{base64.b64encode(bytes([b])).decode()} {b}\\n" for b in range(256)))
    >>> len(read_tiktoken_ranks(p))
    256
    """
    try:
        data = path.read_bytes()
    except OSError as e:
        raise AssetError(f"Cannot read {path}: {e}.") from e
    if expected_sha256 and hashlib.sha256(data).hexdigest() != expected_sha256:
        raise AssetIntegrityError(
            f"{path} does not match its sha256 ({expected_sha256}). "
            "Run `python -m analysis assets fetch --force` to restore a verified copy."
        )
    ranks: dict[bytes, int] = {}
    try:
        for n, line in enumerate(data.splitlines(), 1):
            if line.strip():
                token, rank = line.split()
                ranks[base64.b64decode(token, validate=True)] = int(rank)
    except (ValueError, binascii.Error) as e:
        raise AssetError(
            f"{path} is not a valid .tiktoken file (lines of '<base64> <rank>'): line {n} is {line[:60]!r}."
        ) from e
    missing = [b for b in range(256) if bytes([b]) not in ranks]
    if missing:
        raise AssetError(
            f"{path} has no rank for {len(missing)} of the 256 single bytes (e.g. 0x{missing[0]:02x}); a byte-level "
            "BPE needs all of them or it cannot encode arbitrary text. Check that the file is complete."
        )
    return ranks


def load_encoding(name: str, ranks_path: Path, meta_path: Path, *, ranks_sha256: str | None) -> tiktoken.Encoding:
    """Build a ``tiktoken.Encoding`` from a ``.tiktoken`` file and its pattern/special-token JSON.

    ``ranks_sha256`` is the same hash tiktoken expects for the official file of that name.
    """
    ranks = read_tiktoken_ranks(ranks_path, expected_sha256=ranks_sha256)
    try:
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
