"""The SQL console against a real (tiny) store: exact results, and every obvious escape refused with a clear message.

Each layer is tested on its own too: the statement check, and the locked, read-only, no-file-access connection
underneath it (so that a gap in one layer is still caught by the next).
"""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from analysis.downloads import to_csv_bytes, to_parquet_bytes
from analysis.sql_console import (
    EXAMPLES,
    MAX_ROWS,
    SqlConsoleError,
    SqlRefusedError,
    SqlTimeoutError,
    check_sql,
    open_console,
    run_query,
    schema_columns,
    schema_tables,
)
from analysis.store.schema import StoreError
from tests.tiny_store import build_tiny_store


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_store(tmp_path_factory.mktemp("sql"))


@pytest.fixture(scope="module")
def con(db: Path):
    c = open_console(db)
    yield c
    c.close()


# ------------------------------------------------------------------ results


def test_exact_sums_per_language(con) -> None:
    # utf8-bytes: eng 12 + 8 = 20 bytes, ell 16 + 9 = 25; codepoints: 12 + 8 = 20, 9 + 5 = 14 (see tiny_store).
    r = run_query(con, "SELECT tokenizer, lang, sum(n_tokens) AS tokens FROM counts "
                       "WHERE tokenizer IN ('utf8-bytes', 'codepoints') GROUP BY ALL ORDER BY tokenizer, lang;")
    assert r.frame.to_dict("records") == [
        {"tokenizer": "codepoints", "lang": "ell", "tokens": 14}, {"tokenizer": "codepoints", "lang": "eng", "tokens": 20},
        {"tokenizer": "utf8-bytes", "lang": "ell", "tokens": 25}, {"tokenizer": "utf8-bytes", "lang": "eng", "tokens": 20}]
    assert not r.truncated and r.sql.endswith("ORDER BY tokenizer, lang")


def test_views_and_reading_statements(con) -> None:
    premium = run_query(con, "FROM premiums SELECT premium WHERE tokenizer = 'utf8-bytes' AND lang = 'ell'").frame
    assert premium["premium"].tolist() == [25 / 20]
    assert run_query(con, "VALUES (1, 'a')").frame.shape == (1, 2)
    assert run_query(con, "DESCRIBE counts").frame["column_name"].tolist()[:4] == ["corpus", "tokenizer", "lang", "unit"]
    assert "counts" in run_query(con, "SHOW TABLES").frame["name"].tolist()
    assert len(run_query(con, "SUMMARIZE units").frame) == 9  # one row per column of units
    assert run_query(con, "EXPLAIN SELECT * FROM counts").frame.columns.tolist() == ["explain_key", "explain_value"]
    assert run_query(con, "WITH t AS (SELECT 2 AS x) SELECT x * 21 AS y FROM t").frame["y"].tolist() == [42]


def test_row_cap(con) -> None:
    r = run_query(con, "SELECT * FROM range(25)", max_rows=10)
    assert (len(r.frame), r.truncated, r.frame["range"].tolist()[-1]) == (10, True, 9)
    r = run_query(con, "SELECT * FROM range(10)", max_rows=10)
    assert (len(r.frame), r.truncated) == (10, False)
    with pytest.raises(SqlConsoleError, match="between 1 and"):
        run_query(con, "SELECT 1", max_rows=MAX_ROWS + 1)


def test_rows_past_the_cap_are_never_fetched(con) -> None:
    # 10^12 rows: this only returns (long before the time limit) because rows are streamed and the cap stops it.
    r = run_query(con, "SELECT * FROM range(1000000000000)", max_rows=5, timeout_s=60)
    assert r.frame["range"].tolist() == [0, 1, 2, 3, 4] and r.truncated


def test_time_limit_interrupts_and_the_console_still_works(con) -> None:
    with pytest.raises(SqlTimeoutError, match=r"more than 0\.5 s and was stopped"):
        run_query(con, "SELECT count(*) FROM range(1000000000000)", timeout_s=0.5)
    assert run_query(con, "SELECT 1 AS one").frame["one"].tolist() == [1]


