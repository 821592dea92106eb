"""Monolingual corpora: folders of plain, ``.gz`` or ``.zst`` text per language, streamed, never loaded whole.

Layout (``root`` is the folder given to ``corpus import --kind monolingual``)::

    root/eng_Latn/part-000.txt        a folder per language: every .txt, .gz, .zst file in it (and below it)
    root/eng_Latn/part-001.txt.zst
    root/hin_Deva.txt.gz              or one file per language, named by its code

A *unit* is one line (ending at ``\\n`` or ``\\r\\n``); blank lines are not units. Text is UTF-8 (a leading
byte-order mark is dropped); anything else is refused with the file and byte offset named.

Work is cut into *shards*: a plain file into byte ranges of ``shard_bytes`` (a line belongs to the range in which
it starts, so every line is in exactly one shard whatever the shard size), a compressed file into one shard (a
compressed stream cannot be entered in the middle). Reading a shard streams it in batches of about 1 MB of text.

Sampling keeps each line with probability ``sample``, decided by a fixed hash of (seed, file, byte offset of the
line), so the same lines are kept by every engine, in any shard layout, on every run::

    key  = first 8 bytes (little-endian) of sha256(f"{seed}:{file}")      file: path relative to root, with /
    keep = splitmix64(key XOR offset) < round(sample * 2**64)

Example:
    >>> corpus = scan_monolingual("/data/crawl", name="crawl", sample=0.1, seed=0)   # doctest: +SKIP
    >>> [text_stats(corpus.root, s, words_ok=True) for s in corpus.shards]            # doctest: +SKIP
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal

from ..errors import CorpusFormatError

if TYPE_CHECKING:
    from ..tokenizers.base import Tokenizer

__all__ = [
    "DEFAULT_SHARD_BYTES", "MonoCorpus", "MonoFile", "MonoLanguage", "Shard", "ShardText", "ShardTokens",
    "keep_line", "read_shard", "sample_key", "scan_monolingual", "splitmix64", "text_stats", "token_stats",
]

Compression = Literal["none", "gzip", "zstd"]
Normalization = Literal["none", "NFC", "NFKC"]

DEFAULT_SHARD_BYTES = 64 * 1024 * 1024
PROBE_BYTES = 64 * 1024  # text read per language at import, to detect its script and whether words can be counted
BATCH_BYTES = 1 << 20  # text handed to a tokenizer at once
_SUFFIXES: tuple[tuple[str, Compression], ...] = (
    (".txt.gz", "gzip"), (".txt.zst", "zstd"), (".gz", "gzip"), (".zst", "zstd"), (".txt", "none"),
)
_MASK = (1 << 64) - 1
_ISO639_3 = re.compile(r"[a-z]{3}")


@dataclass(frozen=True)
class MonoFile:
    lang: str
    path: str  # relative to the corpus root, with "/"
    compression: Compression
    size: int  # bytes on disk
    mtime_ns: int


@dataclass(frozen=True)
class Shard:
    """A piece of one file: the lines that start in ``[start, stop)`` (``stop`` None: to the end of the stream)."""

    index: int
    lang: str
    file: str
    compression: Compression
    start: int
    stop: int | None


@dataclass(frozen=True)
class MonoLanguage:
    code: str
    name: str
    script: str | None
    iso639_3: str | None
    direction: str
    words_ok: bool  # whether ICU word counts can be trusted for this language (analysis.words.segmenter_coverage)
    words_note: str


@dataclass
class MonoCorpus:
    """A scanned folder: languages, files and the shard plan (no text is held)."""

    name: str
    root: Path
    languages: dict[str, MonoLanguage]
    files: list[MonoFile]
    shards: list[Shard]
    sample: float | None = None
    seed: int = 0
    shard_bytes: int = DEFAULT_SHARD_BYTES
    probes: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def source(self) -> str:
        return f"monolingual:{self.root}"

    @property
    def sha256(self) -> str:
        """A fingerprint of the folder as scanned (every file's path, size and modification time) and of the
        sampling and shard settings. Hashing the content itself would mean reading it all at import."""
        h = hashlib.sha256(b"monolingual v1\x00")
        for f in sorted(self.files, key=lambda f: f.path):
            h.update(f"{f.lang}\x00{f.path}\x00{f.compression}\x00{f.size}\x00{f.mtime_ns}\x00".encode())
        h.update(f"{self.sample}\x00{self.seed}\x00{self.shard_bytes}".encode())
        return h.hexdigest()


@dataclass(frozen=True)
class ShardText:
    """Tokenizer-independent totals of one shard: lines kept, UTF-8 bytes, code points, ICU words (None: withheld)."""

    lines: int
    bytes: int
    chars: int
    words: int | None


@dataclass(frozen=True)
class ShardTokens:
    """One tokenizer's totals over one shard."""

    lines: int
    tokens: int
    unk: int
    byte_fallback: int


# ------------------------------------------------------------------ sampling


def splitmix64(x: int) -> int:
    """The SplitMix64 output function of ``x`` (64-bit): a fixed, well-mixed hash of an integer.

    >>> splitmix64(0), splitmix64(1)
    (16294208416658607535, 10451216379200822465)
    """
    z = (x + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def sample_key(seed: int, file: str) -> int:
    """The per-file key of the sampling hash: the first 8 bytes of sha256(f"{seed}:{file}"), little-endian."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{file}".encode()).digest()[:8], "little")


def keep_line(key: int, offset: int, sample: float | None) -> bool:
    """Whether the line starting at byte ``offset`` of the file with sampling key ``key`` is in the sample."""
    if sample is None or sample >= 1.0:
        return True
    return splitmix64(key ^ offset) < round(sample * 2**64)


# ------------------------------------------------------------------ scanning a folder


def _fail(path: Path, problem: str, fix: str) -> CorpusFormatError:
    return CorpusFormatError(f"{path}: {problem} {fix}", path=path, line=None)


def _compression(name: str) -> tuple[str, Compression] | None:
    """(name without its suffixes, compression) for an accepted file name, else None.

    >>> _compression("eng_Latn.txt.zst"), _compression("a.gz"), _compression("notes.md")
    (('eng_Latn', 'zstd'), ('a', 'gzip'), None)
    """
    for suffix, kind in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], kind
    return None


def _visible(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir() if not p.name.startswith(".")), key=lambda p: p.name)


def _language_files(root: Path) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    accepted = "plain text named *.txt, or compressed *.gz / *.zst"
    for entry in _visible(root):
        if entry.is_dir():
            files = sorted((p for p in entry.rglob("*") if p.is_file()
                            and not any(part.startswith(".") for part in p.relative_to(root).parts)),
                           key=lambda p: p.relative_to(root).as_posix())
            for p in files:
                if _compression(p.name) is None:
                    raise _fail(p, f"is not {accepted}.", "Rename it if it is such text, or move it out of the corpus "
                                "folder.")
            if not files:
                raise _fail(entry, "holds no text files.", f"Put the language's text in it ({accepted}), or remove it.")
            code = entry.name
        else:
            parsed = _compression(entry.name)
            if parsed is None:
                raise _fail(entry, f"is not {accepted}.", "Name a language's file <code>.txt, <code>.txt.gz or "
                            "<code>.txt.zst, or move other files out of the corpus folder.")
            code, files = parsed[0], [entry]
        if code in found:
            raise _fail(entry, f"is a second source for language {code!r}.",
                        "Keep one file or one folder per language.")
        found[code] = files
    if not found:
        raise _fail(root, "holds no language folders or files.",
                    "Put one folder (or one .txt/.gz/.zst file) per language in it, named by its code (eng_Latn).")
    return found


def _open(path: Path, compression: Compression) -> BinaryIO:
    """The decompressed byte stream of a corpus file."""
    if compression == "gzip":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    raw = open(path, "rb")  # returned to the caller, which closes it
    if compression == "zstd":
        import zstandard

        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw, closefd=True), 1 << 20)  # type: ignore[arg-type]
    return raw


def _probe(root: Path, files: list[MonoFile]) -> str:
    """The first ~64 KB of a language's text (whole lines), checked: UTF-8, no UTF-16/32, no NUL."""
    parts: list[str] = []
    size = 0
    for f in files:
        path = root / f.path
        try:
            with _open(path, f.compression) as stream:
                data = stream.read(PROBE_BYTES)
        except _read_errors() as e:
            raise _unreadable(path, e) from e
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise _fail(path, "is UTF-16 or UTF-32 (it starts with such a byte-order mark).",
                        "Convert it to UTF-8 (e.g. iconv -f UTF-16 -t UTF-8).")
        if len(data) == PROBE_BYTES and b"\n" in data:
            data = data[: data.rindex(b"\n") + 1]  # whole lines only
        text = _decode(data, path, 0, line_hint=True)
        if "\x00" in text:
            raise _fail(path, "contains a NUL character, which is not text.",
                        "This usually means UTF-16 without a byte-order mark, or a binary file: convert it to UTF-8.")
        parts.append(text.removeprefix("\ufeff"))
        size += len(data)
        if size >= PROBE_BYTES:
            break
    return "\n".join(parts)


def _read_errors() -> tuple[type[Exception], ...]:
    """What a broken file raises while it is read (gzip: OSError or EOFError; Zstandard: ZstdError)."""
    import zstandard

    return (OSError, EOFError, zstandard.ZstdError)


def _unreadable(path: Path, e: Exception) -> CorpusFormatError:
    return _fail(path, f"cannot be read ({type(e).__name__}: {e}).", "Check that the file is complete and in the "
                 "format its name says (.gz: gzip, .zst: Zstandard, .txt: plain text).")


def _decode(data: bytes, path: Path, offset: int, *, line_hint: bool = False) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        where = f"byte 0x{data[e.start]:02X} at offset {offset + e.start:,}"
        if line_hint:
            line = data.count(b"\n", 0, e.start) + 1
            where += f" (line {line})"
        raise CorpusFormatError(
            f"{path}: {where} is not valid UTF-8. Convert the file to UTF-8 (e.g. iconv -f <its encoding> -t UTF-8).",
            path=path, line=None) from e


def _plan(files: list[MonoFile], shard_bytes: int) -> list[Shard]:
    shards: list[Shard] = []
    for f in files:
        if f.compression != "none":
            shards.append(Shard(len(shards), f.lang, f.path, f.compression, 0, None))
            continue
        for start in range(0, max(f.size, 1), shard_bytes):
            shards.append(Shard(len(shards), f.lang, f.path, f.compression, start, min(start + shard_bytes, f.size)))
    return shards


def scan_monolingual(path: Path | str, *, name: str, sample: float | None = None, seed: int = 0,
                     shard_bytes: int = DEFAULT_SHARD_BYTES) -> MonoCorpus:
    """Scan a folder of monolingual text (see the module docstring): languages, files, shards; no text is kept.

    Each language's first ~64 KB of text is read to detect its script (from the code's ISO 15924 subtag where it has
    one, ``eng_Latn``) and whether ICU word counts can be trusted for it (:func:`analysis.words.segmenter_coverage`).

    Raises:
        CorpusFormatError: no such folder, no language files, a file of another kind, an empty file, a second
            source for one language, text that is not UTF-8 (in the part read here), a bad ``sample`` or
            ``shard_bytes``.
    """
    from ..words import segmenter_coverage
    from .imports import RTL_SCRIPTS, detect_script, script_from_code

    root = Path(path).expanduser().resolve()
    if not name.strip():
        raise _fail(root, "needs a corpus name.", "Pass one with --name.")
    if not root.exists():
        raise _fail(root, "does not exist.", "Check the path.")
    if not root.is_dir():
        raise _fail(root, "is a file, not a folder.", "Pass the folder that holds one folder or file per language.")
    if sample is not None and not 0.0 < sample <= 1.0:
        raise _fail(root, f"sample {sample} is not a fraction in (0, 1].", "Pass e.g. --sample 0.1 to keep 10% of lines.")
    if shard_bytes < 1024:
        raise _fail(root, f"shard size {shard_bytes} bytes is below 1 KiB.", "Use a larger shard size (default 64 MiB).")
    files: list[MonoFile] = []
    languages: dict[str, MonoLanguage] = {}
    probes: dict[str, str] = {}
    for code, paths in _language_files(root).items():
        lang_files = []
        for p in paths:
            st = p.stat()
            if st.st_size == 0:
                raise _fail(p, "is empty.", "Fill it with the language's text, or remove it.")
            compression = _compression(p.name)[1]  # type: ignore[index]
            lang_files.append(MonoFile(code, p.relative_to(root).as_posix(), compression, st.st_size, st.st_mtime_ns))
        probe = _probe(root, lang_files)
        if not probe.strip():
            raise _fail(root / lang_files[0].path, f"starts with {PROBE_BYTES // 1024} KiB of blank lines (or has "
                        f"only those): language {code!r} has no text to detect its script from.",
                        "Remove the blank lines at its start, or remove the language.")
        script = script_from_code(code) or detect_script(probe)
        iso = code.replace("-", "_").split("_")[0]
        iso = iso if _ISO639_3.fullmatch(iso) else None
        words_ok, why = segmenter_coverage(probe, script, lang=iso or code)
        languages[code] = MonoLanguage(code, code, script, iso, "rtl" if script in RTL_SCRIPTS else "ltr",
                                       words_ok, why)
        files += lang_files
        probes[code] = probe
    return MonoCorpus(name=name, root=root, languages=languages, files=files, shards=_plan(files, shard_bytes),
                      sample=None if sample is None or sample >= 1.0 else sample, seed=seed,
                      shard_bytes=shard_bytes, probes=probes)


def check_unchanged(root: Path, files: list[MonoFile]) -> None:
    """Refuse to count a folder whose files changed (size or modification time) since it was imported."""
    for f in files:
        path = root / f.path
        try:
            st = path.stat()
        except OSError as e:
            raise _fail(path, f"is gone or unreadable ({e.strerror or e}) since the corpus was imported.",
                        "Put it back, or import the folder again under the same name.") from e
        if (st.st_size, st.st_mtime_ns) != (f.size, f.mtime_ns):
            raise _fail(path, "changed since the corpus was imported (size or modification time differ).",
                        "Import the folder again under the same name (its counts are then redone).")


# ------------------------------------------------------------------ reading a shard


def _lines(root: Path, shard: Shard) -> Iterator[tuple[int, bytes]]:
    """(byte offset, raw line with its line ending) of every line that starts inside the shard."""
    path = root / shard.file
    with _open(path, shard.compression) as f:
        pos = 0
        if shard.start > 0:
            f.seek(shard.start - 1)
            pos = shard.start - 1 + len(f.readline())  # the rest of the line that started before this shard
        stop = shard.stop
        for line in f:
            if stop is not None and pos >= stop:
                break
            yield pos, line
            pos += len(line)


def read_shard(root: Path, shard: Shard, *, sample: float | None = None, seed: int = 0,
               normalization: Normalization = "none", batch_bytes: int = BATCH_BYTES) -> Iterator[list[str]]:
    """The shard's units (non-blank lines, without their line endings, sampled, normalized) in batches.

    Raises:
        CorpusFormatError: a line that is not UTF-8 or holds a NUL, with the file and byte offset.
    """
    key = sample_key(seed, shard.file)
    path = root / shard.file
    batch: list[str] = []
    size = 0
    lines = _lines(root, shard)
    while True:
        try:
            offset, raw = next(lines)
        except StopIteration:
            break
        except _read_errors() as e:
            raise _unreadable(path, e) from e
        if sample is not None and not keep_line(key, offset, sample):
            continue
        text = _decode(raw, path, offset)
        if offset == 0:
            text = text.removeprefix("\ufeff")
        text = text[:-1] if text.endswith("\n") else text
        text = text[:-1] if text.endswith("\r") else text
        if not text.strip():
            continue
        if "\x00" in text:
            raise CorpusFormatError(f"{path}: the line at byte offset {offset:,} contains a NUL character, which is "
                                    "not text. Convert the file to UTF-8 text, or remove the NUL characters.",
                                    path=path, line=None)
        if normalization != "none":
            text = unicodedata.normalize(normalization, text)
        batch.append(text)
        size += len(raw)
        if size >= batch_bytes:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def text_stats(root: Path, shard: Shard, *, words_ok: bool, sample: float | None = None, seed: int = 0,
               normalization: Normalization = "none") -> ShardText:
    """Lines, UTF-8 bytes, code points and ICU words (None where withheld) of one shard's units."""
    from ..words import words

    lines = n_bytes = chars = n_words = 0
    for batch in read_shard(root, shard, sample=sample, seed=seed, normalization=normalization):
        lines += len(batch)
        n_bytes += sum(len(t.encode("utf-8")) for t in batch)
        chars += sum(len(t) for t in batch)
        if words_ok:
            n_words += sum(len(words(t)) for t in batch)
    return ShardText(lines, n_bytes, chars, n_words if words_ok else None)


def token_stats(root: Path, shard: Shard, tokenizer_id: str, *, sample: float | None = None, seed: int = 0,
                normalization: Normalization = "none") -> ShardTokens:
    """One tokenizer's tokens, UNK and byte-fallback tokens over one shard's units, each unit encoded on its own."""
    from ..tokenizers import get_tokenizer

    tok = get_tokenizer(tokenizer_id)
    totals = batch_totals(tok)
    lines = tokens = unk = byte_fallback = 0
    for batch in read_shard(root, shard, sample=sample, seed=seed, normalization=normalization):
        n, u, b = totals(batch)
        lines += len(batch)
        tokens += n
        unk += u
        byte_fallback += b
    return ShardTokens(lines, tokens, unk, byte_fallback)


def batch_totals(tok: Tokenizer) -> Callable[[list[str]], tuple[int, int, int]]:
    """A function: texts -> (tokens, UNK tokens, byte-fallback tokens) over all of them, each text encoded on its own.

    Totals need token ids and their kinds, not the character spans that :meth:`Tokenizer.unit_stats` works out for
    the continued-words share: :meth:`Tokenizer.token_totals` takes the ids from the backend's own batch call
    (:meth:`~Tokenizer.ids_batch`) and the kinds from its id class table (:meth:`~Tokenizer.token_classes`), about
    twice as fast for tiktoken; the baselines go through ``unit_stats``. tests/test_monolingual.py checks both give
    equal totals for every catalogue tokenizer.
    """
    return tok.token_totals


def shard_input_bytes(shard: Shard, files: dict[str, MonoFile]) -> int:
    """Bytes on disk a shard covers (for progress: compressed shards count their compressed size)."""
    if shard.stop is None:
        return files[shard.file].size
    return shard.stop - shard.start

