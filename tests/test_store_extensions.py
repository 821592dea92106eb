"""The build runs extensions through analysis.extensions: a test registers one that records every call, and the
build calls it in the documented order, on the writer's connection, with exact arguments.

The tiny corpus (tests/tiny_store.py) counted with utf8-bytes and codepoints on one worker, so in this process and in
this order: utf8-bytes first (the catalogue order given), each pair one chunk. The recorder's plan asks the workers
for utf8-bytes's (token id, language) counts and for its job (:func:`probe`) on utf8-bytes, and takes codepoints's
result from its "cache".
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb
import pytest

from analysis.errors import StoreError
from analysis.extensions import BuildExtension, WorkerPlan, WorkerResults, register, registered, resolve, unregister
from analysis.store import open_readonly
from analysis.store.build import build
from tests.tiny_store import TEXTS, import_lines

TOKENIZERS = ["utf8-bytes", "codepoints"]
#: The recorder's worker job (what a worker runs: by name, so that a spawned worker imports it).
PROBE = "tests.test_store_extensions:probe"


def probe(tokenizer_id: str) -> tuple[int, list[str], list[int]]:
    """The recorder's worker job: the process it ran in, the tokenizers that process holds, and the ids of "é"."""
    from analysis.tokenizers import get_tokenizer
    from analysis.tokenizers.registry import loaded_ids

    ids = get_tokenizer(tokenizer_id).encode("é").ids
    return os.getpid(), loaded_ids(), ids


def tokens_by_lang(counted) -> dict[str, int]:
    """A pair's (token id, language) counts summed per language: its tokens in each language."""
    return {name: int(counted.counts[counted.langs == i].sum()) for i, name in enumerate(counted.lang_names)}


class Recorder(BuildExtension):
    """Records each hook call; keeps one table of its own (``census``: the pairs it was told about)."""

    name = "recorder"

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.current = False
        self.results: list[tuple] = []  # what the worker job returned (its process id, ...)

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

    def plan_workers(self, con: duckdb.DuckDBPyConnection | None, tokenizer_ids: Sequence[str]) -> WorkerPlan:
        # On the writer's copy: the table create_tables made is there.
        has_census = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'census'"
                                 ).fetchone()[0]
        self.calls.append(("plan_workers", list(tokenizer_ids), has_census))
        return WorkerPlan(lang_counts=frozenset({"utf8-bytes"}), job=PROBE, run=("utf8-bytes",),
                          cached=("codepoints",), note="recorder: codepoints from its cache")

    def job_done(self, tokenizer: str, result: tuple) -> None:
        self.calls.append(("job_done", tokenizer, result[1:]))
        self.results.append(result)

    def load_cached(self, tokenizer: str) -> str | None:
        self.calls.append(("load_cached", tokenizer))
        return f"cached {tokenizer}"

    def after_tokenizer(self, con: duckdb.DuckDBPyConnection, tokenizer: str, results: WorkerResults,
                        progress) -> None:
        counted = results.lang_counts.get(tokenizer, {})
        job = results.jobs[self.name].get(tokenizer)
        self.calls.append(("after_tokenizer", tokenizer, {c: tokens_by_lang(v) for c, v in counted.items()},
                           job[1:] if isinstance(job, tuple) else job))

    def is_current(self, con: duckdb.DuckDBPyConnection, tokenizer_ids: Sequence[str]) -> bool:
        self.calls.append(("is_current", list(tokenizer_ids)))
        return self.current

    def after_build(self, con: duckdb.DuckDBPyConnection, tokenizer_ids: Sequence[str], *, workers: int | None,
                    progress, results: WorkerResults | None) -> None:
        self.calls.append(("after_build", list(tokenizer_ids), workers,
                           None if results is None else (sorted(results.lang_counts), sorted(results.jobs[self.name]))))
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
    said: list[str] = []
    build(db, corpora=["tiny"], tokenizers=TOKENIZERS, workers=1, progress=said.append)
    # The job's result: the tokenizers its process held (only the one it ran for) and the ids of "é", the UTF-8
    # bytes c3 a9 (utf8-bytes: id = byte value + 3, as ByT5).
    job = (["utf8-bytes"], [0xC3 + 3, 0xA9 + 3])
    assert recorder.calls == [
        ("create_tables",),
        ("plan_workers", TOKENIZERS, 1),
        ("job_done", "utf8-bytes", job),  # the job comes before the tokenizer's chunks, in the same worker
        ("after_pair", "tiny", "utf8-bytes"),
        # its (token id, language) counts, as planned: 20 English and 25 Greek bytes; and its job's result
        ("after_tokenizer", "utf8-bytes", {"tiny": {"ell": 25, "eng": 20}}, job),
        ("after_pair", "tiny", "codepoints"),
        ("load_cached", "codepoints"),  # asked once its pair is counted
        ("after_tokenizer", "codepoints", {}, "cached codepoints"),  # no counts planned for it
        ("is_current", TOKENIZERS),
        ("after_build", TOKENIZERS, 1, (["utf8-bytes"], ["codepoints", "utf8-bytes"])),
    ]
    assert [r[0] for r in recorder.results] == [os.getpid()]  # one worker: counted in this process
    assert "recorder: codepoints from its cache" in said
    # The hooks ran on the writer's copy, which the build swapped in: the extension's table and rows are there.
    assert _census(db) == [("tiny", "codepoints:34"), ("tiny", "utf8-bytes:45")]


