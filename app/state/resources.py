"""The resources the app's sessions share, loaded once per server process, and the results made from them (part of
the data layer, :mod:`app.state`): tokenizers, workshops, the files the app serves, the SQL console's connection and
its queries, vocabularies, the lab's training slots, visitors' counting jobs and chat templates.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd
import streamlit as st

from analysis import AnalysisError, Tokenizer, get_tokenizer, load_catalogue
from analysis.i18n import lazy_gettext

from .database import DbVersion, db_path, db_version

if TYPE_CHECKING:
    from analysis.chat import ChatRender
    from analysis.sql_console import QueryResult
    from analysis.vocab import Comparison, Vocabulary
    from analysis.workshops import Workshop

#: The diverse default selection the Playground, the Premium explorer and the import page start from.
DEFAULT_TOKENIZERS = ["o200k_base", "llama3", "gemma3", "qwen3", "mistral-tekken", "bert-uncased"]


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
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
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


