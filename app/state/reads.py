"""The cached reads of the statistics database (part of the data layer, :mod:`app.state`).

Each read is a pair: a public function with the page's arguments, and a private cached one that also takes
:func:`~app.state.database.db_version`, so that a rebuilt database swapped in by rename is read afresh on the next
call while the previous version's results age out of the cache. Reads that fail (no database, an unknown corpus)
raise :class:`analysis.AnalysisError` and are not cached.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from analysis.store import read

from .database import DbVersion, cursor, db_version

if TYPE_CHECKING:
    from analysis.glitch.published import Agreement
    from analysis.lab.data import LabLanguage
    from analysis.token_page import Example, GlitchEvidence

# ================================================================== the store's reads (analysis.store.read)
# One cache per read, 256 results each, keyed by the database version and the arguments (which must be hashable:
# tuples, not lists).


@st.cache_data(max_entries=256, show_spinner=False)
def _meta(db: DbVersion) -> dict[str, str]:
    return read.meta(cursor(db))


def meta() -> dict[str, str]:
    """The ``meta`` table (schema version, build time, counting policy, ...); raises StoreError without a database."""
    return _meta(db_version())


@st.cache_data(max_entries=256, show_spinner=False)
def _corpora(db: DbVersion) -> list[str]:
    return read.corpora(cursor(db))


def corpora() -> list[str]:
    """The corpora in the database, by name."""
    return _corpora(db_version())


@st.cache_data(max_entries=256, show_spinner=False)
def _corpus_info(db: DbVersion, corpus: str) -> dict[str, object]:
    return read.corpus_info(cursor(db), corpus)


def corpus_info(corpus: str) -> dict[str, object]:
    """A corpus's record: source, sha256, language and unit counts, normalization, import time."""
    return _corpus_info(db_version(), corpus)


@st.cache_data(max_entries=256, show_spinner=False)
def _corpus_protocol(db: DbVersion, corpus: str) -> str:
    return read.corpus_protocol(cursor(db), corpus)


def corpus_protocol(corpus: str) -> str:
    """How the corpus's units were made: ``units`` or ``petrov2023``."""
    return _corpus_protocol(db_version(), corpus)


@st.cache_data(max_entries=256, show_spinner=False)
def _counted_tokenizers(db: DbVersion, corpus: str) -> list[str]:
    return read.counted_tokenizers(cursor(db), corpus)


def counted_tokenizers(corpus: str) -> list[str]:
    """The tokenizers the corpus was counted with, by id."""
    return _counted_tokenizers(db_version(), corpus)


@st.cache_data(max_entries=256, show_spinner=False)
def _languages(db: DbVersion, corpus: str) -> pd.DataFrame:
    return read.languages(cursor(db), corpus)


def languages(corpus: str) -> pd.DataFrame:
    """Every language of a corpus with its metadata (lang, name, script, codes, coordinates, complete)."""
    return _languages(db_version(), corpus)


@st.cache_data(max_entries=256, show_spinner=False)
def _unit_names(db: DbVersion, corpus: str) -> list[str]:
    return read.unit_names(cursor(db), corpus)


def unit_names(corpus: str) -> list[str]:
    """The corpus's parallel units in their order."""
    return _unit_names(db_version(), corpus)


@st.cache_data(max_entries=256, show_spinner=False)
def _unit_text(db: DbVersion, corpus: str, lang: str, unit: str | None) -> str:
    return read.unit_text(cursor(db), corpus, lang, unit)


def unit_text(corpus: str, lang: str, unit: str | None) -> str:
    """One unit's text, or (``unit=None``) every unit of the language joined by blank lines."""
    return _unit_text(db_version(), corpus, lang, unit)


@st.cache_data(max_entries=256, show_spinner=False)
def _premiums(db: DbVersion, corpus: str, reference: str, tokenizers: tuple[str, ...]) -> pd.DataFrame:
    return read.premiums(cursor(db), corpus, reference, tokenizers)


def premiums(corpus: str, reference: str, tokenizers: tuple[str, ...]) -> pd.DataFrame:
    """One row per (tokenizer, language): the premium against ``reference`` with its 95% bootstrap CI."""
    return _premiums(db_version(), corpus, reference, tokenizers)


@st.cache_data(max_entries=256, show_spinner=False)
def _unit_ratios(db: DbVersion, corpus: str, lang: str, reference: str, tokenizers: tuple[str, ...]) -> pd.DataFrame:
    return read.unit_ratios(cursor(db), corpus, lang, reference, tokenizers)


