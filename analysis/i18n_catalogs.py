"""The translation catalogs as files: extract the interface strings, merge them into each .po, check completeness.

Used by the catalog test (tests/test_i18n_catalogs.py) and by translators (docs/i18n.md)::

    python -m analysis.i18n_catalogs update   # add new msgids to every catalog (empty translations), drop none
    python -m analysis.i18n_catalogs check    # list what is missing or untranslated, per language; exit 1 if any

Extraction is Babel's Python extractor over ``analysis/`` and ``app/`` with the gettext keywords (``_``,
``gettext``, ``ngettext``, ``N_``, ``lazy_gettext``). Writes are atomic (temp file + ``os.replace``).
"""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from analysis.fsio import atomic_write
from analysis.i18n import DEFAULT_LANGUAGE, DOMAIN, LANGUAGES, catalog_path

ROOT = Path(__file__).resolve().parent.parent
#: Source folders scanned for interface strings (Babel method map, relative to the checkout).
METHOD_MAP = [("analysis/**.py", "python"), ("app/**.py", "python")]
#: The review notice every catalog's header carries until a native speaker has checked it.
REVIEW_NOTICE = "DRAFT translation: to be reviewed by a native speaker before it is called final."
PROJECT = "Token Atlas"


@dataclass(frozen=True)
class Message:
    msgid: str | tuple[str, str]
    locations: tuple[tuple[str, int], ...]

    @property
    def where(self) -> str:
        return ", ".join(f"{f}:{n}" for f, n in self.locations[:3]) + (" …" if len(self.locations) > 3 else "")


def extract(root: Path = ROOT) -> dict[str | tuple[str, str], Message]:
    """Every msgid in the source, with where it occurs (files relative to ``root``)."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None}  # analysis.i18n.lazy_gettext: translated when shown
    found: dict[str | tuple[str, str], list[tuple[str, int]]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(str(root), METHOD_MAP, keywords=keywords):
        if isinstance(message, tuple):
            message = (message[0], message[1])
        if not message or (isinstance(message, tuple) and not message[0]):
            continue
        found.setdefault(message, []).append((filename.replace(os.sep, "/"), lineno))
    return {m: Message(m, tuple(locs)) for m, locs in found.items()}


def read_catalog(lang: str):
    from babel.messages.pofile import read_po

    with catalog_path(lang).open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def write_catalog(lang: str, catalog) -> Path:
    """Write ``catalog`` as ``lang``'s .po, atomically."""
    from babel.messages.pofile import write_po

    buf = io.BytesIO()
    write_po(buf, catalog, width=116, sort_output=False, include_previous=False)
    return atomic_write(catalog_path(lang), buf.getvalue())


def _new_catalog(lang: str):
    from babel.messages.catalog import Catalog

    return Catalog(locale=lang, domain=DOMAIN, project=PROJECT, version="1", fuzzy=False,
                   last_translator="Token Atlas team (draft, unreviewed)", language_team=f"{lang} reviewers wanted",
                   header_comment=f"# {PROJECT}: interface strings, {lang}.\n# {REVIEW_NOTICE}\n")


def update_catalogs(root: Path = ROOT) -> dict[str, int]:
    """Add every extracted msgid that a catalog lacks (with an empty translation) and drop the msgids the source no
    longer has; returns how many were added per language. Translations of msgids still in use are kept."""
    messages = extract(root)
    added = {}
    for lang in LANGUAGES:
        if lang == DEFAULT_LANGUAGE:
            continue
        cat = read_catalog(lang) if catalog_path(lang).exists() else _new_catalog(lang)
        n = 0
        for msgid, m in messages.items():
            if cat.get(msgid) is None:
                cat.add(msgid, ("", "") if isinstance(msgid, tuple) else "", locations=m.locations)
                n += 1
            else:
                cat[msgid].locations = list(m.locations)
        for entry in [e for e in cat if e.id and e.id not in messages]:
            cat.delete(entry.id)
        write_catalog(lang, cat)
        added[lang] = n
    return added


def problems(root: Path = ROOT) -> list[str]:
    """One line per msgid that a catalog lacks, has no translation for, or marks fuzzy (empty: all complete)."""
    messages = extract(root)
    out = []
    for lang in LANGUAGES:
        if lang == DEFAULT_LANGUAGE:
            continue
        if not catalog_path(lang).exists():
            out.append(f"{lang}: no catalog at {catalog_path(lang).relative_to(ROOT)}")
            continue
        cat = read_catalog(lang)
        for msgid, m in messages.items():
            entry = cat.get(msgid)
            shown = msgid if isinstance(msgid, str) else msgid[0]
            if entry is None:
                out.append(f"{lang}: missing msgid {shown!r} ({m.where})")
            elif entry.fuzzy:
                out.append(f"{lang}: fuzzy (unreviewed guess) for {shown!r} ({m.where})")
            elif not (all(entry.string) if isinstance(entry.string, tuple | list) else entry.string):
                out.append(f"{lang}: empty translation for {shown!r} ({m.where})")
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["update"]:
        for lang, n in update_catalogs().items():
            print(f"{lang}: {n} new msgid(s) added with empty translations ({catalog_path(lang).relative_to(ROOT)})")
        return 0
    if args == ["check"]:
        found = problems()
        print("\n".join(found) or "Every catalog translates every msgid.")
        return 1 if found else 0
    print("usage: python -m analysis.i18n_catalogs update|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
