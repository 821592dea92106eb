"""A parallel corpus uploaded through the dashboard: one TSV/JSONL file, or a .zip of a FLORES-200 / lines folder.

The bytes are written to a private temporary folder and read with the same readers as the CLI
(:func:`analysis.corpus.imports.read_corpus`), so every format rule and error message is the same. Archives
are unpacked defensively: no absolute paths, no ``..``, no links, bounded size and file count.

Example:
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     c = corpus_from_upload("tsv", "mine.tsv", b"eng\\tfra\\nhello\\tbonjour\\n", name="mine", workdir=tmp)
    >>> sorted(c.languages), c.unit_order
    (['eng', 'fra'], ['1'])
"""

from __future__ import annotations

import dataclasses
import io
import re
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from .. import config
from ..errors import CorpusFormatError
from ..i18n import N_
from .imports import CorpusKind, read_corpus
from .model import ParallelCorpus, Protocol

#: Limits for what a dashboard user may upload. The unpacked size is ``ATLAS_IMPORT_MAX_BYTES`` (default 200 MiB,
#: :mod:`analysis.config`), counted while unpacking; the readers then count lines, languages and texts.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_UNPACKED_BYTES = config.IMPORT_MAX_BYTES.default
MAX_FILES = 2000
_CHUNK = 1 << 20
#: What a damaged archive raises while a member is read: bad deflate data, a bad CRC or a truncated member, an
#: unsupported compression method, an encrypted member.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError)
FILE_KINDS = {"tsv": ".tsv", "jsonl": ".jsonl"}
FOLDER_KINDS = ("flores200", "lines")


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


def check_name(name: str, *, taken: tuple[str, ...] = ("udhr",)) -> str:
    """A corpus name for the store: 1-40 letters, digits, ``_.-``; not a built-in corpus, in any case.

    >>> check_name("flores-dev")
    'flores-dev'
    """
    if not _NAME.fullmatch(name):
        raise CorpusFormatError(N_("Corpus name {name!r} is not allowed: use 1-40 letters, digits, '_', '.' or '-', "
                                   "starting with a letter or digit."), path=Path(name[:60] or "(empty)"),
                                name=name[:60])
    builtin = existing_name(name, taken)
    if builtin is not None:
        raise CorpusFormatError(N_("{name!r} is the built-in corpus {builtin!r} (names are compared ignoring case); "
                                   "choose another name."), path=Path(name), name=name, builtin=builtin)
    return name


def existing_name(name: str, names: list[str] | tuple[str, ...]) -> str | None:
    """The name in ``names`` that ``name`` equals ignoring case, if any.

    >>> existing_name("UDHR", ["udhr", "mine"]), existing_name("other", ["udhr"])
    ('udhr', None)
    """
    return next((n for n in names if n.casefold() == name.casefold()), None)


