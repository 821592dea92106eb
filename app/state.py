"""The app's data layer: every cached resource and read the pages use, and the only place Streamlit caching lives.

Pages call the typed functions here (``state.premiums(corpus, reference, tokenizers)``) and never ``st.cache_*``
themselves. Each read of the statistics database is a pair: a public function with the page's arguments, and a
private cached one that also takes :func:`db_version`, so that a rebuilt database swapped in by rename is read
afresh on the next call while the previous version's results age out of the cache. Reads that fail (no database,
an unknown corpus) raise :class:`analysis.AnalysisError` and are not cached; pages show it with :func:`show_error`.

Resources shared by every session of the server process (``st.cache_resource``): tokenizers, the registry of
read-only connections, vocabularies, the SQL console's connection, the lab's training slots. Results
(``st.cache_data``): everything else, each with the number of entries it kept before this module held them all.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from array import array
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import duckdb
import pandas as pd
import streamlit as st

from analysis import AnalysisError, Tokenizer, get_tokenizer, load_catalogue
from analysis.i18n import gettext as _
from analysis.i18n import lazy_gettext
from analysis.store import read
from analysis.store.schema import default_db_path
from analysis.store.snapshots import Snapshots, file_version
from app.keys import LAB_TOKENIZERS  # noqa: F401  (pages and tests have imported it from here)

if TYPE_CHECKING:
    from analysis.chat import ChatRender
    from analysis.glitch.published import Agreement
    from analysis.lab.data import LabLanguage
    from analysis.sql_console import QueryResult
    from analysis.token_page import Example, GlitchEvidence
    from analysis.vocab import Comparison, Vocabulary
    from analysis.workshops import Workshop

#: The diverse default selection the Playground, the Premium explorer and the import page start from.
DEFAULT_TOKENIZERS = ["o200k_base", "llama3", "gemma3", "qwen3", "mistral-tekken", "bert-uncased"]


# ================================================================== the database and its version


class DbVersion(NamedTuple):
    """The database file and the identity of the version now at that path (device, inode, mtime_ns, size; zeros
    when there is no file): part of every cached read's key, so that a swapped-in file is read afresh."""

    path: str
    version: tuple[int, int, int, int]


def db_path() -> Path:
    return default_db_path()


def db_version() -> DbVersion:
    """The database the app reads now (``ATLAS_DB`` or the default) and its version: the one cache key of every
    page's reads of it (the SQL console's connection and the lab's language lists included)."""
    path = db_path()
    return DbVersion(str(path), file_version(path) or (0, 0, 0, 0))


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


def _cursor(db: DbVersion) -> duckdb.DuckDBPyConnection:
    return _snapshots().cursor(Path(db.path))


# ================================================================== tokenizers, workshops, files served


@st.cache_resource(show_spinner=lazy_gettext("Loading tokenizer…"))
def tokenizer(tokenizer_id: str) -> Tokenizer:
    """One loaded tokenizer per server process, shared by every session."""
    return get_tokenizer(tokenizer_id)


def catalogue_ids() -> list[str]:
    return load_catalogue().ids


@st.cache_resource(show_spinner=False)
def workshop(name: str) -> tuple[Workshop, dict[str, str]]:
    """A workshop preset and its texts, read once per process (raises WorkshopError for a bad name or file)."""
    from analysis.workshops import load_workshop

    w = load_workshop(name)
    return w, w.texts()


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


# ================================================================== the store's reads (analysis.store.read)
# One cache per read, 256 results each, keyed by the database version and the arguments (which must be hashable:
# tuples, not lists).


@st.cache_data(max_entries=256, show_spinner=False)
def _meta(db: DbVersion) -> dict[str, str]:
    return read.meta(_cursor(db))


def meta() -> dict[str, str]:
    """The ``meta`` table (schema version, build time, counting policy, ...); raises StoreError without a database."""
    return _meta(db_version())


@st.cache_data(max_entries=256, show_spinner=False)
def _corpora(db: DbVersion) -> list[str]:
    return read.corpora(_cursor(db))


def corpora() -> list[str]:
    """The corpora in the database, by name."""
    return _corpora(db_version())


@st.cache_data(max_entries=256, show_spinner=False)
def _corpus_info(db: DbVersion, corpus: str) -> dict[str, object]:
    return read.corpus_info(_cursor(db), corpus)


def corpus_info(corpus: str) -> dict[str, object]:
    """A corpus's record: source, sha256, language and unit counts, normalization, import time."""
    return _corpus_info(db_version(), corpus)


