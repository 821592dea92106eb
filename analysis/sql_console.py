"""A read-only SQL console over the statistics store, safe to put on a public demo.

Four layers, each enough on its own for the common escapes:

1. Only one statement per run, and only reading ones (SELECT, WITH, FROM-first, VALUES, DESCRIBE, SHOW,
   SUMMARIZE, EXPLAIN of those). DuckDB's own parser decides the statement type, not a regular expression.
2. The store is attached ``READ_ONLY`` to a private in-memory DuckDB instance whose own database is detached
   afterwards, so there is nothing writable to write to.
3. ``enable_external_access = false`` (no files, no network, no extensions) and then ``lock_configuration =
   true``: no SET, RESET or PRAGMA can change a setting again. Extension auto-install/auto-load are off.
4. Resource limits: a row cap and a byte cap (results are streamed in small Arrow batches, measured as they
   come; nothing past either cap is fetched), a time limit (a timer thread calls ``interrupt()`` on the query's
   own cursor), one thread and a memory limit per instance. DuckDB builds one vector (2,048 rows) before it can
   be measured, and its memory limit does not cover string values, so a query of huge strings can still take
   memory for that one vector: the process's memory ceiling (docs/deployment.md) bounds that.

Server paths (the database's file in ``duckdb_databases()``, folders in ``duckdb_settings()``) are cut to the
file's name in every result cell and message (:mod:`analysis.redact`).

Its own DuckDB instance (not the app's shared connection) is needed because DuckDB refuses a second
connection to the same file with a different configuration in one process; attaching avoids that.

Example:
    >>> con = open_console(db_path)                                   # doctest: +SKIP
    >>> run_query(con, "SELECT count(*) AS n FROM languages").frame    # doctest: +SKIP
"""

from __future__ import annotations

import errno
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from analysis.i18n import N_, lazy_gettext

from . import config
from .errors import SqlConsoleError, SqlRefusedError, SqlTimeoutError
from .redact import redact_message, redact_paths
from .store.schema import SCHEMA_VERSION, StoreError, default_db_path, version_error

#: Rows a result keeps at most (the page may ask for fewer).
MAX_ROWS = 10_000
DEFAULT_ROWS = 1_000
#: Seconds a query may run (execution and fetching together).
DEFAULT_TIMEOUT_S = 10.0
MAX_SQL_CHARS = 20_000
#: Rows per Arrow batch while fetching: the result's bytes are measured after each batch.
_BATCH_ROWS = 64
_STORE = "store"


# ------------------------------------------------------------------ the connection


def open_console(path: Path | None = None, *, memory_limit: str = "1GB", threads: int = 1) -> duckdb.DuckDBPyConnection:
    """A connection for the console: the store attached read-only, external access off, configuration locked.

    The caller owns it: the console page keeps one per database version for the life of the process
    (``st.cache_resource``); anything else should use it in a ``with`` block.

    Raises:
        StoreError: no database at ``path`` (default ``$ATLAS_DB``), or not a Token Atlas database.
    """
    db = Path(path) if path else default_db_path()
    if not db.is_file():
        raise StoreError(N_("No statistics database at {db}. Build it with `python -m analysis build --db {db}`."),
                         title=N_("Statistics database not built yet"), db=db)
    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                             "autoload_known_extensions": False,
                                             "allow_community_extensions": False})
    try:
        con.execute(f"ATTACH {_quote(str(db))} AS {_STORE} (READ_ONLY)")
        con.execute(f"USE {_STORE}")
        con.execute("DETACH memory")  # the instance's own, writable database: gone
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if version is None or version[0] != str(SCHEMA_VERSION):
            raise version_error(db, version[0] if version else None)
        con.execute(f"SET threads = {int(threads)}")
        con.execute(f"SET memory_limit = {_quote(memory_limit)}")
        con.execute("SET temp_directory = ''")  # never spill to disk
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except duckdb.Error as e:
        con.close()
        raise StoreError(N_("{db} is not a readable Token Atlas database ({why}). Rebuild it with `python -m "
                            "analysis build --rebuild`."), db=db, why=str(e)) from e
    except StoreError:
        con.close()
        raise
    return con


def _quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


# ------------------------------------------------------------------ checking a statement


