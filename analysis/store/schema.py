"""The one DuckDB schema of the statistics store, and opening it safely.

Tables hold what was measured (texts, per-unit token counts, bootstrap intervals) and the per-language
totals derived from them (``lang_stats``, refreshed by every build); views join them for reading. Every metric
follows the exact definitions of the metrics table in docs/metrics.md.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from analysis.i18n import N_

from ..config import cache_dir
from ..errors import StoreError
from ..metrics import UNK_FLAG_THRESHOLD

if TYPE_CHECKING:
    from .extensions import BuildExtension

#: 3: table ``word_spans`` (each unit's ICU word spans, computed once at import; see :mod:`.spans`).
SCHEMA_VERSION = 3
#: Versions that :func:`upgrade` brings to :data:`SCHEMA_VERSION` in place (a build does it; nothing is lost).
UPGRADABLE = ("2",)
#: The counting policy every count in the store follows (stored in ``meta`` and shown with results).
COUNTING_POLICY = N_(  # a msgid: pages show the recorded policy translated when it is this one
    "no BOS/EOS or other added special tokens; text that looks like a special token is plain text; "
    "each unit encoded on its own (UDHR: its paragraphs joined by one newline)"
)


def default_db_path() -> Path:
    """``$ATLAS_DB``, default ``atlas.duckdb`` next to the asset cache's files."""
    env = os.environ.get("ATLAS_DB")
    return Path(env).expanduser() if env else cache_dir() / "atlas.duckdb"


TABLES = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS tokenizers (
    tokenizer VARCHAR PRIMARY KEY, name VARCHAR, backend VARCHAR, vocab_size BIGINT,
    source VARCHAR, sha256 VARCHAR, library VARCHAR
);
CREATE TABLE IF NOT EXISTS corpora (
    corpus VARCHAR PRIMARY KEY, source VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
    n_languages INTEGER NOT NULL, n_units INTEGER NOT NULL, unit_order VARCHAR[] NOT NULL,
    normalization VARCHAR NOT NULL, imported_at TIMESTAMP NOT NULL, protocol VARCHAR
);
CREATE TABLE IF NOT EXISTS languages (
    corpus VARCHAR, lang VARCHAR, name VARCHAR, script VARCHAR, bcp47 VARCHAR, iso639_3 VARCHAR,
    direction VARCHAR, latitude DOUBLE, longitude DOUBLE, complete BOOLEAN, stage INTEGER,
    PRIMARY KEY (corpus, lang)
);
CREATE TABLE IF NOT EXISTS units (
    corpus VARCHAR, lang VARCHAR, unit VARCHAR, position INTEGER, text VARCHAR,
    n_bytes INTEGER, n_chars INTEGER, n_words INTEGER, words_note VARCHAR,
    PRIMARY KEY (corpus, lang, unit)
);
CREATE TABLE IF NOT EXISTS word_spans (
    corpus VARCHAR, lang VARCHAR, unit VARCHAR, spans BLOB,
    PRIMARY KEY (corpus, lang, unit)
);
CREATE TABLE IF NOT EXISTS counts (
    corpus VARCHAR, tokenizer VARCHAR, lang VARCHAR, unit VARCHAR,
    n_tokens INTEGER NOT NULL, n_unk INTEGER NOT NULL, n_byte_fallback INTEGER NOT NULL, n_continued INTEGER,
    PRIMARY KEY (corpus, tokenizer, lang, unit)
);
CREATE TABLE IF NOT EXISTS runs (
    corpus VARCHAR, tokenizer VARCHAR, tokenizer_sha256 VARCHAR, corpus_sha256 VARCHAR,
    built_at TIMESTAMP, seconds DOUBLE, PRIMARY KEY (corpus, tokenizer)
);
CREATE TABLE IF NOT EXISTS premium_ci (
    corpus VARCHAR, tokenizer VARCHAR, lang VARCHAR, reference VARCHAR,
    premium DOUBLE, ci_low DOUBLE, ci_high DOUBLE, units INTEGER, b INTEGER, seed BIGINT,
    PRIMARY KEY (corpus, tokenizer, lang, reference)
);
"""

#: Per (corpus, tokenizer, language) totals and every metric over them; a table the builder refreshes after
#: counting (aggregating 300k counts on every read would cost each query tens of milliseconds).
LANG_STATS = f"""
CREATE OR REPLACE TABLE lang_stats AS
SELECT c.corpus, c.tokenizer, c.lang,
       count(*) AS units,
       sum(c.n_tokens) AS tokens, sum(u.n_bytes) AS bytes, sum(u.n_chars) AS chars,
       CASE WHEN count(u.n_words) = count(*) THEN sum(u.n_words) END AS words,
       any_value(u.words_note) FILTER (WHERE u.words_note IS NOT NULL) AS words_note,
       sum(c.n_unk) AS unk, sum(c.n_byte_fallback) AS byte_fallback,
       sum(u.n_bytes)::DOUBLE / nullif(sum(c.n_tokens), 0) AS bytes_per_token,
       sum(u.n_chars)::DOUBLE / nullif(sum(c.n_tokens), 0) AS chars_per_token,
       1000.0 * sum(c.n_tokens) / nullif(sum(u.n_bytes), 0) AS tokens_per_kb,
       CASE WHEN count(u.n_words) = count(*) THEN sum(c.n_tokens)::DOUBLE / nullif(sum(u.n_words), 0) END
           AS fertility,
       CASE WHEN count(u.n_words) = count(*) AND count(c.n_continued) = count(*)
            THEN sum(c.n_continued)::DOUBLE / nullif(sum(u.n_words), 0) END AS continued_share,
       sum(c.n_unk)::DOUBLE / nullif(sum(c.n_tokens), 0) AS unk_rate,
       sum(c.n_byte_fallback)::DOUBLE / nullif(sum(c.n_tokens), 0) AS byte_fallback_rate,
       sum(c.n_unk)::DOUBLE / nullif(sum(c.n_tokens), 0) > {UNK_FLAG_THRESHOLD} AS unk_flag
