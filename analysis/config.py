"""Where things live and what one request may cost: configuration by environment variables, read in one place.

Every setting is an environment variable read through this module's parsers, so that ``ATLAS_IMPORT=off`` means
the same as ``ATLAS_IMPORT=0`` everywhere, and a malformed value is an error that names the variable.

>>> parse_bool("off", name="ATLAS_IMPORT"), parse_bool(" Yes ", name="ATLAS_IMPORT")
(False, True)
>>> parse_size("200MB", name="ATLAS_IMPORT_MAX_BYTES"), parse_size("1_000", name="X")
(200000000, 1000)
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import SettingError

#: The checkout's root (the folder holding analysis/, app/, assets/).
ROOT = Path(__file__).resolve().parent.parent

#: Folder of small, committed data (the catalogue lives here).
ASSETS_DIR = ROOT / "assets"
CATALOGUE_PATH = ASSETS_DIR / "catalogue.toml"

_TRUE = frozenset({"1", "true", "yes", "on", "y", "t"})
_FALSE = frozenset({"0", "false", "no", "off", "n", "f", ""})
_SIZE = re.compile(r"(\d[\d_]*)\s*([kmg]i?b?|b)?", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "ki": 2**10, "kib": 2**10, "mi": 2**20, "mib": 2**20, "gi": 2**30, "gib": 2**30}


def cache_dir() -> Path:
    """The asset cache: ``$ATLAS_CACHE``, default ``.cache/atlas`` in the checkout (git-ignored)."""
    env = os.environ.get("ATLAS_CACHE")
    return Path(env).expanduser() if env else ROOT / ".cache" / "atlas"


def parse_bool(value: str, *, name: str) -> bool:
    """``1 true yes on`` / ``0 false no off`` (any case, surrounding spaces ignored); else a :class:`SettingError`."""
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise SettingError(f"{name}={value[:40]!r} is neither true nor false. Set it to 1/true/yes/on or 0/false/no/off.")


def env_bool(name: str, default: bool) -> bool:
    """The boolean setting ``name`` (unset: ``default``)."""
    value = os.environ.get(name)
    return default if value is None else parse_bool(value, name=name)


def parse_size(value: str, *, name: str) -> int:
    """A count or a size: digits with an optional unit ``k``/``M``/``G`` (powers of 1000) or ``KiB``/``MiB``/``GiB``."""
    m = _SIZE.fullmatch(value.strip())
    if not m or (m.group(2) is not None and m.group(2).lower() not in _UNITS):
        raise SettingError(f"{name}={value[:40]!r} is not a number. Write digits with an optional unit, e.g. "
                           "200MB, 512MiB or 100000.")
    return int(m.group(1).replace("_", "")) * _UNITS[(m.group(2) or "").lower()]


def env_size(name: str, default: int) -> int:
    """The numeric setting ``name`` (unset or empty: ``default``); must be at least 1."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    n = parse_size(value, name=name)
    if n < 1:
        raise SettingError(f"{name}={value!r} must be at least 1.")
    return n


def imports_enabled() -> bool:
    """Whether the dashboard may write imported corpora (``ATLAS_IMPORT``, default on): the one place pages ask."""
    return env_bool("ATLAS_IMPORT", True)


@dataclass(frozen=True)
class Limit:
    """One cap on what a request may cost: its environment variable, default, and what it counts."""

    env: str
    default: int
    what: str

    def value(self) -> int:
        """The setting's value (the default where unset; a default of 0 means no limit)."""
        return env_size(self.env, self.default)

    def exceeded(self, found: str) -> str:
        """A message naming the limit, its setting and how to raise it on one's own server.

        >>> IMPORT_MAX_LANGUAGES.exceeded("x.tsv has 2,001 languages")  # doctest: +NORMALIZE_WHITESPACE
        'x.tsv has 2,001 languages, over the limit of 2,000 languages (ATLAS_IMPORT_MAX_LANGUAGES). Make it
        smaller, or run Token Atlas on your own server with ATLAS_IMPORT_MAX_LANGUAGES set higher (see
        docs/deployment.md).'
        """
        return (f"{found}, over the limit of {self.value():,} {self.what} ({self.env}). Make it smaller, or run "
                f"Token Atlas on your own server with {self.env} set higher (see docs/deployment.md).")


#: Caps on one import, counted while reading: uncompressed bytes and lines of all its files together, its
#: languages, and its texts (language × unit). The dashboard's upload cap itself is Streamlit's ``server.maxUploadSize``.
IMPORT_MAX_BYTES = Limit("ATLAS_IMPORT_MAX_BYTES", 200 * 2**20, "bytes of text (uncompressed)")
IMPORT_MAX_LINES = Limit("ATLAS_IMPORT_MAX_LINES", 2_000_000, "lines")
IMPORT_MAX_LANGUAGES = Limit("ATLAS_IMPORT_MAX_LANGUAGES", 2_000, "languages")
IMPORT_MAX_UNITS = Limit("ATLAS_IMPORT_MAX_UNITS", 2_000_000, "texts (language × unit)")
#: Bytes of one SQL console result, measured while fetching; and the width a cell is drawn at.
SQL_MAX_RESULT_BYTES = Limit("ATLAS_SQL_MAX_RESULT_BYTES", 20 * 2**20, "bytes")
SQL_MAX_CELL_CHARS = Limit("ATLAS_SQL_MAX_CELL_CHARS", 2_000, "characters in a cell")

#: The memory ceiling of one server process (its data segment and private memory, RLIMIT_DATA): unset, none. A
#: request that would pass it fails with a message (MemoryError, DuckDB's out-of-memory error) instead of the
#: machine's OOM killer taking the whole server. docs/deployment.md gives values for a demo.
MEMORY_MAX = Limit("ATLAS_MEMORY_MAX", 0, "bytes of memory per server process")

#: Caps on a tokenizer a visitor adds (an upload or a Hugging Face repo's file; analysis.user_tokenizers): the file's
#: size, its vocabulary's size, the seconds its loading may take, and the length of a custom split pattern.
USER_TOKENIZER_MAX_BYTES = Limit("ATLAS_USER_TOKENIZER_MAX_BYTES", 64 * 2**20, "bytes")
USER_TOKENIZER_MAX_VOCAB = Limit("ATLAS_USER_TOKENIZER_MAX_VOCAB", 1_000_000, "tokens in the vocabulary")
USER_TOKENIZER_LOAD_SECONDS = Limit("ATLAS_USER_TOKENIZER_LOAD_SECONDS", 60, "seconds of loading")
USER_PATTERN_MAX_CHARS = Limit("ATLAS_USER_PATTERN_MAX_CHARS", 2_000, "characters")
#: Worker processes that count added tokenizers over the store's UDHR, for the whole server (analysis.user_counts):
#: the rest of the machine stays free for the other sessions; jobs beyond it wait their turn in a queue.
USER_COUNT_WORKERS = Limit("ATLAS_USER_COUNT_WORKERS", 1, "counting worker processes")

LIMITS = (IMPORT_MAX_BYTES, IMPORT_MAX_LINES, IMPORT_MAX_LANGUAGES, IMPORT_MAX_UNITS, SQL_MAX_RESULT_BYTES,
          SQL_MAX_CELL_CHARS, USER_TOKENIZER_MAX_BYTES, USER_TOKENIZER_MAX_VOCAB, USER_TOKENIZER_LOAD_SECONDS,
          USER_PATTERN_MAX_CHARS, USER_COUNT_WORKERS)
