"""Readers for parallel corpora that users bring: FLORES-200 folders, folders of line-aligned files, TSV, JSONL.

Every reader is pure: it reads files and returns a :class:`ParallelCorpus`; it writes nothing (the store
does the one atomic write). Bad input raises :class:`CorpusFormatError` naming the file, the 1-based line
where there is one, and what to do.

Rules every format shares:

- Encoding: UTF-8, strictly, with or without a leading byte-order mark; UTF-16 with a byte-order mark is
  accepted too. Anything else (Latin-1, UTF-16 without a BOM, UTF-32) is refused with the line of the first
  bad byte and a request to convert the file to UTF-8.
- Lines end at ``\\n`` or ``\\r\\n``, as ``wc -l`` counts them; the newline that ends the last line does not
  start another. Other Unicode line breaks (U+2028, U+0085, a lone ``\\r``) stay inside the text.
- A text is kept exactly as given (no stripping, no Unicode normalization). A text that is empty or only
  whitespace means *this unit is absent for this language*: no :class:`Unit` is made for it, and the
  language is marked incomplete. A unit that no language has is left out of ``unit_order``.
- A NUL character in a text is refused (it usually means UTF-16 without a BOM, or a binary file).
- Files larger than ``max_bytes`` (default 500 MB) are refused before they are read.
- What one import may cost is capped, counted while reading (:mod:`analysis.config`): the bytes and the lines of
  all its files together (``ATLAS_IMPORT_MAX_BYTES``, ``ATLAS_IMPORT_MAX_LINES``; a reader called on its own,
  not through :func:`read_corpus`, counts each file alone), its languages (``ATLAS_IMPORT_MAX_LANGUAGES``) and
  its texts (``ATLAS_IMPORT_MAX_UNITS``); the message names the setting and how to raise it.
- An entry named like a corpus file that is not a regular file (a folder, a FIFO, a device) is refused.
- Empty files and folders with no corpus files are refused, and so are a TSV or JSONL file with only
  blank lines and a language whose line-aligned file(s) hold only blank lines.

Languages keep the order of their source (sorted by code for folders, column order for TSV, first
appearance for JSONL); units are listed language by language, each in ``unit_order``. A language's script
is the ISO 15924 subtag of its code where the code has one (``eng_Latn``, ``sr-Cyrl``), else the dominant
script of its text (when :mod:`analysis.scripts` is available), else ``None``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from contextvars import ContextVar
from pathlib import Path
from typing import Literal

from .. import config
from ..errors import CorpusFormatError
from .model import PROTOCOLS, Language, ParallelCorpus, Protocol, Unit, mark_complete

__all__ = [
    "DEFAULT_MAX_BYTES",
    "PETROV2023_UNIT",
    "RTL_SCRIPTS",
    "CorpusKind",
    "detect_script",
    "petrov2023_text",
    "read_corpus",
    "read_flores200",
    "read_flores200_petrov2023",
    "read_jsonl",
    "read_lines",
    "read_tsv",
    "script_from_code",
]

CorpusKind = Literal["flores200", "lines", "tsv", "jsonl"]

DEFAULT_MAX_BYTES = 500_000_000  # 500 MB per file
FLORES_SPLITS = ("dev", "devtest")

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
_SCRIPT_SUBTAG = re.compile(r"[A-Za-z]{4}")
_ISO639_3 = re.compile(r"[a-z]{3}")
#: Scripts written right to left (ISO 15924); a language in one of them gets direction "rtl".
RTL_SCRIPTS = frozenset({"Adlm", "Arab", "Aran", "Hebr", "Mand", "Nkoo", "Rohg", "Samr", "Syrc", "Thaa"})
_JSON_TYPES = {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}
_MAX_LISTED = 10
#: [bytes, lines] read so far by the import under way in this context (``read_corpus`` starts a tally; a reader
#: called on its own counts each file alone).
_TALLY: ContextVar[list[int] | None] = ContextVar("_TALLY", default=None)


def read_corpus(
    kind: CorpusKind, path: Path | str, *, name: str, max_bytes: int = DEFAULT_MAX_BYTES, protocol: Protocol = "units"
) -> ParallelCorpus:
    """Read a user's parallel corpus of the given ``kind`` (``flores200``, ``lines``, ``tsv`` or ``jsonl``).

    Args:
        kind: the layout of ``path``; see :func:`read_flores200`, :func:`read_lines`, :func:`read_tsv`,
            :func:`read_jsonl`.
        path: the folder (``flores200``, ``lines``) or file (``tsv``, ``jsonl``).
        name: the corpus name it will have in the store.
        max_bytes: refuse any single file larger than this.
        protocol: ``units`` (default: one unit per sentence, line or row) or, for ``flores200`` only,
            ``petrov2023`` (one unit per language, see :func:`read_flores200_petrov2023`).

    Raises:
        CorpusFormatError: an unknown kind or protocol, an empty name, or any bad input (see the module docstring).
    """
    if protocol not in PROTOCOLS:
        raise CorpusFormatError(f"Unknown protocol {protocol!r}. Choose one of: {', '.join(PROTOCOLS)}.",
                                path=Path(path), line=None)
    if protocol == "petrov2023":
        if kind != "flores200":
            raise CorpusFormatError(
                f"The petrov2023 protocol reads FLORES-200 folders only, not {kind!r} corpora. Choose --kind flores200, "
                "or leave out --protocol.", path=Path(path), line=None)
        if not name.strip():
            raise CorpusFormatError("The corpus needs a non-empty name; pass one with --name.", path=Path(path),
                                    line=None)
        return read_flores200_petrov2023(path, name=name, max_bytes=max_bytes)
    readers = {"flores200": read_flores200, "lines": read_lines, "tsv": read_tsv, "jsonl": read_jsonl}
    path = Path(path)
    if kind not in readers:
        raise CorpusFormatError(
            f"Unknown corpus kind {kind!r}. Choose one of: {', '.join(readers)}.", path=path, line=None
        )
    if not name.strip():
        raise CorpusFormatError("The corpus needs a non-empty name; pass one with --name.", path=path, line=None)
    token = _TALLY.set([0, 0])
    try:
        return readers[kind](path, name=name, max_bytes=max_bytes)
    finally:
        _TALLY.reset(token)


def read_flores200(
    path: Path | str, *, name: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> ParallelCorpus:
    """Read a FLORES-200 folder in its original layout: ``dev/<code>.dev`` and ``devtest/<code>.devtest``.

    Files are line-aligned across languages; the language code is the file stem (``eng_Latn``). Units are
    ``"dev:1"`` ... ``"dev:N"`` then ``"devtest:1"`` ... (1-based line numbers). Either split folder may be
    absent, but a split that is present must have a file for every language. A file of blank lines is
    allowed (the language lacks that split) as long as the language has text in the other split.
    ``iso639_3`` is the part of the code before ``_``; ``name`` defaults to the folder name.

    Raises:
        CorpusFormatError: no ``dev/`` or ``devtest/`` folder, a split folder with no files, a language
            missing from one split, files of one split with different line counts, or bad file content.
    """
    path = Path(path)
    _require_dir(path)
    splits = [s for s in FLORES_SPLITS if (path / s).is_dir()]
    if not splits:
        nested = [c for c in _children(path) if c.is_dir() and any((c / s).is_dir() for s in FLORES_SPLITS)]
        hint = f" This folder has one inside: {nested[0]}." if nested else ""
        raise _fail(
            path, None, "has neither a dev/ nor a devtest/ folder, so it is not a FLORES-200 folder.",
            f"Point the import at the folder that holds dev/<code>.dev and devtest/<code>.devtest.{hint}",
        )
    files: dict[str, dict[str, Path]] = {}
    for split in splits:
        folder = path / split
        found = _corpus_files(folder, f".{split}")
        if not found:
            raise _fail(folder, None, f"has no <code>.{split} files.",
                        f"Put one file per language in it (e.g. eng_Latn.{split}), or remove the empty folder.")
        files[split] = found
    codes = sorted(set().union(*(set(f) for f in files.values())))
    _check_languages(path, len(codes))
    missing = [path / s / f"{c}.{s}" for s in splits for c in codes if c not in files[s]]
    if missing:
        raise _fail(
            missing[0], None, f"{len(missing)} file(s) are missing: {_listing(missing)}.",
            "A split folder that is present needs a file for every language: add the missing files, "
            "or remove those languages' files from the other split.",
        )
    lines: dict[str, list[str]] = {c: [] for c in codes}
    order: list[str] = []
    for split in splits:
        split_lines = {c: _read_lines(files[split][c], max_bytes=max_bytes) for c in codes}
        _check_aligned({files[split][c]: split_lines[c] for c in codes})
        for c in codes:
            lines[c] += split_lines[c]
        order += [f"{split}:{i}" for i in range(1, len(split_lines[codes[0]]) + 1)]
    for c in codes:
        others = f", and so has its {splits[1]} file" if len(splits) > 1 else ""
        _require_text(files[splits[0]][c], lines[c], problem=f"has only blank lines{others}: {c} has no text.")
    _check_units(path, sum(1 for c in codes for text in lines[c] if text.strip()))
    units = [Unit(c, uid, text) for c in codes for uid, text in zip(order, lines[c], strict=True) if text.strip()]
    return _build(name or path.resolve().name, f"flores200:{path.resolve()}", codes, units, order, flores=True)


def read_lines(path: Path | str, *, name: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> ParallelCorpus:
    """Read a folder of line-aligned ``<code>.txt`` files (one per language); units are ``"1"`` ... ``"N"``.

    Other files in the folder (a README, hidden files) are ignored; ``name`` defaults to the folder name.

    Raises:
        CorpusFormatError: no ``.txt`` files, files with different line counts, or bad file content.
    """
    path = Path(path)
    _require_dir(path)
    found = _corpus_files(path, ".txt")
    if not found:
        others = [p.name for p in _children(path)]
        seen = f" It holds: {_listing(others)}." if others else " It is empty."
        raise _fail(path, None, f"has no <code>.txt files.{seen}",
                    "Put one UTF-8 file per language in it, named by language code (eng.txt, fra.txt), "
                    "with one unit per line.")
    codes = sorted(found)
    _check_languages(path, len(codes))
    lines = {c: _read_lines(found[c], max_bytes=max_bytes) for c in codes}
    _check_aligned({found[c]: lines[c] for c in codes})
    for c in codes:
        _require_text(found[c], lines[c])
    order = [str(i) for i in range(1, len(lines[codes[0]]) + 1)]
    _check_units(path, sum(1 for c in codes for text in lines[c] if text.strip()))
    units = [Unit(c, uid, text) for c in codes for uid, text in zip(order, lines[c], strict=True) if text.strip()]
    return _build(name or path.resolve().name, f"lines:{path.resolve()}", codes, units, order)


def read_tsv(path: Path | str, *, name: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> ParallelCorpus:
    """Read a tab-separated file: a header row of language codes, then one row per unit.

    An optional first column headed exactly ``id`` gives the unit ids (stripped, non-empty, unique);
    without it units are numbered by data row, ``"1"`` ... ``"N"`` (the header is not counted). An empty
    or blank cell means the unit is absent for that language. There is no quoting: a cell runs from one
    tab to the next, so texts cannot contain tabs or newlines, and quote characters are part of the text.
    Empty lines at the end of the file are ignored. Note that a first column headed ``id`` is always the
    id column, so name an Indonesian column ``ind`` or put it elsewhere. ``name`` defaults to the file stem.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d, "greetings.tsv")
    ...     _ = p.write_text("id\\teng\\tfra\\nhi\\tHello\\tBonjour\\nbye\\tBye\\t\\n", encoding="utf-8")
    ...     c = read_tsv(p)
    >>> c.name, c.unit_order, c.texts("fra"), c.languages["fra"].complete
    ('greetings', ['hi', 'bye'], {'hi': 'Bonjour'}, False)

    Raises:
        CorpusFormatError: no language columns, an empty or repeated column name, a row with the wrong
            number of cells, an empty or repeated id, no data rows, a column with no text, bad content.
    """
    path = Path(path)
    lines = _read_lines(path, max_bytes=max_bytes)
    _require_text(path, lines)
    while lines[-1] == "":
        lines.pop()
    header = [h.strip() for h in lines[0].split("\t")]
    has_id = header[0] == "id"
    codes = header[1:] if has_id else header
    first = 2 if has_id else 1  # column number of the first language, for messages
    _check_languages(path, len(codes))
    if not codes:
        raise _fail(path, 1, "has an id column but no language columns.",
                    "Add one column per language, headed by its code (id<TAB>eng<TAB>fra).")
    seen_at: dict[str, int] = {}
    for col, code in enumerate(codes, start=first):
        if not code:
            raise _fail(path, 1, f"header column {col} is empty.",
                        "Head every column with a language code (or 'id' for the first).")
        if code in seen_at:
            raise _fail(path, 1, f"language {code!r} heads both column {seen_at[code]} and column {col}.",
                        "Each language may have one column only: merge or rename them.")
        seen_at[code] = col
    if len(lines) == 1:
        raise _fail(path, 1, "has a header row but no data rows.", "Add one row per unit below the header.")
    units: list[Unit] = []
    order: list[str] = []
    id_line: dict[str, int] = {}
    max_units = config.IMPORT_MAX_UNITS.value()
    for lineno, row in enumerate(lines[1:], start=2):
        cells = row.split("\t")
        if len(cells) != len(header):
            quoted = ' Cells look quoted: export without quoting (TSV has none).' if '"' in row else ""
            raise _fail(path, lineno, f"has {len(cells)} cells but the header has {len(header)} columns.",
                        "Every row needs one cell per column, separated by tabs (an empty cell marks a "
                        f"missing text); a text cannot contain a tab or a line break.{quoted}")
        uid = cells[0].strip() if has_id else str(lineno - 1)
        if not uid:
            raise _fail(path, lineno, "has an empty id.", "Give every row a unique id in the first column.")
        if uid in id_line:
            raise _fail(path, lineno, f"repeats the id {uid!r} of line {id_line[uid]}.",
                        "Ids must be unique: one row per unit.")
        id_line[uid] = lineno
        order.append(uid)
        units += [Unit(c, uid, t) for c, t in zip(codes, cells[first - 1:], strict=True) if t.strip()]
        if len(units) > max_units:
            _check_units(path, len(units))
    have = {u.lang for u in units}
    for col, code in enumerate(codes, start=first):
        if code not in have:
            raise _fail(path, 1, f"column {col} ({code!r}) has no text in any row.",
                        "Fill the column or remove it.")
    return _build(name or path.stem, f"tsv:{path.resolve()}", codes, units, order)


def read_jsonl(path: Path | str, *, name: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> ParallelCorpus:
    """Read JSON Lines: one object per line with string fields ``id``, ``lang`` and ``text``.

    ``id`` and ``lang`` are stripped and must be non-empty; an (id, lang) pair may occur once. Other fields
    are ignored, as are blank lines. An empty or blank ``text`` means the unit is absent for that language.
    Languages and units keep the order of their first appearance; ``name`` defaults to the file stem.

    Raises:
        CorpusFormatError: invalid JSON, a line that is not an object, a missing field, a field that is not
            a string, an empty id or lang, a repeated (id, lang), no records, a language with no text.
    """
    path = Path(path)
    lines = _read_lines(path, max_bytes=max_bytes)
    _require_text(path, lines)
    example = 'e.g. {"id": "1", "lang": "eng", "text": "Hello."}'
    units: list[Unit] = []
    order: dict[str, None] = {}
    lang_line: dict[str, int] = {}
    seen: dict[tuple[str, str], int] = {}
    max_units = config.IMPORT_MAX_UNITS.value()
    for lineno, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as e:
            raise _fail(path, lineno, f"is not valid JSON: {e.msg} (column {e.colno}).",
                        f"Write one complete JSON object per line, {example}; a record cannot span lines.") from e
        except RecursionError:
            raise _fail(path, lineno, "nests JSON arrays or objects too deeply to be read.",
                        f"Write one flat JSON object per line, {example}.") from None
        except ValueError as e:  # e.g. an integer of more than 4,300 digits
            raise _fail(path, lineno, f"cannot be read as JSON ({str(e)[:120]}).",
                        f"Write one JSON object per line with string fields, {example}.") from None
        if not isinstance(obj, dict):
            raise _fail(path, lineno, f"is a JSON {_json_type(obj)}, not an object.",
                        f"Write one JSON object per line, {example}.")
        absent = [k for k in ("id", "lang", "text") if k not in obj]
        if absent:
            raise _fail(path, lineno, f"is missing the field(s) {', '.join(map(repr, absent))}.",
                        f"Every record needs id, lang and text, {example}.")
        for key in ("id", "lang", "text"):
            value = obj[key]
            if not isinstance(value, str):
                raise _fail(path, lineno, f"field {key!r} is a {_json_type(value)} ({json.dumps(value)[:40]}), "
                            "not a string.", f'Write it as a JSON string, e.g. "{key}": "1".')
            _check_text(path, lineno, value, what=f"field {key!r}")
        uid, lang = obj["id"].strip(), obj["lang"].strip()
        for key, value in (("id", uid), ("lang", lang)):
            if not value:
                raise _fail(path, lineno, f"field {key!r} is empty.", f"Give every record a non-empty {key}.")
        if (uid, lang) in seen:
            raise _fail(path, lineno, f"repeats id {uid!r} for lang {lang!r}, first given on line {seen[uid, lang]}.",
                        "Keep one record per (id, lang): remove or renumber the duplicate.")
        seen[uid, lang] = lineno
        if lang not in lang_line:
            _check_languages(path, len(lang_line) + 1)
            lang_line[lang] = lineno
        order.setdefault(uid)
        if obj["text"].strip():
            units.append(Unit(lang, uid, obj["text"]))
            if len(units) > max_units:
                _check_units(path, len(units))
    have = {u.lang for u in units}
    for lang, lineno in lang_line.items():
        if lang not in have:
            raise _fail(path, lineno, f"language {lang!r} has only empty texts.",
                        "Give it some text, or remove its records.")
    return _build(name or path.stem, f"jsonl:{path.resolve()}", list(lang_line), units, list(order))


#: The one unit of each language in a corpus read with the petrov2023 protocol.
PETROV2023_UNIT = "dev+devtest"


def petrov2023_text(dev: str, devtest: str) -> str:
    """One language's string as Petrov et al. (2023) tokenized it, from the text of its two FLORES-200 files.

    Their code reads each file in Python's text mode (so ``\\r\\n`` and a lone ``\\r`` become ``\\n``), splits it
    at ``\\n`` and joins the lines of ``dev`` and then ``devtest`` with single spaces. A file that ends with a
    newline leaves one empty string at the end of its split, hence a double space between the splits and a trailing
    space. Nothing is stripped or normalized.

    >>> petrov2023_text("A b.\\nC\\n", "d é\\n")
    'A b. C  d é '
    >>> petrov2023_text("x\\r\\ny", "z")
    'x y z'
    """
    def lines(text: str) -> list[str]:
        return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")

    return " ".join(lines(dev) + lines(devtest))


def read_flores200_petrov2023(
    path: Path | str, *, name: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> ParallelCorpus:
    """Read a FLORES-200 folder with the protocol of Petrov et al. (2023): one unit per language.

    The folder is checked exactly as :func:`read_flores200` checks it (both splits must be present here); each
    language then gets one unit, ``"dev+devtest"``, holding :func:`petrov2023_text` of its ``dev`` and ``devtest``
    files as their code read them: UTF-8, a leading byte-order mark kept as U+FEFF (Python's ``open`` keeps it).
    The corpus records ``protocol="petrov2023"``.

    Raises:
        CorpusFormatError: anything :func:`read_flores200` refuses, a folder without both ``dev/`` and
            ``devtest/``, or a UTF-16 file (their code reads UTF-8 only).
    """
    path = Path(path)
    sentences = read_flores200(path, name=name, max_bytes=max_bytes)
    absent = [s for s in FLORES_SPLITS if not (path / s).is_dir()]
    if absent:
        raise _fail(path / absent[0], None, "is missing: the petrov2023 protocol joins the dev and devtest files.",
                    "Import the full FLORES-200 folder (both dev/ and devtest/), or import this one without "
                    "--protocol petrov2023 (one unit per sentence).")
    units = []
    for code in sentences.languages:
        texts = []
        for split in FLORES_SPLITS:
            file = path / split / f"{code}.{split}"
            data = _read_bytes(file, max_bytes=max_bytes)
            if data.startswith(_UTF16_BOMS):
                raise _fail(file, None, "is UTF-16; the petrov2023 protocol reads files as UTF-8, as their code did.",
                            "Convert the file to UTF-8 (e.g. iconv -f UTF-16 -t UTF-8).")
            texts.append(data.decode("utf-8"))  # valid: read_flores200 decoded it already
        units.append(Unit(code, PETROV2023_UNIT, petrov2023_text(*texts)))
    languages = mark_complete(sentences.languages.values(), units, [PETROV2023_UNIT])
    return ParallelCorpus(name=sentences.name, source=sentences.source, languages=languages, units=units,
                          unit_order=[PETROV2023_UNIT], protocol="petrov2023")


# --- shared helpers -------------------------------------------------------------------------------------


def _fail(path: Path, line: int | None, problem: str, fix: str) -> CorpusFormatError:
    """The error for ``problem`` at ``path`` (and ``line``), its message ending with what to do."""
    where = f"{path}, line {line}" if line is not None else str(path)
    return CorpusFormatError(f"{where}: {problem} {fix}".rstrip(), path=path, line=line)


def _listing(items: list[Path] | list[str]) -> str:
    """A comma-separated list, cut after ten items.

    >>> _listing([str(i) for i in range(12)])
    '0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 2 more'
    """
    names = [str(i) for i in items]
    more = f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else ""
    return ", ".join(names[:_MAX_LISTED]) + more


def _children(folder: Path) -> list[Path]:
    """The entries of ``folder``, sorted by name, hidden ones (``.DS_Store``, ``._eng.txt``) left out."""
    return sorted((p for p in folder.iterdir() if not p.name.startswith(".")), key=lambda p: p.name)


def _corpus_files(folder: Path, suffix: str) -> dict[str, Path]:
    """code -> file for the entries of ``folder`` named ``<code><suffix>``; one that is not a regular file (a
    folder, a FIFO, a device) is refused rather than skipped, so that no language goes missing in silence."""
    found = {}
    for p in _children(folder):
        if p.suffix != suffix:
            continue
        if not p.is_file():
            what = "a folder" if p.is_dir() else "not a regular file (a FIFO, socket or device)"
            raise _fail(p, None, f"is named like a corpus file but is {what}.",
                        f"Replace it with the language's text file, or rename or remove it (only {suffix} files "
                        "are read).")
        found[p.stem] = p
    return found


def _check_languages(path: Path, n: int) -> None:
    """Refuse a corpus with more languages than ``ATLAS_IMPORT_MAX_LANGUAGES`` (checked as they are found)."""
    if n > config.IMPORT_MAX_LANGUAGES.value():
        raise _fail(path, None, config.IMPORT_MAX_LANGUAGES.exceeded(f"it has {n:,} or more languages"), "")


def _check_units(path: Path, n: int) -> None:
    """Refuse a corpus with more texts (language × unit) than ``ATLAS_IMPORT_MAX_UNITS``."""
    if n > config.IMPORT_MAX_UNITS.value():
        raise _fail(path, None, config.IMPORT_MAX_UNITS.exceeded(f"it has {n:,} or more texts"), "")


def _require_dir(path: Path) -> None:
    if not path.exists():
        raise _fail(path, None, "does not exist.", "Check the path.")
    if not path.is_dir():
        raise _fail(path, None, "is a file, not a folder.",
                    "Pass the folder that holds the corpus files (or choose the tsv or jsonl kind for one file).")


def _read_bytes(path: Path, *, max_bytes: int) -> bytes:
    """The file's bytes; refuses missing files, folders, empty files and files over ``max_bytes``."""
    if not path.exists():
        raise _fail(path, None, "does not exist.", "Check the path.")
    if not path.is_file():
        raise _fail(path, None, "is not a file.", "Pass the corpus file itself.")
    over = f"over the limit of {max_bytes:,} bytes."
    fix = "Split the corpus into smaller files, or raise max_bytes if this machine has the memory for it."
    size = path.stat().st_size
    if size > max_bytes:
        raise _fail(path, None, f"is {size:,} bytes, {over}", fix)
    try:
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)  # bounded, in case the file grew since stat()
    except OSError as e:
        raise _fail(path, None, f"cannot be read ({e.strerror or e}).", "Check that the file is readable.") from e
    if len(data) > max_bytes:
        raise _fail(path, None, f"is {over}", fix)
    tally = _TALLY.get() or [0, 0]
    tally[0] += len(data)
    if tally[0] > config.IMPORT_MAX_BYTES.value():
        raise _fail(path, None, config.IMPORT_MAX_BYTES.exceeded(f"the corpus reaches {tally[0]:,} bytes with this "
                                                                  "file"), "")
    return data


