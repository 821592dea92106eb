"""The one builder of the statistics store: incremental, parallel, atomic.

A build copies the current database (if any) to a temporary file beside it, adds what is missing
— corpora not yet imported, (corpus x tokenizer) pairs not yet counted — and swaps the result in
with ``os.replace``. Readers therefore see the old file or the new one, never a half-written one,
and a build killed mid-way leaves the previous database intact (its temporary file is removed by
the next build).

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
import fcntl
import os
import shutil
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import duckdb
import numpy as np

from analysis.i18n import N_

from ..catalogue import load_catalogue
from ..corpus import ParallelCorpus
from ..corpus.monolingual import MonoCorpus
from . import mono
from .local_pool import PairPool
from .schema import (
    COUNTING_POLICY,
    DEFAULT_REFERENCE,
    SCHEMA_VERSION,
    UPGRADABLE,
    StoreError,
    create_schema,
    default_db_path,
    refresh_lang_stats,
    upgrade,
)
from .sharded import count_sharded

if TYPE_CHECKING:
    from ..glitch.checks import VocabularyScan
    from ..glitch.frequency import LangIdCounts

Normalization = Literal["none", "NFC", "NFKC"]
Engine = Literal["local", "ray"]
Progress = Callable[[str], None]
BOOTSTRAP_B = 1000
BOOTSTRAP_SEED = 0
DEFAULT_CORPORA = ("udhr",)
BUILTIN_CORPORA = ("udhr",)
_TMP_PREFIX = ".building-"


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


# ------------------------------------------------------------------ atomic write


@contextlib.contextmanager
def _locked(db: Path, *, wait: bool = False) -> Iterator[bool]:
    """Hold ``<db>.lock`` (one writer at a time); yields False instead of raising if busy and not ``wait``-ing."""
    db.parent.mkdir(parents=True, exist_ok=True)
    with open(db.with_name(db.name + ".lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True


def _remove_stale_copies(db: Path) -> None:
    """Delete private copies left by a killed build (call only while holding the lock)."""
    for stale in db.parent.glob(f"{_TMP_PREFIX}{db.name}.*"):
        if stale.is_dir() and not stale.is_symlink():  # a killed build's published texts (see local_pool)
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


@contextlib.contextmanager
def _writer(db: Path, *, fresh: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a private copy of ``db`` (an empty one if ``fresh``); on success it replaces ``db`` atomically."""
    with _locked(db) as mine:
        if not mine:
            raise StoreError(f"Another build is writing {db} right now; wait for it to finish and run again.")
        _remove_stale_copies(db)
        tmp = db.with_name(f"{_TMP_PREFIX}{db.name}.{os.getpid()}")
        try:
            if db.exists() and not fresh:
                shutil.copyfile(db, tmp)
            try:
                con = duckdb.connect(str(tmp))
                version = None
                if con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'").fetchone()[0]:
                    version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            except duckdb.Error as e:
                raise StoreError(f"{db} is not a readable Token Atlas database ({e}). Move it away, or rebuild it from "
                                 "scratch with `python -m analysis build --rebuild`.") from e
            try:
                if version is not None and version[0] in UPGRADABLE:
                    upgrade(con, version[0])  # on the private copy: the old file stays until the build succeeds
                elif version is not None and version[0] != str(SCHEMA_VERSION):
                    raise StoreError(f"{db} has schema version {version[0]}, this code writes {SCHEMA_VERSION}. "
                                     "Rebuild it from scratch with `python -m analysis build --rebuild`.")
                create_schema(con)
                mono.create_mono_schema(con)
                yield con
                con.execute("CHECKPOINT")
            finally:
                con.close()
            os.chmod(tmp, 0o644)
            os.replace(tmp, db)
        finally:
            tmp.unlink(missing_ok=True)
            Path(str(tmp) + ".wal").unlink(missing_ok=True)


# ------------------------------------------------------------------ corpora


def corpus_by_name(name: str) -> ParallelCorpus:
    """A built-in corpus by name (``udhr``); imported corpora live in the database itself."""
    if name == "udhr":
        from ..corpus.udhr import load_udhr

        return load_udhr()
    raise StoreError(
        f"No built-in corpus named {name!r} (built in: udhr). Import your own first: "
        "`python -m analysis corpus import --kind flores200|lines|tsv|jsonl --path P --name NAME`."
    )