def test_a_worker_job_runs_in_a_worker_process(tmp_path: Path, recorder: Recorder,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """With two workers (and no small-job shortcut) the job runs in a spawned worker, which imports it by name; its
    result reaches the build's process."""
    db = import_lines(tmp_path, TEXTS)
    monkeypatch.setenv("ATLAS_POOL_MIN_BYTES", "0")
    recorder.calls.clear()
    build(db, corpora=["tiny"], tokenizers=TOKENIZERS, workers=2)
    (pid, held, ids), = recorder.results
    assert pid != os.getpid() and held == ["utf8-bytes"] and ids == [0xC3 + 3, 0xA9 + 3]
    # (the two tokenizers are counted at the same time: their calls come in either order)
    assert sorted(c for c in recorder.calls if c[0] in ("job_done", "load_cached")) == [
        ("job_done", "utf8-bytes", (held, ids)), ("load_cached", "codepoints")]
    after = {c[1]: c[2:] for c in recorder.calls if c[0] == "after_tokenizer"}
    assert after == {"utf8-bytes": ({"tiny": {"ell": 25, "eng": 20}}, (held, ids)),
                     "codepoints": ({}, "cached codepoints")}


def test_resolve_names_the_fix() -> None:
    assert resolve("analysis.extensions:WorkerPlan") is WorkerPlan
    assert resolve(PROBE)("utf8-bytes")[2] == [0xC3 + 3, 0xA9 + 3]  # (pytest imports this file under another name)
    with pytest.raises(StoreError) as caught:
        resolve("tests.test_store_extensions.probe")
    assert caught.value.message == ("'tests.test_store_extensions.probe' is not a \"module:attribute\" reference: "
                                    "register a build extension (or name its worker job) as \"package.module:name\".")


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
    for module in ("build.py", "corpora.py", "writer.py", "schema.py", "premiums.py", "local_pool.py",
                   "counting.py"):
        assert "glitch" not in (source / module).read_text(encoding="utf-8"), module


def test_the_token_checks_plan_what_the_workers_compute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The library's extension asks for the id counts of every tokenizer with a vocabulary (not the code-point
    baseline), a scan of each vocabulary neither current in the store nor in the asset cache, and the cached ones'
    checks; a vocabulary whose checks a build stored needs neither."""
    from analysis import load_catalogue
    from analysis.glitch import scan_cache
    from analysis.glitch.extension import TokenChecks

    monkeypatch.setenv("ATLAS_CHECKS_CACHE", str(tmp_path / "checks"))
    ids = ["bert-uncased", "utf8-bytes", "codepoints"]
    plan = TokenChecks().plan_workers(None, ids)
    assert plan == WorkerPlan(lang_counts=frozenset({"bert-uncased", "utf8-bytes"}),
                              job="analysis.glitch.extension:scan_job", run=("bert-uncased", "utf8-bytes"))
    cached = scan_cache.cache_path(load_catalogue().describe("bert-uncased").sha256)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"")  # there, but not a cache file: a miss, scanned again (and replaced by job_done)
    plan = TokenChecks().plan_workers(None, ids)
    assert (plan.run, plan.cached, plan.note) == (("bert-uncased", "utf8-bytes"), (), None)
    assert TokenChecks().load_cached("bert-uncased") is None
    from analysis import get_tokenizer
    from analysis.glitch.checks import scan_vocabulary

    scan_cache.store_scan("bert-uncased", scan_vocabulary(get_tokenizer("bert-uncased")), 1.5)
    plan = TokenChecks().plan_workers(None, ids)
    assert (plan.run, plan.cached) == (("utf8-bytes",), ("bert-uncased",))
    assert plan.note == "vocabulary checks of bert-uncased taken from the cache (see analysis.glitch.scan_cache)"
    assert TokenChecks().load_cached("bert-uncased") == scan_cache.CachedChecks("bert-uncased", cached, 30522, 1.5)

    db = import_lines(tmp_path, TEXTS)
    build(db, corpora=["tiny"], tokenizers=["utf8-bytes", "codepoints"], workers=1)
    with open_readonly(db) as con:
        plan = TokenChecks().plan_workers(con, ids)
    assert (plan.lang_counts, plan.run, plan.cached) == (frozenset({"bert-uncased", "utf8-bytes"}), (),
                                                         ("bert-uncased",))


def test_the_writer_creates_every_table_of_the_token_checks_in_one_place(tmp_path: Path) -> None:
    """The published verifications' tables too come from the extension's create_tables (schema.create_store); the
    loader creates none, and says how to open a database that lacks them."""
    from analysis.errors import GlitchError
    from analysis.glitch.extension import TokenChecks
    from analysis.glitch.published import load_published
    from analysis.store.schema import create_store

    bare = duckdb.connect(str(tmp_path / "bare.duckdb"))
    create_store(bare)  # the store's own tables, no extension
    with pytest.raises(GlitchError) as caught:
        load_published(bare)
    assert "open_writer(db, extensions=[TokenChecks()])" in caught.value.message
    assert not bare.execute("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'published%'"
                            ).fetchone()[0]  # nothing was created on the way
    create_store(bare, extensions=[TokenChecks()])
    assert [r[0] for r in bare.execute("SELECT table_name FROM information_schema.tables WHERE table_name LIKE "
                                       "'published%' OR table_name LIKE 'glitch%' ORDER BY 1").fetchall()] == [
        "glitch_indicators", "glitch_models", "glitch_scans", "glitch_tokens", "glitch_verdicts", "published_models",
        "published_tokens"]
    bare.close()
