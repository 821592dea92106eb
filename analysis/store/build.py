"""The one builder of the statistics store: incremental, parallel, atomic.

A build copies the current database (if any) to a temporary file beside it, adds what is missing
— corpora not yet imported, (corpus x tokenizer) pairs not yet counted — and swaps the result in
with ``os.replace`` (:mod:`.writer`). Readers therefore see the old file or the new one, never a half-written one,
and a build killed mid-way leaves the previous database intact (its temporary file is removed by
the next build).

This module is the orchestration only; the layers it runs, each usable on its own:

- :mod:`.writer`: the lock, the private copy swapped in atomically (:func:`~.writer.open_writer`), bulk inserts;
- :mod:`.corpora`: built-in corpora by name, importing parallel and monolingual corpora;
- :mod:`.counting`: counting units with one tokenizer (what every worker runs), the backends' cost tables;
- :mod:`.premiums`: premiums with their bootstrap intervals, computed and stored;
- :mod:`analysis.extensions`: the hooks through which other packages keep their own tables current; the builder
  knows none of them by name.

Counting runs on an *engine*: ``local`` (a process pool on this machine; one task per corpus x tokenizer
pair, results inserted directly) or ``ray`` (a Ray cluster: one task per corpus shard x tokenizer, each writing a
Parquet partition that DuckDB then reads; see :mod:`.engines`). Monolingual corpora (:mod:`.mono`) are counted
as shard tasks writing partitions on either engine.

Example:
    >>> report = build(db_path, corpora=["udhr"], tokenizers=["o200k_base"])   # doctest: +SKIP
    >>> report = build(db_path, corpora=["udhr"], engine="ray")                 # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..errors import StoreError
from ..metrics import DEFAULT_REFERENCE

# This module is imported with ``analysis.store`` (for :func:`build`), also by commands that only read the store:
# what only a build needs (the catalogue, the corpora, the counting pool, the tokenizers) is imported when it runs.
if TYPE_CHECKING:
    import duckdb

    from ..extensions import BuildExtension, WorkerResults
    from ..progress import Progress
    from .corpora import Normalization

Engine = Literal["local", "ray"]
DEFAULT_CORPORA = ("udhr",)


@dataclass
class BuildReport:
    """What a build did."""

    db: Path
    corpora_added: list[str] = field(default_factory=list)
    pairs_counted: list[tuple[str, str]] = field(default_factory=list)
    pairs_skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    engine: str = "local"
    tasks_run: int = 0  # shard tasks run (ray engine, monolingual corpora)
    tasks_reused: int = 0  # shard tasks skipped because their partition was already there (a resumed build)
    task_cpu_seconds: float = 0.0  # CPU time of the shard tasks in their workers


def parts_root(db: Path, parts: str | Path | None = None) -> str:
    """Where the Parquet partitions go: ``parts`` (a folder or an object-store URL), default ``<db>.parts``."""
    if parts is None:
        return str(db.with_name(db.name + ".parts").resolve())
    text = str(parts)
    return text.rstrip("/") if "://" in text else str(Path(text).expanduser().resolve())



def build(
    db_path: Path | None = None,
    *,
    corpora: Iterable[str] = DEFAULT_CORPORA,
    tokenizers: Iterable[str] | None = None,
    normalization: Normalization = "none",
    reference: str = DEFAULT_REFERENCE,
    workers: int | None = None,
    rebuild: bool = False,
    progress: Progress | None = None,
    engine: Engine = "local",
    parts: str | Path | None = None,
    shard_units: int | None = None,
    token_checks: bool = True,
) -> BuildReport:
    """Add every missing (corpus x tokenizer) pair to the store at ``db_path`` (default ``$ATLAS_DB``).

    Corpora named here that are not in the database yet are imported first (built-in ones only;
    use :func:`~.corpora.import_into_store` for your own). Each pair is counted in a worker process, so the
    work spreads over ``workers`` cores (default: all). ``rebuild`` starts from an empty database
    (imported corpora are then gone; the old file stays in place until the new one is complete).

    ``engine="ray"`` counts parallel corpora as (shard of ``shard_units`` units x tokenizer) tasks on Ray
    (``RAY_ADDRESS``, else a local Ray with ``workers`` CPUs), each writing a Parquet partition under ``parts``
    (default ``<db>.parts``); a build that was interrupted resumes from the partitions already there.
    Monolingual corpora are always counted that way, on the chosen engine.

    Each pair's premiums are stored against ``reference`` (default ``eng``), or where a corpus has no language of
    that code, against its one variant of it (``eng_Latn`` in a FLORES corpus; see :func:`stored_reference`).

    ``token_checks`` (default on) runs the registered build extensions (:mod:`analysis.extensions`; the library's
    own stores the token checks and token frequencies of every tokenizer, which the local engine's workers compute
    from the ids they count anyway). Off, only their :meth:`~analysis.extensions.BuildExtension.forget_corpus` runs.
    """
    from ..catalogue import load_catalogue
    from ..extensions import registered
    from . import mono
    from .corpora import BUILTIN_CORPORA, check_normalization, corpus_by_name, import_corpus
    from .local_pool import PairPool
    from .premiums import has_premiums, store_premiums
    from .schema import default_db_path, refresh_lang_stats
    from .sharded import count_sharded
    from .writer import TMP_PREFIX, locked, open_writer, remove_stale_copies

    say = progress or (lambda _m: None)
    db = Path(db_path) if db_path else default_db_path()
    catalogue = load_catalogue()
    tokenizer_ids = list(tokenizers) if tokenizers is not None else catalogue.ids
    for tid in tokenizer_ids:
        catalogue.describe(tid)  # unknown ids fail here, listing the available ones
    report = BuildReport(db=db, engine=engine)
    t_start = time.perf_counter()
    corpora = list(corpora)
    if engine not in ("local", "ray"):
        raise StoreError(f"Unknown engine {engine!r}: choose 'local' or 'ray'.")
    extensions = registered() if token_checks else []
    with locked(db) as mine:
        if mine:
            remove_stale_copies(db)
    if not rebuild and _up_to_date(db, corpora, tokenizer_ids, normalization, reference, report, extensions):
        say(f"{db} is up to date: {len(report.pairs_skipped)} (corpus x tokenizer) pair(s) already counted")
        return report
    report.pairs_skipped.clear()
    with open_writer(db, fresh=rebuild, extensions=extensions) as con:
        check_normalization(con, normalization)
        monolingual = [c for c in corpora if c in mono.mono_corpus_names(con)]
        corpora = [c for c in corpora if c not in monolingual]
        missing = [c for c in corpora if not con.execute("SELECT count(*) FROM corpora WHERE corpus = ?",
                                                         [c]).fetchone()[0]]
        for name in missing:
            if name not in BUILTIN_CORPORA:
                corpus_by_name(name)  # raises, saying how to import it
        # Every pair of a corpus about to be imported is to count, and so is every stale pair of the others. The
        # local pool starts on them now, its workers starting up and loading tokenizers during the import.
        todo = [(c, t) for c in missing for t in tokenizer_ids] + _pairs_to_count(
            con, [c for c in corpora if c not in missing], tokenizer_ids, report)
        results: WorkerResults | None = None  # what the local pool's workers computed besides the counts

        def record_pair(corpus: str, tid: str, seconds: float) -> None:
            _record_pair(con, corpus, tid, seconds, stored_reference(con, corpus, reference), report)
            for extension in extensions:
                extension.after_pair(con, corpus, tid)

        def record_mono_pair(corpus: str, tid: str) -> None:
            _record_tokenizer(con, corpus, tid, report)
            for extension in extensions:
                extension.after_pair(con, corpus, tid)

        with contextlib.ExitStack() as stack:
            pool = (stack.enter_context(PairPool(db, todo, workers=workers, tmp_prefix=TMP_PREFIX,
                                                 extensions=extensions, con=con,
                                                 expected_bytes=_expected_bytes(con, todo, missing)))
                    if todo and engine == "local" else None)
            for name in missing:
                import_corpus(con, corpus_by_name(name), normalization=normalization, progress=say)
                report.corpora_added.append(name)
            if pool is not None:
                pool.count(con, say=say, record=record_pair,
                           tokenizer_done=lambda t: _after_tokenizer(con, extensions, t, pool, say))
                todo, results = [], pool
        if todo or monolingual:
            count_sharded(con, todo, monolingual, tokenizer_ids, engine=engine, workers=workers,
                          root=parts_root(db, parts), shard_units=shard_units, normalization=normalization,
                          say=say, report=report, record_pair=record_pair, record_tokenizer=record_mono_pair)
        refresh_lang_stats(con)
        for name in corpora:
            for tid in tokenizer_ids:
                ref = stored_reference(con, name, reference)
                if not has_premiums(con, name, tid, ref):
                    store_premiums(con, name, tid, ref)
        _write_meta(con, normalization, tokenizer_ids)
        for extension in extensions:
            if not extension.is_current(con, tokenizer_ids):
                extension.after_build(con, tokenizer_ids, workers=workers, progress=say, results=results)
    report.seconds = time.perf_counter() - t_start
    say(f"done in {report.seconds:.1f} s: {len(report.pairs_counted)} pair(s) counted, "
        f"{len(report.pairs_skipped)} already present -> {db}")
    return report


def _expected_bytes(con: duckdb.DuckDBPyConnection, todo: list[tuple[str, str]], missing: list[str]) -> int | None:
    """The bytes of text the ``todo`` pairs will count (each pair its corpus's bytes), or None while a corpus of
    theirs is still to be imported (a built-in one: large enough for a pool)."""
    if any(c in missing for c, _ in todo):
        return None
    sizes = dict(con.execute("SELECT corpus, sum(n_bytes) FROM units GROUP BY corpus").fetchall())
    return sum(int(sizes.get(c) or 0) for c, _ in todo)


def _after_tokenizer(con: duckdb.DuckDBPyConnection, extensions: Sequence[BuildExtension], tid: str,
                     results: WorkerResults, say: Progress) -> None:
    """Every pair of ``tid`` is counted (the pool goes on with the others): each extension may store what it made of
    the workers' results now, overlapping the counting."""
    for extension in extensions:
        extension.after_tokenizer(con, tid, results, say)


def _up_to_date(db: Path, corpora: list[str], tokenizer_ids: list[str], normalization: Normalization,
                reference: str, report: BuildReport, extensions: Sequence[BuildExtension] = ()) -> bool:
    """True if ``db`` already holds every pair, current, with premiums, and every extension is current: then a build
    writes nothing at all."""
    import duckdb

    from . import mono
    from .premiums import has_premiums
    from .schema import SCHEMA_VERSION

    if not db.is_file():
        return False
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return False
    with con:
        try:
            version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            norm = con.execute("SELECT value FROM meta WHERE key = 'normalization'").fetchone()
            if version != (str(SCHEMA_VERSION),) or norm != (normalization,):
                return False
            monolingual = [c for c in corpora if c in mono.mono_corpus_names(con)]
            corpora = [c for c in corpora if c not in monolingual]
            for name in monolingual:
                todo, done = mono.pairs_todo(con, name, tokenizer_ids)
                if todo or mono.text_missing(con, name):
                    return False
                report.pairs_skipped += [(name, t) for t in done]
            if _pairs_to_count(con, corpora, tokenizer_ids, report):
                return False
            if not all(extension.is_current(con, tokenizer_ids) for extension in extensions):
                return False
            return all(has_premiums(con, c, t, stored_reference(con, c, reference)) for c in corpora
                       for t in tokenizer_ids
                       if con.execute("SELECT count(*) FROM languages WHERE corpus = ? AND lang = ?",
                                      [c, stored_reference(con, c, reference)]).fetchone()[0])
        except (duckdb.Error, StoreError):
            return False


def _pairs_to_count(con: duckdb.DuckDBPyConnection, corpora: list[str], tokenizer_ids: list[str],
                    report: BuildReport) -> list[tuple[str, str]]:
    from ..catalogue import load_catalogue

    catalogue = load_catalogue()
    todo = []
    for name in corpora:
        corpus_sha = con.execute("SELECT sha256 FROM corpora WHERE corpus = ?", [name]).fetchone()
        if corpus_sha is None:
            raise StoreError(f"Corpus {name!r} is not in the database; import it first.")
        for tid in tokenizer_ids:
            sha = catalogue.describe(tid).sha256 or "built in"
            run = con.execute("SELECT tokenizer_sha256, corpus_sha256 FROM runs WHERE corpus = ? AND tokenizer = ?",
                              [name, tid]).fetchone()
            if run == (sha, corpus_sha[0]):
                report.pairs_skipped.append((name, tid))
            else:
                todo.append((name, tid))
    return todo


def stored_reference(con: duckdb.DuckDBPyConnection, corpus: str, reference: str = DEFAULT_REFERENCE) -> str:
    """The language a corpus's premiums are stored against: ``reference`` if the corpus has a language of that code,
    else its one language coded ``reference`` plus a script or region subtag (FLORES's ``eng_Latn``, ``eng-US``),
    else ``reference`` (nothing is stored then; premiums are computed when asked for).

    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE languages (corpus VARCHAR, lang VARCHAR)")
    >>> _ = con.execute("INSERT INTO languages VALUES ('f', 'eng_Latn'), ('f', 'spa_Latn'), ('u', 'eng'), ('u', 'engx')")
    >>> stored_reference(con, "f"), stored_reference(con, "u"), stored_reference(con, "f", "fra")
    ('eng_Latn', 'eng', 'fra')
    """
    langs = [r[0] for r in con.execute("SELECT lang FROM languages WHERE corpus = ?", [corpus]).fetchall()]
    if reference in langs:
        return reference
    variants = [lang for lang in langs if lang.startswith((f"{reference}_", f"{reference}-"))]
    return variants[0] if len(variants) == 1 else reference


def _record_pair(con: duckdb.DuckDBPyConnection, name: str, tid: str, seconds: float, reference: str,
                 report: BuildReport) -> None:
    """After a pair's counts are in: its ``runs`` row, its ``tokenizers`` row and its premiums."""
    from ..catalogue import load_catalogue
    from .premiums import store_premiums

    entry = load_catalogue().describe(tid)
    corpus_sha = con.execute("SELECT sha256 FROM corpora WHERE corpus = ?", [name]).fetchone()[0]
    con.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?)",
                [name, tid, entry.sha256 or "built in", corpus_sha, datetime.now(UTC), seconds])
    _record_tokenizer(con, name, tid, report)
    store_premiums(con, name, tid, reference)


def _record_tokenizer(con: duckdb.DuckDBPyConnection, name: str, tid: str, report: BuildReport) -> None:
    from ..catalogue import load_catalogue
    from .counting import library_version

    entry = load_catalogue().describe(tid)
    con.execute("INSERT OR REPLACE INTO tokenizers VALUES (?, ?, ?, ?, ?, ?, ?)",
                [tid, entry.name, entry.backend, entry.vocab_size, entry.source, entry.sha256,
                 library_version(entry.backend)])
    report.pairs_counted.append((name, tid))


def _write_meta(con: duckdb.DuckDBPyConnection, normalization: Normalization, tokenizer_ids: list[str]) -> None:
    import duckdb

    from ..metrics import BOOTSTRAP_B, BOOTSTRAP_SEED
    from .schema import COUNTING_POLICY, SCHEMA_VERSION

    values = {
        "schema_version": str(SCHEMA_VERSION),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "counting_policy": COUNTING_POLICY,
        "normalization": normalization,
        "bootstrap": f"B={BOOTSTRAP_B}, seed={BOOTSTRAP_SEED}, percentile 2.5/97.5",
        "duckdb": duckdb.__version__,
    }
    con.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(values.items()))
