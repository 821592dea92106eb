"""Glitch-token tables in the statistics store: created, refreshed by the build, read by the CLI and the dashboard.

Tables (all created here with ``CREATE TABLE IF NOT EXISTS``; the store's own schema is untouched):

- ``glitch_scans``: one row per scanned tokenizer: vocabulary sha256, the corpora counted (name:sha256), the checks
  version, ids, corpus tokens, seconds, or why it was not scanned (the code-point and word baselines).
- ``glitch_tokens``: one row per (tokenizer, token id): display string, bytes (only where they are not the display
  string's UTF-8), script, category flags (:class:`~analysis.glitch.categories.Category` bits: the vocabulary checks
  alone, which do not depend on the corpora).
- ``token_frequency``: one row per (tokenizer, token id) that occurs in the corpora: total, languages, top languages
  (information about this database's corpora, not a glitch category).
- ``token_lang_counts``: the exact (token id, language) counts of each (corpus x tokenizer) pair a build counted, with
  ``token_count_runs`` naming those pairs (and their corpus's content hash): adding a corpus then counts only its own
  pairs, and every tokenizer's frequency is merged from these rows instead of encoding the other corpora again.
- ``glitch_models``, ``glitch_indicators``, ``glitch_verdicts``: weight indicators and prompt verification per model.
- ``published_models``, ``published_tokens``: the published verifications (:mod:`analysis.glitch.published`).

Example:
    >>> refresh_token_checks(con, ["o200k_base"])          # doctest: +SKIP
    >>> flags_for(con, "o200k_base", [3413, 24912])         # doctest: +SKIP
    {3413: ['unreachable']}
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb
import numpy as np

from analysis.i18n import N_

from ..lifecycle import die_with_parent
from ..progress import Progress
from ..store.writer import has_table
from .categories import CATEGORY_NAMES, UNDER_TRAINED_VERIFIED, Category, GlitchError, from_names, names
from .checks import CHECKS_VERSION

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from .checks import VocabularyScan
    from .frequency import Frequency, LangIdCounts
    from .scan_cache import CachedChecks

    #: A vocabulary's checks as a build hands them over: a scan made now, with its seconds, or a cache file.
    Scan = tuple[VocabularyScan, float] | CachedChecks

TABLES = """
CREATE TABLE IF NOT EXISTS glitch_scans (
    tokenizer VARCHAR PRIMARY KEY, tokenizer_sha256 VARCHAR, corpora VARCHAR, checks_version VARCHAR,
    n_ids INTEGER, corpus_tokens BIGINT, seconds DOUBLE, scanned_at TIMESTAMP, note VARCHAR
);
CREATE TABLE IF NOT EXISTS glitch_tokens (
    tokenizer VARCHAR, token_id INTEGER, token_bytes BLOB, display VARCHAR, script VARCHAR, flags USMALLINT
);
CREATE TABLE IF NOT EXISTS token_frequency (
    tokenizer VARCHAR, token_id INTEGER, total BIGINT, n_langs INTEGER, top_langs VARCHAR[], top_counts BIGINT[]
);
CREATE TABLE IF NOT EXISTS token_lang_counts (
    corpus VARCHAR, tokenizer VARCHAR, token_id INTEGER, lang VARCHAR, n BIGINT
);
CREATE TABLE IF NOT EXISTS token_count_runs (
    corpus VARCHAR, tokenizer VARCHAR, corpus_sha256 VARCHAR, PRIMARY KEY (corpus, tokenizer)
);
CREATE TABLE IF NOT EXISTS glitch_models (
    model VARCHAR PRIMARY KEY, source VARCHAR, tokenizer VARCHAR, tokenizer_sha256 VARCHAR, n_rows INTEGER,
    dim INTEGER, dtype VARCHAR, embedding VARCHAR, unembedding VARCHAR, indicator VARCHAR, reference VARCHAR,
    n_reference INTEGER, percentile DOUBLE, threshold DOUBLE, n_candidates INTEGER, device VARCHAR,
    seconds DOUBLE, computed_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS glitch_indicators (
    model VARCHAR, token_id INTEGER, token VARCHAR, norm DOUBLE, score DOUBLE, reachable BOOLEAN, candidate BOOLEAN
);
CREATE TABLE IF NOT EXISTS glitch_verdicts (
    model VARCHAR, token_id INTEGER, max_prob DOUBLE, best_prompt VARCHAR, threshold DOUBLE,
    under_trained BOOLEAN, template_version VARCHAR, verified_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS published_models (
    source VARCHAR, model VARCHAR, name VARCHAR, tokenizer VARCHAR, source_path VARCHAR, commit VARCHAR,
    indicator_name VARCHAR, verification_threshold DOUBLE, soft_threshold DOUBLE, vocab_size INTEGER,
    embedding_shape VARCHAR, tested INTEGER, below_p001 INTEGER, below_soft INTEGER, n_rows INTEGER,
    n_verified INTEGER, n_match INTEGER, n_mismatch INTEGER, n_unchecked INTEGER, files_sha256 VARCHAR,
    checked_against VARCHAR, PRIMARY KEY (source, model)
);
CREATE TABLE IF NOT EXISTS published_tokens (
    source VARCHAR, model VARCHAR, tokenizer VARCHAR, rank INTEGER, token_id INTEGER, token VARCHAR,
    indicator DOUBLE, max_prob DOUBLE, verified BOOLEAN, vocab_entry VARCHAR, "check" VARCHAR
);
"""


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The glitch tables, where missing (run by the store's writer through :class:`.extension.TokenChecks`)."""
    con.execute(TABLES)


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame | pa.Table) -> None:
    if len(frame):
        con.register("_glitch_rows", frame)
        try:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _glitch_rows")
        finally:
            con.unregister("_glitch_rows")


# ------------------------------------------------------------------ refresh (runs at the end of every build)


def _corpora_key(con: duckdb.DuckDBPyConnection) -> str:
    return ",".join(f"{c}:{s}" for c, s in con.execute("SELECT corpus, sha256 FROM corpora ORDER BY corpus").fetchall())


#: Every unit's text and language, and where each corpus's units are, sent to each worker process once.
_WORKER_TEXTS: dict[str, object] = {}


def _init_worker(texts: list[str], langs: list[str], corpora: list[tuple[str, int, int]]) -> None:
    # One process per core already: the HF tokenizers' own thread pool would only oversubscribe the cores.
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    die_with_parent(os.getppid())  # a killed refresh must not leave its workers running
    _WORKER_TEXTS.update(texts=texts, langs=langs, corpora=corpora)


def _scan_in_worker(tokenizer_id: str, scan: bool) -> dict[str, object]:
    """The vocabulary checks of one tokenizer (if ``scan``) and the (token id, language) counts of every corpus."""
    from ..tokenizers import get_tokenizer
    from .checks import encode_flat, scan_vocabulary
    from .frequency import LangIdCounts

    t0 = time.perf_counter()
    tok = get_tokenizer(tokenizer_id)
    checks = scan_vocabulary(tok) if scan else None
    texts, langs = _WORKER_TEXTS["texts"], _WORKER_TEXTS["langs"]
    flat, counts = encode_flat(tok, texts)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    counted = {name: LangIdCounts.of(flat[bounds[a]:bounds[b]], counts[a:b], langs[a:b])
               for name, a, b in _WORKER_TEXTS["corpora"]}
    return {"scan": checks, "counted": counted, "seconds": time.perf_counter() - t0}


# Bytes are stored only where they are not simply the display string's UTF-8: partial UTF-8 and special pieces (for
# every other id the display string is the bytes decoded). The one expression both ways of storing a vocabulary's
# rows use (from a scan in memory, from a cache file).
def _token_rows(ids: str) -> str:
    """The SELECT list of ``glitch_tokens`` rows from a scan's columns, the token id in column ``ids``."""
    return f"""SELECT ?::VARCHAR AS tokenizer, {ids}::INTEGER AS token_id,
                      CASE WHEN flags & {int(Category.PARTIAL_UTF8 | Category.SPECIAL)} <> 0
                                AND token_bytes <> encode(display) THEN token_bytes END AS token_bytes,
                      display, script, flags::USMALLINT AS flags"""


def _insert_tokens(con: duckdb.DuckDBPyConnection, tokenizer_id: str, scan: Scan) -> int:
    """Insert one tokenizer's ``glitch_tokens`` rows, column by column (a cache file is read by DuckDB itself: no
    Python object per token); return how many."""
    from .scan_cache import CachedChecks

    if isinstance(scan, CachedChecks):
        # The file's rows are in id order (row i is id i) and DuckDB keeps a scan's order in what it inserts
        # (preserve_insertion_order, on by default): no ORDER BY, whose sort of every row took ~10 MB and 0.1-0.3 s.
        con.execute(f"INSERT INTO glitch_tokens {_token_rows('file_row_number')} "
                    "FROM read_parquet(?, file_row_number = true)", [tokenizer_id, str(scan.path)])
        return scan.n_ids
    checks = scan[0]
    n = len(checks)
    _atlas_tokens = {"token_id": np.arange(n, dtype=np.int32), "token_bytes": _objects(checks.token_bytes),
                     "display": _objects(checks.display), "script": _objects(checks.script),
                     "flags": np.asarray(checks.flags, dtype=np.uint16)}
    # DuckDB's replacement scan reads the local dict of arrays by its name.
    con.execute(f"INSERT INTO glitch_tokens {_token_rows('token_id')} FROM _atlas_tokens", [tokenizer_id])
    return n


def _objects(values: np.ndarray) -> np.ndarray:
    """``values`` as an object array (DuckDB casts each to the column's type)."""
    if isinstance(values, np.ndarray) and values.dtype == object:
        return values
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _insert_frequency(con: duckdb.DuckDBPyConnection, tokenizer_id: str, freq: Frequency, lang_names: list[str]
                      ) -> None:
    """The ``token_frequency`` rows of one tokenizer: one per id seen, with its top languages as list columns, made
    by DuckDB from the frequency's arrays."""
    seen = np.flatnonzero(freq.total)
    _atlas_seen = {"token_id": seen.astype(np.int32), "total": freq.total[seen].astype(np.int64),
                   "n_langs": freq.n_langs[seen].astype(np.int32)}
    # The top pairs are sorted by id, then count (descending): k keeps that order inside each id's lists.
    _atlas_top = {"token_id": freq.top_ids.astype(np.int32), "k": np.arange(len(freq.top_ids), dtype=np.int64),
                  "lang": freq.top_langs.astype(np.int64) + 1, "n": freq.top_counts.astype(np.int64)}
    con.execute("""INSERT INTO token_frequency
                   SELECT ?::VARCHAR, s.token_id, s.total, s.n_langs, coalesce(t.langs, []::VARCHAR[]),
                          coalesce(t.counts, []::BIGINT[])
                   FROM _atlas_seen s LEFT JOIN (
                       SELECT token_id, list((?::VARCHAR[])[lang] ORDER BY k) AS langs, list(n ORDER BY k) AS counts
                       FROM _atlas_top GROUP BY token_id) t USING (token_id)
                   ORDER BY s.token_id""", [tokenizer_id, list(lang_names)])


def store_lang_counts(con: duckdb.DuckDBPyConnection, corpus: str, tokenizer_id: str, counted: LangIdCounts) -> None:
    """Keep one counted pair's (token id, language) counts, replacing any earlier ones of that pair."""
    for table in ("token_lang_counts", "token_count_runs"):
        con.execute(f"DELETE FROM {table} WHERE corpus = ? AND tokenizer = ?", [corpus, tokenizer_id])
    if len(counted.ids):
        _atlas_counts = {"token_id": counted.ids.astype(np.int32), "lang": counted.langs.astype(np.int64) + 1,
                         "n": counted.counts.astype(np.int64)}
        con.execute("INSERT INTO token_lang_counts SELECT ?::VARCHAR, ?::VARCHAR, token_id, (?::VARCHAR[])[lang], n "
                    "FROM _atlas_counts", [corpus, tokenizer_id, list(counted.lang_names)])
    con.execute("INSERT INTO token_count_runs SELECT ?, ?, sha256 FROM corpora WHERE corpus = ?",
                [corpus, tokenizer_id, corpus])


def forget_lang_counts(con: duckdb.DuckDBPyConnection, corpus: str) -> None:
    """Drop a corpus's stored (token id, language) counts (it is being replaced)."""
    if has_table(con, "token_count_runs"):
        for table in ("token_lang_counts", "token_count_runs"):
            con.execute(f"DELETE FROM {table} WHERE corpus = ?", [corpus])


def _stored_lang_counts(con: duckdb.DuckDBPyConnection, corpus: str, tokenizer_id: str) -> LangIdCounts | None:
    """The stored counts of a pair, if they were counted from the corpus as it is now; else None."""
    from .frequency import LangIdCounts

    if not has_table(con, "token_count_runs") or not con.execute(
            "SELECT count(*) FROM token_count_runs r JOIN corpora c USING (corpus) WHERE r.corpus = ? AND "
            "r.tokenizer = ? AND r.corpus_sha256 = c.sha256", [corpus, tokenizer_id]).fetchone()[0]:
        return None
    rows = con.execute("SELECT token_id, lang, n FROM token_lang_counts WHERE corpus = ? AND tokenizer = ? "
                       "ORDER BY token_id, lang", [corpus, tokenizer_id]).fetchnumpy()
    return LangIdCounts.of_pairs(rows["token_id"], np.asarray(rows["lang"], dtype=object).tolist(), rows["n"])


def current_checks(con: duckdb.DuckDBPyConnection, tokenizer_ids: Iterable[str]) -> set[str]:
    """The tokenizers whose stored vocabulary checks are still current (same vocabulary sha256, same checks
    version, one stored row per id), whatever corpora their frequencies were counted on: their vocabularies need no
    new scan."""
    ids = list(tokenizer_ids)
    if not ids or not has_table(con, "glitch_scans"):
        return set()
    stored = dict(((t, (sha, v)) for t, sha, v in con.execute(
        """SELECT s.tokenizer, s.tokenizer_sha256, s.checks_version FROM glitch_scans s
           JOIN (SELECT tokenizer, count(*) AS n FROM glitch_tokens WHERE tokenizer IN (SELECT unnest(?::VARCHAR[]))
                 GROUP BY tokenizer) t USING (tokenizer)
           WHERE s.note IS NULL AND t.n = s.n_ids""", [ids]).fetchall()))
    return {t for t in ids if stored.get(t) == (_vocabulary_sha(t), CHECKS_VERSION)}


def _vocabulary_sha(tokenizer_id: str) -> str:
    """The vocabulary's sha256 as scans record it ("built in" for the baselines, which have no file)."""
    from ..catalogue import load_catalogue

    return load_catalogue().describe(tokenizer_id).sha256 or "built in"


def _scannable(tokenizer_id: str) -> str | None:
    """Why a catalogue tokenizer has no vocabulary to scan, or None if it has one."""
    if tokenizer_id in ("codepoints", "words"):
        return ("no finite vocabulary: the code-point and word baselines give every character or word its own id, "
                "so no id can be under-trained")
    return None


def scannable(tokenizer_id: str) -> bool:
    """Whether the token checks cover ``tokenizer_id`` (every catalogue tokenizer but the code-point and word
    baselines)."""
    return _scannable(tokenizer_id) is None


def stale_scans(con: duckdb.DuckDBPyConnection, tokenizer_ids: Iterable[str]) -> list[str]:
    """The tokenizers among ``tokenizer_ids`` whose stored scan is missing or out of date (see
    :func:`refresh_token_checks`); every one of them if the database has no token checks at all."""
    ids = list(tokenizer_ids)
    if not has_table(con, "glitch_scans"):
        return ids
    corpora = _corpora_key(con)
    stored = {r[0]: r[1:] for r in con.execute(
        "SELECT tokenizer, tokenizer_sha256, corpora, checks_version FROM glitch_scans").fetchall()}
    return [tid for tid in ids if stored.get(tid) != (_vocabulary_sha(tid), corpora, CHECKS_VERSION)]


def refresh_token_checks(con: duckdb.DuckDBPyConnection, tokenizer_ids: Iterable[str] | None = None, *,
                         workers: int | None = None, progress: Progress | None = None,
                         counted: dict[str, dict[str, LangIdCounts]] | None = None,
                         scans: dict[str, Scan] | None = None) -> list[str]:
    """(Re)scan every listed tokenizer whose stored scan is missing or stale; return the ids scanned.

    A scan is current while the vocabulary's sha256, the corpora in the store (name and content hash) and
    :data:`~analysis.glitch.checks.CHECKS_VERSION` are unchanged, so a build that adds nothing rescans nothing.
    Call it on a writer's connection that has the glitch tables (:func:`analysis.store.writer.open_writer` with the
    :class:`~analysis.glitch.extension.TokenChecks` extension creates them, as every build does).

    A build hands over what its counting workers already computed: ``counted[tokenizer][corpus]``, the (token id,
    language) counts of a corpus, and ``scans[tokenizer]``, the vocabulary checks with their seconds. The counts of
    pairs counted by earlier builds come from ``token_lang_counts``, and the checks of a vocabulary that has not
    changed from ``glitch_tokens``. A tokenizer with checks and counts for every corpus in the store is stored from
    them with no encoding; the others are scanned, and the units of every corpus encoded again, in worker processes
    (``workers``, default one per core).
    """
    from ..catalogue import load_catalogue

    say = progress or (lambda _m: None)
    catalogue = load_catalogue()
    ids = list(tokenizer_ids) if tokenizer_ids is not None else catalogue.ids
    corpora = _corpora_key(con)
    stale = stale_scans(con, ids)
    todo = [tid for tid in stale if scannable(tid)]
    for tid in stale:
        if not scannable(tid):
            _replace_scan(con, tid, _vocabulary_sha(tid), corpora, None, None, 0, 0.0, _scannable(tid))
    if not todo:
        _refresh_published(con, say)
        return []
    t0 = time.perf_counter()
    counted, scans = counted or {}, scans or {}
    ready = []
    for tid in todo:
        if store_counted_checks(con, tid, counted.get(tid, {}), scans.get(tid)):
            ready.append(tid)
    if ready:
        say(f"token checks: {len(ready)} vocabularies stored from counted ids and known checks, with no encoding, "
            f"in {time.perf_counter() - t0:.1f} s")
    rest = [tid for tid in todo if tid not in ready]
    if rest:
        _scan_in_pool(con, rest, workers, say)
    _refresh_published(con, say)
    say(f"token checks done in {time.perf_counter() - t0:.1f} s")
    return todo


def _refresh_published(con: duckdb.DuckDBPyConnection, say: Progress) -> None:
    """Load the published verifications again if they are missing or were checked against other vocabularies."""
    from .published import load_published, published_stale

    if published_stale(con):
        checks = load_published(con)
        say("published verifications (Magikarp): " + ", ".join(f"{n:,} {c}" for c, n in checks.items() if n))


def store_counted_checks(con: duckdb.DuckDBPyConnection, tokenizer_id: str, counted: dict[str, LangIdCounts],
                         scan: Scan | None) -> bool:
    """Store one tokenizer's checks and token frequency from a build's counting workers: ``counted[corpus]``, the
    (token id, language) counts of each corpus, and ``scan``, the vocabulary checks: a scan with its seconds, or
    their cache file (:class:`~analysis.glitch.scan_cache.CachedChecks`, stored by DuckDB from the file), or None
    (the stored checks, if they are current).

    Corpora not in ``counted`` are taken from the pairs' stored counts (see :func:`store_lang_counts`). Returns False,
    storing nothing, if some corpus in the store has neither, or if there is no ``scan`` and no current stored one. A
    build calls this as soon as a tokenizer's last pair is counted, so the storing overlaps the counting of the others.
    """
    from .frequency import merge_lang_counts

    current = tokenizer_id in current_checks(con, [tokenizer_id])
    if scan is None and not current:
        return False
    in_store = [r[0] for r in con.execute("SELECT DISTINCT corpus FROM units ORDER BY 1").fetchall()]
    parts = [counted[c] if c in counted else _stored_lang_counts(con, c, tokenizer_id) for c in in_store]
    if any(p is None for p in parts):
        return False
    lang_names = [r[0] for r in con.execute("SELECT DISTINCT lang FROM units ORDER BY 1").fetchall()]
    sha = _vocabulary_sha(tokenizer_id)
    if current:
        # The vocabulary's rows are stored and current (the same vocabulary and checks give the same rows, and no
        # flag depends on the corpora): only the frequency rows and the scan's record change.
        stored = con.execute("SELECT token_id FROM glitch_tokens WHERE tokenizer = ? ORDER BY token_id",
                             [tokenizer_id]).fetchnumpy()
        ((n, seconds),) = con.execute("SELECT n_ids, seconds FROM glitch_scans WHERE tokenizer = ?",
                                      [tokenizer_id]).fetchall()
        if len(stored["token_id"]) == n and np.array_equal(stored["token_id"], np.arange(n)):
            freq = merge_lang_counts(parts, lang_names, n_ids=n)
            _replace_scan(con, tokenizer_id, sha, _corpora_key(con), None, (freq, lang_names), int(freq.total.sum()),
                          _seconds(scan) if scan else seconds, None, n_ids=n)
            return True
        if scan is None:
            return False
    freq = merge_lang_counts(parts, lang_names, n_ids=_n_ids(scan))
    _replace_scan(con, tokenizer_id, sha, _corpora_key(con), scan, (freq, lang_names), int(freq.total.sum()),
                  _seconds(scan), None)
    return True


def _n_ids(scan: Scan) -> int:
    return len(scan) if not isinstance(scan, tuple) else len(scan[0])


def _seconds(scan: Scan) -> float:
    return scan[1] if isinstance(scan, tuple) else scan.seconds


def _scan_in_pool(con: duckdb.DuckDBPyConnection, todo: list[str], workers: int | None, say: Progress) -> None:
    """Count ``todo``'s ids over every unit in the store, and scan the vocabularies whose stored checks are not
    current, in worker processes; keep each corpus's counts (see :func:`store_lang_counts`) and store the checks."""
    from ..catalogue import load_catalogue

    catalogue = load_catalogue()
    units = con.execute("SELECT corpus, lang, text FROM units ORDER BY corpus, lang, position, unit").fetchall()
    texts = [text for _, _, text in units]
    langs = [lang for _, lang, _ in units]
    corpora, start = [], 0  # (corpus, first unit, end): the units come corpus after corpus
    for name, group in itertools.groupby(corpus for corpus, _, _ in units):
        end = start + sum(1 for _ in group)
        corpora.append((name, start, end))
        start = end
    have = current_checks(con, todo)
    todo = sorted(todo, key=lambda t: -(catalogue.describe(t).vocab_size or 0))  # the big vocabularies first
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(todo)))
    say(f"token checks: scanning {len(todo) - len(have)} vocabularies and counting the ids of {len(todo)} over "
        f"{len(texts):,} units on {n_workers} worker(s)")
    ctx = multiprocessing.get_context("spawn")  # the Rust tokenizers' threads do not survive fork
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(texts, langs, corpora)) as pool:
        futures = {pool.submit(_scan_in_worker, tid, tid not in have): tid for tid in todo}
        for done, future in enumerate(as_completed(futures), 1):
            tid = futures[future]
            result = future.result()
            for name, counted in result["counted"].items():
                store_lang_counts(con, name, tid, counted)
            scan = (result["scan"], result["seconds"]) if result["scan"] is not None else None
            if not store_counted_checks(con, tid, result["counted"], scan):
                raise GlitchError(f"The token checks of {tid!r} could not be stored; run the build again.")
            say(f"[{done}/{len(todo)}] token checks {tid}: ids counted in {result['seconds']:.1f} s"
                + ("" if scan is None else f", {len(scan[0]):,} vocabulary entries checked"))