def test_duckdb_errors_are_reported(con) -> None:
    with pytest.raises(SqlConsoleError, match="nosuchtable") as e:
        run_query(con, "SELECT * FROM nosuchtable")
    assert e.value.title == "DuckDB could not run the query"
    with pytest.raises(SqlConsoleError, match="does not parse") as e:
        run_query(con, "SELEC 1")
    assert e.value.title == "SQL syntax error"
    with pytest.raises(SqlRefusedError, match="no statement"):
        run_query(con, "  -- only a comment\n")


# ------------------------------------------------------------------ escapes


ESCAPES = [
    ("COPY (SELECT * FROM counts) TO '/tmp/atlas-leak.csv'", "COPY reads or writes files"),
    ("COPY counts FROM '/etc/passwd'", "COPY reads or writes files"),
    ("EXPORT DATABASE '/tmp/atlas-export'", "EXPORT DATABASE writes files"),
    ("ATTACH '/tmp/other.duckdb' AS other", "cannot be attached"),
    ("ATTACH ':memory:' AS scratch", "cannot be attached"),
    ("DETACH store", "cannot be attached or detached"),
    ("INSTALL httpfs", "Extensions cannot be installed or loaded"),
    ("LOAD httpfs", "Extensions cannot be installed or loaded"),
    ("LOAD '/tmp/evil.duckdb_extension'", "Extensions cannot be installed or loaded"),
    ("SET enable_external_access = true", "Settings are locked"),
    ("SET lock_configuration = false", "Settings are locked"),
    ("RESET memory_limit", "Settings are locked"),
    ("SET threads = 64", "Settings are locked"),
    ("PRAGMA threads = 64", "Settings are locked"),
    ("PRAGMA enable_profiling", "PRAGMA statements are not run"),
    ("USE system", "Settings are locked"),
    ("SET VARIABLE x = 1", "Settings are locked"),
    ("CALL pragma_table_info('counts')", "Table functions work in a SELECT"),
    ("CHECKPOINT", "Table functions work in a SELECT"),
    ("CREATE TABLE t AS SELECT 1", "CREATE: the statistics database is read-only"),
    ("CREATE TEMP TABLE t AS SELECT 1", "CREATE: the statistics database is read-only"),
    ("CREATE MACRO twice(x) AS 2 * x", "CREATE: the statistics database is read-only"),
    ("CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 's')", "CREATE: the statistics database is read-only"),
    ("INSERT INTO meta VALUES ('x', 'y')", "INSERT: the statistics database is read-only"),
    ("UPDATE counts SET n_tokens = 0", "UPDATE: the statistics database is read-only"),
    ("DELETE FROM counts", "DELETE: the statistics database is read-only"),
    ("DROP TABLE counts", "DROP: the statistics database is read-only"),
    ("ALTER TABLE counts ADD COLUMN x INTEGER", "ALTER: the statistics database is read-only"),
    ("VACUUM", "VACUUM: the statistics database is read-only"),
    ("BEGIN TRANSACTION", "transactions (BEGIN, COMMIT, ROLLBACK) are not needed"),
    ("PREPARE q AS SELECT 1", "Prepared statements are not available"),
    ("SELECT 1; DROP TABLE counts", "One statement at a time: this input has 2 (SELECT, DROP)"),
    ("SELECT 1; COPY counts TO '/tmp/x.csv'", "One statement at a time: this input has 2 (SELECT, COPY)"),
    ("SELECT 1; SELECT 2", "One statement at a time: this input has 2 (SELECT, SELECT)"),
    ("EXPLAIN ANALYZE COPY counts TO '/tmp/x.csv'", "EXPLAIN is allowed for SELECT queries only"),
    ("PIVOT counts ON tokenizer USING sum(n_tokens)", "PIVOT without an IN list"),
    # Reading statements that reach for files: refused by the connection (external access off), same kind of error.
    ("SELECT * FROM read_csv('/etc/passwd')", "File, network and extension access is switched off"),
    ("SELECT * FROM read_text('/etc/passwd')", "File, network and extension access is switched off"),
    ("SELECT * FROM read_blob('/etc/passwd')", "File, network and extension access is switched off"),
    ("SELECT * FROM glob('/*')", "File, network and extension access is switched off"),
    ("SELECT * FROM sniff_csv('/etc/passwd')", "File, network and extension access is switched off"),
    ("SELECT * FROM read_parquet('https://example.org/x.parquet')", "File, network and extension access"),
    ("SELECT * FROM query('SELECT * FROM read_csv(''/etc/passwd'')')", "File, network and extension access"),
]