@st.cache_data(max_entries=256, show_spinner=False)
def _corpus_protocol(db: DbVersion, corpus: str) -> str:
    return read.corpus_protocol(_cursor(db), corpus)


def corpus_protocol(corpus: str) -> str:
    """How the corpus's units were made: ``units`` or ``petrov2023``."""
    return _corpus_protocol(db_version(), corpus)


@st.cache_data(max_entries=256, show_spinner=False)
def _counted_tokenizers(db: DbVersion, corpus: str) -> list[str]:
    return read.counted_tokenizers(_cursor(db), corpus)


def counted_tokenizers(corpus: str) -> list[str]:
    """The tokenizers the corpus was counted with, by id."""
    return _counted_tokenizers(db_version(), corpus)


@st.cache_data(max_entries=256, show_spinner=False)
def _languages(db: DbVersion, corpus: str) -> pd.DataFrame:
    return read.languages(_cursor(db), corpus)


def languages(corpus: str) -> pd.DataFrame:
    """Every language of a corpus with its metadata (lang, name, script, codes, coordinates, complete)."""
    return _languages(db_version(), corpus)


@st.cache_data(max_entries=256, show_spinner=False)
def _unit_names(db: DbVersion, corpus: str) -> list[str]:
    return read.unit_names(_cursor(db), corpus)


def unit_names(corpus: str) -> list[str]:
    """The corpus's parallel units in their order."""
    return _unit_names(db_version(), corpus)


@st.cache_data(max_entries=256, show_spinner=False)
def _unit_text(db: DbVersion, corpus: str, lang: str, unit: str | None) -> str:
    return read.unit_text(_cursor(db), corpus, lang, unit)


def unit_text(corpus: str, lang: str, unit: str | None) -> str:
    """One unit's text, or (``unit=None``) every unit of the language joined by blank lines."""
    return _unit_text(db_version(), corpus, lang, unit)


@st.cache_data(max_entries=256, show_spinner=False)
def _premiums(db: DbVersion, corpus: str, reference: str, tokenizers: tuple[str, ...]) -> pd.DataFrame:
    return read.premiums(_cursor(db), corpus, reference, tokenizers)


def premiums(corpus: str, reference: str, tokenizers: tuple[str, ...]) -> pd.DataFrame:
    """One row per (tokenizer, language): the premium against ``reference`` with its 95% bootstrap CI."""
    return _premiums(db_version(), corpus, reference, tokenizers)


@st.cache_data(max_entries=256, show_spinner=False)
def _unit_ratios(db: DbVersion, corpus: str, lang: str, reference: str, tokenizers: tuple[str, ...]) -> pd.DataFrame:
    return read.unit_ratios(_cursor(db), corpus, lang, reference, tokenizers)


def unit_ratios(corpus: str, lang: str, reference: str, tokenizers: tuple[str, ...]) -> pd.DataFrame:
    """Per parallel unit: tokens of ``lang`` over tokens of ``reference``."""
    return _unit_ratios(db_version(), corpus, lang, reference, tokenizers)


@st.cache_data(max_entries=256, show_spinner=False)
def _lang_stats(db: DbVersion, corpus: str, tokenizers: tuple[str, ...]) -> pd.DataFrame:
    return read.lang_stats(_cursor(db), corpus, tokenizers)


def lang_stats(corpus: str, tokenizers: tuple[str, ...]) -> pd.DataFrame:
    """Compression, fertility, UNK and byte-fallback rates per (tokenizer, language)."""
    return _lang_stats(db_version(), corpus, tokenizers)


@st.cache_data(max_entries=256, show_spinner=False)
def _fairness(db: DbVersion, corpus: str, reference: str, tokenizers: tuple[str, ...],
              complete_only: bool) -> pd.DataFrame:
    return read.fairness(_cursor(db), corpus, reference, tokenizers, complete_only=complete_only)


def fairness(corpus: str, reference: str, tokenizers: tuple[str, ...], *, complete_only: bool) -> pd.DataFrame:
    """Per tokenizer: mean and worst premium, the worst language and the Gini over a stated language set."""
    return _fairness(db_version(), corpus, reference, tokenizers, complete_only)


@st.cache_data(max_entries=256, show_spinner=False)
def _published_vs_ours(db: DbVersion, corpus: str, tokenizers: tuple[str, ...]) -> pd.DataFrame:
    return read.published_vs_ours(_cursor(db), corpus, tokenizers)


