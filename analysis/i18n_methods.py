"""The Methods page's long texts in the interface language: the metric definitions and the counting policy.

The English is ``assets/docs/METRICS.md`` (read by :mod:`analysis.methods`). Each translation is
``analysis/locales/<lang>/methods.md``: the same ``## `` sections in the same order, each heading ending with the
English section's anchor (``## Surcoût (Petrov et al., 2023) {#premium}``), the formulas (indented blocks), the code
spans and the numbers exactly as in English. A language without the file, or a section a file lacks, is shown in
English. The papers' abstracts (``assets/docs/papers.md``) are quoted as published, in English.

>>> [s.title for s in localized_sections("fr")][:2]
['Règle de décompte', 'Surcoût (Petrov et al., 2023)']
>>> [s.anchor for s in localized_sections("fr")][:2], localized_sections("fr")[1].key
(['counting-policy', 'premium'], 'Premium')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from analysis.i18n import DEFAULT_LANGUAGE, LOCALES_DIR, current_language, gettext
from analysis.methods import METRICS_PATH, Section, metric_sections, metrics_intro

_HEADING = re.compile(r"^## +(.+?)\s*$", re.MULTILINE)
_ANCHOR = re.compile(r"^(?P<title>.*?)\s*\{#(?P<anchor>[a-z0-9-]+)\}$")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def anchor(section: Section) -> str:
    """The stable anchor of an English section: its key as a slug.

    >>> anchor(Section("Fairness summary of one tokenizer over a stated language set S", ""))
    'fairness-summary-of-one-tokenizer-over-a-stated-language-set-s'
    """
    return re.sub(r"[^a-z0-9]+", "-", section.key.lower()).strip("-")


@dataclass(frozen=True)
class LocalSection:
    """A metric section in the interface language, with the English section it translates."""

    title: str
    body: str
    anchor: str
    english: Section

    @property
    def key(self) -> str:
        """The English key (``"Premium"``): what the papers a section draws on are looked up by."""
        return self.english.key

    @property
    def markdown(self) -> str:
        return Section(self.title, self.body).markdown


def methods_path(lang: str) -> Path:
    return LOCALES_DIR / lang / "methods.md"


@lru_cache(maxsize=16)
def _parse(path: Path, mtime_ns: int) -> tuple[str, tuple[tuple[str, str, str], ...]]:
    """A translated file's intro (title line and comments dropped) and its ``(anchor, title, body)`` sections."""
    text = _COMMENT.sub("", path.read_text(encoding="utf-8"))
    parts = _HEADING.split(text)
    intro = re.sub(r"^# .*\n", "", parts[0].lstrip()).strip()
    sections = []
    for heading, body in zip(parts[1::2], parts[2::2]):
        m = _ANCHOR.match(heading.strip())
        if m is None:
            raise ValueError(f"{path}: the heading {heading!r} lacks its English anchor, e.g. '{{#premium}}'")
        sections.append((m["anchor"], m["title"], body.strip("\n").rstrip()))
    return intro, tuple(sections)


def translation(lang: str) -> tuple[str, dict[str, tuple[str, str]]] | None:
    """``lang``'s methods.md as ``(intro, {anchor: (title, body)})``, or None where there is none."""
    path = methods_path(lang)
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    intro, sections = _parse(path, mtime)
    return intro, {a: (t, b) for a, t, b in sections}


def localized_sections(lang: str | None = None, *, path: Path = METRICS_PATH) -> list[LocalSection]:
    """Every metric section of METRICS.md in ``lang`` (default: the interface language), English where untranslated."""
    lang = lang or current_language()
    found = translation(lang) if lang != DEFAULT_LANGUAGE else None
    out = []
    for s in metric_sections(path):
        a = anchor(s)
        title, body = found[1][a] if found and a in found[1] else (s.title, s.body)
        out.append(LocalSection(title, body, a, s))
    return out


def localized_intro(lang: str | None = None, *, path: Path = METRICS_PATH) -> str:
    """The notation paragraph in ``lang`` (default: the interface language), English where untranslated."""
    lang = lang or current_language()
    found = translation(lang) if lang != DEFAULT_LANGUAGE else None
    return found[0] if found and found[0] else metrics_intro(path)


def counting_policy_text(recorded: str) -> str:
    """The counting policy a database records, in the interface language when it is the policy this code writes
    (``analysis.store.schema.COUNTING_POLICY``, a msgid); another recorded text is shown as it is."""
    return gettext(recorded)