@pytest.mark.parametrize(("sql", "message"), ESCAPES, ids=[s for s, _ in ESCAPES])
def test_escape_is_refused_with_a_clear_message(con, sql: str, message: str) -> None:
    with pytest.raises(SqlRefusedError) as e:
        run_query(con, sql)
    assert message in e.value.message
    assert e.value.title == "Not allowed in this console"
    assert "root:" not in e.value.message  # nothing of /etc/passwd leaks into a message


def test_file_name_as_a_table_reads_nothing(con) -> None:
    # DuckDB's replacement scan would read 'file.csv' as a table; with external access off it is a missing table.
    with pytest.raises(SqlConsoleError) as e:
        run_query(con, "SELECT * FROM '/etc/passwd'")
    assert "does not exist" in e.value.message and "root:" not in e.value.message


def test_nothing_was_written(con, db: Path) -> None:
    for sql, _ in ESCAPES:
        try:
            run_query(con, sql)
        except SqlConsoleError:
            pass
    assert not Path("/tmp/atlas-leak.csv").exists() and not Path("/tmp/atlas-export").exists()
    check = duckdb.connect(str(db), read_only=True)
    try:
        assert check.execute("SELECT count(*) FROM counts").fetchone()[0] == 12  # 4 units x 3 tokenizers
        assert check.execute("SELECT count(*) FROM meta WHERE key = 'x'").fetchone()[0] == 0
    finally:
        check.close()


# ------------------------------------------------------------------ the layers under the statement check


@pytest.mark.parametrize(("sql", "error"), [
    ("SET lock_configuration = false", "the configuration has been locked"),
    ("SET enable_external_access = true", "the configuration has been locked"),
    ("SET memory_limit = '100GB'", "the configuration has been locked"),
    ("PRAGMA threads = 8", "the configuration has been locked"),
    ("COPY (SELECT 1) TO '/tmp/atlas-leak.csv'", "file system operations are disabled"),
    ("SELECT * FROM read_csv('/etc/passwd')", "file system operations are disabled"),
    ("ATTACH '/tmp/atlas-other.duckdb' AS other", "file system operations are disabled"),
    ("LOAD httpfs", "disabled through configuration"),
    ("CREATE TABLE t AS SELECT 1", "read-only mode"),
    ("DROP TABLE counts", "read-only mode"),
    ("USE memory", "memory"),  # the instance's own writable database was detached
])
def test_connection_refuses_even_without_the_statement_check(con, sql: str, error: str) -> None:
    cur = con.cursor()
    try:
        with pytest.raises(duckdb.Error, match=error):
            cur.execute(sql)
    finally:
        cur.close()


def test_check_sql_returns_the_statement() -> None:
    assert check_sql("  SELECT 42 ;  ") == "SELECT 42"
    assert check_sql("EXPLAIN ANALYZE SELECT 1") == "EXPLAIN ANALYZE SELECT 1"
    with pytest.raises(SqlRefusedError, match="characters long"):
        check_sql("SELECT 1 " + " " * 30_000)


def test_open_console_without_a_database(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="analysis build --db"):
        open_console(tmp_path / "missing.duckdb")


