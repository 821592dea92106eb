"""Small read functions over the store, for the CLI and the dashboard (results as pandas DataFrames).

pandas is imported by the functions that return a DataFrame, when first called: :func:`premium_records` (what
``python -m analysis premiums --format json`` prints) reads precomputed premiums with DuckDB alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import duckdb

from ..errors import StoreError
from ..fsio import atomic_write
from ..i18n import N_
from ..metrics import DEFAULT_REFERENCE, UNK_FLAG_THRESHOLD

if TYPE_CHECKING:
    import pandas as pd

EXPORTABLE = ("meta", "tokenizers", "corpora", "languages", "units", "counts", "runs", "premium_ci",
              "lang_stats", "premiums")


def meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The ``meta`` table as a dict (schema version, build time, counting policy, ...)."""
    return dict(con.execute("SELECT key, value FROM meta ORDER BY key").fetchall())


def corpora(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT corpus FROM corpora ORDER BY corpus").fetchall()]


def corpus_info(con: duckdb.DuckDBPyConnection, corpus: str) -> dict[str, object]:
    """A corpus's record: source, sha256, language and unit counts, normalization, import time."""
    _check_corpus(con, corpus)
    cur = con.execute("SELECT * EXCLUDE (unit_order) FROM corpora WHERE corpus = ?", [corpus])
    return dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))


def corpus_protocol(con: duckdb.DuckDBPyConnection, corpus: str) -> str:
    """How the corpus's units were made: ``units`` (each unit on its own) or ``petrov2023`` (one unit per language,
    see :func:`analysis.corpus.imports.read_flores200_petrov2023`). A database written before the protocol was
    recorded has no such column: its corpora are ``units``."""
    protocol = corpus_info(con, corpus).get("protocol")
    return str(protocol) if protocol else "units"


def published_vs_ours(con: duckdb.DuckDBPyConnection, corpus: str,
                      tokenizers: Sequence[str] | None = None) -> pd.DataFrame:
    """Petrov et al.'s published counts and premiums beside ours, for a corpus imported with the petrov2023 protocol.

    One row per (their column, language) where both have a number: see :func:`analysis.published_premiums.compare`. Only the
    counted tokenizers the table shares (:func:`analysis.published_premiums.shared_columns`), or those of ``tokenizers``;
    premiums against ``eng_Latn``, as theirs are against English.

    Raises:
        StoreError: the corpus was not imported with the petrov2023 protocol, has no ``eng_Latn``, or is counted
            with none of the shared tokenizers.
    """
    from ..published_premiums import REFERENCE_CODE, compare, published_premiums, shared_columns

    protocol = corpus_protocol(con, corpus)
    if protocol != "petrov2023":
        raise StoreError(f"Corpus {corpus!r} was imported with the {protocol} protocol; the published numbers were "
                         "counted on one string per language. Import the FLORES-200 folder again with "
                         f"`python -m analysis corpus import --kind flores200 --protocol petrov2023 --path P "
                         f"--name {corpus}-petrov` and count it.")
    _check_reference(con, corpus, REFERENCE_CODE)
    columns = shared_columns()
    counted = set(_tokenizers(con, corpus, tokenizers))
    columns = {c: t for c, t in columns.items() if t in counted}
    if not columns:
        ids = sorted(set(shared_columns().values()))
        raise StoreError(f"Corpus {corpus!r} is counted with none of the tokenizers the published table shares "
                         f"({', '.join(ids)}). Count them with `python -m analysis build --corpus {corpus} "
                         f"--tokenizers {' '.join(ids)}`.")
    tids = sorted(set(columns.values()))
    ours = premiums(con, corpus, REFERENCE_CODE, tids).merge(
        con.execute("SELECT tokenizer, lang, tokens FROM lang_stats WHERE corpus = ?", [corpus]).df(),
        on=["tokenizer", "lang"])
    return compare(published_premiums(columns), ours)


def _check_corpus(con: duckdb.DuckDBPyConnection, corpus: str) -> None:
    if con.execute("SELECT count(*) FROM corpora WHERE corpus = ?", [corpus]).fetchone()[0] == 0:
        raise StoreError(N_("No corpus {corpus!r} in the database; it has: {corpora}."), corpus=corpus,
                         corpora=", ".join(corpora(con)) or "none")


