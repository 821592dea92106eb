"""One descriptor per tokenizer backend: everything the rest of the code knows about a backend, said once.

A :class:`Backend` names the backend as the catalogue writes it (``backend = "hf"``), the packages whose versions
say which library counted (stored with every count), its relative cost (the build starts dear backends first),
its counting time per byte relative to tiktoken (the local pool's scheduling), the file names it loads
(``file:PATH`` specs and visitors' uploads) and its loaders. The registry, the catalogue and the store read these
records; nothing else switches on backend names or classes.

Adding a backend: write its :class:`~analysis.tokenizers.base.Tokenizer` subclass in a module of this package, add
one :class:`Backend` to :data:`BACKENDS` below, and its name to ``catalogue.Backend`` (a test checks both agree).

Example:
    >>> BACKENDS["hf"].packages, BACKENDS["hf"].suffixes
    (('tokenizers',), ('.json',))
    >>> backend_for_file("tokenizer.model.v3").name, backend_for_file("notes.txt") is None
    ('sentencepiece', True)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..errors import AssetError, UnknownTokenizerError

if TYPE_CHECKING:
    from .base import Tokenizer

__all__ = ["BACKENDS", "Backend", "EntryLike", "backend_for_file", "get_backend", "library_version"]


class _Verified(Protocol):
    @property
    def sha256(self) -> str: ...


class EntryLike(Protocol):
    """What a loader reads of a catalogue entry (:class:`analysis.catalogue.CatalogueEntry` is one)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def add_bos(self) -> str | None: ...
    @property
    def add_eos(self) -> str | None: ...
    @property
    def files(self) -> Mapping[str, _Verified]: ...


#: Loads a catalogue entry from its verified files (role -> path, as the catalogue names them).
EntryLoader = Callable[[EntryLike, Mapping[str, Path]], "Tokenizer"]
#: Loads a local file: ``(path, tokenizer_id=, name=, pattern=)``; ``pattern`` is the split regex of a ranks-only file.
FileLoader = Callable[..., "Tokenizer"]


@dataclass(frozen=True)
class Backend:
    """Everything known about one tokenizer backend.

    Attributes:
        name: as the catalogue's ``backend`` field and :attr:`Tokenizer.backend` spell it.
        packages: the distributions whose installed versions :func:`library_version` reports (none: built in).
        cost: start order of a build's counting tasks, dearest (0) first, so long tasks do not start last.
        rate: counting time per byte relative to tiktoken's (1.0), measured on the UDHR: the local pool's estimate.
        suffixes: endings of the file names :attr:`load_file` reads, as ``fnmatch`` patterns after ``*``
            (``".model.*"`` matches Mistral's ``tokenizer.model.v3``).
        load_entry: builds the tokenizer of a catalogue entry from its verified files.
        load_file: builds a tokenizer from one local file, or None if this backend reads no single file.
        needs_pattern: a file holds ranks only; the caller supplies the split pattern.
        chat_format: the chat format whose conversations this backend's own library encodes (``"mistral"``:
            mistral-common's request encoders), or None: a chat template comes with the files, or none is known.
        threads: its counting runs in native code that releases the GIL (the encodes of a batch of texts), so that
            a build may count with threads of one process, sharing one loaded copy of the vocabulary, instead of
            worker processes (see :mod:`analysis.store.local_pool`).
    """

    name: str
    packages: tuple[str, ...]
    cost: int
    rate: float
    suffixes: tuple[str, ...]
    load_entry: EntryLoader
    load_file: FileLoader | None = None
    needs_pattern: bool = False
    chat_format: str | None = None
    threads: bool = False

    def reads(self, filename: str) -> bool:
        """Whether ``filename`` is one this backend's :attr:`load_file` reads (by its name alone).

        >>> BACKENDS["tiktoken"].reads("o200k_base.tiktoken"), BACKENDS["tiktoken"].reads("x.json")
        (True, False)
        """
        return self.load_file is not None and any(fnmatchcase(filename, "*" + s) for s in self.suffixes)


# ------------------------------------------------------------------ loaders (backend modules imported on first use)


def _tiktoken_entry(entry: EntryLike, files: Mapping[str, Path]) -> Tokenizer:
    from .tiktoken_backend import TiktokenTokenizer, load_encoding

    # tiktoken's own constructors ask for the ranks by this hash (see tiktoken_backend.official_definition).
    enc = load_encoding(entry.id, files["ranks"], ranks_sha256=entry.files["ranks"].sha256)
    return TiktokenTokenizer(entry.id, enc, name=entry.name)


