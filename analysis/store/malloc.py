"""Keeping a build's memory down where glibc allows it: handing freed memory back (``malloc_trim``) and fewer
malloc arenas (``mallopt(M_ARENA_MAX)``), where the C library has them.

A build frees large things at known moments (a tokenizer's load leaves its parsing buffers behind; a released
tokenizer leaves its vocabulary's pages), but glibc keeps freed memory in its arenas (one per thread that
allocated) for reuse, so the process's resident size stays at its high-water mark. :func:`trim` asks glibc to return
what is free at the top and inside its heaps (``malloc_trim(0)``: every arena, a few milliseconds); elsewhere (musl,
macOS) it does nothing.

glibc gives each thread that allocates an arena of its own (up to 8 per core), and memory freed in one is reused
only there: the counting threads, DuckDB's threads and the tokenizers' own each keep their high-water mark.
:func:`limit_arenas` caps their number for the arenas made from then on; the ``build`` command calls it first thing
(2 arenas: ~15 MiB less at the peak of the 22 x 2 job, docs/performance.md). The library never calls it: a process
that calls :func:`analysis.store.build.build` (a dashboard) keeps its own malloc settings.

Example:
    >>> trim() in (True, False)
    True
"""

from __future__ import annotations

import ctypes
import functools
import sys
from collections.abc import Callable

#: glibc's ``mallopt`` parameter for the largest number of arenas (malloc.h).
M_ARENA_MAX = -8


@functools.cache
def _glibc(name: str) -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return getattr(ctypes.CDLL("libc.so.6"), name)
    except (OSError, AttributeError):  # not glibc
        return None


def trim() -> bool:
    """Return the memory glibc's arenas hold free to the system; whether there was a ``malloc_trim`` to call."""
    fn = _glibc("malloc_trim")
    if fn is None:
        return False
    fn(0)
    return True


def limit_arenas(n: int = 2) -> bool:
    """At most ``n`` malloc arenas from now on (threads share them); whether glibc took the setting."""
    fn = _glibc("mallopt")
    return fn is not None and fn(M_ARENA_MAX, n) == 1