def test_open_console_on_another_schema_version(db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "old.duckdb"
    copy.write_bytes(db.read_bytes())
    w = duckdb.connect(str(copy))
    w.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    w.close()
    with pytest.raises(StoreError, match="schema version 1"):
        open_console(copy)


# ------------------------------------------------------------------ schema and examples


def test_schema_tables_exact(con) -> None:
    tables = schema_tables(con)
    # 2 languages x 2 units = 4 units; x 3 tokenizers = 12 counts; lang_stats and premium_ci: 3 x 2 languages.
    got = {r.name: (r.kind, None if pd.isna(r.rows) else int(r.rows)) for r in tables.itertuples()}
    # The build's glitch-token checks: one scan per tokenizer, a row per vocabulary id of BERT (30,522) and of the
    # byte baseline (256 bytes + 3 specials; code points have no finite vocabulary), and a frequency row per id
    # that occurs in the corpus, counted here independently.
    from analysis import get_tokenizer
    from tests.tiny_store import TEXTS

    texts = [t for lines in TEXTS.values() for t in lines]
    seen = sum(len({i for t in texts for i in get_tokenizer(tid).encode(t).ids}) for tid in ("bert-uncased", "utf8-bytes"))
    # ... and a (token id, language) count per distinct pair, for the 2 pairs with a vocabulary.
    pairs = sum(len({(lang, i) for lang, lines in TEXTS.items() for t in lines for i in get_tokenizer(tid).encode(t).ids})
                for tid in ("bert-uncased", "utf8-bytes"))
    assert got == {"corpora": ("table", 1), "counts": ("table", 12), "lang_stats": ("table", 6),
                   "languages": ("table", 2), "meta": ("table", 6), "premium_ci": ("table", 6), "runs": ("table", 3),
                   "tokenizers": ("table", 3), "units": ("table", 4), "premiums": ("view", None),
                   # schema 3: each unit's word spans, stored at import (all 4 units have words: Latin, Greek)
                   "word_spans": ("table", 4),
                   "unit_ratios": ("view", None),
                   "glitch_scans": ("table", 3), "glitch_tokens": ("table", 30522 + 259), "token_frequency": ("table", seen),
                   "token_lang_counts": ("table", pairs), "token_count_runs": ("table", 2),
                   "glitch_models": ("table", 0), "glitch_indicators": ("table", 0), "glitch_verdicts": ("table", 0),
                   "published_models": ("table", 13), "published_tokens": ("table", 4864),
                   **{t: ("table", 0) for t in ("mono_corpora", "mono_counts", "mono_files", "mono_languages", "mono_runs",
                                                "mono_shards", "mono_stats")}}
    assert all(tables["description"].str.len() > 20)


def test_schema_columns(con) -> None:
    cols = schema_columns(con, "counts")
    assert cols["column"].tolist() == ["corpus", "tokenizer", "lang", "unit", "n_tokens", "n_unk", "n_byte_fallback",
                                       "n_continued"]
    assert cols.set_index("column").loc["n_tokens", "type"] == "INTEGER"
    with pytest.raises(SqlConsoleError, match="No table or view named 'nope'"):
        schema_columns(con, "nope")


@pytest.mark.parametrize(("title", "sql"), EXAMPLES, ids=[t for t, _ in EXAMPLES])
def test_every_example_runs(con, title: str, sql: str) -> None:
    result = run_query(con, sql)  # the tiny store has no 'udhr' rows: this checks syntax, names and types
    assert len(result.frame.columns) >= 2


def test_meta_example_returns_the_build_settings(con) -> None:
    meta = dict(run_query(con, dict(EXAMPLES)["Build settings (the meta table)"]).frame.itertuples(index=False))
    assert meta["schema_version"] == "3" and meta["normalization"] == "none"


def test_downloads_round_trip() -> None:
    frame = pd.DataFrame({"lang": ["eng", "ell"], "tokens": [20, 25], "text": ["a,b", "Καλό."]})
    assert to_csv_bytes(frame) == 'lang,tokens,text\neng,20,"a,b"\nell,25,Καλό.\n'.encode()
    back = pq.read_table(io.BytesIO(to_parquet_bytes(frame))).to_pandas()
    assert back.to_dict("list") == frame.to_dict("list")
