"""Where the tokenizers a visitor adds are stored, and how an id finds one: what the registry needs to load a
``yours:NAME:KEY16`` spec. Checking and adding them is :mod:`analysis.user_tokenizers` (which re-exports these
names); this module imports nothing of the tokenizers, so that the registry can read it without a cycle.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .config import cache_dir, imports_enabled
from .errors import UserTokenizerError

Format = Literal["tokenizer.json", "sentencepiece", "tiktoken"]
PREFIX = "yours:"
#: The file name each format is stored under (the registry's ``load_file`` tells the format by the suffix).
STORED_NAME: dict[Format, str] = {"tokenizer.json": "tokenizer.json", "sentencepiece": "tokenizer.model",
                                  "tiktoken": "ranks.tiktoken"}
_ENV_TMP = "ATLAS_USER_TOKENIZERS_TMP"  # this server's temporary folder, inherited by its worker processes
_ID = re.compile(r"yours:([A-Za-z0-9._/@-]{1,64}):([0-9a-f]{16})")


@dataclass(frozen=True)
class Added:
    """A stored tokenizer: what the pages show and the registry loads."""

    id: str
    name: str  # the upload's file name, or the hub repo with its short revision
    key: str  # sha256 of the file's bytes, pattern and origin
    format: Format
    sha256: str  # of the file's bytes alone
    vocab_size: int
    pattern: str | None  # a .tiktoken file's split pattern (the regex itself)
    pattern_name: str | None  # its name (a PATTERNS key, or "custom")
    origin: str  # "upload", or "hf:ORG/NAME@COMMIT"
    added_at: str
    folder: str

    @property
    def path(self) -> Path:
        return Path(self.folder) / STORED_NAME[self.format]


# ------------------------------------------------------------------ where they are kept


def kept() -> bool:
    """Whether this server keeps added tokenizers (and so can put them in permalinks): ``ATLAS_IMPORT``."""
    return imports_enabled()


def kept_root() -> Path:
    """Where a server that keeps added tokenizers stores them: ``$ATLAS_USER_TOKENIZERS``, default
    ``$ATLAS_CACHE/user-tokenizers``."""
    env = os.environ.get("ATLAS_USER_TOKENIZERS")
    return Path(env).expanduser() if env else cache_dir() / "user-tokenizers"


def temp_root() -> Path:
    """This server process's own folder for tokenizers it does not keep, removed when the process exits."""
    known = os.environ.get(_ENV_TMP)
    if known and Path(known).is_dir():
        return Path(known)
    path = Path(tempfile.mkdtemp(prefix="atlas-yours-"))
    os.environ[_ENV_TMP] = str(path)  # spawned counting workers find the same folder
    owner = os.getpid()
    atexit.register(lambda: os.getpid() == owner and shutil.rmtree(path, ignore_errors=True))
    return path


def root() -> Path:
    """Where a tokenizer added now is stored."""
    return kept_root() if kept() else temp_root()


# ------------------------------------------------------------------ finding stored ones


def read_meta(folder: Path) -> Added:
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    meta.pop("version", None)
    return Added(**meta, folder=str(folder))


def find(key_or_prefix: str) -> Added | None:
    """The stored tokenizer whose key is (or starts with) ``key_or_prefix``, kept or in this server's temporary
    folder; None if there is none (or the prefix is ambiguous)."""
    if not re.fullmatch(r"[0-9a-f]{16,64}", key_or_prefix):
        return None
    folders = [root_ for root_ in ([kept_root()] if kept() else []) + [temp_root()] if root_.is_dir()]
    hits = [f for r in folders for f in r.glob(f"{key_or_prefix}*") if (f / "meta.json").is_file()]
    return read_meta(hits[0]) if len(hits) == 1 else None


def is_yours(tokenizer_id: str) -> bool:
    """
    >>> is_yours("yours:my.tiktoken:0123456789abcdef"), is_yours("o200k_base")
    (True, False)
    """
    return tokenizer_id.startswith(PREFIX)


def resolve(tokenizer_id: str) -> Added:
    """The stored tokenizer an id names.

    Raises:
        UserTokenizerError: a malformed id, or one this server does not hold (not kept, or from another server).
    """
    m = _ID.fullmatch(tokenizer_id)
    found = find(m.group(2)) if m else None
    if found is None or found.name != m.group(1):  # type: ignore[union-attr]
        raise UserTokenizerError(
            f"{tokenizer_id[:120]!r} is not a tokenizer this server holds: added tokenizers live in the session that "
            "added them, and in links only where the server keeps them (ATLAS_IMPORT=1). Add the file again.",
            title="Tokenizer not found")
    return found
