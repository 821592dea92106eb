"""Shared, cached resources for the pages (the only place Streamlit caching lives)."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import streamlit as st

from analysis import AnalysisError, Tokenizer, get_tokenizer, load_catalogue
from analysis.i18n import gettext as _
from analysis.store import read
from analysis.store.schema import default_db_path
from analysis.store.snapshots import Snapshots, file_version

#: Session-state key the Tokenizer lab fills with the tokenizers a user trained in this session:
#: ``{label: "file:/path/to/tokenizer.json"}``. The Playground offers them beside the catalogue.
LAB_TOKENIZERS = "lab_tokenizers"
#: The diverse default selection the Playground, the Premium explorer and the import page start from.
DEFAULT_TOKENIZERS = ["o200k_base", "llama3", "gemma3", "qwen3", "mistral-tekken", "bert-uncased"]


@st.cache_resource(show_spinner="Loading tokenizer…")
def tokenizer(tokenizer_id: str) -> Tokenizer:
    """One loaded tokenizer per server process, shared by every session."""
    return get_tokenizer(tokenizer_id)


def catalogue_ids() -> list[str]:
    return load_catalogue().ids


def db_path() -> Path:
    return default_db_path()


@st.cache_resource(show_spinner=False)
def _snapshots() -> Snapshots:
    """One registry of read-only connections per server process, shared by every session."""
    return Snapshots(keep=2)


def store() -> duckdb.DuckDBPyConnection:
    """A cursor (one per call, so sessions and threads never share one) of the database version on disk now.

    A rebuilt database swapped in by rename is opened on the next call, without a restart; sessions still
    reading the previous version finish on it.

    Raises:
        StoreError: no database built yet, or an unreadable one (pages show it with :func:`show_error`).
    """
    return _snapshots().cursor(db_path())


def db_key() -> tuple[str, tuple[int, int, int, int]]:
    """The database file and its version: part of every cached query's key, so a swapped-in file is re-read."""
    path = db_path()
    return str(path), file_version(path) or (0, 0, 0, 0)


@st.cache_data(max_entries=256, show_spinner=False)
def _read(fn: str, key: tuple[str, tuple[int, int, int, int]], args: tuple, kwargs: tuple) -> object:
    return getattr(read, fn)(_snapshots().cursor(Path(key[0])), *args, **dict(kwargs))


def query(fn: str, *args: object, **kwargs: object) -> object:
    """``analysis.store.read.<fn>(cursor, *args)``, cached per database version (arguments must be hashable)."""
    return _read(fn, db_key(), args, tuple(sorted(kwargs.items())))


@st.cache_data(max_entries=256, show_spinner=False)
def _token_read(fn: str, key: tuple[str, tuple[int, int, int, int]], args: tuple) -> object:
    from analysis import token_page

    return getattr(token_page, fn)(_snapshots().cursor(Path(key[0])), *args)


def token_query(fn: str, *args: object) -> object:
    """``analysis.token_page.<fn>(cursor, *args)``, cached per database version (the token page's reads)."""
    return _token_read(fn, db_key(), args)


#: Files the app serves itself (Streamlit static serving: app/static/ at /app/static/), copied from the verified cache.
STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_FILES = {"maps/world_110m.json": "maps/world_110m.json"}  # cache path -> path under app/static/


@st.cache_resource(show_spinner=False)
def provide_static_files() -> list[str]:
    """Copy the verified map outline (and any other static file) into app/static/, atomically; once per process.

    Returns the problems (a missing asset): the map is then drawn without outlines, not broken.
    """
    from analysis.assets import atomic_write_bytes, require_asset, sha256_file

    problems = []
    files = load_catalogue().files
    for cache_path, rel in STATIC_FILES.items():
        try:
            src = require_asset(files[cache_path])
        except AnalysisError as e:
            problems.append(e.message)
            continue
        dest = STATIC_DIR / rel
        if not dest.is_file() or sha256_file(dest) != files[cache_path].sha256:
            atomic_write_bytes(dest, src.read_bytes())
    return problems


@st.cache_resource(show_spinner=False)
def sweep_leftovers() -> list[str]:
    """Once per server process: remove what killed builds and imports left (their pid is dead), e.g. a private
    database copy beside the database or an import's temporary folder."""
    from analysis.lifecycle import apply_memory_ceiling
    from analysis.lifecycle import sweep_leftovers as sweep

    apply_memory_ceiling()  # ATLAS_MEMORY_MAX, once per server process
    return [p.name for p in sweep(db=db_path())]


@st.cache_resource(show_spinner=False)
def workshop(name: str) -> tuple[object, dict[str, str]]:
    """A workshop preset and its texts, read once per process (raises WorkshopError for a bad name or file)."""
    from analysis.workshops import load_workshop

    w = load_workshop(name)
    return w, w.texts()


def show_error(e: Exception) -> None:
    """An AnalysisError as title + message, never a stack trace, and no path of the server (file names only)."""
    from analysis.redact import redact_message

    title = _(getattr(e, "title", None) or "Error")  # titles are in the catalogs; the library's messages stay English
    st.error(f"**{title}**\n\n{redact_message(getattr(e, 'message', str(e)))}")


def show_unexpected(e: BaseException) -> None:
    """Any other exception that reached a page's boundary: what happened and what to do, with no stack trace and
    no server path; the traceback goes to the server's log for whoever runs it."""
    from analysis.redact import redact_message

    logging.getLogger("token_atlas").error("Unexpected error on a page", exc_info=e)
    if isinstance(e, AnalysisError):
        show_error(e)
        return
    what = redact_message(str(e)).split(". ")[0].strip().rstrip(".")[:300]
    if isinstance(e, RecursionError):
        what = _("the input is nested too deeply to be read")
    elif isinstance(e, MemoryError):
        what = _("the request needed more memory than this server allows (ATLAS_MEMORY_MAX; see docs/deployment.md "
                 "to raise it on your own server)")
    st.error(_("**Something went wrong: {error}**\n\n{what}. Nothing was saved. Check what you entered (a smaller "
               "input, another file), reload the page and try again; if it happens again, report it with the steps "
               "that led here.").format(error=type(e).__name__, what=what or _("no details")))
