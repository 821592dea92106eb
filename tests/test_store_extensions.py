"""The build runs extensions through analysis.extensions: a test registers one that records every call, and the
build calls it in the documented order, on the writer's connection, with exact arguments.

The tiny corpus (tests/tiny_store.py) counted with utf8-bytes and codepoints on one worker, so in this process and in
this order: utf8-bytes first (the catalogue order given), each pair one chunk. utf8-bytes has a vocabulary, so the
workers also count its (token id, language) pairs and scan its vocabulary; the codepoints baseline has none.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb
import pytest

from analysis.extensions import BuildExtension, WorkerResults, register, registered, unregister
from analysis.store import open_readonly
from analysis.store.build import build
from tests.tiny_store import TEXTS, import_lines

TOKENIZERS = ["utf8-bytes", "codepoints"]


class Recorder(BuildExtension):
    """Records each hook call; keeps one table of its own (``census``: the pairs it was told about)."""

    name = "recorder"

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.current = False

    def create_tables(self, con: duckdb.DuckDBPyConnection) -> None:
        self.calls.append(("create_tables",))
        con.execute("CREATE TABLE IF NOT EXISTS census (corpus VARCHAR, tokenizer VARCHAR)")

    def forget_corpus(self, con: duckdb.DuckDBPyConnection, corpus: str) -> None:
        self.calls.append(("forget_corpus", corpus))
        if con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'census'").fetchone()[0]:
            con.execute("DELETE FROM census WHERE corpus = ?", [corpus])

    def after_pair(self, con: duckdb.DuckDBPyConnection, corpus: str, tokenizer: str) -> None:
        self.calls.append(("after_pair", corpus, tokenizer))
        # The pair's counts are in already, on the same connection: utf8-bytes 45 tokens (20 + 25 bytes), codepoints 34.
        tokens = con.execute("SELECT sum(n_tokens) FROM counts WHERE corpus = ? AND tokenizer = ?",
                             [corpus, tokenizer]).fetchone()[0]
        con.execute("INSERT INTO census VALUES (?, ?)", [corpus, f"{tokenizer}:{tokens}"])

    def after_tokenizer(self, con: duckdb.DuckDBPyConnection, tokenizer: str, results: WorkerResults,
                        progress) -> None:
        self.calls.append(("after_tokenizer", tokenizer, sorted(results.lang_counts.get(tokenizer, {})),
                           tokenizer in results.scans))

    def is_current(self, con: duckdb.DuckDBPyConnection, tokenizer_ids: Sequence[str]) -> bool:
        self.calls.append(("is_current", list(tokenizer_ids)))
        return self.current

    def after_build(self, con: duckdb.DuckDBPyConnection, tokenizer_ids: Sequence[str], *, workers: int | None,
                    progress, results: WorkerResults | None) -> None:
        self.calls.append(("after_build", list(tokenizer_ids), workers,
                           None if results is None else (sorted(results.lang_counts), sorted(results.scans))))
        self.current = True


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """The recorder as the only registered extension (the library's own token checks are put back afterwards)."""
    saved = {e.name: e for e in registered()}
    for name in saved:
        unregister(name)
    rec = Recorder()
    register(rec.name, rec)
    try:
        yield rec
    finally:
        unregister(rec.name)
        for name, extension in saved.items():
            register(name, extension)


def _census(db: Path) -> list[tuple]:
    with open_readonly(db) as con:
        return con.execute("SELECT * FROM census ORDER BY ALL").fetchall()


def test_a_build_calls_each_hook_in_order_with_exact_arguments(tmp_path: Path, recorder: Recorder) -> None:
    db = import_lines(tmp_path, TEXTS)  # imported before the recorder was told anything: no call yet
    recorder.calls.clear()
    build(db, corpora=["tiny"], tokenizers=TOKENIZERS, workers=1)
    assert recorder.calls == [
        ("create_tables",),
        ("after_pair", "tiny", "utf8-bytes"),
        ("after_tokenizer", "utf8-bytes", ["tiny"], True),  # its id counts and its vocabulary scan, from the workers
        ("after_pair", "tiny", "codepoints"),
        ("after_tokenizer", "codepoints", [], False),  # a baseline: nothing to scan, no id counts wanted
        ("is_current", TOKENIZERS),
        ("after_build", TOKENIZERS, 1, (["utf8-bytes"], ["utf8-bytes"])),
    ]
    # The hooks ran on the writer's copy, which the build swapped in: the extension's table and rows are there.
    assert _census(db) == [("tiny", "codepoints:34"), ("tiny", "utf8-bytes:45")]


def test_a_build_with_nothing_to_do_only_asks_whether_the_extension_is_current(tmp_path: Path,
                                                                                recorder: Recorder) -> None:
    db = import_lines(tmp_path, TEXTS)
    build(db, corpora=["tiny"], tokenizers=TOKENIZERS, workers=1)
    recorder.calls.clear()
    mtime = db.stat().st_mtime_ns
    report = build(db, corpora=["tiny"], tokenizers=TOKENIZERS, workers=1)
    assert recorder.calls == [("is_current", TOKENIZERS)]
    assert report.pairs_counted == [] and db.stat().st_mtime_ns == mtime  # nothing written

    recorder.current = False  # stale now: the build opens the writer and brings it up to date, counting nothing
    recorder.calls.clear()
    report = build(db, corpora=["tiny"], tokenizers=TOKENIZERS, workers=1)
    assert report.pairs_counted == []
    assert recorder.calls == [("is_current", TOKENIZERS), ("create_tables",), ("is_current", TOKENIZERS),
                              ("after_build", TOKENIZERS, 1, None)]


def test_importing_a_corpus_again_forgets_it_and_token_checks_off_runs_no_other_hook(tmp_path: Path,
                                                                                     recorder: Recorder) -> None:
    db = import_lines(tmp_path, TEXTS)
    build(db, corpora=["tiny"], tokenizers=TOKENIZERS, workers=1)
    recorder.calls.clear()
    import_lines(tmp_path, {"eng": ["Hi."], "ell": ["Γειά."]}, db)
    assert recorder.calls == [("forget_corpus", "tiny")]
    assert _census(db) == []  # its rows of the corpus went with the old units
    build(db, corpora=["tiny"], tokenizers=TOKENIZERS, workers=1, token_checks=False)
    assert recorder.calls == [("forget_corpus", "tiny")]
    with open_readonly(db) as con:
        assert con.execute("SELECT tokenizer, sum(n_tokens) FROM counts GROUP BY ALL ORDER BY ALL").fetchall() == [
            ("codepoints", 8), ("utf8-bytes", 12)]  # "Hi." 3 + "Γειά." 5 characters; 3 + 9 bytes


def test_the_library_registers_the_token_checks_and_the_builder_does_not_name_them() -> None:
    assert [e.name for e in registered()] == ["token_checks"]
    source = Path(__file__).resolve().parent.parent / "analysis" / "store"
    for module in ("build.py", "corpora.py", "writer.py", "schema.py", "premiums.py"):
        assert "glitch" not in (source / module).read_text(encoding="utf-8"), module
