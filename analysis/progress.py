"""The progress callbacks long-running library functions take (a build, a fetch, a probe, a training run).

A callback is optional everywhere: functions accept ``progress=None`` and say nothing then.

Example:
    >>> said: list[str] = []
    >>> report: Progress = said.append
    >>> report("corpus udhr: 532 languages")
    >>> said
    ['corpus udhr: 532 languages']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

#: Receives one line of progress text at a time (``print``, a logger, ``list.append``, a page's status box).
Progress: TypeAlias = Callable[[str], None]
#: Receives the fraction done (0.0 to 1.0) and a line saying what is being done: for a progress bar (the lab's
#: tokenizer training).
FractionProgress: TypeAlias = Callable[[float, str], None]


def quiet(_message: str) -> None:
    """A :data:`Progress` that says nothing (what ``progress=None`` means)."""