_READING = {"SELECT"}
#: Why each kind of statement is refused (translated where the app shows it; the CLI prints the English).
_REFUSALS = {
    "COPY": lazy_gettext("COPY reads or writes files, and this console has no file access. To download a result, "
                         "run its SELECT here and use the CSV or Parquet button."),
    "EXPORT": lazy_gettext("EXPORT DATABASE writes files, and this console has no file access. Download results "
                           "with the CSV or Parquet button, or use `python -m analysis export` on your own copy."),
    "ATTACH": lazy_gettext("Only the statistics database is available here; other databases cannot be attached or "
                           "detached."),
    "DETACH": lazy_gettext("Only the statistics database is available here; other databases cannot be attached or "
                           "detached."),
    "LOAD": lazy_gettext("Extensions cannot be installed or loaded in this console."),
    "SET": lazy_gettext("Settings are locked in this console (SET, RESET, USE and setting PRAGMAs are refused). "
                        "Queries run with the defaults; to read a setting, SELECT current_setting('name')."),
    "VARIABLE_SET": lazy_gettext("Settings and variables are locked in this console; write the value into the query "
                                 "instead."),
    "PRAGMA": lazy_gettext("PRAGMA statements are not run here. For the schema use the table functions instead, "
                           "e.g. SELECT * FROM pragma_table_info('counts') or SELECT * FROM duckdb_columns()."),
    "CALL": lazy_gettext("CALL is not run here. Table functions work in a SELECT: SELECT * FROM "
                         "pragma_table_info('counts')."),
    "TRANSACTION": lazy_gettext("Each query runs on its own: transactions (BEGIN, COMMIT, ROLLBACK) are not needed "
                                "on a read-only database and are refused."),
    "PREPARE": lazy_gettext("Prepared statements are not available here; write the values into the query."),
    "EXECUTE": lazy_gettext("Prepared statements are not available here; write the values into the query."),
    "MULTI": lazy_gettext("This statement would run several steps (e.g. a PIVOT without an IN list, which creates a "
                          "type first). Write it as one SELECT, e.g. `PIVOT counts ON tokenizer IN ('o200k_base', "
                          "'llama3') USING sum(n_tokens)`."),
}
_WRITES = {"INSERT", "UPDATE", "DELETE", "CREATE", "CREATE_FUNC", "DROP", "ALTER", "VACUUM", "ANALYZE", "LOGICAL_PLAN",
           "UPDATE_EXTENSIONS", "MERGE_INTO", "RELATION"}


def _type_name(statement: object) -> str:
    return str(getattr(statement, "type", "?")).rsplit(".", 1)[-1].upper()


def check_sql(sql: str) -> str:
    """The one statement in ``sql`` if it only reads; else a :class:`SqlRefusedError` that says why.

    DuckDB's parser classifies the statement. EXPLAIN is allowed when what it explains is a SELECT.

    Raises:
        SqlRefusedError: empty input, several statements, or a statement that writes, changes settings, or
            reaches files, other databases or extensions.
        SqlConsoleError: the SQL does not parse (DuckDB's message, with the position).

    >>> check_sql("SELECT 1;")
    'SELECT 1'
    >>> check_sql("SELECT 1; DROP TABLE counts")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    analysis.errors.SqlRefusedError: One statement at a time: this input has 2 (SELECT, DROP). Only reading ...
    """
    if len(sql) > MAX_SQL_CHARS:
        raise SqlRefusedError(N_("The query is {n:,} characters long; the limit is {limit:,}."), n=len(sql),
                              limit=MAX_SQL_CHARS)
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as e:
        raise SqlConsoleError(N_("The SQL does not parse: {why}"), title=N_("SQL syntax error"),
                              why=_clean(e)) from None
    if not statements:
        raise SqlRefusedError(N_("There is no statement to run. Write a SELECT, or pick an example query."),
                              title=N_("Nothing to run"))
    types = [_type_name(s) for s in statements]
    if len(statements) > 1:
        raise SqlRefusedError(N_("One statement at a time: this input has {n} ({types}). Only reading statements "
                                 "run here (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN)."),
                              n=len(statements), types=", ".join(types))
    kind = types[0]
    query = statements[0].query.strip().rstrip(";").strip()
    if kind in _READING:
        return query
    if kind == "EXPLAIN":
        inner = query.split(None, 1)[1] if len(query.split(None, 1)) > 1 else ""
        if inner.upper().startswith("ANALYZE"):
            inner = inner[len("ANALYZE"):].strip()
        try:
            inner_types = [_type_name(s) for s in duckdb.extract_statements(inner)]
        except duckdb.Error:
            inner_types = []
        if inner_types == ["SELECT"]:
            return query
        raise SqlRefusedError(N_("EXPLAIN is allowed for SELECT queries only."))
    if kind in _REFUSALS:
        raise SqlRefusedError(N_("{statement}: {reason}"), statement=kind.replace("_", " "), reason=_REFUSALS[kind])
    if kind in _WRITES:
        raise SqlRefusedError(
            N_("{statement}: the statistics database is read-only here; only reading statements run (SELECT, WITH, "
               "FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN). Instead of a temporary table, name a subquery with "
               "WITH name AS (...)."), statement=kind.replace("_", " "))
    raise SqlRefusedError(N_("{statement} statements are not run here; only reading statements are (SELECT, WITH, "
                             "FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN)."), statement=kind.replace("_", " "))