def _decode(path: Path, data: bytes) -> str:
    """UTF-8 (a leading BOM dropped) or UTF-16 with a BOM; anything else names the line of the first bad byte.

    >>> _decode(Path("x"), "\\ufeffé".encode("utf-8")), _decode(Path("x"), "é".encode("utf-16"))
    ('é', 'é')
    """
    convert = "Convert the file to UTF-8 (e.g. iconv -f <its encoding> -t UTF-8, or 'Save as UTF-8' in an editor)."
    if data.startswith(_UTF32_BOMS):
        raise _fail(path, 1, "is UTF-32, which is not accepted.", convert)
    encoding = "utf-16" if data.startswith(_UTF16_BOMS) else "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data[: e.start].decode(encoding, errors="replace").count("\n") + 1
        label = "UTF-16" if encoding == "utf-16" else "UTF-8"
        raise _fail(path, line, f"byte 0x{data[e.start]:02X} (file offset {e.start}) is not valid {label}.",
                    convert) from e


def _split_lines(text: str) -> list[str]:
    """Lines ending at ``\\n`` or ``\\r\\n``; a final newline does not start another line.

    >>> _split_lines("a\\r\\nb\\n"), _split_lines("a\\n\\nc"), _split_lines("a\\u2028b\\rc\\n")
    (['a', 'b'], ['a', '', 'c'], ['a\\u2028b\\rc'])
    """
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def _check_text(path: Path, line: int, text: str, *, what: str = "line") -> None:
    if "\x00" in text:
        raise _fail(path, line, f"{what} contains a NUL character, which is not text.",
                    "This usually means a UTF-16 file without a byte-order mark, or a binary file: convert it to "
                    "UTF-8, or remove the NUL characters.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:  # only JSON escapes ("\ud800") can produce a lone surrogate
        raise _fail(path, line, f"{what} contains an unpaired surrogate (U+{ord(text[e.start]):04X}).",
                    "Fix the \\u escape: a character outside the BMP needs both halves of its surrogate pair.") from e


def _read_lines(path: Path, *, max_bytes: int) -> list[str]:
    """The lines of a corpus file, checked: decodable, not empty, no NUL (blank lines are allowed)."""
    text = _decode(path, _read_bytes(path, max_bytes=max_bytes))
    tally = _TALLY.get() or [0, 0]
    tally[1] += text.count("\n")  # counted before the text is split: a line is a Python string of its own
    if tally[1] > config.IMPORT_MAX_LINES.value():
        raise _fail(path, None, config.IMPORT_MAX_LINES.exceeded(f"the corpus reaches {tally[1]:,} lines with this "
                                                                  "file"), "")
    if not text:
        raise _fail(path, None, "is empty.", "Fill it with the corpus text, or remove it.")
    lines = _split_lines(text)
    for lineno, line in enumerate(lines, start=1):
        _check_text(path, lineno, line)
    return lines


def _require_text(path: Path, lines: list[str], *, problem: str = "has only blank lines.") -> None:
    """Refuse a file (or a language's files, ``path`` the first) whose lines are all blank."""
    if not any(line.strip() for line in lines):
        raise _fail(path, None, problem, "Fill it with the corpus text, or remove it.")


def _check_aligned(files: dict[Path, list[str]]) -> None:
    """Refuse line-aligned files whose line counts differ.

    The most common count is taken as right (ties: the first file's), so that the error names the odd file
    out; ``.line`` is the first line number that one of the two files has and the other lacks.
    """
    counts = {p: len(lines) for p, lines in files.items()}
    common = Counter(counts.values()).most_common(1)[0][0]
    ref = next(p for p, n in counts.items() if n == common)
    for p, n in counts.items():
        if n != common:
            raise _fail(
                p, min(n, common) + 1, f"has {n} lines but {ref} has {common}; line-aligned files must have the "
                "same number of lines.",
                "Line k must hold unit k in every language: find the missing or extra line (often a sentence "
                "split over two lines) and fix it. A unit missing in one language is a blank line, not no line.",
            )


def script_from_code(code: str) -> str | None:
    """The ISO 15924 subtag of a language code, title-cased, if it has one.

    >>> [script_from_code(c) for c in ("eng_Latn", "sr-cyrl", "eng", "en-US")]
    ['Latn', 'Cyrl', None, None]
    """
    parts = re.split(r"[_-]", code)
    if len(parts) > 1 and _SCRIPT_SUBTAG.fullmatch(parts[1]):
        return parts[1].title()
    return None


def detect_script(text: str) -> str | None:
    """The dominant script of ``text`` via :mod:`analysis.scripts`, or None where that module is absent."""
    try:
        from ..scripts import dominant_script
    except ModuleNotFoundError as e:
        if e.name != f"{__package__.rsplit('.', 1)[0]}.scripts":
            raise
        return None
    return dominant_script(text)


def _json_type(value: object) -> str:
    return "null" if value is None else _JSON_TYPES.get(type(value), type(value).__name__)


def _build(
    name: str, source: str, codes: list[str], units: list[Unit], order: list[str], *, flores: bool = False
) -> ParallelCorpus:
    """The corpus: languages with script, direction and ``complete``; units grouped by language, in order."""
    present = {u.unit for u in units}
    unit_order = [u for u in order if u in present]
    rank = {u: i for i, u in enumerate(unit_order)}
    lang_rank = {c: i for i, c in enumerate(codes)}
    units = sorted(units, key=lambda u: (lang_rank[u.lang], rank[u.unit]))
    texts: dict[str, list[str]] = {c: [] for c in codes}
    for u in units:
        texts[u.lang].append(u.text)
    languages = []
    for code in codes:
        script = script_from_code(code) or detect_script("\n".join(texts[code]))
        iso = code.split("_")[0] if flores else None
        languages.append(Language(
            code=code,
            name=code,
            script=script,
            iso639_3=iso if iso and _ISO639_3.fullmatch(iso) else None,
            direction="rtl" if script in RTL_SCRIPTS else "ltr",
        ))
    return ParallelCorpus(name=name, source=source, languages=mark_complete(languages, units, unit_order),
                          units=units, unit_order=unit_order)