def import_into_store(db_path: Path | None, corpus: ParallelCorpus, *, normalization: Normalization = "none",
                      progress: Progress | None = None) -> Path:
    """Put a user's corpus into the store (replacing one of the same name), atomically; count it with build()."""
    db = Path(db_path) if db_path else default_db_path()
    with _writer(db) as con:
        _check_normalization(con, normalization)
        if corpus.name in mono.mono_corpus_names(con):
            raise StoreError(f"{corpus.name!r} is already the name of a monolingual corpus in this database; import "
                             "the parallel corpus under another --name.")
        names = [r[0] for r in con.execute("SELECT corpus FROM corpora").fetchall()] + list(BUILTIN_CORPORA)
        clash = next((n for n in names if n.casefold() == corpus.name.casefold() and n != corpus.name), None)
        if clash is not None or corpus.name in BUILTIN_CORPORA:
            raise StoreError(f"{corpus.name!r} clashes with the corpus {clash or corpus.name!r} (names are compared "
                             "ignoring case, and built-in corpora cannot be replaced); import it under another --name.",
                             title=N_("Corpus name taken"))
        import_corpus(con, corpus, normalization=normalization, progress=progress or (lambda _m: None))
        refresh_lang_stats(con)
        con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?), ('normalization', ?)",
                    [str(SCHEMA_VERSION), normalization])
    return db


def import_mono_into_store(db_path: Path | None, corpus: MonoCorpus, *, normalization: Normalization = "none",
                           progress: Progress | None = None) -> Path:
    """Put a monolingual corpus's definition (files, languages, shard plan) into the store, atomically; its text
    stays in its folder and is read when build() counts it."""
    db = Path(db_path) if db_path else default_db_path()
    with _writer(db) as con:
        _check_normalization(con, normalization)
        mono.import_mono(con, corpus, normalization=normalization)
        con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?), ('normalization', ?)",
                    [str(SCHEMA_VERSION), normalization])
    sampled = f", sampling {corpus.sample:g} of lines with seed {corpus.seed}" if corpus.sample else ""
    (progress or (lambda _m: None))(
        f"monolingual corpus {corpus.name}: {len(corpus.languages)} languages, {len(corpus.files)} files, "
        f"{sum(f.size for f in corpus.files) / 1e6:,.1f} MB on disk, {len(corpus.shards)} shards{sampled}")
    return db


def parts_root(db: Path, parts: str | Path | None = None) -> str:
    """Where the Parquet partitions go: ``parts`` (a folder or an object-store URL), default ``<db>.parts``."""
    if parts is None:
        return str(db.with_name(db.name + ".parts").resolve())
    text = str(parts)
    return text.rstrip("/") if "://" in text else str(Path(text).expanduser().resolve())


def bulk_insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple],
                 columns: list[str] | None = None) -> None:
    """Insert many rows at once through a DataFrame (``executemany`` goes row by row: ~1000x slower).

    ``columns`` names the columns the rows fill (default: every column of ``table``, in order).
    """
    if not rows:
        return
    import pandas as pd

    names = columns or [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    frame = pd.DataFrame(rows, columns=names)
    con.register("_bulk_rows", frame)
    try:
        con.execute(f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(names)} FROM _bulk_rows")
    finally:
        con.unregister("_bulk_rows")


def _normalize(text: str, normalization: Normalization) -> str:
    return text if normalization == "none" else unicodedata.normalize(normalization, text)


def import_corpus(con: duckdb.DuckDBPyConnection, corpus: ParallelCorpus, *, normalization: Normalization,
                  progress: Progress) -> None:
    """(Re)place one corpus's languages and units; its old counts go with it.

    Each unit's ICU word spans are computed here, once, and stored (table ``word_spans``; no row where words are
    withheld): builds count from them without segmenting again.
    """
    from ..glitch.store import forget_lang_counts
    from ..words import segmenter_coverage, words
    from .spans import pack

    for table in ("counts", "runs", "premium_ci", "word_spans", "units", "languages", "corpora"):
        con.execute(f"DELETE FROM {table} WHERE corpus = ?", [corpus.name])
    forget_lang_counts(con, corpus.name)

    position = {u: i for i, u in enumerate(corpus.unit_order)}
    rows = []
    spans: dict[tuple[str, str], list[tuple[int, int]] | None] = {}
    for lang in corpus.languages.values():
        texts = [(u, _normalize(t, normalization)) for u, t in corpus.texts(lang.code).items()]
        words_ok, why = segmenter_coverage("\n".join(t for _, t in texts), lang.script, lang=lang.iso639_3)
        for unit, text in texts:
            spans[lang.code, unit] = words(text) if words_ok else None
            rows.append((corpus.name, lang.code, unit, position.get(unit), text, len(text.encode("utf-8")),
                         len(text), len(spans[lang.code, unit]) if words_ok else None, None if words_ok else why))
    bulk_insert(con, "units", rows)
    bulk_insert(con, "word_spans", [(corpus.name, lang, unit, pack(s)) for (lang, unit), s in spans.items()
                                     if s is not None])
    bulk_insert(
        con, "languages",
        [(corpus.name, lg.code, lg.name, lg.script, lg.bcp47, lg.iso639_3, lg.direction, lg.latitude,
          lg.longitude, lg.complete, lg.stage) for lg in corpus.languages.values()],
    )
    con.execute(
        "INSERT INTO corpora (corpus, source, sha256, n_languages, n_units, unit_order, normalization, imported_at, "
        "protocol) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [corpus.name, corpus.source, corpus.sha256, len(corpus.languages), len(corpus.unit_order),
         corpus.unit_order, normalization, datetime.now(UTC), corpus.protocol],
    )
    progress(f"corpus {corpus.name}: {len(corpus.languages)} languages, {len(rows)} units ({corpus.source})")