def published_vs_ours(corpus: str, tokenizers: tuple[str, ...]) -> pd.DataFrame:
    """Petrov et al.'s published premiums beside ours (a corpus imported with the petrov2023 protocol)."""
    return _published_vs_ours(db_version(), corpus, tokenizers)


# ================================================================== the token page's reads (analysis.token_page)


@st.cache_data(max_entries=256, show_spinner=False)
def _glitch_evidence(db: DbVersion, tokenizer_id: str, token_id: int) -> GlitchEvidence:
    from analysis import token_page

    return token_page.glitch_evidence(_cursor(db), tokenizer_id, token_id)


def glitch_evidence(tokenizer_id: str, token_id: int) -> GlitchEvidence:
    """A token's glitch-check categories and who verified it as under-trained."""
    return _glitch_evidence(db_version(), tokenizer_id, token_id)


@st.cache_data(max_entries=256, show_spinner=False)
def _frequency_by_language(db: DbVersion, tokenizer_id: str, token_id: int) -> pd.DataFrame:
    from analysis import token_page

    return token_page.frequency_by_language(_cursor(db), tokenizer_id, token_id)


def frequency_by_language(tokenizer_id: str, token_id: int) -> pd.DataFrame:
    """A token's occurrences per corpus and language (corpus, lang, name, n, share)."""
    return _frequency_by_language(db_version(), tokenizer_id, token_id)


@st.cache_data(max_entries=256, show_spinner=False)
def _example_units(db: DbVersion, tokenizer_id: str, token_id: int) -> list[Example]:
    from analysis import token_page

    return token_page.example_units(_cursor(db), tokenizer_id, token_id)


def example_units(tokenizer_id: str, token_id: int) -> list[Example]:
    """Up to three UDHR units where the token occurs."""
    return _example_units(db_version(), tokenizer_id, token_id)


# ================================================================== the Glitch tokens page's reads (analysis.glitch)


@st.cache_data(show_spinner=False, max_entries=64)
def _glitch_counts(db: DbVersion) -> pd.DataFrame:
    from analysis.glitch import store as gstore

    return gstore.category_counts(_cursor(db))


def glitch_counts() -> pd.DataFrame:
    """Per scanned tokenizer: how many ids fall in each check category."""
    return _glitch_counts(db_version())


@st.cache_data(show_spinner=False, max_entries=64)
def _glitch_scans(db: DbVersion) -> pd.DataFrame:
    from analysis.glitch import store as gstore

    return gstore.scanned_tokenizers(_cursor(db))


def glitch_scans() -> pd.DataFrame:
    """One row per scanned tokenizer, with why a baseline was not scanned (``note``)."""
    return _glitch_scans(db_version())


@st.cache_data(show_spinner=False, max_entries=64)
def _glitch_scripts(db: DbVersion, tokenizer_id: str) -> list[tuple[str, int]]:
    from analysis.glitch import store as gstore

    return gstore.scripts_of(_cursor(db), tokenizer_id)


def glitch_scripts(tokenizer_id: str) -> list[tuple[str, int]]:
    """The script classes of a tokenizer's ids with their counts, most common first."""
    return _glitch_scripts(db_version(), tokenizer_id)


@st.cache_data(show_spinner=False, max_entries=64)
def _glitch_tokens(db: DbVersion, tokenizer_id: str, categories: tuple[str, ...], script: str | None, search: str,
                   max_total: int | None) -> pd.DataFrame:
    from analysis.glitch import store as gstore

    return gstore.token_table(_cursor(db), tokenizer_id, categories=categories, script=script, search=search or None,
                              max_total=max_total)


def glitch_tokens(tokenizer_id: str, *, categories: tuple[str, ...], script: str | None, search: str,
                  max_total: int | None) -> pd.DataFrame:
    """A tokenizer's ids in all of ``categories``, of ``script``, containing ``search`` ("" for any), occurring at
    most ``max_total`` times (None for any)."""
    return _glitch_tokens(db_version(), tokenizer_id, categories, script, search, max_total)


@st.cache_data(show_spinner=False, max_entries=16)
def _published_models(db: DbVersion) -> pd.DataFrame:
    from analysis.glitch import published as gpub

    return gpub.published_models(_cursor(db))


def published_models() -> pd.DataFrame:
    """One row per published under-trained-token report, with how many of its rows matched our vocabulary."""
    return _published_models(db_version())


