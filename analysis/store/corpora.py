"""Corpora in the store: the built-in ones by name, and importing parallel and monolingual corpora.

Importing puts a corpus's languages and units (with each unit's ICU word spans, segmented once here) into the store;
counting it is the build's job (:func:`analysis.store.build.build`). Text may be Unicode-normalized on the way in
(:data:`Normalization`); a database holds counts under one normalization only.

Example:
    >>> import_into_store(db, read_lines_folder(folder, name="mine"))          # doctest: +SKIP
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import duckdb

from analysis.i18n import N_

from ..corpus import ParallelCorpus
from ..corpus.monolingual import MonoCorpus
from ..errors import StoreError
from ..extensions import registered
from ..progress import Progress
from . import mono
from .schema import SCHEMA_VERSION, default_db_path
from .writer import insert_columns, open_writer

Normalization = Literal["none", "NFC", "NFKC"]
#: Corpora the store can import by name alone (see :func:`corpus_by_name`).
BUILTIN_CORPORA = ("udhr",)


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
    with open_writer(db) as con:
        check_normalization(con, normalization)
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
        # Its old counts are gone with its old units (import_corpus), and so must their per-language totals be; the
        # other corpora's totals are unchanged (a full refresh_lang_stats would aggregate every count again).
        con.execute("DELETE FROM lang_stats WHERE corpus = ?", [corpus.name])
        con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?), ('normalization', ?)",
                    [str(SCHEMA_VERSION), normalization])
    return db


def import_mono_into_store(db_path: Path | None, corpus: MonoCorpus, *, normalization: Normalization = "none",
                           progress: Progress | None = None) -> Path:
    """Put a monolingual corpus's definition (files, languages, shard plan) into the store, atomically; its text
    stays in its folder and is read when build() counts it."""
    db = Path(db_path) if db_path else default_db_path()
    with open_writer(db) as con:
        check_normalization(con, normalization)
        mono.import_mono(con, corpus, normalization=normalization)
        con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?), ('normalization', ?)",
                    [str(SCHEMA_VERSION), normalization])
    sampled = f", sampling {corpus.sample:g} of lines with seed {corpus.seed}" if corpus.sample else ""
    (progress or (lambda _m: None))(
        f"monolingual corpus {corpus.name}: {len(corpus.languages)} languages, {len(corpus.files)} files, "
        f"{sum(f.size for f in corpus.files) / 1e6:,.1f} MB on disk, {len(corpus.shards)} shards{sampled}")
    return db


def normalize(text: str, normalization: Normalization) -> str:
    """``text`` under the store's normalization policy.

    >>> normalize("ﬁ", "NFKC"), normalize("ﬁ", "none")
    ('fi', 'ﬁ')
    """
    return text if normalization == "none" else unicodedata.normalize(normalization, text)


def import_corpus(con: duckdb.DuckDBPyConnection, corpus: ParallelCorpus, *, normalization: Normalization,
                  progress: Progress) -> None:
    """(Re)place one corpus's languages and units; its old counts go with it (and the build extensions' rows of
    it: :meth:`analysis.extensions.BuildExtension.forget_corpus`).

    Each unit's ICU word spans are computed here, once, and stored (table ``word_spans``; no row where words are
    withheld): builds count from them without segmenting again. Nothing here needs pandas (:func:`insert_columns`).
    """
    from ..words import segmenter_coverage, word_bounds
    from .spans import pack_flat

    existed = con.execute("SELECT count(*) FROM corpora WHERE corpus = ?", [corpus.name]).fetchone()[0] > 0
    for table in ("counts", "runs", "premium_ci", "word_spans", "units", "languages", "corpora"):
        con.execute(f"DELETE FROM {table} WHERE corpus = ?", [corpus.name])
    if existed:  # imported again: the extensions' rows of the old one must go (a new name has none)
        for extension in registered():
            extension.forget_corpus(con, corpus.name)

    position = {u: i for i, u in enumerate(corpus.unit_order)}
    units: dict[str, list] = {k: [] for k in ("lang", "unit", "position", "text", "n_bytes", "n_chars", "n_words",
                                              "words_note")}
    spans: dict[str, list] = {"lang": [], "unit": [], "spans": []}
    for lang in corpus.languages.values():
        texts = [(u, normalize(t, normalization)) for u, t in corpus.texts(lang.code).items()]
        words_ok, why = segmenter_coverage("\n".join(t for _, t in texts), lang.script, lang=lang.iso639_3)
        n_words: list[int | None] = [None] * len(texts)
        if words_ok:
            bounds = [word_bounds(text) for _, text in texts]
            n_words = [len(b) // 2 for b in bounds]
            spans["lang"] += [lang.code] * len(texts)
            spans["unit"] += [u for u, _ in texts]
            spans["spans"] += pack_flat(bounds)
        units["lang"] += [lang.code] * len(texts)
        units["unit"] += [u for u, _ in texts]
        units["position"] += [position.get(u) for u, _ in texts]
        units["text"] += [t for _, t in texts]
        units["n_bytes"] += [len(t.encode("utf-8")) for _, t in texts]
        units["n_chars"] += [len(t) for _, t in texts]
        units["n_words"] += n_words
        units["words_note"] += [None if words_ok else why] * len(texts)
    insert_columns(con, "units", {"corpus": [corpus.name] * len(units["unit"]), **units})
    insert_columns(con, "word_spans", {"corpus": [corpus.name] * len(spans["unit"]), **spans})
    languages = list(corpus.languages.values())
    insert_columns(con, "languages", {
        "corpus": [corpus.name] * len(languages), "lang": [lg.code for lg in languages],
        "name": [lg.name for lg in languages], "script": [lg.script for lg in languages],
        "bcp47": [lg.bcp47 for lg in languages], "iso639_3": [lg.iso639_3 for lg in languages],
        "direction": [lg.direction for lg in languages], "latitude": [lg.latitude for lg in languages],
        "longitude": [lg.longitude for lg in languages], "complete": [lg.complete for lg in languages],
        "stage": [lg.stage for lg in languages]})
    con.execute(
        "INSERT INTO corpora (corpus, source, sha256, n_languages, n_units, unit_order, normalization, imported_at, "
        "protocol) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [corpus.name, corpus.source, corpus.sha256, len(corpus.languages), len(corpus.unit_order),
         corpus.unit_order, normalization, datetime.now(UTC), corpus.protocol],
    )
    progress(f"corpus {corpus.name}: {len(corpus.languages)} languages, {len(units['unit'])} units ({corpus.source})")


def check_normalization(con: duckdb.DuckDBPyConnection, normalization: Normalization) -> None:
    """Refuse to mix counts under two normalization policies in one database.

    Raises:
        StoreError: the database was built with another normalization (the message says to use another ``--db``).
    """
    row = con.execute("SELECT value FROM meta WHERE key = 'normalization'").fetchone()
    if row is not None and row[0] != normalization:
        raise StoreError(
            f"This database was built with normalization {row[0]!r}, not {normalization!r}; counts under two "
            "policies must not mix. Use another --db for the other policy."
        )