# ------------------------------------------------------------------ counting (runs in worker processes)


def count_units(tokenizer_id: str, texts: Sequence[str], word_spans: Sequence[list[tuple[int, int]] | None],
                lang_of_text: Sequence[str] | None = None
                ) -> tuple[list[int], list[int], list[int], list[int | None], float, LangIdCounts | None]:
    """Per text: tokens, UNK tokens, byte-fallback tokens, words split over several tokens; seconds taken; and, given
    each text's language, the (token id, language) counts that token frequencies are made of (None otherwise)."""
    from ..glitch.frequency import LangIdCounts
    from ..tokenizers import get_tokenizer

    tok = get_tokenizer(tokenizer_id)
    t0 = time.perf_counter()
    stats = tok.unit_stats(texts, word_spans)
    counted = (LangIdCounts.of(stats.ids, stats.n_tokens, lang_of_text)
               if lang_of_text is not None and stats.ids is not None else None)
    return (stats.n_tokens, stats.n_unk, stats.n_byte_fallback, stats.n_continued, time.perf_counter() - t0,
            counted)


#: Rough relative cost of counting with each backend: the slow ones are started first, so that the
#: last tasks to finish are short ones and neither core idles long at the end.
_BACKEND_COST = {"hf": 0, "ai21": 0, "sentencepiece": 1, "mistral": 1, "tiktoken": 2, "baseline": 3}


def library_version(backend: str) -> str:
    package = {"tiktoken": "tiktoken", "hf": "tokenizers", "mistral": "mistral-common",
               "sentencepiece": "sentencepiece", "ai21": "sentencepiece"}.get(backend)
    return f"{package} {metadata.version(package)}" if package else "built in"


# ------------------------------------------------------------------ premiums


def compute_premium_ci(con: duckdb.DuckDBPyConnection, corpus: str, tokenizer: str, reference: str, *,
                       b: int = BOOTSTRAP_B, seed: int = BOOTSTRAP_SEED) -> list[tuple]:
    """Premium of every language against ``reference`` with its bootstrap CI (rows for ``premium_ci``).

    Each language uses the units present in both it and the reference, in document order. A language that shares
    fewer than two units with the reference gets no interval (NULL ``ci_low``/``ci_high``): a bootstrap over one
    unit would only repeat the premium, an interval of width zero that claims a certainty it does not have (a corpus
    imported with the petrov2023 protocol has one unit per language).
    """
    from ..metrics import bootstrap_ci_many

    frame = con.execute(
        """SELECT c.lang, u.position, c.unit, c.n_tokens FROM counts c JOIN units u USING (corpus, lang, unit)
           WHERE c.corpus = ? AND c.tokenizer = ? ORDER BY c.lang, u.position, c.unit""",
        [corpus, tokenizer]).df()
    is_ref = (frame["lang"] == reference).to_numpy()
    if not is_ref.any():
        return []
    ref = frame[is_ref].set_index("unit")["n_tokens"]
    ref = ref[ref > 0]
    matrix = frame.pivot(index="lang", columns="unit", values="n_tokens").reindex(columns=list(ref.index))
    n_lang = matrix.to_numpy(dtype=np.float64)
    n_ref = ref.to_numpy(dtype=np.float64)
    bounds = bootstrap_ci_many(n_lang, n_ref, b=b, seed=seed)
    present = ~np.isnan(n_lang)
    units = present.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.nansum(n_lang, axis=1) / (present * n_ref).sum(axis=1)
    bounds[units < 2] = np.nan  # stored as NULL
    return [(corpus, tokenizer, lang, reference, float(v), float(lo), float(hi), int(k), b, seed)
            for lang, v, lo, hi, k in zip(matrix.index.tolist(), values.tolist(), bounds[:, 0].tolist(),
                                          bounds[:, 1].tolist(), units.tolist(), strict=True) if k]


