"""Keeping a build's memory down where glibc allows it: handing freed memory back (``malloc_trim``), fewer
malloc arenas (``mallopt(M_ARENA_MAX)``) and fixed thresholds for returning memory (``M_MMAP_THRESHOLD``), where the
C library has them.

A build frees large things at known moments (a tokenizer's load leaves its parsing buffers behind; a released
tokenizer leaves its vocabulary's pages), but glibc keeps freed memory in its arenas (one per thread that
allocated) for reuse, so the process's resident size stays at its high-water mark. :func:`trim` asks glibc to return
what is free at the top and inside its heaps (``malloc_trim(0)``: every arena, a few milliseconds); elsewhere (musl,
macOS) it does nothing.

glibc gives each thread that allocates an arena of its own (up to 8 per core), and memory freed in one is reused
only there: the counting threads, DuckDB's threads and the tokenizers' own each keep their high-water mark.
:func:`limit_arenas` caps their number for the arenas made from then on; the ``build`` command calls it first thing
(2 arenas: ~15 MiB less at the peak of the 22 x 2 job, docs/performance.md).

glibc also slides its thresholds: each time a block it had mapped on its own (128 KiB or more) is freed, blocks up
to that size come from the heaps from then on, and the free memory a heap keeps at its top before returning it
grows to twice that (up to 64 MiB). A build frees multi-megabyte arrays (a chunk's ids, the published texts, the
premiums' bootstrap), so after the first of them each arena keeps tens of megabytes free until a :func:`trim`.
:func:`fix_thresholds` stops the sliding: blocks of :data:`MMAP_THRESHOLD` or more are mapped and unmapped on their
own, and a heap returns its free top beyond :data:`TRIM_THRESHOLD` at once (~10 MiB less at the sampled peak of the
22 x 2 job; with glibc's default trim threshold, 128 KiB, ~20 MiB less but ~0.3 s more system time in page faults,
the heaps' tops being returned and touched again over and over). The ``build`` command calls it first thing too. The library
never calls either: a process that calls :func:`analysis.store.build.build` (a dashboard) keeps its own malloc
settings.

Example:
    >>> trim() in (True, False)
    True
"""

from __future__ import annotations

import ctypes
import functools
import sys
from collections.abc import Callable

#: glibc's ``mallopt`` parameters (malloc.h): the largest number of arenas; the size from which a block is mapped on
#: its own; the free memory at a heap's top beyond which it is returned (setting either stops both sliding).
M_ARENA_MAX = -8
M_MMAP_THRESHOLD = -3
M_TRIM_THRESHOLD = -1
#: The thresholds the ``build`` command fixes: mapped on their own from 4 MiB (large against a chunk's arrays, a few
#: hundred KB reused from the heaps; small against the few multi-megabyte ones), a heap's free top returned beyond
#: 8 MiB.
MMAP_THRESHOLD = 4 * 2**20
TRIM_THRESHOLD = 8 * 2**20


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


def fix_thresholds(mmap_threshold: int = MMAP_THRESHOLD, trim_threshold: int = TRIM_THRESHOLD) -> bool:
    """Blocks of ``mmap_threshold`` bytes or more mapped on their own, a heap's free top beyond ``trim_threshold``
    returned, and glibc's thresholds no longer sliding (see the module's docstring); whether glibc took both."""
    fn = _glibc("mallopt")
    return fn is not None and fn(M_MMAP_THRESHOLD, mmap_threshold) == 1 and fn(M_TRIM_THRESHOLD, trim_threshold) == 1
