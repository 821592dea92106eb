"""Handing freed memory back to the system: glibc's ``malloc_trim``, where the C library has it.

A build frees large things at known moments (a tokenizer's load leaves its parsing buffers behind; a released
tokenizer leaves its vocabulary's pages), but glibc keeps freed memory in its arenas (one per thread that
allocated) for reuse, so the process's resident size stays at its high-water mark. :func:`trim` asks glibc to return
what is free at the top and inside its heaps (``malloc_trim(0)``: every arena, a few milliseconds); elsewhere (musl,
macOS) it does nothing.

Example:
    >>> trim() in (True, False)
    True
"""

from __future__ import annotations

import ctypes
import functools
import sys
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


def trim() -> bool:
    """Return the memory glibc's arenas hold free to the system; whether there was a ``malloc_trim`` to call."""
    fn = _malloc_trim()
    if fn is None:
        return False
    fn(0)
    return True