# ------------------------------------------------------------------ the build


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
    use :func:`import_into_store` for your own). Each pair is counted in a worker process, so the
    work spreads over ``workers`` cores (default: all). ``rebuild`` starts from an empty database
    (imported corpora are then gone; the old file stays in place until the new one is complete).

    ``engine="ray"`` counts parallel corpora as (shard of ``shard_units`` units x tokenizer) tasks on Ray
    (``RAY_ADDRESS``, else a local Ray with ``workers`` CPUs), each writing a Parquet partition under ``parts``
    (default ``<db>.parts``); a build that was interrupted resumes from the partitions already there.
    Monolingual corpora are always counted that way, on the chosen engine.

    ``token_checks`` (default on) also stores the glitch-token checks and token frequencies of every tokenizer
    (:mod:`analysis.glitch.store`); the local engine's workers compute them from the ids they count anyway.
    """
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
    with _locked(db) as mine:
        if mine:
            _remove_stale_copies(db)
    if not rebuild and _up_to_date(db, corpora, tokenizer_ids, normalization, reference, report, token_checks):
        say(f"{db} is up to date: {len(report.pairs_skipped)} (corpus x tokenizer) pair(s) already counted")
        return report
    report.pairs_skipped.clear()
    with _writer(db, fresh=rebuild) as con:
        _check_normalization(con, normalization)
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
        counted: dict[str, dict[str, LangIdCounts]] = {}  # the workers' id counts and checks, for the token checks
        scans: dict[str, tuple[VocabularyScan, float]] = {}
        from ..glitch.store import current_checks

        with contextlib.ExitStack() as stack:
            pool = (stack.enter_context(PairPool(db, todo, workers=workers, tmp_prefix=_TMP_PREFIX,
                                                 checks=token_checks, checked=current_checks(con, tokenizer_ids),
                                                 expected_bytes=_expected_bytes(con, todo, missing)))
                    if todo and engine == "local" else None)
            for name in missing:
                import_corpus(con, corpus_by_name(name), normalization=normalization, progress=say)
                report.corpora_added.append(name)
            if pool is not None:
                pool.count(con, say=say, record=lambda c, t, s: _record_pair(con, c, t, s, reference, report),
                           tokenizer_done=lambda t: _store_checks_early(con, pool, t, say))
                todo, counted, scans = [], pool.lang_counts, pool.scans
        if todo or monolingual:
            count_sharded(con, todo, monolingual, tokenizer_ids, engine=engine, workers=workers,
                          root=parts_root(db, parts), shard_units=shard_units, normalization=normalization,
                          say=say, report=report,
                          record_pair=lambda c, t, s: _record_pair(con, c, t, s, reference, report),
                          record_tokenizer=lambda c, t: _record_tokenizer(con, c, t, report))
        refresh_lang_stats(con)
        for name in corpora:
            for tid in tokenizer_ids:
                if not _has_premiums(con, name, tid, reference):
                    _store_premiums(con, name, tid, reference)
        _write_meta(con, normalization, tokenizer_ids)
        if token_checks:
            from ..glitch.store import refresh_token_checks  # glitch-token checks and token frequency (issue 5)

            refresh_token_checks(con, tokenizer_ids, workers=workers, progress=say, counted=counted, scans=scans)
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


def _store_checks_early(con: duckdb.DuckDBPyConnection, pool: PairPool, tid: str, say: Progress) -> None:
    """A tokenizer's glitch-token checks, stored from its workers' results while the pool counts the others; its
    pairs' (token id, language) counts are kept for later builds that add a corpus."""
    from ..glitch.store import store_counted_checks, store_lang_counts

    t0 = time.perf_counter()
    for corpus, counted in pool.lang_counts.get(tid, {}).items():
        store_lang_counts(con, corpus, tid, counted)
    if tid in pool.lang_counts and store_counted_checks(con, tid, pool.lang_counts[tid], pool.scans.get(tid)):
        say(f"token checks {tid}: stored from the counting worker's ids in {time.perf_counter() - t0:.1f} s")
        # Stored and current now: the final refresh_token_checks has nothing left to do with them (the scan of a
        # large vocabulary is ~100 MB of Python objects).
        pool.scans.pop(tid, None)
        pool.lang_counts.pop(tid, None)


