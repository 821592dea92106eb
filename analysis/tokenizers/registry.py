"""Name -> loaded tokenizer: catalogue ids, local files, Hugging Face repos. Lazy and lock-guarded.

Specs:
    ``o200k_base``                 a catalogue id (``python -m analysis tokenizers`` lists them)
    ``file:/path/tokenizer.json``  a local HF tokenizer.json, ``.tiktoken`` or SentencePiece ``.model``
    ``hf:org/name@revision``       a Hugging Face repo (tokenizer.json, else tokenizer.model)
    ``yours:NAME:KEY16``           a tokenizer a visitor added (analysis.user_tokenizers)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Collection
from pathlib import Path

from ..assets import require_asset
from ..catalogue import CatalogueEntry, load_catalogue
from ..config import env_bool
from ..errors import AssetError, UnknownTokenizerError
from ..user_tokenizer_store import resolve as resolve_added
from .backends import backend_for_file, get_backend
from .base import Tokenizer

_cache: dict[str, Tokenizer] = {}
_lock = threading.Lock()
_loading: dict[str, threading.Lock] = {}


def _from_entry(entry: CatalogueEntry) -> Tokenizer:
    files = {role: require_asset(f) for role, f in entry.files.items()}
    return get_backend(entry.backend).load_entry(entry, files)


def load_file(path: str | Path, *, tokenizer_id: str | None = None, base_encoding: str = "cl100k_base",
              pattern: str | None = None, name: str | None = None) -> Tokenizer:
    """Load a local ``tokenizer.json``, ``.tiktoken`` or SentencePiece ``.model`` file (the backend that reads it
    is told by the name's ending: :func:`~.backends.backend_for_file`).

    A ``.tiktoken`` file holds only ranks; its split pattern is ``pattern`` (a regex) if given, else that of the
    catalogue encoding ``base_encoding``, and it has no special tokens. ``name`` is the name shown (default: the
    file's).
    """
    p = Path(path).expanduser()
    tid = tokenizer_id or f"file:{p}"
    if not p.is_file():
        raise AssetError(f"No such file: {p}. Give the path of a tokenizer.json, .tiktoken or SentencePiece .model file.")
    backend = backend_for_file(p.name)
    if backend is None or backend.load_file is None:
        raise AssetError(f"Cannot tell the format of {p}: expected a name ending in .json, .tiktoken or .model.")
    if backend.needs_pattern and pattern is None:
        base = get_tokenizer(base_encoding)
        pattern = getattr(base, "split_pattern", None)
        if pattern is None:
            raise AssetError(f"base_encoding {base_encoding!r} is not a tiktoken encoding; use e.g. 'cl100k_base'.")
    return backend.load_file(p, tokenizer_id=tid, name=name or p.name, pattern=pattern)


def load_hub(repo: str, *, revision: str | None = None, tokenizer_id: str | None = None) -> Tokenizer:
    """Load ``tokenizer.json`` (else ``tokenizer.model``) of a Hugging Face repo.

    Uses the ``huggingface_hub`` cache and its settings: ``HF_TOKEN`` for gated repos,
    ``HF_HUB_OFFLINE=1`` to use only the local cache, ``revision`` to pin a commit or tag.
    Never runs repository code.
    """
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, LocalEntryNotFoundError

    tid = tokenizer_id or (f"hf:{repo}@{revision}" if revision else f"hf:{repo}")
    token = os.environ.get("HF_TOKEN") or None
    last: Exception | None = None
    for filename in ("tokenizer.json", "tokenizer.model"):
        try:
            path = hf_hub_download(repo, filename, revision=revision, token=token)
        except (EntryNotFoundError, LocalEntryNotFoundError) as e:
            last = e
            continue
        except (HfHubHTTPError, OSError, ValueError) as e:
            raise AssetError(
                f"Cannot download {filename} of {repo!r}{f' at {revision}' if revision else ''}: {e}. Check the repo id "
                "and revision; for a gated repo set HF_TOKEN; offline, pre-fill the hub cache and set HF_HUB_OFFLINE=1."
            ) from e
        return load_file(path, tokenizer_id=tid)
    offline = env_bool("HF_HUB_OFFLINE", False)  # the one boolean parser (analysis.config)
    hint = ("HF_HUB_OFFLINE is set, so only the local hub cache was searched: download the repo's tokenizer files "
            "into the cache on a connected machine (or unset HF_HUB_OFFLINE)" if offline else
            "check the repo id and revision; a repo without these files can be loaded from a local file with 'file:PATH'")
    raise AssetError(
        f"{repo!r}{f' at {revision}' if revision else ''} has neither tokenizer.json nor tokenizer.model "
        f"(or they are not in the local hub cache while offline): {last}. What to do: {hint}."
    )


def get_tokenizer(spec: str) -> Tokenizer:
    """The shared, loaded tokenizer for ``spec`` (a catalogue id, ``file:PATH`` or ``hf:REPO[@REV]``).

    Each tokenizer is loaded once per process; concurrent callers wait for the same load.

    Raises:
        UnknownTokenizerError: ``spec`` is none of the above; the message lists the catalogue ids.
        AssetError: the vocabulary is missing, corrupted or unreadable; the message says how to fix it.
    """
    with _lock:
        if spec in _cache:
            return _cache[spec]
        spec_lock = _loading.setdefault(spec, threading.Lock())
    with spec_lock:
        with _lock:
            if spec in _cache:
                return _cache[spec]
        if spec.startswith("file:"):
            tok = load_file(spec[len("file:"):], tokenizer_id=spec)
        elif spec.startswith("yours:"):
            added = resolve_added(spec)  # a tokenizer a visitor added (stored by content)
            tok = load_file(added.path, tokenizer_id=spec, pattern=added.pattern, name=added.name)
        elif spec.startswith("hf:"):
            repo, _, rev = spec[len("hf:"):].partition("@")
            if not repo or "/" not in repo:
                raise UnknownTokenizerError(f"{spec!r}: a Hugging Face spec looks like 'hf:ORG/NAME' or 'hf:ORG/NAME@REVISION'.")
            tok = load_hub(repo, revision=rev or None, tokenizer_id=spec)
        else:
            tok = _from_entry(load_catalogue().tokenizer(spec))
        with _lock:
            _cache[spec] = tok
        return tok


def available_ids() -> list[str]:
    """Catalogue ids, in catalogue order."""
    return load_catalogue().ids


def release_tokenizers(*, keep: Collection[str] = ()) -> list[str]:
    """Forget every loaded tokenizer but those in ``keep``; return the ids forgotten. A counting worker holds one
    tokenizer at a time this way, instead of every one it ever counted with (a large one is 100-300 MB).
    Callers that still hold a tokenizer object keep it working; a later ``get_tokenizer`` loads it again."""
    with _lock:
        gone = [spec for spec in _cache if spec not in keep]
        for spec in gone:
            del _cache[spec]
            _loading.pop(spec, None)
    return gone


def loaded_ids() -> list[str]:
    """Specs of the tokenizers this process has loaded so far, sorted (each loads on first use, never before).

    >>> clear_cache(); _ = get_tokenizer("utf8-bytes"); loaded_ids()
    ['utf8-bytes']
    """
    with _lock:
        return sorted(_cache)


def clear_cache() -> None:
    """Forget loaded tokenizers (tests use this)."""
    with _lock:
        _cache.clear()
        _loading.clear()