@st.cache_data(show_spinner=False, max_entries=64)
def _published_tokens(db: DbVersion, model: str, search: str, verified_only: bool) -> pd.DataFrame:
    from analysis.glitch import published as gpub

    return gpub.published_tokens(_cursor(db), model, search=search or None, verified_only=verified_only)


def published_tokens(model: str, *, search: str, verified_only: bool) -> pd.DataFrame:
    """A published report's rows, with our check of each ("" searches for nothing in particular)."""
    return _published_tokens(db_version(), model, search, verified_only)


@st.cache_data(show_spinner=False, max_entries=64)
def _published_summary(db: DbVersion, model: str) -> dict[str, int]:
    from analysis.glitch import published as gpub

    return gpub.category_summary(_cursor(db), model)


def published_summary(model: str) -> dict[str, int]:
    """A report's matching rows by our tokenizer-check categories."""
    return _published_summary(db_version(), model)


@st.cache_data(show_spinner=False, max_entries=64)
def _published_agreement(db: DbVersion, published_model: str, our_model: str) -> Agreement:
    from analysis.glitch import published as gpub

    return gpub.agreement(_cursor(db), published_model, our_model)


def published_agreement(published_model: str, our_model: str) -> Agreement:
    """A published report against our indicators and verdicts for a model of the same vocabulary."""
    return _published_agreement(db_version(), published_model, our_model)


@st.cache_data(show_spinner=False, max_entries=16)
def _scanned_models(db: DbVersion) -> pd.DataFrame:
    from analysis.glitch import store as gstore

    return gstore.models(_cursor(db))


def scanned_models() -> pd.DataFrame:
    """One row per model with stored weight indicators."""
    return _scanned_models(db_version())