def _clean(e: BaseException) -> str:
    """DuckDB's message without its internal class prefix, shortened."""
    text = redact_message(str(e).strip())
    return text if len(text) <= 1500 else text[:1500] + " …"


# ------------------------------------------------------------------ running


@dataclass(frozen=True)
class QueryResult:
    """Rows of one query (at most ``max_rows``), whether more were left unfetched, and the time taken.

    ``stopped`` is the message when fetching stopped at the byte cap (``ATLAS_SQL_MAX_RESULT_BYTES``), else "".
    """

    sql: str
    frame: pd.DataFrame
    truncated: bool
    seconds: float
    max_rows: int
    stopped: str = ""
    nbytes: int = 0


def run_query(con: duckdb.DuckDBPyConnection, sql: str, *, max_rows: int = DEFAULT_ROWS,
              timeout_s: float = DEFAULT_TIMEOUT_S) -> QueryResult:
    """Check and run one reading statement on a fresh cursor of ``con`` (from :func:`open_console`).

    Rows are streamed: at most ``max_rows`` + 1 are fetched (the extra one only tells that there are more), and
    fetching stops once the rows fetched hold more than ``ATLAS_SQL_MAX_RESULT_BYTES`` (the rows before that
    batch are kept, and ``stopped`` says so). A timer interrupts the query after ``timeout_s`` seconds.

    Raises:
        SqlRefusedError: see :func:`check_sql`; also a SELECT that tries to read files (external access is off).
        SqlTimeoutError: it ran past ``timeout_s``.
        SqlConsoleError: DuckDB refused or failed the query (its message: unknown table, type error, ...).
    """
    if not 1 <= max_rows <= MAX_ROWS:
        raise SqlConsoleError(f"The row cap must be between 1 and {MAX_ROWS:,}, not {max_rows}.")
    if not 0 < timeout_s <= 300:
        raise SqlConsoleError(f"The time limit must be between 0 and 300 seconds, not {timeout_s}.")
    query = check_sql(sql)
    max_bytes = config.SQL_MAX_RESULT_BYTES.value()
    cur = con.cursor()
    fired = threading.Event()

    def stop() -> None:
        fired.set()
        cur.interrupt()

    timer = threading.Timer(timeout_s, stop)
    timer.daemon = True
    t0 = time.perf_counter()
    timer.start()
    stopped, nbytes = "", 0
    try:
        relation = cur.sql(query)  # a relation streams; an executed DB-API result would be materialized whole
        if relation is None:
            frame = pd.DataFrame()
        else:
            reader = relation.to_arrow_reader(_BATCH_ROWS)
            batches, rows = [], 0
            for batch in reader:
                if nbytes + batch.nbytes > max_bytes:
                    stopped = config.SQL_MAX_RESULT_BYTES.exceeded(
                        f"The result passed {nbytes + batch.nbytes:,} bytes after {rows:,} rows, so fetching stopped "
                        "there (add a LIMIT, or select fewer or narrower columns, e.g. left(text, 200))")
                    break
                nbytes += batch.nbytes
                batches.append(batch)
                rows += batch.num_rows
                if rows > max_rows:
                    break
            reader.close()
            if fired.is_set():  # an interrupted stream just ends: without this, a partial result would pass as whole
                raise duckdb.InterruptException("interrupted")
            frame = pa.Table.from_batches(batches, schema=reader.schema).slice(0, max_rows + 1).to_pandas(
                date_as_object=False)
    except (OSError, pa.ArrowException) as e:  # DuckDB's errors while streaming arrive through Arrow
        if fired.is_set():
            raise _timeout(timeout_s) from None
        if "Out of Memory" in str(e) or getattr(e, "errno", None) == errno.ENOMEM:
            raise _memory(e) from None
        raise SqlConsoleError(_clean(e), title=N_("DuckDB could not run the query")) from None
    except duckdb.InterruptException:
        raise _timeout(timeout_s) from None
    except duckdb.PermissionException as e:
        raise SqlRefusedError(
            N_("File, network and extension access is switched off in this console ({why}). Query the store's "
               "tables and views instead (the schema is listed beside the editor)."), why=_clean(e)) from None
    except (duckdb.OutOfMemoryException, MemoryError) as e:
        raise _memory(e) from None
    except duckdb.Error as e:
        raise SqlConsoleError(_clean(e), title=N_("DuckDB could not run the query")) from None
    finally:
        timer.cancel()
        cur.close()
    seconds = time.perf_counter() - t0
    truncated = len(frame) > max_rows or bool(stopped)
    frame = frame.iloc[:max_rows].reset_index(drop=True)
    for col in frame.columns:  # server paths (duckdb_databases(), duckdb_settings()) become file names
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
            frame[col] = frame[col].map(lambda v: redact_paths(v) if isinstance(v, str) else v)
    return QueryResult(sql=query, frame=frame, truncated=truncated, seconds=seconds, max_rows=max_rows,
                       stopped=stopped, nbytes=nbytes)