def unit_ratios(corpus: str, lang: str, reference: str, tokenizers: tuple[str, ...]) -> pd.DataFrame:
    """Per parallel unit: tokens of ``lang`` over tokens of ``reference``."""
    return _unit_ratios(db_version(), corpus, lang, reference, tokenizers)


@st.cache_data(max_entries=256, show_spinner=False)
def _lang_stats(db: DbVersion, corpus: str, tokenizers: tuple[str, ...]) -> pd.DataFrame:
    return read.lang_stats(cursor(db), corpus, tokenizers)


def lang_stats(corpus: str, tokenizers: tuple[str, ...]) -> pd.DataFrame:
    """Compression, fertility, UNK and byte-fallback rates per (tokenizer, language)."""
    return _lang_stats(db_version(), corpus, tokenizers)


@st.cache_data(max_entries=256, show_spinner=False)
def _fairness(db: DbVersion, corpus: str, reference: str, tokenizers: tuple[str, ...],
              complete_only: bool) -> pd.DataFrame:
    return read.fairness(cursor(db), corpus, reference, tokenizers, complete_only=complete_only)


def fairness(corpus: str, reference: str, tokenizers: tuple[str, ...], *, complete_only: bool) -> pd.DataFrame:
    """Per tokenizer: mean and worst premium, the worst language and the Gini over a stated language set."""
    return _fairness(db_version(), corpus, reference, tokenizers, complete_only)


@st.cache_data(max_entries=256, show_spinner=False)
def _published_vs_ours(db: DbVersion, corpus: str, tokenizers: tuple[str, ...]) -> pd.DataFrame:
    return read.published_vs_ours(cursor(db), corpus, tokenizers)


def published_vs_ours(corpus: str, tokenizers: tuple[str, ...]) -> pd.DataFrame:
    """Petrov et al.'s published premiums beside ours (a corpus imported with the petrov2023 protocol)."""
    return _published_vs_ours(db_version(), corpus, tokenizers)


# ================================================================== the token page's reads (analysis.token_page)


@st.cache_data(max_entries=256, show_spinner=False)
def _glitch_evidence(db: DbVersion, tokenizer_id: str, token_id: int) -> GlitchEvidence:
    from analysis import token_page

    return token_page.glitch_evidence(cursor(db), tokenizer_id, token_id)


def glitch_evidence(tokenizer_id: str, token_id: int) -> GlitchEvidence:
    """A token's glitch-check categories and who verified it as under-trained."""
    return _glitch_evidence(db_version(), tokenizer_id, token_id)


@st.cache_data(max_entries=256, show_spinner=False)
def _frequency_by_language(db: DbVersion, tokenizer_id: str, token_id: int) -> pd.DataFrame:
    from analysis import token_page

    return token_page.frequency_by_language(cursor(db), tokenizer_id, token_id)


def frequency_by_language(tokenizer_id: str, token_id: int) -> pd.DataFrame:
    """A token's occurrences per corpus and language (corpus, lang, name, n, share)."""
    return _frequency_by_language(db_version(), tokenizer_id, token_id)


@st.cache_data(max_entries=256, show_spinner=False)
def _example_units(db: DbVersion, tokenizer_id: str, token_id: int) -> list[Example]:
    from analysis import token_page

    return token_page.example_units(cursor(db), tokenizer_id, token_id)


def example_units(tokenizer_id: str, token_id: int) -> list[Example]:
    """Up to three UDHR units where the token occurs."""
    return _example_units(db_version(), tokenizer_id, token_id)


# ================================================================== the Glitch tokens page's reads (analysis.glitch)


@st.cache_data(show_spinner=False, max_entries=64)
def _glitch_counts(db: DbVersion) -> pd.DataFrame:
    from analysis.glitch import store as gstore

    return gstore.category_counts(cursor(db))


def glitch_counts() -> pd.DataFrame:
    """Per scanned tokenizer: how many ids fall in each check category."""
    return _glitch_counts(db_version())


@st.cache_data(show_spinner=False, max_entries=64)
def _glitch_scans(db: DbVersion) -> pd.DataFrame:
    from analysis.glitch import store as gstore

    return gstore.scanned_tokenizers(cursor(db))


def glitch_scans() -> pd.DataFrame:
    """One row per scanned tokenizer, with why a baseline was not scanned (``note``)."""
    return _glitch_scans(db_version())