@st.cache_data(show_spinner=False, max_entries=16)
def _model_indicators(db: DbVersion, model: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    from analysis.glitch import store as gstore

    con = _cursor(db)
    return gstore.model_scores(con, model), gstore.model_candidates(con, model)


def model_indicators(model: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A scanned model's scores (every row, for the histogram) and its candidates with their verdicts."""
    return _model_indicators(db_version(), model)


# ================================================================== the SQL console (analysis.sql_console)


@st.cache_resource(show_spinner=lazy_gettext("Opening the statistics database…"), max_entries=2)
def _console(db: DbVersion) -> duckdb.DuckDBPyConnection:
    """The console's own locked, read-only connection, one per database file version (a rebuild is a new one)."""
    from analysis.sql_console import open_console

    return open_console(Path(db.path))


@st.cache_data(show_spinner=False, max_entries=8)
def _console_schema(db: DbVersion) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    from analysis.sql_console import schema_columns, schema_tables

    cur = _console(db).cursor()
    try:
        tables = schema_tables(cur)
        return tables, {name: schema_columns(cur, name) for name in tables["name"]}
    finally:
        cur.close()


def console_schema() -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The tables and views the console offers, and each one's columns."""
    return _console_schema(db_version())


@st.cache_data(show_spinner=lazy_gettext("Running the query…"), max_entries=64, ttl=600)
def _console_run(db: DbVersion, sql: str, max_rows: int) -> QueryResult:
    from analysis.sql_console import DEFAULT_TIMEOUT_S, run_query

    return run_query(_console(db), sql, max_rows=max_rows, timeout_s=DEFAULT_TIMEOUT_S)


def console_run(sql: str, *, max_rows: int) -> QueryResult:
    """One reading statement's result, cached per database version, query and row cap; errors are not cached."""
    return _console_run(db_version(), sql, max_rows)


# ================================================================== vocabularies (analysis.vocab)

#: (label, spec) per chosen tokenizer: the label names it on the page; the spec loads it (an id, or file:PATH).
Chosen = tuple[tuple[str, str], ...]


@st.cache_resource(show_spinner=False, max_entries=24)
def vocabulary(label: str, spec: str) -> Vocabulary:
    """One vocabulary per tokenizer and server process, shared by every session; ``label`` names it on the page
    (a catalogue id, or the name of a tokenizer trained in the lab, whose ``spec`` is ``file:PATH``)."""
    import dataclasses

    from analysis.vocab import load_vocabulary

    return dataclasses.replace(load_vocabulary(tokenizer(spec)), tokenizer=label)


@st.cache_resource(show_spinner=False, max_entries=8)
def vocab_comparison(chosen: Chosen) -> Comparison:
    """The chosen vocabularies compared: overlaps and the tokens only one of them has."""
    from analysis.vocab import Comparison

    return Comparison([vocabulary(*c) for c in chosen])


@st.cache_data(show_spinner=False, max_entries=32)
def vocab_sizes_and_scripts(chosen: Chosen) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The size table and the script shares of the chosen vocabularies."""
    from analysis.vocab import script_shares, size_table

    vocabs = [vocabulary(*c) for c in chosen]
    return size_table(vocabs), script_shares(vocabs)


@st.cache_data(show_spinner=False, max_entries=32)
def vocab_lengths(chosen: Chosen, cap: int) -> pd.DataFrame:
    """Token lengths of the chosen vocabularies (lengths above ``cap`` in one bucket)."""
    from analysis.vocab import length_histogram

    return length_histogram([vocabulary(*c) for c in chosen], cap=cap)


# ================================================================== the Tokenizer lab


@st.cache_resource
def lab_training_slots() -> threading.BoundedSemaphore:
    """Trainings that may run at once in this server process (the lab's other sessions wait for a slot)."""
    from analysis.lab.workspace import MAX_CONCURRENT

    return threading.BoundedSemaphore(MAX_CONCURRENT)


@st.cache_data(show_spinner=False)
def _lab_languages(db: DbVersion, corpus: str) -> list[LabLanguage]:
    from analysis.lab.data import corpus_languages

    return corpus_languages(corpus, db=Path(db.path))


def lab_languages(corpus: str) -> list[LabLanguage]:
    """The languages the lab can train on in ``corpus``."""
    return _lab_languages(db_version(), corpus)


# ================================================================== visitors' tokenizers and chat templates


@st.cache_data(max_entries=64, show_spinner=False)
def yours_premiums(out: str, tokenizer_id: str, reference: str) -> pd.DataFrame:
    """A finished counting job's premiums (``out``: its output folder) against ``reference``."""
    from analysis.user_counts import premiums as counted_premiums

    return counted_premiums(Path(out), tokenizer_id, reference=reference)


@st.cache_data(max_entries=256, show_spinner=False)
def chat_render(tokenizer_id: str, messages: tuple[tuple[str, str], ...], add_generation_prompt: bool) -> ChatRender:
    """``messages`` ((role, content) pairs) through the tokenizer's own chat template, tokenized."""
    from analysis.chat import Message, render_chat

    return render_chat(tokenizer_id, [Message(r, c) for r, c in messages],  # type: ignore[arg-type]
                       add_generation_prompt=add_generation_prompt)


@st.cache_data(show_spinner=False)
def chat_format_name(tokenizer_id: str) -> str:
    """The name of the tokenizer's chat format, or "no known chat template"."""
    from analysis.chat import chat_format

    found = chat_format(tokenizer_id)
    return found[1] if found else "no known chat template"


# ================================================================== errors on a page


def show_error(e: Exception) -> None:
    """An AnalysisError as title + message, never a stack trace, and no path of the server (file names only)."""
    from analysis.redact import redact_message

    title = _(getattr(e, "title", None) or "Error")
    message = e.translated() if isinstance(e, AnalysisError) else str(e)  # in the interface language
    st.error(f"**{title}**\n\n{redact_message(message)}")


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


# ================================================================== the Playground's glitch flags


@st.cache_data(max_entries=64, show_spinner=False)
def _token_flags(db: DbVersion, tokenizer_id: str, ids_key: str, categories: tuple[str, ...],
                 _ids: tuple[int, ...]) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    from analysis.glitch import UNDER_TRAINED_VERIFIED, flags_for, verifications_for

    con = _cursor(db)
    found = flags_for(con, tokenizer_id, _ids, categories=categories)
    verified = verifications_for(con, tokenizer_id, list(found)) if UNDER_TRAINED_VERIFIED in categories else {}
    return found, verified


def token_flags(tokenizer_id: str, ids: Iterable[int], categories: Sequence[str]
                ) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """The glitch-check categories of these token ids (``flags_for``) and who verified the flagged ones as
    under-trained (``verifications_for``): cached per database version, tokenizer, set of ids and categories, so a
    rerun of the same text (every other widget of the Playground) reads nothing. The ids are keyed by a digest
    (hashing a long tuple element by element would cost what the cache saves)."""
    distinct = tuple(sorted({int(i) for i in ids}))
    key = hashlib.blake2b(array("q", distinct).tobytes(), digest_size=16).hexdigest()
    return _token_flags(db_version(), tokenizer_id, key, tuple(categories), distinct)