FROM counts c JOIN units u USING (corpus, lang, unit)
GROUP BY c.corpus, c.tokenizer, c.lang;
"""

VIEWS = f"""
CREATE OR REPLACE VIEW premiums AS
SELECT p.corpus, p.tokenizer, p.lang, l.name, l.script, p.reference, p.premium, p.ci_low, p.ci_high, p.units,
       s.unk_rate > {UNK_FLAG_THRESHOLD} AS unk_flag, p.b, p.seed
FROM premium_ci p
JOIN languages l USING (corpus, lang)
JOIN lang_stats s USING (corpus, tokenizer, lang);

CREATE OR REPLACE VIEW unit_ratios AS
SELECT c.corpus, c.tokenizer, c.lang, c.unit, r.lang AS reference,
       c.n_tokens::DOUBLE / nullif(r.n_tokens, 0) AS ratio
FROM counts c JOIN counts r ON r.corpus = c.corpus AND r.tokenizer = c.tokenizer AND r.unit = c.unit;
"""


#: The tables of monolingual corpora (see :mod:`.mono`): their definition, shard plan and per-shard counts.
MONO_TABLES = """
CREATE TABLE IF NOT EXISTS mono_corpora (
    corpus VARCHAR PRIMARY KEY, source VARCHAR NOT NULL, root VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
    n_languages INTEGER NOT NULL, n_files INTEGER NOT NULL, n_shards INTEGER NOT NULL, file_bytes BIGINT NOT NULL,
    sample DOUBLE, seed BIGINT NOT NULL, shard_bytes BIGINT NOT NULL, normalization VARCHAR NOT NULL,
    imported_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS mono_files (
    corpus VARCHAR, lang VARCHAR NOT NULL, file VARCHAR, compression VARCHAR NOT NULL, size BIGINT NOT NULL,
    mtime_ns BIGINT NOT NULL, PRIMARY KEY (corpus, file)
);
CREATE TABLE IF NOT EXISTS mono_languages (
    corpus VARCHAR, lang VARCHAR, name VARCHAR, script VARCHAR, iso639_3 VARCHAR, direction VARCHAR,
    words_ok BOOLEAN NOT NULL, words_note VARCHAR NOT NULL, PRIMARY KEY (corpus, lang)
);
CREATE TABLE IF NOT EXISTS mono_shards (
    corpus VARCHAR, shard INTEGER, lang VARCHAR NOT NULL, file VARCHAR NOT NULL, compression VARCHAR NOT NULL,
    start BIGINT NOT NULL, stop BIGINT, lines BIGINT, bytes BIGINT, chars BIGINT, words BIGINT,
    PRIMARY KEY (corpus, shard)
);
CREATE TABLE IF NOT EXISTS mono_counts (
    corpus VARCHAR, tokenizer VARCHAR, shard INTEGER, lang VARCHAR NOT NULL, lines BIGINT NOT NULL,
    n_tokens BIGINT NOT NULL, n_unk BIGINT NOT NULL, n_byte_fallback BIGINT NOT NULL,
    PRIMARY KEY (corpus, tokenizer, shard)
);
CREATE TABLE IF NOT EXISTS mono_runs (
    corpus VARCHAR, tokenizer VARCHAR, tokenizer_sha256 VARCHAR, corpus_sha256 VARCHAR, built_at TIMESTAMP,
    seconds DOUBLE, PRIMARY KEY (corpus, tokenizer)
);
"""

#: Per (corpus, tokenizer, language) totals of the monolingual corpora, refreshed by every build that counts one.
MONO_STATS = f"""
CREATE OR REPLACE TABLE mono_stats AS
SELECT c.corpus, c.tokenizer, c.lang,
       sum(s.lines)::BIGINT AS lines, sum(c.n_tokens)::BIGINT AS tokens, sum(s.bytes)::BIGINT AS bytes,
       sum(s.chars)::BIGINT AS chars, CASE WHEN l.words_ok THEN sum(s.words)::BIGINT END AS words,
       CASE WHEN NOT l.words_ok THEN l.words_note END AS words_note,
       sum(c.n_unk)::BIGINT AS unk, sum(c.n_byte_fallback)::BIGINT AS byte_fallback,
       sum(s.bytes)::DOUBLE / nullif(sum(c.n_tokens), 0) AS bytes_per_token,
       sum(s.chars)::DOUBLE / nullif(sum(c.n_tokens), 0) AS chars_per_token,
       1000.0 * sum(c.n_tokens) / nullif(sum(s.bytes), 0) AS tokens_per_kb,
       CASE WHEN l.words_ok THEN sum(c.n_tokens)::DOUBLE / nullif(sum(s.words), 0) END AS fertility,
       sum(c.n_unk)::DOUBLE / nullif(sum(c.n_tokens), 0) AS unk_rate,
       sum(c.n_byte_fallback)::DOUBLE / nullif(sum(c.n_tokens), 0) AS byte_fallback_rate,
       sum(c.n_unk)::DOUBLE / nullif(sum(c.n_tokens), 0) > {UNK_FLAG_THRESHOLD} AS unk_flag
FROM mono_counts c
JOIN mono_shards s ON s.corpus = c.corpus AND s.shard = c.shard
JOIN mono_languages l ON l.corpus = c.corpus AND l.lang = c.lang
GROUP BY c.corpus, c.tokenizer, c.lang, l.words_ok, l.words_note;
"""

def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """The parallel corpora's tables, ``lang_stats`` and the views (all that a small database of counts needs:
    the result files of the visitors' tokenizers have only these)."""
    con.execute(TABLES)
    # Added after schema version 2 shipped: a database written before has no such column until its next write
    # (readers treat it as NULL, the ``units`` protocol; see read.corpus_protocol).
    con.execute("ALTER TABLE corpora ADD COLUMN IF NOT EXISTS protocol VARCHAR")
    refresh_lang_stats(con)
    con.execute(VIEWS)


def create_store(con: duckdb.DuckDBPyConnection, *, extensions: Sequence[BuildExtension] = ()) -> None:
    """Every table of a store database, in one place: :func:`create_schema`, the monolingual corpora's tables, and
    the tables of each of ``extensions`` (see :mod:`.extensions`). Idempotent: the writer runs it on every copy it
    opens (:func:`.writer.open_writer`)."""
    create_schema(con)
    con.execute(MONO_TABLES)
    con.execute(MONO_STATS)
    for extension in extensions:
        extension.create_tables(con)


def upgrade(con: duckdb.DuckDBPyConnection, version: str) -> None:
    """Bring a database of an :data:`UPGRADABLE` schema ``version`` to :data:`SCHEMA_VERSION` (on a writable copy).

    2 -> 3: every unit whose words are counted gets its stored word spans (table ``word_spans``), segmented once
    here.
    """
    from ..words import words
    from .spans import pack

    if version not in UPGRADABLE:
        raise StoreError(f"Schema version {version} cannot be upgraded in place; rebuild the database with "
                         "`python -m analysis build --rebuild` (then import your own corpora again).")
    con.execute(TABLES)  # adds the word_spans table
    rows = con.execute("SELECT corpus, lang, unit, text FROM units WHERE n_words IS NOT NULL").fetchall()
    if rows:
        import pandas as pd

        frame = pd.DataFrame([(c, lang, u, pack(words(t))) for c, lang, u, t in rows],
                             columns=["corpus", "lang", "unit", "spans"])
        con.register("_upgraded_spans", frame)
        try:
            con.execute("INSERT OR REPLACE INTO word_spans SELECT corpus, lang, unit, spans FROM _upgraded_spans")
        finally:
            con.unregister("_upgraded_spans")
    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])


