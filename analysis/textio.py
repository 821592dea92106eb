"""Text a user uploads: decoding (UTF-8, UTF-16/32 with a BOM) and picking the text out of tables and JSONL.

Nothing uploaded is executed or unpickled: files are decoded as text and parsed with ``csv`` and ``json`` only.

Example:
    >>> up = read_upload("notes.tsv", "lang\\ttext\\nen\\thello\\nfr\\tbonjour\\n".encode())
    >>> up.kind, up.fields
    ('table', ['lang', 'text'])
    >>> up.text("text")
    'hello\\nbonjour'
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Literal

from analysis.i18n import N_

from .errors import UploadError

#: Largest upload the library accepts (the server's `maxUploadSize` in .streamlit/config.toml is the same 5 MB).
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
TEXT_SUFFIXES = (".txt", ".md")
TABLE_SUFFIXES = (".csv", ".tsv")
JSONL_SUFFIXES = (".jsonl",)
SUFFIXES = TEXT_SUFFIXES + TABLE_SUFFIXES + JSONL_SUFFIXES

# Longest BOMs first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"), (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"),
)


@dataclass(frozen=True)
class Decoded:
    """Text decoded from bytes: which encoding, and how many characters were replaced by U+FFFD."""

    text: str
    encoding: str
    replaced: int = 0


def _position(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    return f"byte {offset} (line {line}): {data[offset:offset + 4].hex(' ')}"


def decode_bytes(data: bytes, *, name: str = "the file", errors: Literal["strict", "replace"] = "strict") -> Decoded:
    """Decode uploaded bytes: a BOM picks UTF-8/16/32, otherwise UTF-8; anything else is a clear error.

    >>> decode_bytes("hé".encode("utf-16"))
    Decoded(text='hé', encoding='utf-16-le', replaced=0)
    >>> decode_bytes(b"caf\\xe9", errors="replace")
    Decoded(text='caf�', encoding='utf-8', replaced=1)
    """
    encoding, body = "utf-8", data
    for bom, enc in _BOMS:
        if data.startswith(bom):
            encoding, body = enc, data[len(bom):]
            break
    if encoding == "utf-8" and b"\x00" in body:
        # Valid UTF-8 as bytes, but NULs mean UTF-16/32 without a byte-order mark (or a binary file): decoding it
        # as UTF-8 would tokenize text interleaved with NUL characters.
        zeros = body[:4096].count(0)
        if zeros * 3 >= len(body[:4096]):
            message = N_("{name} holds NUL bytes (first at byte {first}), so it is not UTF-8 text. It looks like "
                         "UTF-16 without a byte-order mark. Save it as UTF-8 (or UTF-16 with a byte-order mark) and "
                         "upload it again.")
        else:
            message = N_("{name} holds NUL bytes (first at byte {first}), so it is not UTF-8 text. Save it as UTF-8 "
                         "(or UTF-16 with a byte-order mark) and upload it again.")
        raise UploadError(message, title=N_("Not UTF-8 text"), name=name, first=body.index(0))
    try:
        return Decoded(body.decode(encoding), encoding)
    except UnicodeDecodeError as e:
        if errors == "replace":
            text = body.decode(encoding, errors="replace")
            return Decoded(text, encoding, text.count("\ufffd") - body.decode(encoding, "ignore").count("\ufffd"))
        start = e.start + (len(data) - len(body))
        raise UploadError(
            N_("{name} is not valid {encoding} at {position}. Save it as UTF-8 (or UTF-16 with a byte-order mark) "
               "and upload it again, or choose to decode it with replacement characters (U+FFFD)."),
            title=N_("Not UTF-8 text"), name=name, encoding=encoding.upper(), position=_position(data, start),
        ) from None


@dataclass(frozen=True)
class Upload:
    """An uploaded file, decoded: plain text, or a table / JSONL whose text field the user picks."""

    name: str
    kind: Literal["text", "table", "jsonl"]
    decoded: Decoded
    fields: list[str] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)

    def text(self, field_name: str | None = None) -> str:
        """The text to tokenize: the whole file, or one field of every row joined by newlines."""
        if self.kind == "text":
            return self.decoded.text
        if field_name not in self.fields:
            raise UploadError(N_("{name} has no field {field!r}; choose one of: {fields}."), name=self.name,
                              field=field_name, fields=", ".join(self.fields))
        return "\n".join(row[field_name] for row in self.rows if row.get(field_name))


def read_upload(name: str, data: bytes, *, errors: Literal["strict", "replace"] = "strict",
                max_bytes: int = MAX_UPLOAD_BYTES) -> Upload:
    """Decode and parse one uploaded file by its suffix (.txt .md .csv .tsv .jsonl).

    Raises:
        UploadError: unsupported type, empty or oversized file, undecodable bytes, malformed rows.
    """
    suffix = PurePath(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise UploadError(N_("{name}: files of type {suffix} are not supported. Upload one of: {suffixes}."),
                          title=N_("Unsupported file type"), name=name, suffix=suffix or "(none)",
                          suffixes=" ".join(SUFFIXES))
    if len(data) > max_bytes:
        raise UploadError(N_("{name} is {size:.1f} MB; the limit is {limit:.0f} MB. Upload a smaller part of it."),
                          title=N_("File too large"), name=name, size=len(data) / 2**20, limit=max_bytes / 2**20)
    decoded = decode_bytes(data, name=name, errors=errors)
    if not decoded.text.strip():
        raise UploadError(N_("{name} is empty (no text after decoding). Upload a file with some text in it."),
                          title=N_("Empty file"), name=name)
    if suffix in TEXT_SUFFIXES:
        return Upload(name, "text", decoded)
    if suffix in TABLE_SUFFIXES:
        return _table(name, decoded, delimiter="\t" if suffix == ".tsv" else ",")
    return _jsonl(name, decoded)


def _table(name: str, decoded: Decoded, *, delimiter: str) -> Upload:
    reader = csv.reader(io.StringIO(decoded.text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
        records = list(reader)
    except csv.Error as e:
        raise UploadError(N_("{name} line {line}: {why}. Check its quoting."), title=N_("Malformed table"), name=name,
                          line=reader.line_num, why=str(e)) from None
    header = [h.strip() for h in header]
    if len(set(header)) != len(header) or not all(header):
        raise UploadError(N_("{name}: the first line must name every column once (got {header})."),
                          title=N_("Malformed table"), name=name, header=str(header))
    rows = []
    for n, rec in enumerate(records, start=2):
        if not any(rec):
            continue
        if len(rec) != len(header):
            raise UploadError(N_("{name} line {line}: {got} fields, the header has {want}. Fix that line (a stray "
                                 "separator or quote)."), title=N_("Malformed table"), name=name, line=n,
                              got=len(rec), want=len(header))
        rows.append(dict(zip(header, rec, strict=True)))
    return Upload(name, "table", decoded, header, rows)


def _jsonl(name: str, decoded: Decoded) -> Upload:
    rows: list[dict[str, str]] = []
    fields: dict[str, None] = {}
    for n, line in enumerate(decoded.text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise UploadError(N_("{name} line {line}: not JSON ({why} at column {column}). Each line must be one "
                                 "JSON object."), title=N_("Malformed JSONL"), name=name, line=n, why=e.msg,
                              column=e.colno) from None
        except RecursionError:
            raise UploadError(N_('{name} line {line}: arrays or objects are nested too deeply to be read. Each line '
                                 'must be one flat JSON object such as {{"text": "..."}}.'),
                              title=N_("Malformed JSONL"), name=name, line=n) from None
        except ValueError as e:  # e.g. an integer of more than 4,300 digits
            raise UploadError(N_('{name} line {line}: cannot be read as JSON ({why}). Each line must be one JSON '
                                 'object such as {{"text": "..."}}, with the text as a string.'),
                              title=N_("Malformed JSONL"), name=name, line=n, why=str(e)[:120]) from None
        if not isinstance(obj, dict):
            raise UploadError(N_('{name} line {line}: a JSON {kind}, not an object. Each line must be one JSON '
                                 'object such as {{"text": "..."}}.'), title=N_("Malformed JSONL"), name=name,
                              line=n, kind=type(obj).__name__)
        row = {k: v for k, v in obj.items() if isinstance(v, str)}
        fields.update(dict.fromkeys(row))
        rows.append(row)
    if not fields:
        raise UploadError(N_("{name} has no string fields to tokenize."), title=N_("Malformed JSONL"), name=name)
    return Upload(name, "jsonl", decoded, list(fields), rows)