def display_frame(frame: pd.DataFrame, *, max_chars: int | None = None) -> tuple[pd.DataFrame, int]:
    """The frame to draw: text cells longer than ``max_chars`` (``ATLAS_SQL_MAX_CELL_CHARS``) cut, with a note of
    their full length; returns it and the number of cells cut. Downloads take the full frame.

    >>> f, n = display_frame(pd.DataFrame({"s": ["ab", "x" * 12]}), max_chars=5)
    >>> f["s"].tolist(), n
    (['ab', 'xxxxx… (12 characters; download the result for all of it)'], 1)
    """
    limit = max_chars or config.SQL_MAX_CELL_CHARS.value()
    out, cut = frame.copy(), 0
    for col in out.columns:
        if not (out[col].dtype == object or pd.api.types.is_string_dtype(out[col])):
            continue
        long = out[col].map(lambda v: isinstance(v, str) and len(v) > limit)
        if long.any():
            cut += int(long.sum())
            out[col] = out[col].astype(object)
            out.loc[long, col] = out.loc[long, col].map(
                lambda v: f"{v[:limit]}… ({len(v):,} characters; download the result for all of it)")
    return out, cut


def _timeout(timeout_s: float) -> SqlTimeoutError:
    return SqlTimeoutError(N_("The query ran for more than {seconds:g} s and was stopped. Narrow it down (a WHERE on "
                              "`corpus`, `tokenizer` or `lang`; an aggregate instead of every row), or add a LIMIT."),
                           seconds=timeout_s)


def _memory(e: BaseException) -> SqlConsoleError:
    return SqlConsoleError(N_("The query needed more memory than this server allows ({why}). Select fewer or narrower "
                              "values (e.g. left(text, 200)), or add a LIMIT; on your own server, raise "
                              "ATLAS_MEMORY_MAX (see docs/deployment.md)."),
                           title=N_("Query stopped: memory limit"), why=_clean(e).split("\n")[0][:200])


# ------------------------------------------------------------------ the schema, for browsing