def corpus_from_upload(kind: CorpusKind, filename: str, data: bytes, *, name: str, workdir: Path | str,
                       protocol: Protocol = "units") -> ParallelCorpus:
    """Read an uploaded corpus of ``kind`` from ``data`` (the file's bytes), using ``workdir`` for its files;
    ``protocol`` as in :func:`analysis.corpus.imports.read_corpus` (``petrov2023``: FLORES-200 only).

    Raises:
        CorpusFormatError: wrong file type for the kind, oversized or unsafe archive, or any reader error.
    """
    workdir = Path(workdir)
    where = Path(filename)
    if len(data) > MAX_UPLOAD_BYTES:
        raise CorpusFormatError(N_("{filename} is {size:.1f} MB; uploads are limited to {limit} MB. Import larger "
                                   "corpora with `python -m analysis corpus import`."), path=where, filename=filename,
                                size=len(data) / 2**20, limit=MAX_UPLOAD_BYTES // 2**20)
    if kind in FILE_KINDS:
        if not filename.lower().endswith(FILE_KINDS[kind]):
            raise CorpusFormatError(N_("A {kind} corpus is one {suffix} file; got {filename}."), path=where, kind=kind,
                                    suffix=FILE_KINDS[kind], filename=filename)
        path = workdir / f"upload{FILE_KINDS[kind]}"
        path.write_bytes(data)
        return _read(kind, path, name, where, protocol)
    if kind not in FOLDER_KINDS:
        raise CorpusFormatError(f"Unknown corpus kind {kind!r}. Choose one of: tsv, jsonl, flores200, lines.", path=where)
    if not filename.lower().endswith(".zip"):
        raise CorpusFormatError(N_("Upload a {kind} folder as one .zip archive of it; got {filename}."), path=where,
                                kind=kind, filename=filename)
    root = _unzip(data, workdir / "upload", where)
    return _read(kind, root, name, where, protocol)


def _read(kind: CorpusKind, path: Path, name: str, shown_as: Path, protocol: Protocol = "units") -> ParallelCorpus:
    try:
        corpus = read_corpus(kind, path, name=name, protocol=protocol)
    except CorpusFormatError as e:  # name the user's file, not our temporary copy
        message = e.message.replace(str(path), str(shown_as))
        raise CorpusFormatError(message, path=shown_as, line=e.line, title=e.title) from None
    # Provenance names the uploaded file, not the server's temporary folder.
    return dataclasses.replace(corpus, source=f"{kind}:{shown_as.name}")


def _unzip(data: bytes, dest: Path, where: Path) -> Path:
    """Unpack a zip safely into ``dest``; return the corpus folder (the archive's single top folder, if any).

    Sizes are counted while unpacking, never taken from the archive's headers, which may lie.
    """
    limit = config.IMPORT_MAX_BYTES.value()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except _ZIP_ERRORS as e:
        raise CorpusFormatError(N_("{where} is not a readable .zip archive ({why}). Make the archive again (e.g. zip "
                                   "-r corpus.zip corpus/) and upload it."), path=where, where=where,
                                why=str(e)) from None
    files = [m for m in members if not m.is_dir()]
    if len(files) > MAX_FILES:
        raise CorpusFormatError(N_("{where} holds {n} files; at most {most} are accepted."), path=where, where=where,
                                n=len(files), most=MAX_FILES)
    if sum(m.file_size for m in files) > limit:
        raise CorpusFormatError(config.IMPORT_MAX_BYTES.exceeded(f"{where} unpacks to more than {limit:,} bytes"),
                                path=where)
    dest.mkdir(parents=True)
    total = 0
    for m in files:
        rel = PurePosixPath(m.filename)
        if rel.is_absolute() or ".." in rel.parts or "\\" in m.filename:
            raise CorpusFormatError(f"{where} has an unsafe path {m.filename!r}; archives must hold relative paths "
                                    "inside the folder.", path=where)
        if stat.S_ISLNK(m.external_attr >> 16):
            raise CorpusFormatError(f"{where} holds a symbolic link ({m.filename}); links are not accepted.", path=where)
        if rel.name.startswith(".") or "__MACOSX" in rel.parts:
            continue  # Finder's resource forks and hidden files are not corpus files
        target = dest.joinpath(*rel.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        try:
            with archive.open(m) as src, open(target, "wb") as out:
                while chunk := src.read(_CHUNK):
                    written += len(chunk)
                    if total + written > limit:
                        raise CorpusFormatError(config.IMPORT_MAX_BYTES.exceeded(
                            f"{where} unpacks to more than {limit:,} bytes"), path=where)
                    out.write(chunk)
        except CorpusFormatError:
            raise
        except _ZIP_ERRORS as e:
            raise CorpusFormatError(f"{where}: {m.filename} cannot be unpacked ({e}); the archive is damaged or "
                                    "its header does not match its data. Make the archive again and upload it.",
                                    path=where) from None
        if written != m.file_size:  # a header that lies about the size
            raise CorpusFormatError(f"{where}: {m.filename} is not the size its header states. Make the archive "
                                    "again and upload it.", path=where)
        total += written
    entries = [p for p in dest.iterdir()]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else dest
