"""One term per concept in each interface language: the glossaries, and a check of the catalogs and lessons.

Each translated language has ``analysis/locales/<lang>/glossary.toml``: for the concepts the interface and the lessons
keep naming (a glitch token, a token premium, a tokenizer), the ``term`` to write, a ``match`` pattern that every
translation of a text naming the concept contains, and the other words (``avoid``) that must not appear. A text names
a concept when its English (the catalog's msgid, or a lesson field's ``en``) matches :data:`CONCEPTS`, outside code
spans and ``{placeholders}``.

Usage::

    python -m analysis.i18n_glossary     # lists every text that breaks its glossary; exit status 1 if any

>>> load_glossary("fr")["glitch_token"].term
'token anomal'
>>> [t.where for t in texts("es") if t.english == "Glitch tokens"][:1]
['LC_MESSAGES/atlas.po']
"""

from __future__ import annotations

import re
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from analysis.i18n import DEFAULT_LANGUAGE, LANGUAGES, LOCALES_DIR

ROOT = Path(__file__).resolve().parent.parent
WORKSHOPS_DIR = ROOT / "assets" / "workshops"

#: Each concept as its English text names it (case-insensitive). "Tokenizer" as a word: not ``tokenizer.json``,
#: ``--tokenizers`` or ``tokenizer_config``; "glitch" alone (a glitch category) is not the glitch-token concept.
CONCEPTS = {
    "glitch_token": re.compile(r"glitch[- ]tokens?", re.IGNORECASE),
    "token_premium": re.compile(r"(?<![\w_])premiums?(?![\w_])", re.IGNORECASE),
    "tokenizer": re.compile(r"(?<![\w.\-_/:])tokenizers?(?![\w.\-_])", re.IGNORECASE),
}
_CODE = re.compile(r"`[^`]*`|\{[^{}]*\}|\"[^\"\n]*\"|“[^”]*”|«[^»]*»")  # code, placeholders, quoted titles


@dataclass(frozen=True)
class Entry:
    """One concept in one language."""

    concept: str
    term: str
    match: re.Pattern[str]
    avoid: tuple[str, ...]


@dataclass(frozen=True)
class Text:
    """A translated text and the English it translates, with where it lives (for the report)."""

    where: str
    english: str
    translated: str


def glossary_path(lang: str) -> Path:
    return LOCALES_DIR / lang / "glossary.toml"


@cache
def load_glossary(lang: str) -> dict[str, Entry]:
    """``lang``'s glossary: concept -> :class:`Entry` (every concept of :data:`CONCEPTS` must be there)."""
    with glossary_path(lang).open("rb") as f:
        raw = tomllib.load(f)
    out = {}
    for concept in CONCEPTS:
        e = raw[concept]
        out[concept] = Entry(concept, e["term"], re.compile(e["match"], re.IGNORECASE), tuple(e.get("avoid", ())))
    return out


def plain(text: str) -> str:
    """``text`` without code spans, placeholders and quotations (identifiers such as `tokenizer` or {tokenizer} are
    no words, and a quoted paper title such as "Tokenizer Choice For LLM Training" is not ours to translate).

    >>> plain('Add them with `python -m analysis build --tokenizers {ids}` to {tokenizer} ("Tokenizer Choice").')
    'Add them with  to  ().'
    """
    return _CODE.sub("", text)


def _lesson_texts(node: object, where: str, lang: str) -> Iterator[Text]:
    if isinstance(node, dict):
        if isinstance(node.get("en"), str) and isinstance(node.get(lang), str):
            yield Text(where, node["en"], node[lang])
        for value in node.values():
            yield from _lesson_texts(value, where, lang)
    elif isinstance(node, list):
        for value in node:
            yield from _lesson_texts(value, where, lang)


def texts(lang: str) -> list[Text]:
    """Every translated text of ``lang``: the catalog's messages, the lessons' per-language fields and the Methods
    page's metric sections (``locales/<lang>/methods.md``)."""
    from analysis.i18n_catalogs import read_catalog
    from analysis.i18n_methods import localized_sections, translation

    out = [Text("LC_MESSAGES/atlas.po", m.id, m.string) for m in read_catalog(lang)
           if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string]
    for path in sorted(WORKSHOPS_DIR.glob("*.toml")):
        with path.open("rb") as f:
            out += _lesson_texts(tomllib.load(f), f"assets/workshops/{path.name}", lang)
    if translation(lang) is not None:
        out += [Text(f"methods.md#{s.anchor}", f"{s.english.title}\n{s.english.body}", f"{s.title}\n{s.body}")
                for s in localized_sections(lang)]
    return out


def text_problems(lang: str, t: Text) -> list[str]:
    """What breaks ``lang``'s glossary in one text (empty: nothing).

    >>> text_problems("fr", Text("x", "Hunt for glitch tokens", "Chassez les tokens fantômes"))[1]
    "fr: x: 'fantôme' for glitch token: write 'token anomal' instead ('Chassez les tokens fantômes')"
    """
    out = []
    english, translated = plain(t.english), plain(t.translated)
    for concept, entry in load_glossary(lang).items():
        if CONCEPTS[concept].search(english) and not entry.match.search(translated):
            out.append(f"{lang}: {t.where}: {t.english[:80]!r} names {concept.replace('_', ' ')} but its "
                       f"translation does not say {entry.term!r}: {t.translated[:80]!r}")
        for word in entry.avoid:
            if word.lower() in translated.lower():
                out.append(f"{lang}: {t.where}: {word!r} for {concept.replace('_', ' ')}: write {entry.term!r} "
                           f"instead ({t.translated[:80]!r})")
    return out


def problems() -> list[str]:
    """One line per text that names a concept without its language's term, or uses a word the glossary avoids."""
    return [p for lang in LANGUAGES if lang != DEFAULT_LANGUAGE for t in texts(lang) for p in text_problems(lang, t)]


def main() -> int:
    found = problems()
    print("\n".join(found) or "Every catalog and lesson uses its glossary's terms.")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