def _replace_scan(con: duckdb.DuckDBPyConnection, tid: str, sha: str, corpora: str, tokens: Scan | None,
                  frequency: tuple[Frequency, list[str]] | None, corpus_tokens: int, seconds: float,
                  note: str | None, *, n_ids: int | None = None) -> None:
    """Replace one tokenizer's stored checks: its token rows (from ``tokens``; None with ``n_ids``: the stored rows
    stay), its frequency rows (from the frequency and the language names it indexes) and its scan record; no rows at
    all with a ``note`` saying why there is no vocabulary."""
    kept = tokens is None and n_ids is not None
    for table in ("token_frequency", "glitch_scans") if kept else ("glitch_tokens", "token_frequency", "glitch_scans"):
        con.execute(f"DELETE FROM {table} WHERE tokenizer = ?", [tid])
    ids = n_ids if kept else (0 if tokens is None else _insert_tokens(con, tid, tokens))
    if frequency is not None:
        _insert_frequency(con, tid, *frequency)
    con.execute("INSERT INTO glitch_scans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [tid, sha, corpora, CHECKS_VERSION, ids, corpus_tokens, seconds, datetime.now(UTC), note])


# ------------------------------------------------------------------ reading


def _require(con: duckdb.DuckDBPyConnection, table: str = "glitch_tokens") -> None:
    if not has_table(con, table):
        raise GlitchError(
            N_("This statistics database has no token checks yet (it was built before they existed). Add them with "
               "`python -m analysis glitch refresh` (or `python -m analysis build --rebuild`)."),
            title=N_("No token checks in the database"),
        )


def scanned_tokenizers(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per scanned tokenizer: ids, corpus tokens, seconds, and why a baseline was not scanned."""
    _require(con, "glitch_scans")
    return con.execute("SELECT tokenizer, n_ids, corpus_tokens, corpora, checks_version, seconds, note "
                       "FROM glitch_scans ORDER BY tokenizer").df()


def category_counts(con: duckdb.DuckDBPyConnection, tokenizer: str | None = None) -> pd.DataFrame:
    """Per tokenizer: how many ids fall in each check category (columns named by category), ``ids`` in all, and how
    many ids occur nowhere in this database's corpora (information, not a category)."""
    _require(con)
    bits = [(name, int(from_names([name]))) for name in CATEGORY_NAMES]
    cols = ", ".join(f"count(*) FILTER (WHERE t.flags & {bit} <> 0) AS \"{name}\"" for name, bit in bits)
    where = "WHERE t.tokenizer = ?" if tokenizer else ""
    return con.execute(f"""SELECT t.tokenizer, count(*) AS ids, {cols},
                                  count(*) FILTER (WHERE coalesce(f.total, 0) = 0) AS "not in this database's corpora"
                           FROM glitch_tokens t LEFT JOIN token_frequency f USING (tokenizer, token_id) {where}
                           GROUP BY t.tokenizer ORDER BY t.tokenizer""", [tokenizer] if tokenizer else []).df()


def token_table(con: duckdb.DuckDBPyConnection, tokenizer: str, *, categories: Sequence[str] = (),
                script: str | None = None, search: str | None = None, max_total: int | None = None,
                limit: int | None = None) -> pd.DataFrame:
    """One row per token id of ``tokenizer`` with its checks and frequency, filtered.

    Args:
        categories: keep ids in all of these categories (names as in :data:`~analysis.glitch.categories.LEGEND`).
        script: keep ids of this script class (``Latn``, ``mixed``, ``partial UTF-8``, ``special``, ...).
        search: keep ids whose display string contains this text (case-insensitive, literal).
        max_total: keep ids seen at most this many times in the corpora.
    """
    _require(con)
    if not con.execute("SELECT count(*) FROM glitch_scans WHERE tokenizer = ?", [tokenizer]).fetchone()[0]:
        have = [r[0] for r in con.execute("SELECT tokenizer FROM glitch_scans WHERE note IS NULL ORDER BY 1").fetchall()]
        raise GlitchError(N_("No token checks for {tokenizer!r} in this database; it has: {have}. Add it with "
                             "`python -m analysis build --tokenizers {tokenizer}`."), title=N_("Not scanned"),
                          tokenizer=tokenizer, have=", ".join(have) or "none")
    where, params = ["t.tokenizer = ?"], [tokenizer]
    if categories:
        where.append("t.flags & ? = ?")
        bits = int(from_names(categories))
        params += [bits, bits]
    if script:
        where.append("t.script = ?")
        params.append(script)
    if search:
        where.append("contains(lower(t.display), lower(?))")
        params.append(search)
    if max_total is not None:
        where.append("coalesce(f.total, 0) <= ?")
        params.append(max_total)
    sql = (f"""SELECT t.token_id AS id, t.display AS token,
                      lower(hex(coalesce(t.token_bytes, encode(t.display)))) AS bytes_hex, t.script, t.flags,
                      coalesce(f.total, 0) AS total, coalesce(f.n_langs, 0) AS n_langs, f.top_langs, f.top_counts
               FROM glitch_tokens t LEFT JOIN token_frequency f USING (tokenizer, token_id)
               WHERE {' AND '.join(where)} ORDER BY t.token_id""" + (f" LIMIT {int(limit)}" if limit else ""))
    df = con.execute(sql, params).df()
    df.insert(2, "category", [";".join(names(int(f))) or "ok" for f in df["flags"].tolist()])
    df["top_langs"] = [", ".join(f"{lang}:{c}" for lang, c in zip(ls, cs)) if isinstance(ls, list | np.ndarray) else ""
                       for ls, cs in zip(df["top_langs"].tolist(), df["top_counts"].tolist())]
    return df.drop(columns=["top_counts"])


def flags_for(con: duckdb.DuckDBPyConnection, tokenizer_id: str, ids: Iterable[int], *,
              categories: Sequence[str] | None = None) -> dict[int, list[str]]:
    """Categories of the given token ids of ``tokenizer_id``, for flagging tokens of a user's text.

    Returns ``{id: [category, ...]}`` for the ids that have any (ids without one are left out), names as in
    :data:`~analysis.glitch.categories.LEGEND`, ``'under-trained (verified)'`` last where a model with this
    vocabulary had the token verified as under-trained: by our own verification (``glitch verify``) or in a published
    report whose row matches our vocabulary (:mod:`analysis.glitch.published`). ``categories`` limits the names
    reported (default: all). A database without token checks, or a tokenizer not scanned, gives ``{}``;
    :func:`verifications_for` says which model and source verified each.
    """
    # Vocabulary ids fit the table's INTEGER; the word baseline's ids are 32-bit hashes with no vocabulary to scan.
    wanted = [i for i in dict.fromkeys(int(i) for i in ids) if 0 <= i < 2**31]
    if not wanted or not has_table(con, "glitch_tokens"):
        return {}
    mask = int(from_names([c for c in categories if c != UNDER_TRAINED_VERIFIED])) if categories is not None else 0xFFFF
    out: dict[int, list[str]] = {}
    # A semi-join on the unnested ids (list_contains would scan the whole list once per vocabulary row).
    rows = con.execute("SELECT token_id, flags FROM glitch_tokens WHERE tokenizer = ? AND token_id IN "
                       "(SELECT unnest(?::INTEGER[])) AND flags & ? <> 0", [tokenizer_id, wanted, mask]).fetchall()
    for token_id, flags in rows:
        out[token_id] = names(flags & mask)
    if categories is None or UNDER_TRAINED_VERIFIED in categories:
        for token_id in verifications_for(con, tokenizer_id, wanted):
            out.setdefault(token_id, []).append(UNDER_TRAINED_VERIFIED)
    return dict(sorted(out.items()))


def verifications_for(con: duckdb.DuckDBPyConnection, tokenizer_id: str, ids: Iterable[int]) -> dict[int, list[str]]:
    """Who verified each of these ids as under-trained: one line per model and source (published reports whose row
    matches our vocabulary, then our own verdicts), for the hover of a flagged token."""
    from .published import verified_tokens

    wanted = [i for i in dict.fromkeys(int(i) for i in ids) if 0 <= i < 2**31]
    out = {i: [v.describe() for v in vs] for i, vs in verified_tokens(con, tokenizer_id, wanted).items()}
    if wanted and has_table(con, "glitch_verdicts"):
        for token_id, model, max_prob in con.execute(
                """SELECT v.token_id, v.model, v.max_prob FROM glitch_verdicts v JOIN glitch_models m USING (model)
                   WHERE m.tokenizer = ? AND v.under_trained AND v.token_id IN (SELECT unnest(?::INTEGER[]))
                   ORDER BY v.token_id, v.model""", [tokenizer_id, wanted]).fetchall():
            out.setdefault(token_id, []).append(
                f"under-trained (verified) in {model}: max probability {max_prob:.2g} — our verification "
                "(python -m analysis glitch verify)")
    return dict(sorted(out.items()))


def models(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per model with stored indicators: its tokenizer, shape, indicator, reference set, threshold, counts."""
    if not has_table(con, "glitch_models"):
        import pandas as pd

        return pd.DataFrame(columns=["model", "tokenizer", "n_rows", "dim", "dtype", "indicator", "reference",
                                     "percentile", "threshold", "n_candidates", "verified", "under_trained"])
    return con.execute(
        """SELECT m.model, m.tokenizer, m.n_rows, m.dim, m.dtype, m.embedding, m.unembedding, m.indicator, m.reference,
                  m.percentile, m.threshold, m.n_candidates, m.device, m.computed_at,
                  count(v.token_id) AS verified, count(v.token_id) FILTER (WHERE v.under_trained) AS under_trained
           FROM glitch_models m LEFT JOIN glitch_verdicts v USING (model)
           GROUP BY ALL ORDER BY m.model""").df()


def model_scores(con: duckdb.DuckDBPyConnection, model: str) -> pd.DataFrame:
    """Every row's score, norm and whether it is reachable / a candidate (for the histogram)."""
    _require(con, "glitch_indicators")
    return con.execute("SELECT token_id AS id, score, norm, reachable, candidate FROM glitch_indicators "
                       "WHERE model = ? ORDER BY token_id", [model]).df()


def model_candidates(con: duckdb.DuckDBPyConnection, model: str) -> pd.DataFrame:
    """A model's candidates, most likely under-trained first, with their verdicts where verification ran."""
    _require(con, "glitch_indicators")
    return con.execute(
        """SELECT i.token_id AS id, i.token, i.score, i.norm, v.max_prob, v.under_trained, v.best_prompt,
                  v.template_version
           FROM glitch_indicators i LEFT JOIN glitch_verdicts v USING (model, token_id)
           WHERE i.model = ? AND i.candidate ORDER BY i.score, i.token_id""", [model]).df()


def scripts_of(con: duckdb.DuckDBPyConnection, tokenizer: str) -> list[tuple[str, int]]:
    """The script classes of a tokenizer's ids with their counts, most common first."""
    _require(con)
    return con.execute("SELECT script, count(*) FROM glitch_tokens WHERE tokenizer = ? GROUP BY 1 ORDER BY 2 DESC, 1",
                       [tokenizer]).fetchall()