def _up_to_date(db: Path, corpora: list[str], tokenizer_ids: list[str], normalization: Normalization,
                reference: str, report: BuildReport, token_checks: bool = True) -> bool:
    """True if ``db`` already holds every pair, current, with premiums: then a build writes nothing at all."""
    if not db.is_file():
        return False
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return False
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
        from ..glitch.published import published_stale
        from ..glitch.store import stale_scans

        if token_checks and (stale_scans(con, tokenizer_ids)  # e.g. a database built before the token checks existed
                             or published_stale(con)):
            return False
        return all(_has_premiums(con, c, t, reference) for c in corpora for t in tokenizer_ids
                   if con.execute("SELECT count(*) FROM languages WHERE corpus = ? AND lang = ?",
                                  [c, reference]).fetchone()[0])
    except (duckdb.Error, StoreError):
        return False
    finally:
        con.close()


def _store_premiums(con: duckdb.DuckDBPyConnection, corpus: str, tokenizer: str, reference: str) -> None:
    con.execute("DELETE FROM premium_ci WHERE corpus = ? AND tokenizer = ? AND reference = ?",
                [corpus, tokenizer, reference])
    rows = compute_premium_ci(con, corpus, tokenizer, reference)
    if rows:
        bulk_insert(con, "premium_ci", rows)


def _check_normalization(con: duckdb.DuckDBPyConnection, normalization: Normalization) -> None:
    row = con.execute("SELECT value FROM meta WHERE key = 'normalization'").fetchone()
    if row is not None and row[0] != normalization:
        raise StoreError(
            f"This database was built with normalization {row[0]!r}, not {normalization!r}; counts under two "
            "policies must not mix. Use another --db for the other policy."
        )


def _has_premiums(con: duckdb.DuckDBPyConnection, corpus: str, tokenizer: str, reference: str) -> bool:
    return con.execute("SELECT count(*) FROM premium_ci WHERE corpus = ? AND tokenizer = ? AND reference = ?",
                       [corpus, tokenizer, reference]).fetchone()[0] > 0


def _pairs_to_count(con: duckdb.DuckDBPyConnection, corpora: list[str], tokenizer_ids: list[str],
                    report: BuildReport) -> list[tuple[str, str]]:
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


def _record_pair(con: duckdb.DuckDBPyConnection, name: str, tid: str, seconds: float, reference: str,
                 report: BuildReport) -> None:
    """After a pair's counts are in: its ``runs`` row, its ``tokenizers`` row and its premiums."""
    entry = load_catalogue().describe(tid)
    corpus_sha = con.execute("SELECT sha256 FROM corpora WHERE corpus = ?", [name]).fetchone()[0]
    con.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?)",
                [name, tid, entry.sha256 or "built in", corpus_sha, datetime.now(UTC), seconds])
    _record_tokenizer(con, name, tid, report)
    _store_premiums(con, name, tid, reference)


def _record_tokenizer(con: duckdb.DuckDBPyConnection, name: str, tid: str, report: BuildReport) -> None:
    entry = load_catalogue().describe(tid)
    con.execute("INSERT OR REPLACE INTO tokenizers VALUES (?, ?, ?, ?, ?, ?, ?)",
                [tid, entry.name, entry.backend, entry.vocab_size, entry.source, entry.sha256,
                 library_version(entry.backend)])
    report.pairs_counted.append((name, tid))


def _write_meta(con: duckdb.DuckDBPyConnection, normalization: Normalization, tokenizer_ids: list[str]) -> None:
    values = {
        "schema_version": str(SCHEMA_VERSION),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "counting_policy": COUNTING_POLICY,
        "normalization": normalization,
        "bootstrap": f"B={BOOTSTRAP_B}, seed={BOOTSTRAP_SEED}, percentile 2.5/97.5",
        "duckdb": duckdb.__version__,
    }
    con.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(values.items()))
