"""The counting job's fast path (analysis.user_counts): the corpus a worker holds between jobs, and the result database
written in one transaction with one Arrow insert. Every value must stay what the builder stores: these tests count
catalogue tokenizers that the session's store (``app_db``) was built with and compare row for row."""

from __future__ import annotations

import importlib
import os
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from analysis.errors import UnknownTokenizerError
from analysis.store.spans import unpack
from analysis.tokenizers.unit_stats import WordSpanList
from analysis.user_counts import HELD, count_into, held_corpus

UNITS, LANGUAGES = 16_235, 532  # the UDHR as imported: units and languages (docs/your-tokenizers.md)


@pytest.fixture
def fresh_worker() -> None:
    """A worker that holds no corpus yet (the module-level cache is per process)."""
    HELD.clear()
    yield
    HELD.clear()


def test_held_corpus_is_the_builders_input_read_once(app_db: Path, tmp_path: Path, fresh_worker: None) -> None:
    held = held_corpus(app_db)
    assert held_corpus(app_db) is held  # the same store version: nothing read again
    assert held.n_units == UNITS
    with duckdb.connect(str(app_db), read_only=True) as con:
        rows = con.execute("SELECT u.lang, u.unit, u.text, w.spans FROM units u LEFT JOIN word_spans w "
                           "USING (corpus, lang, unit) WHERE u.corpus = 'udhr' ORDER BY u.lang, u.position, u.unit"
                           ).fetchall()
        sha = con.execute("SELECT sha256 FROM corpora WHERE corpus = 'udhr'").fetchone()[0]
    assert held.sha256 == sha
    assert held.langs == [r[0] for r in rows] and held.units == [r[1] for r in rows]
    assert [t for texts, _ in held.pieces for t in texts] == [r[2] for r in rows]
    assert len(held.pieces) == 20 and [len(t) for t, _ in held.pieces] == [812] * 19 + [UNITS - 19 * 812]
    assert [s for _, spans in held.pieces for s in spans] == [unpack(r[3]) for r in rows]
    for _, spans in held.pieces:  # the arrays made from the flat BLOBs equal those WordSpanList makes from the lists
        made = WordSpanList(list(spans)).arrays
        for mine, theirs in zip(spans.arrays, made, strict=True):
            assert mine.dtype == theirs.dtype and mine.tolist() == theirs.tolist()
    # The start of every result: the corpus, its languages and its units without their text, nothing counted.
    (tmp_path / "template.duckdb").write_bytes(held.template)
    with duckdb.connect(str(tmp_path / "template.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*), count(text), count(DISTINCT lang) FROM units").fetchone() == \
            (UNITS, 0, LANGUAGES)
        assert [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in
                ("corpora", "languages", "counts", "runs", "premium_ci", "lang_stats")] == [1, LANGUAGES, 0, 0, 0, 0]
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("3",)


def test_a_new_store_file_is_read_again(app_db: Path, tmp_path: Path, fresh_worker: None) -> None:
    db = tmp_path / "atlas.duckdb"
    shutil.copyfile(app_db, db)
    first = held_corpus(db)
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(app_db, copy)
    os.replace(copy, db)  # what a build does: the new file renamed over the old one
    second = held_corpus(db)
    assert second is not first and second.version != first.version
    assert held_corpus(db) is second and list(HELD) == ["udhr"]  # one version held, not two


@pytest.mark.parametrize("tokenizer", ["utf8-bytes", "o200k_base", "bert-uncased"])
def test_cold_and_warm_jobs_store_what_the_build_stored(app_db: Path, tmp_path: Path, fresh_worker: None,
                                                        tokenizer: str) -> None:
    """A job in a fresh worker and one in a worker that holds the corpus (and the word offsets the first job's
    statistics cached on it) write the same rows, and those are the rows the CLI build stored for the pair."""
    cold = count_into(tokenizer, app_db, tmp_path / "cold.duckdb")
    held = HELD["udhr"]
    warm = count_into(tokenizer, app_db, tmp_path / "warm.duckdb")
    assert HELD["udhr"] is held  # the second job counted the corpus the first one read
    assert cold["units"] == warm["units"] == UNITS
    queries = {
        "counts": "SELECT lang, unit, n_tokens, n_unk, n_byte_fallback, n_continued FROM counts WHERE tokenizer = ? "
                  "ORDER BY lang, unit",
        "premium_ci": "SELECT lang, reference, premium, ci_low, ci_high, units, b, seed FROM premium_ci "
                      "WHERE tokenizer = ? ORDER BY lang",
        "lang_stats": "SELECT * EXCLUDE (tokenizer) FROM lang_stats WHERE tokenizer = ? ORDER BY lang",
        "languages": "SELECT * FROM languages WHERE ? IS NOT NULL ORDER BY lang",
        "units": "SELECT * EXCLUDE (text) FROM units WHERE ? IS NOT NULL ORDER BY lang, unit",
        "corpora": "SELECT * FROM corpora WHERE ? IS NOT NULL",
    }
    dbs = [duckdb.connect(str(p), read_only=True) for p in (tmp_path / "cold.duckdb", tmp_path / "warm.duckdb", app_db)]
    try:
        for name, sql in queries.items():
            got = [con.execute(sql, [tokenizer]).fetchall() for con in dbs]
            assert len(got[2]) == {"corpora": 1, "counts": UNITS, "units": UNITS}.get(name, LANGUAGES), name
            assert got[0] == got[1] == got[2], name  # exact, every row
        assert dbs[0].execute("SELECT count(*) FROM units WHERE text IS NOT NULL").fetchone()[0] == 0
        assert dbs[0].execute("SELECT key, value FROM meta ORDER BY key").fetchall() == \
            dbs[2].execute("SELECT key, value FROM meta WHERE key IN ('normalization', 'counting_policy', "
                           "'schema_version') ORDER BY key").fetchall()
        assert dbs[0].execute("SELECT corpus, tokenizer, corpus_sha256 FROM runs").fetchall() == \
            dbs[2].execute("SELECT corpus, tokenizer, corpus_sha256 FROM runs WHERE tokenizer = ?",
                           [tokenizer]).fetchall()
    finally:
        for con in dbs:
            con.close()


def test_byte_counts_by_hand(app_db: Path, tmp_path: Path, fresh_worker: None) -> None:
    """utf8-bytes: every unit's tokens are its UTF-8 bytes, and a premium is the ratio of the byte totals over the
    units a language shares with English."""
    count_into("utf8-bytes", app_db, tmp_path / "bytes.duckdb")
    with duckdb.connect(str(tmp_path / "bytes.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*), sum(n_tokens), count(*) FILTER (n_tokens = n_bytes AND n_unk = 0 AND "
                           "n_byte_fallback = 0) FROM counts JOIN units USING (corpus, lang, unit)").fetchone() \
            == (UNITS, *con.execute("SELECT sum(n_bytes) FROM units").fetchone(), UNITS)
        premium, units = con.execute("SELECT premium, units FROM premium_ci WHERE lang = 'fra'").fetchone()
        by_hand = con.execute("SELECT sum(d.n_bytes)::DOUBLE / sum(e.n_bytes), count(*) FROM units d JOIN units e "
                              "ON e.unit = d.unit AND e.lang = 'eng' WHERE d.lang = 'fra'").fetchone()
    assert (premium, units) == by_hand and premium > 1  # French spells the same articles in more bytes


def test_a_failed_write_leaves_nothing(app_db: Path, tmp_path: Path, fresh_worker: None,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importlib.import_module("analysis.premium_arrays"), "premium_ci_rows", broken)
    out = tmp_path / "out" / "premiums.duckdb"
    out.parent.mkdir()
    with pytest.raises(RuntimeError, match="disk full"):
        count_into("utf8-bytes", app_db, out)
    assert list(out.parent.iterdir()) == []  # no result, no temporary file, no WAL


def test_a_store_without_the_corpus(tmp_path: Path, fresh_worker: None) -> None:
    from analysis.store.schema import StoreError, create_schema

    db = tmp_path / "empty.duckdb"
    with duckdb.connect(str(db)) as con:
        create_schema(con)
    with pytest.raises(StoreError, match=re.escape(f"has no corpus 'udhr' to count added tokenizers on. Build it "
                                                   f"with `python -m analysis build --db {db} --corpus udhr`.")):
        count_into("utf8-bytes", db, tmp_path / "out.duckdb")
    assert not (tmp_path / "out.duckdb").exists() and HELD == {}
    missing = tmp_path / "none.duckdb"
    with pytest.raises(StoreError, match=re.escape(f"No statistics database at {missing} to count added tokenizers on "
                                                   f"(No such file or directory). Build it with `python -m analysis "
                                                   f"build --db {missing}`.")):
        count_into("utf8-bytes", missing, tmp_path / "out.duckdb")


def test_a_worker_keeps_its_last_tokenizers_within_its_bounds(app_db: Path, tmp_path: Path, fresh_worker: None,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """What a pool worker runs per job (``worker_job``): the tokenizers of its last jobs stay loaded, at most KEEP_MAX of
    them and only those whose id names their content; a job with a kept tokenizer stores the same rows."""
    from analysis.tokenizers import registry
    from analysis.user_counts import KEPT, forget_tokenizers, worker_job

    forget_tokenizers()
    monkeypatch.setattr("analysis.user_counts.KEEP_MAX", 2)

    def job(tokenizer: str, name: str) -> list[tuple]:
        out = tmp_path / f"{name}.duckdb"
        assert worker_job(tokenizer, str(app_db), str(out), str(tmp_path / f"{name}.progress"))["units"] == UNITS
        with duckdb.connect(str(out), read_only=True) as con:
            return con.execute("SELECT lang, unit, n_tokens, n_unk, n_byte_fallback, n_continued FROM counts "
                               "ORDER BY lang, unit").fetchall()

    first = job("o200k_base", "first")
    assert list(KEPT) == ["o200k_base"] and registry.loaded_ids() == ["o200k_base"]
    kept = registry.get_tokenizer("o200k_base")
    assert job("o200k_base", "again") == first and registry.get_tokenizer("o200k_base") is kept  # not loaded again
    job("utf8-bytes", "bytes")
    job("codepoints", "codepoints")
    assert list(KEPT) == ["utf8-bytes", "codepoints"]  # the least recently used released
    assert registry.loaded_ids() == ["codepoints", "utf8-bytes"]
    with pytest.raises(UnknownTokenizerError):
        job("no-such-tokenizer", "failed")
    assert list(KEPT) == ["utf8-bytes", "codepoints"]  # a failed job keeps nothing of its own
    assert forget_tokenizers() == ["utf8-bytes", "codepoints"] and KEPT == {} and registry.loaded_ids() == []


def test_results_are_written_through_one_instance_and_a_failed_write_leaves_nothing(
        app_db: Path, tmp_path: Path, fresh_worker: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each result file is attached to the worker's one in-memory DuckDB (one thread), filled, checkpointed and
    detached: the folder then holds the result alone (no WAL, no temporary file). A failure inside the write leaves no
    file, drops that instance, and the next job writes the same rows through a new one."""
    from analysis import user_counts

    out = tmp_path / "a" / "premiums.duckdb"
    out.parent.mkdir()
    count_into("utf8-bytes", app_db, out)
    writer = user_counts._WRITER
    assert writer is not None and writer.execute("SELECT current_setting('threads')").fetchone() == (1,)
    assert writer.execute("SELECT database_name FROM duckdb_databases() WHERE NOT internal").fetchall() == [("memory",)]
    assert list(out.parent.iterdir()) == [out]
    with duckdb.connect(str(out), read_only=True) as con:
        first = con.execute("SELECT * FROM counts ORDER BY lang, unit").fetchall()
        premiums = con.execute("SELECT * FROM premium_ci ORDER BY lang").fetchall()
    again = tmp_path / "b" / "premiums.duckdb"
    again.parent.mkdir()
    count_into("utf8-bytes", app_db, again)
    assert user_counts._WRITER is writer and list(again.parent.iterdir()) == [again]  # the same instance

    def broken(_con):
        raise RuntimeError("disk full")

    monkeypatch.setattr("analysis.store.schema.refresh_lang_stats", broken)
    failed = tmp_path / "c" / "premiums.duckdb"
    failed.parent.mkdir()
    with pytest.raises(RuntimeError, match="disk full"):
        count_into("utf8-bytes", app_db, failed)
    assert list(failed.parent.iterdir()) == [] and user_counts._WRITER is None
    monkeypatch.undo()
    count_into("utf8-bytes", app_db, failed)
    with duckdb.connect(str(failed), read_only=True) as con:
        assert con.execute("SELECT * FROM counts ORDER BY lang, unit").fetchall() == first
        assert con.execute("SELECT * FROM premium_ci ORDER BY lang").fetchall() == premiums
    # Intervals under two shared units are NULL, as the builder stores them, not NaN.
    assert sum(r[5] is None for r in premiums) == sum(r[7] < 2 for r in premiums) > 0


def test_progress_notes(app_db: Path, tmp_path: Path, fresh_worker: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A note at the start, then after a piece at most every NOTE_EVERY seconds (none after the last piece: the job is
    then writing its result, and done says 1.0)."""
    import json

    notes: list[dict] = []

    def note(path, done, total):
        notes.append({"done": done, "total": total})
        path.write_text(json.dumps(notes[-1]), encoding="utf-8")

    monkeypatch.setattr("analysis.user_counts._note", note)
    monkeypatch.setattr("analysis.user_counts.NOTE_EVERY", 0.0)
    count_into("utf8-bytes", app_db, tmp_path / "every.duckdb", progress=tmp_path / "every.progress")
    assert notes == [{"done": 812 * k, "total": UNITS} for k in range(20)]
    notes.clear()
    monkeypatch.setattr("analysis.user_counts.NOTE_EVERY", 3600.0)
    count_into("utf8-bytes", app_db, tmp_path / "once.duckdb", progress=tmp_path / "once.progress")
    assert notes == [{"done": 0, "total": UNITS}]


def test_a_pool_worker_takes_one_core() -> None:
    """numpy's BLAS (the premiums' matrix products) runs on one thread in a worker, set by its initializer, and the
    HF tokenizers' thread pool is off; this process is left as it was."""
    from analysis.user_counts import CountingPool, blas_threads

    mine = blas_threads()
    pool = CountingPool(workers=1)
    try:
        assert pool.call_in_worker(blas_threads).result() == 1
        assert pool.call_in_worker(os.getenv, "TOKENIZERS_PARALLELISM").result() == "false"
    finally:
        pool.close()
    assert mine is not None and mine >= 1 and blas_threads() == mine