def _check_reference(con: duckdb.DuckDBPyConnection, corpus: str, reference: str) -> None:
    if con.execute("SELECT count(*) FROM languages WHERE corpus = ? AND lang = ?",
                   [corpus, reference]).fetchone()[0] == 0:
        sample = [r[0] for r in con.execute("SELECT lang FROM languages WHERE corpus = ? ORDER BY lang LIMIT 12",
                                            [corpus]).fetchall()]
        raise StoreError(N_("Reference language {reference!r} is not in corpus {corpus!r}. Its codes look like: "
                            "{codes}, ..."), reference=reference, corpus=corpus, codes=", ".join(sample))


def counted_tokenizers(con: duckdb.DuckDBPyConnection, corpus: str) -> list[str]:
    return [r[0] for r in con.execute("SELECT tokenizer FROM runs WHERE corpus = ? ORDER BY tokenizer",
                                      [corpus]).fetchall()]


def _tokenizers(con: duckdb.DuckDBPyConnection, corpus: str, tokenizers: Sequence[str] | None) -> list[str]:
    have = counted_tokenizers(con, corpus)
    if tokenizers is None:
        return have
    missing = [t for t in tokenizers if t not in have]
    if missing:
        raise StoreError(N_("Not counted on {corpus!r}: {missing}. Counted: {have}. Add them with `python -m analysis "
                            "build --corpus {corpus} --tokenizers {ids}`."), corpus=corpus, missing=", ".join(missing),
                         have=", ".join(have), ids=" ".join(missing))
    return list(tokenizers)


#: The columns of :func:`premiums` (and the keys of :func:`premium_records`), in order.
PREMIUM_COLUMNS = ("tokenizer", "lang", "name", "script", "premium", "ci_low", "ci_high", "units", "unk_flag")
_STORED_PREMIUMS = f"""SELECT {', '.join(PREMIUM_COLUMNS)}
    FROM premiums WHERE corpus = ? AND reference = ? AND list_contains(?, tokenizer) ORDER BY tokenizer, premium"""


def _premium_tokenizers(con: duckdb.DuckDBPyConnection, corpus: str, reference: str,
                        tokenizers: Sequence[str] | None) -> tuple[list[str], bool]:
    """The tokenizers whose premiums are asked for (checked), and whether all of theirs are precomputed."""
    _check_corpus(con, corpus)
    _check_reference(con, corpus, reference)
    tids = _tokenizers(con, corpus, tokenizers)
    if not tids:
        raise StoreError(N_("Corpus {corpus!r} has not been counted with any tokenizer yet. Run `python -m analysis "
                            "build --corpus {corpus}`."), corpus=corpus)
    stored = con.execute("SELECT DISTINCT tokenizer FROM premium_ci WHERE corpus = ? AND reference = ?",
                         [corpus, reference]).fetchall()
    return tids, {t for (t,) in stored} >= set(tids)