#: One line per table and view of the store, shown in the schema browser.
DESCRIPTIONS = {
    "meta": "build provenance: schema version, build time, counting policy, normalization, bootstrap settings",
    "tokenizers": "each counted tokenizer: name, backend, vocabulary size, source package, sha256, library version",
    "corpora": "each corpus: source, content sha256, languages, units, normalization, import time",
    "languages": "each language variant of a corpus: name, script, BCP 47, ISO 639-3, direction, coordinates, "
                 "complete",
    "units": "each unit's text per language with its UTF-8 bytes, characters and ICU words (or why withheld)",
    "word_spans": "each unit's ICU word spans, segmented once at import (int32 start/end pairs; none where words "
                  "are withheld)",
    "counts": "tokens, UNK, byte-fallback and continued words per (corpus, tokenizer, language, unit)",
    "runs": "when each (corpus, tokenizer) pair was counted, with the hashes it was counted from",
    "premium_ci": "precomputed premiums against the reference with bootstrap 95% CIs (B, seed)",
    "lang_stats": "per (corpus, tokenizer, language) totals and every metric: bytes/token, chars/token, "
                  "tokens per kB, fertility, continued words, UNK and byte-fallback rates",
    "premiums": "view: premium_ci joined with language names and scripts, plus the UNK flag",
    "unit_ratios": "view: per-unit token ratio of every language to every other on the same unit (large: filter it)",
    "glitch_scans": "each tokenizer's glitch-token scan: vocabulary hash, corpora counted, checks version, ids, time",
    "glitch_tokens": "every vocabulary id: display string, bytes, script, glitch-token category flags (bits)",
    "token_frequency": "each token id seen in the corpora: total count, number of languages, top languages",
    "token_lang_counts": "per (corpus, tokenizer, token id, language): how often the id occurs (merged into "
                         "token_frequency; kept so that adding a corpus counts only its own pairs)",
    "token_count_runs": "the (corpus, tokenizer) pairs whose token_lang_counts are stored, with the corpus hash",
    "glitch_models": "each scanned model: tokenizer, embedding shape, indicator, reference set, threshold, candidates",
    "glitch_indicators": "per model and token id: embedding norm, indicator score, reachable, candidate",
    "glitch_verdicts": "per model and candidate: highest repeat probability, prompt, threshold, under-trained or not",
    "published_models": "each published under-trained token report (Magikarp): model, tokenizer, source path and "
                        "commit, indicator, thresholds, and how many of its rows matched our vocabulary",
    "published_tokens": "each row of a published report: token id, token as printed, indicator, max_prob, verified "
                        "(below 0.01), our vocabulary entry and the check against it",
    "mono_corpora": "each monolingual corpus: source folder, hash, languages, files, shards, sampling and seed",
    "mono_files": "each file of a monolingual corpus: language, compression, size, mtime",
    "mono_languages": "each language of a monolingual corpus: name, script, direction, whether words can be counted",
    "mono_shards": "each shard of a monolingual corpus: file, byte range, lines, bytes, characters, words",
    "mono_counts": "tokens, UNK and byte-fallback per (monolingual corpus, tokenizer, shard)",
    "mono_runs": "when each (monolingual corpus, tokenizer) pair was counted, with the hashes it was counted from",
    "mono_stats": "per (monolingual corpus, tokenizer, language): bytes/token, chars/token, fertility, UNK rates",
}


#: Headers of :func:`schema_tables`' and :func:`schema_columns`' columns (msgids, translated where shown).
SCHEMA_HEADERS = {"name": N_("name"), "kind": N_("kind"), "columns": N_("columns"), "rows": N_("rows"),
                  "description": N_("description")}
COLUMN_HEADERS = {"column": N_("column"), "type": N_("type"), "nullable": N_("nullable")}