@st.cache_data(show_spinner=False, max_entries=64)
def _glitch_scripts(db: DbVersion, tokenizer_id: str) -> list[tuple[str, int]]:
    from analysis.glitch import store as gstore

    return gstore.scripts_of(cursor(db), tokenizer_id)


def glitch_scripts(tokenizer_id: str) -> list[tuple[str, int]]:
    """The script classes of a tokenizer's ids with their counts, most common first."""
    return _glitch_scripts(db_version(), tokenizer_id)


@st.cache_data(show_spinner=False, max_entries=64)
def _glitch_tokens(db: DbVersion, tokenizer_id: str, categories: tuple[str, ...], script: str | None, search: str,
                   max_total: int | None) -> pd.DataFrame:
    from analysis.glitch import store as gstore

    return gstore.token_table(cursor(db), tokenizer_id, categories=categories, script=script, search=search or None,
                              max_total=max_total)


def glitch_tokens(tokenizer_id: str, *, categories: tuple[str, ...], script: str | None, search: str,
                  max_total: int | None) -> pd.DataFrame:
    """A tokenizer's ids in all of ``categories``, of ``script``, containing ``search`` ("" for any), occurring at
    most ``max_total`` times (None for any)."""
    return _glitch_tokens(db_version(), tokenizer_id, categories, script, search, max_total)


@st.cache_data(show_spinner=False, max_entries=16)
def _published_models(db: DbVersion) -> pd.DataFrame:
    from analysis.glitch import published as gpub

    return gpub.published_models(cursor(db))


def published_models() -> pd.DataFrame:
    """One row per published under-trained-token report, with how many of its rows matched our vocabulary."""
    return _published_models(db_version())


@st.cache_data(show_spinner=False, max_entries=64)
def _published_tokens(db: DbVersion, model: str, search: str, verified_only: bool) -> pd.DataFrame:
    from analysis.glitch import published as gpub

    return gpub.published_tokens(cursor(db), model, search=search or None, verified_only=verified_only)


def published_tokens(model: str, *, search: str, verified_only: bool) -> pd.DataFrame:
    """A published report's rows, with our check of each ("" searches for nothing in particular)."""
    return _published_tokens(db_version(), model, search, verified_only)


@st.cache_data(show_spinner=False, max_entries=64)
def _published_summary(db: DbVersion, model: str) -> dict[str, int]:
    from analysis.glitch import published as gpub

    return gpub.category_summary(cursor(db), model)


def published_summary(model: str) -> dict[str, int]:
    """A report's matching rows by our tokenizer-check categories."""
    return _published_summary(db_version(), model)


@st.cache_data(show_spinner=False, max_entries=64)
def _published_agreement(db: DbVersion, published_model: str, our_model: str) -> Agreement:
    from analysis.glitch import published as gpub

    return gpub.agreement(cursor(db), published_model, our_model)


def published_agreement(published_model: str, our_model: str) -> Agreement:
    """A published report against our indicators and verdicts for a model of the same vocabulary."""
    return _published_agreement(db_version(), published_model, our_model)


@st.cache_data(show_spinner=False, max_entries=16)
def _scanned_models(db: DbVersion) -> pd.DataFrame:
    from analysis.glitch import store as gstore

    return gstore.models(cursor(db))


def scanned_models() -> pd.DataFrame:
    """One row per model with stored weight indicators."""
    return _scanned_models(db_version())


@st.cache_data(show_spinner=False, max_entries=16)
def _model_indicators(db: DbVersion, model: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    from analysis.glitch import store as gstore

    con = cursor(db)
    return gstore.model_scores(con, model), gstore.model_candidates(con, model)


def model_indicators(model: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A scanned model's scores (every row, for the histogram) and its candidates with their verdicts."""
    return _model_indicators(db_version(), model)



@st.cache_data(show_spinner=False)
def _lab_languages(db: DbVersion, corpus: str) -> list[LabLanguage]:
    from analysis.lab.data import corpus_languages

    return corpus_languages(corpus, db=Path(db.path))


def lab_languages(corpus: str) -> list[LabLanguage]:
    """The languages the lab can train on in ``corpus``."""
    return _lab_languages(db_version(), corpus)

# ================================================================== the Playground's glitch flags


@st.cache_data(max_entries=64, show_spinner=False)
def _token_flags(db: DbVersion, tokenizer_id: str, ids_key: str, categories: tuple[str, ...],
                 _ids: tuple[int, ...]) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    from analysis.glitch import UNDER_TRAINED_VERIFIED, flags_for, verifications_for

    con = cursor(db)
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