def premium_records(con: duckdb.DuckDBPyConnection, corpus: str, reference: str = DEFAULT_REFERENCE,
                    tokenizers: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """:func:`premiums` as plain rows (one dict per row, keys :data:`PREMIUM_COLUMNS`; a missing value is None),
    the same values and order; read with DuckDB alone where the premiums are precomputed (no pandas import).

    >>> premium_records(con, "udhr", "eng", ["o200k_base"])[0]["premium"]   # doctest: +SKIP
    0.9512195121951219
    """
    tids, stored = _premium_tokenizers(con, corpus, reference, tokenizers)
    if not stored:
        df = premiums(con, corpus, reference, tids)
        return df.astype(object).where(df.notna(), None).to_dict(orient="records")
    rows = con.execute(_STORED_PREMIUMS, [corpus, reference, tids]).fetchall()
    return [{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in zip(PREMIUM_COLUMNS, row,
                                                                                      strict=True)}
            for row in rows]


def premiums(con: duckdb.DuckDBPyConnection, corpus: str, reference: str = DEFAULT_REFERENCE,
             tokenizers: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per (tokenizer, language): premium against ``reference`` with its 95% bootstrap CI.

    Precomputed for the default reference; computed here (same B and seed) for any other.
    """
    import pandas as pd

    from .premiums import compute_premium_ci

    tids, stored = _premium_tokenizers(con, corpus, reference, tokenizers)
    if stored:
        return con.execute(_STORED_PREMIUMS, [corpus, reference, tids]).df()
    rows = [r for t in tids for r in compute_premium_ci(con, corpus, t, reference)]
    df = pd.DataFrame(rows, columns=["corpus", "tokenizer", "lang", "reference", "premium", "ci_low", "ci_high",
                                     "units", "b", "seed"])
    info = con.execute(
        f"SELECT tokenizer, lang, name, script, unk_rate > {UNK_FLAG_THRESHOLD} AS unk_flag FROM lang_stats JOIN "
        "languages USING (corpus, lang) WHERE corpus = ?", [corpus]).df()
    df = df.merge(info, on=["tokenizer", "lang"], how="left")
    return df[list(PREMIUM_COLUMNS)].sort_values(["tokenizer", "premium"]).reset_index(drop=True)


def lang_stats(con: duckdb.DuckDBPyConnection, corpus: str, tokenizers: Sequence[str] | None = None) -> pd.DataFrame:
    """Compression, fertility, UNK and byte-fallback rates per (tokenizer, language)."""
    _check_corpus(con, corpus)
    tids = _tokenizers(con, corpus, tokenizers)
    return con.execute(
        "SELECT * EXCLUDE (corpus) FROM lang_stats WHERE corpus = ? AND list_contains(?, tokenizer) "
        "ORDER BY tokenizer, lang", [corpus, tids]).df()


def nsl(con: duckdb.DuckDBPyConnection, corpus: str, baseline: str, tokenizers: Sequence[str] | None = None
        ) -> pd.DataFrame:
    """Normalized sequence length of each tokenizer against ``baseline`` on the same text, per language."""
    _check_corpus(con, corpus)
    tids = _tokenizers(con, corpus, tokenizers)
    _tokenizers(con, corpus, [baseline])
    # Every tokenizer counts every unit of a corpus, so the language totals cover the same units.
    return con.execute(
        """SELECT t.tokenizer, t.lang, t.tokens::DOUBLE / nullif(b.tokens, 0) AS nsl, t.units
           FROM lang_stats t JOIN lang_stats b ON b.corpus = t.corpus AND b.lang = t.lang
           WHERE t.corpus = ? AND b.tokenizer = ? AND list_contains(?, t.tokenizer)
           ORDER BY t.tokenizer, t.lang""", [corpus, baseline, tids]).df()


def fairness(con: duckdb.DuckDBPyConnection, corpus: str, reference: str = DEFAULT_REFERENCE,
             tokenizers: Sequence[str] | None = None, *, complete_only: bool = True) -> pd.DataFrame:
    """Per tokenizer: mean and worst premium, the worst language, Gini, over a stated language set."""
    from ..metrics import fairness_summary

    _check_corpus(con, corpus)
    _check_reference(con, corpus, reference)
    tids = _tokenizers(con, corpus, tokenizers)
    stored = {t for (t,) in con.execute("SELECT DISTINCT tokenizer FROM premium_ci WHERE corpus = ? AND reference = ?",
                                        [corpus, reference]).fetchall()}
    if stored >= set(tids):  # precomputed: read the three columns straight from the table
        rows = con.execute(
            """SELECT p.tokenizer, p.lang, p.premium FROM premium_ci p JOIN languages l USING (corpus, lang)
               WHERE p.corpus = ? AND p.reference = ? AND list_contains(?, p.tokenizer) AND p.premium IS NOT NULL
                 AND (l.complete OR NOT ?)""", [corpus, reference, tids, complete_only]).fetchall()
    else:
        df = premiums(con, corpus, reference, tids)
        if complete_only:
            complete = {r[0] for r in con.execute("SELECT lang FROM languages WHERE corpus = ? AND complete",
                                                  [corpus]).fetchall()}
            df = df[df["lang"].isin(complete)]
        df = df[df["premium"].notna()]
        rows = list(zip(df["tokenizer"].tolist(), df["lang"].tolist(), df["premium"].tolist(), strict=True))
    by_tokenizer: dict[str, dict[str, float]] = {}
    for tid, lang, value in rows:
        by_tokenizer.setdefault(tid, {})[lang] = value
    out = []
    for tid in sorted(by_tokenizer):
        s = fairness_summary(by_tokenizer[tid])
        out.append({"tokenizer": tid, "languages": s.n, "mean_premium": s.mean, "max_premium": s.max,
                    "worst_language": s.argmax, "gini": s.gini,
                    "language_set": f"{'complete ' if complete_only else ''}{corpus} variants with a premium"})
    import pandas as pd

    return pd.DataFrame(out)


def languages(con: duckdb.DuckDBPyConnection, corpus: str) -> pd.DataFrame:
    """Every language of a corpus with its metadata (name, script, codes, direction, coordinates, complete)."""
    _check_corpus(con, corpus)
    return con.execute(
        """SELECT lang, name, script, bcp47, iso639_3, direction, latitude, longitude, complete, stage
           FROM languages WHERE corpus = ? ORDER BY name, lang""", [corpus]).df()


def unit_names(con: duckdb.DuckDBPyConnection, corpus: str) -> list[str]:
    """The corpus's parallel units in their order (for the UDHR: preamble, article 1, ... article 30)."""
    _check_corpus(con, corpus)
    return list(con.execute("SELECT unit_order FROM corpora WHERE corpus = ?", [corpus]).fetchone()[0])


def unit_text(con: duckdb.DuckDBPyConnection, corpus: str, lang: str, unit: str | None = None) -> str:
    """One unit's text, or (``unit=None``) every unit of the language joined by blank lines.

    Raises:
        StoreError: no such corpus, language or unit.
    """
    _check_corpus(con, corpus)
    rows = con.execute(
        "SELECT text FROM units WHERE corpus = ? AND lang = ? AND (unit = ? OR ? IS NULL) ORDER BY position",
        [corpus, lang, unit, unit]).fetchall()
    if not rows:
        if unit:
            raise StoreError(N_("Corpus {corpus!r} has no unit {unit!r} of language {lang!r}. Pick a language and "
                                "unit from the lists."), corpus=corpus, unit=unit, lang=lang)
        raise StoreError(N_("Corpus {corpus!r} has no language {lang!r}. Pick a language and unit from the lists."),
                         corpus=corpus, lang=lang)
    return "\n\n".join(r[0] for r in rows)


def unit_ratios(con: duckdb.DuckDBPyConnection, corpus: str, lang: str, reference: str = DEFAULT_REFERENCE,
                tokenizers: Sequence[str] | None = None) -> pd.DataFrame:
    """Per parallel unit: tokens of ``lang`` over tokens of ``reference`` (the per-unit premium distribution)."""
    _check_corpus(con, corpus)
    _check_reference(con, corpus, reference)
    tids = _tokenizers(con, corpus, tokenizers)
    return con.execute(
        """SELECT tokenizer, unit, ratio FROM unit_ratios
           WHERE corpus = ? AND lang = ? AND reference = ? AND list_contains(?, tokenizer) AND ratio IS NOT NULL
           ORDER BY tokenizer, unit""", [corpus, lang, reference, tids]).df()


def export(con: duckdb.DuckDBPyConnection, table: str, out: Path, fmt: Literal["csv", "parquet"]) -> Path:
    """Write one table or view to CSV or Parquet (atomically: a temp file renamed into place)."""
    if table not in EXPORTABLE:
        raise StoreError(f"Cannot export {table!r}; choose one of: {', '.join(EXPORTABLE)}.")
    df = con.execute(f"SELECT * FROM {table}").df()

    def write(tmp: Path) -> None:
        if fmt == "csv":
            df.to_csv(tmp, index=False)
        else:
            with duckdb.connect() as mem:
                mem.register("df", df)
                mem.execute(f"COPY df TO '{tmp}' (FORMAT parquet)")

    return atomic_write(out, write)