def schema_tables(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Tables and views of the store: ``name, kind, columns, rows, description``.

    Row counts are exact for tables; views are computed on query (``unit_ratios`` alone has hundreds of millions
    of rows on the UDHR), so their count is left empty.
    """
    objects = con.execute(
        """SELECT table_name, CASE table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END AS kind
           FROM information_schema.tables WHERE table_catalog = ? AND table_schema = 'main'
           ORDER BY kind, table_name""", [_database(con)]).fetchall()
    ncols = dict(con.execute(
        "SELECT table_name, count(*) FROM information_schema.columns WHERE table_catalog = ? AND table_schema = 'main' "
        "GROUP BY table_name", [_database(con)]).fetchall())
    rows = []
    for name, kind in objects:
        n = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] if kind == "table" else None
        rows.append({"name": name, "kind": kind, "columns": int(ncols.get(name, 0)), "rows": n,
                     "description": DESCRIPTIONS.get(name, "")})
    frame = pd.DataFrame(rows, columns=["name", "kind", "columns", "rows", "description"])
    frame["rows"] = frame["rows"].astype("Int64")
    return frame


def schema_columns(con: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame:
    """Columns of one table or view: ``column, type, nullable``, in order."""
    frame = con.execute(
        """SELECT column_name AS "column", data_type AS type, is_nullable = 'YES' AS nullable
           FROM information_schema.columns WHERE table_catalog = ? AND table_schema = 'main' AND table_name = ?
           ORDER BY ordinal_position""", [_database(con), table]).df()
    if frame.empty:
        raise SqlConsoleError(N_("No table or view named {table!r} in the store."), table=table)
    return frame


def _database(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("SELECT current_database()").fetchone()[0]


# ------------------------------------------------------------------ examples for workshops

#: (title, SQL) pairs shown as starting points; each runs on any store with the UDHR and the default tokenizers.
EXAMPLES: tuple[tuple[str, str], ...] = (
    (N_("The 15 highest premiums for one tokenizer"),
     "SELECT lang, name, script, round(premium, 2) AS premium, round(ci_low, 2) AS ci_low, round(ci_high, 2) AS ci_high\n"
     "FROM premiums\nWHERE corpus = 'udhr' AND tokenizer = 'o200k_base' AND reference = 'eng'\n"
     "ORDER BY premium DESC\nLIMIT 15"),
    (N_("One language across every tokenizer"),
     "SELECT tokenizer, round(premium, 3) AS premium, units\nFROM premiums\n"
     "WHERE corpus = 'udhr' AND lang = 'hin' AND reference = 'eng'\nORDER BY premium"),
    (N_("Median premium per script and tokenizer"),
     "SELECT script, tokenizer, count(*) AS languages, round(median(premium), 2) AS median_premium\n"
     "FROM premiums\nWHERE corpus = 'udhr' AND reference = 'eng'\nGROUP BY ALL\nORDER BY script, median_premium"),
    (N_("Compression: bytes per token, best and worst languages"),
     "SELECT tokenizer, lang, round(bytes_per_token, 2) AS bytes_per_token, round(tokens_per_kb, 1) AS tokens_per_kb\n"
     "FROM lang_stats\nWHERE corpus = 'udhr' AND tokenizer = 'llama3'\nORDER BY bytes_per_token\nLIMIT 20"),
    (N_("Where BERT meets unknown tokens (UNK rate over 10%)"),
     "SELECT l.name, s.lang, s.tokens, s.unk, round(100 * s.unk_rate, 1) AS unk_percent\n"
     "FROM lang_stats s JOIN languages l USING (corpus, lang)\n"
     "WHERE s.corpus = 'udhr' AND s.tokenizer = 'bert-uncased' AND s.unk_flag\nORDER BY s.unk_rate DESC"),
    (N_("Per-article token ratio of one language to English"),
     "SELECT unit, round(ratio, 3) AS ratio\nFROM unit_ratios\n"
     "WHERE corpus = 'udhr' AND tokenizer = 'cl100k_base' AND lang = 'hin' AND reference = 'eng'\n"
     "ORDER BY ratio DESC"),
    (N_("Fertility (tokens per ICU word), where words can be segmented"),
     "SELECT tokenizer, round(avg(fertility), 2) AS mean_fertility, count(*) AS languages\n"
     "FROM lang_stats\nWHERE corpus = 'udhr' AND fertility IS NOT NULL\nGROUP BY tokenizer\nORDER BY mean_fertility"),
    (N_("The text of one article in one language"),
     "SELECT lang, unit, n_bytes, n_chars, n_words, text\nFROM units\n"
     "WHERE corpus = 'udhr' AND unit = '1' AND lang IN ('eng', 'hin', 'amh', 'cmn_hans')"),
    (N_("Provenance: tokenizers and their vocabulary hashes"),
     "SELECT tokenizer, name, backend, vocab_size, source, sha256, library\nFROM tokenizers\nORDER BY tokenizer"),
    (N_("Build settings (the meta table)"), "SELECT key, value FROM meta ORDER BY key"),
)