def _tiktoken_file(path: Path, *, tokenizer_id: str, name: str, pattern: str | None) -> Tokenizer:
    from .tiktoken_backend import TiktokenFileTokenizer, read_tiktoken_ranks

    if pattern is None:
        raise AssetError(f"{path} holds ranks only: give its split pattern (a regex), or a base encoding to take it "
                         "from.")
    # Its tiktoken.Encoding is made on first use (a counting job never needs it); the same error if it forms none.
    return TiktokenFileTokenizer(tokenizer_id, read_tiktoken_ranks(path), pattern, path=path, name=name)


def _hf_entry(entry: EntryLike, files: Mapping[str, Path]) -> Tokenizer:
    from .hf_backend import HFTokenizersTokenizer, load_hf_file

    # The file is the catalogue's, checked against this sha256 (require_asset) before it got here.
    return HFTokenizersTokenizer(entry.id, load_hf_file(files["tokenizer"]), name=entry.name,
                                 add_bos=entry.add_bos, add_eos=entry.add_eos,
                                 file_sha256=entry.files["tokenizer"].sha256)


def _hf_file(path: Path, *, tokenizer_id: str, name: str, pattern: str | None) -> Tokenizer:
    from .hf_backend import HFTokenizersTokenizer, load_hf_file_hashed

    tok, sha = load_hf_file_hashed(path)  # the sha256 keys its tables in the asset cache
    return HFTokenizersTokenizer(tokenizer_id, tok, name=name, file_sha256=sha)


def _mistral_entry(entry: EntryLike, files: Mapping[str, Path]) -> Tokenizer:
    from .sentencepiece_backend import MistralTokenizer

    return MistralTokenizer(entry.id, files["model"], name=entry.name)


def _sentencepiece_entry(entry: EntryLike, files: Mapping[str, Path]) -> Tokenizer:
    return _sentencepiece_file(files["model"], tokenizer_id=entry.id, name=entry.name, pattern=None)


def _sentencepiece_file(path: Path, *, tokenizer_id: str, name: str, pattern: str | None) -> Tokenizer:
    from .sentencepiece_backend import SentencePieceTokenizer, load_sentencepiece_file

    return SentencePieceTokenizer(tokenizer_id, load_sentencepiece_file(path), name=name)


def _ai21_entry(entry: EntryLike, files: Mapping[str, Path]) -> Tokenizer:
    from .ai21_backend import Jurassic2Tokenizer

    return Jurassic2Tokenizer(entry.id, files["model"], files["config"], name=entry.name)


def _baseline_entry(entry: EntryLike, files: Mapping[str, Path]) -> Tokenizer:
    from .baselines import BASELINES

    if entry.id not in BASELINES:
        raise AssetError(f"No baseline named {entry.id!r}; known: {', '.join(BASELINES)}.")
    return BASELINES[entry.id](entry.id, name=entry.name)


#: Every backend, by name, in the catalogue's order of listing them.
BACKENDS: dict[str, Backend] = {b.name: b for b in (
    Backend("tiktoken", ("tiktoken",), cost=2, rate=1.0, suffixes=(".tiktoken",), load_entry=_tiktoken_entry,
            load_file=_tiktoken_file, needs_pattern=True, threads=True),
    Backend("hf", ("tokenizers",), cost=0, rate=1.6, suffixes=(".json",), load_entry=_hf_entry, load_file=_hf_file,
            threads=True),
    Backend("mistral", ("mistral-common",), cost=1, rate=1.2, suffixes=(), load_entry=_mistral_entry,
            chat_format="mistral"),
    Backend("sentencepiece", ("sentencepiece",), cost=1, rate=1.3, suffixes=(".model", ".model.*"),
            load_entry=_sentencepiece_entry, load_file=_sentencepiece_file),
    Backend("ai21", ("sentencepiece",), cost=0, rate=1.6, suffixes=(), load_entry=_ai21_entry),
    Backend("baseline", (), cost=3, rate=0.3, suffixes=(), load_entry=_baseline_entry),
)}


def get_backend(name: str) -> Backend:
    """The descriptor of backend ``name``.

    Raises:
        UnknownTokenizerError: no backend of that name; the message lists those there are.
    """
    try:
        return BACKENDS[name]
    except KeyError:
        raise UnknownTokenizerError(f"No tokenizer backend named {name!r}; known: {', '.join(BACKENDS)}. "
                                    "Fix the catalogue entry's backend field.") from None


def backend_for_file(filename: str) -> Backend | None:
    """The backend that loads a file of this name, or None if no backend reads it (the first match, in
    :data:`BACKENDS` order)."""
    return next((b for b in BACKENDS.values() if b.reads(filename)), None)


def library_version(backend: str) -> str:
    """Which library (and version) counts for ``backend``, as stored with every count: ``"tokenizers 0.23.3"``,
    or ``"built in"`` for the baselines.

    >>> library_version("baseline")
    'built in'
    """
    packages = get_backend(backend).packages if backend in BACKENDS else ()
    return ", ".join(f"{p} {metadata.version(p)}" for p in packages) if packages else "built in"