def version_message(db: Path, found: str | None) -> str:
    """What to do about a database of schema version ``found`` (None: no version recorded) that this code cannot
    read as it is."""
    return version_error(db, found).message


def version_error(db: Path, found: str | None) -> StoreError:
    """:func:`version_message` as the error to raise (its message translated where the app shows it)."""
    if found in UPGRADABLE:
        return StoreError(N_("{db} has schema version {found}, this code reads {version}. Upgrade it in place with "
                             "`python -m analysis build --db {db}` (your imported corpora are kept)."),
                          db=db, found=found, version=str(SCHEMA_VERSION))
    return StoreError(N_("{db} has schema version {found}, this code reads {version}. Rebuild it with "
                         "`python -m analysis build --db {db} --rebuild`."),
                      db=db, found=found or "none", version=str(SCHEMA_VERSION))


def refresh_lang_stats(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute the ``lang_stats`` table from ``counts`` and ``units``."""
    con.execute(LANG_STATS)


def refresh_mono_stats(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute the ``mono_stats`` table from the monolingual corpora's counts."""
    con.execute(MONO_STATS)


def open_readonly(path: Path | None = None, *, private: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the store read-only, with file and network access from SQL switched off.

    The caller owns the connection: use it in a ``with`` block (or close it), except the app's one connection per
    database version, which lives as long as the process (``st.cache_resource``; see :mod:`analysis.store.snapshots`).

    Args:
        private: attach the file to a private in-memory DuckDB instance (``USE``-d as the default catalog, its
            configuration locked) instead of connecting to it by path. DuckDB shares one instance per path within
            a process, so only a private instance sees a new file renamed over an old one that is still open
            (see :mod:`analysis.store.snapshots`). Cursors of such a connection must ``USE atlas`` first.

    Raises:
        StoreError: missing file, not a DuckDB file, or another schema version; the message says how to build it.
    """
    db = Path(path) if path else default_db_path()
    if not db.is_file():
        raise StoreError(
            N_("No statistics database at {db}. Build it with `python -m analysis build --db {db}` (about a minute "
               "for the UDHR with every default tokenizer)."),
            title=N_("Statistics database not built yet"), db=db,
        )
    con = None
    try:
        if private:
            con = duckdb.connect(":memory:")
            con.execute("ATTACH ? AS atlas (READ_ONLY)", [str(db)])
            con.execute("USE atlas")
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
        else:
            con = duckdb.connect(str(db), read_only=True, config={"enable_external_access": False})
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except duckdb.Error as e:
        if con is not None:
            con.close()
        raise StoreError(
            N_("{db} is not a readable Token Atlas database ({why}). Delete it and run `python -m analysis build`."),
            db=db, why=str(e)) from e
    if version is None or int(version[0]) != SCHEMA_VERSION:
        con.close()
        raise version_error(db, version[0] if version else None)
    return con
