"""Server paths out of what visitors see: error messages, SQL console cells, provenance.

A path under a folder of the server (the checkout, the asset cache, the database's folder, the temporary folder,
the home folder, the Python installation) is replaced by its last component, the file's name::

    >>> from analysis.config import ROOT
    >>> redact_paths(f"cannot open {ROOT}/.cache/atlas/atlas.duckdb: no such file")
    'cannot open atlas.duckdb: no such file'

Messages also lose any other absolute path of two or more components (``redact_message``); table cells, which
may hold a user's text, lose only the server's own folders.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import tempfile
from pathlib import Path

from .config import ROOT, cache_dir

_END = r"""[^\s'"`(),;:\]\[<>]"""  # characters a path in running text may hold
_ANY_ABSOLUTE = re.compile(rf"(?<![\w./:])/(?:{_END}+/)+({_END}*)")


@functools.lru_cache(maxsize=8)
def _prefixes(key: tuple[str, ...]) -> re.Pattern[str]:
    folders = sorted({p.rstrip("/") for p in key if p and p != "/"}, key=len, reverse=True)
    alternatives = "|".join(re.escape(f) for f in folders)
    return re.compile(rf"(?:{alternatives})(?=/|[\s'\"`(),;:\]\[<>]|$)(/{_END}*)*")


def _server_folders() -> tuple[str, ...]:
    db = os.environ.get("ATLAS_DB")
    folders = [ROOT, cache_dir(), Path(tempfile.gettempdir()), Path.home(), Path(sys.prefix), Path(sys.base_prefix)]
    if db:
        folders.append(Path(db).expanduser().parent)
    out = set()
    for f in folders:
        out.add(str(f))
        try:
            out.add(str(f.resolve()))
        except OSError:
            pass
    return tuple(sorted(out))


def _name(match: re.Match[str]) -> str:
    text = match.group(0).rstrip("/")
    return text.rsplit("/", 1)[-1] or "…"


def redact_paths(text: str) -> str:
    """``text`` with every path under a server folder cut to its last component (see the module docstring)."""
    if "/" not in text:
        return text
    return _prefixes(_server_folders()).sub(_name, text)


def redact_message(text: str) -> str:
    """An error message for a visitor: server folders as :func:`redact_paths`, and any other absolute path of two
    or more components cut to its last one too.

    >>> redact_message("[Errno 21] Is a directory: '/srv/atlas/cache/files/x.tiktoken'")
    "[Errno 21] Is a directory: 'x.tiktoken'"
    """
    return _ANY_ABSOLUTE.sub(lambda m: m.group(1) or "…", redact_paths(text))
