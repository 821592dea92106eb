r"""Published under-trained token verifications (the Magikarp reports), loaded into the store and checked there.

``assets/published/magikarp/`` holds, for 13 open models, the token tables of Land & Bartolo's reports (token id,
token as the report prints it, indicator, verification max_prob) with each report's source path and commit (see its
``SOURCE.md`` and ``README.md``). A build loads them into two tables (created with the other glitch tables, by the
token checks' extension: :data:`analysis.glitch.store.TABLES`):

- ``published_models``: one row per report: model, the model's name, our tokenizer id, source path and commit,
  indicator name, thresholds, the report's counts, and how many of its rows matched our vocabulary.
- ``published_tokens``: one row per table entry, in the report's order (``rank``), with ``verified`` (max_prob below
  :data:`VERIFY_THRESHOLD`), our vocabulary entry for the id and the ``check`` of the report's token against it:
  ``match``, ``mismatch``, ``id not in vocabulary``, ``tokenizer not in this database`` (its vocabulary was not
  scanned in this build) or ``tokenizer not in the catalogue`` (e.g. ``llama2`` before that vocabulary is in it).

Only ``match`` rows are evidence about our vocabulary: :func:`verified_tokens` (the Playground's flags) reads those
alone. Mismatches are counted and shown, never dropped.

How a report prints a token: ``▁`` is a space, characters Python would not print are escapes (``\t``, ``\xa0``,
``\u200c``, ``\U0001fac5``), a real backslash is one ``\``, and ``|`` is ``\|``. A printed backslash-``n`` is
therefore either a newline or a backslash and an ``n``; :func:`matches` accepts the token if either reading is our
entry.

Example:
    >>> matches(" ForCanBeConverted", "▁ForCanBeConverted")
    True
    >>> matches("\tTokenNameIdentifier", r"\tTokenNameIdentifier")  # a tab, printed as an escape
    True
    >>> matches("\\n", r"\n"), matches("a|b", r"a\|b"), matches("ab", "▁ab")  # a backslash and an n; a pipe
    (True, True, False)
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import duckdb
import numpy as np

from analysis.i18n import N_

from ..config import ROOT
from ..store.writer import has_table, insert_columns
from .categories import GlitchError

# pandas only for the tables the dashboard reads: a build loads the published tables without it.
if TYPE_CHECKING:
    import pandas as pd

#: Where the published tables are shipped.
MAGIKARP_DIR = ROOT / "assets" / "published" / "magikarp"
#: sha256 of the shipped files: a copy that drifted from what was checked is refused.
MAGIKARP_SHA256 = {
    "tokens.csv": "098e1be1fc3f69992207224a0251b861ed312aae3f462f18ea4f086bda6d0864",
    "models.csv": "7b5f178ec7d28c2438f1480e07f8bb877615f7ff74d9a87d178282ad59d69a71",
}
#: What the loaded tables were read from (the recorded hashes: a file that differs is refused when it is read).
FILES_KEY = hashlib.sha256("".join(MAGIKARP_SHA256.values()).encode()).hexdigest()
#: The reports' verification threshold (``p_verify_threshold`` in magikarp's report.py): a max_prob below it is a
#: token the model practically cannot repeat, i.e. verified under-trained.
VERIFY_THRESHOLD = 0.01
SOURCE = "magikarp"
CITATION = ("Land & Bartolo (2024), Fishing for Magikarp: Automatically Detecting Under-trained Tokens in Large "
            "Language Models, EMNLP 2024")
REPOSITORY = "cohere-ai/magikarp"
#: Each report's model, by its file name (the names the reports were made for).
MODEL_NAMES = {
    "meta_llama_Meta_Llama_3_8B": "meta-llama/Meta-Llama-3-8B",
    "meta_llama_Meta_Llama_3_1_8B": "meta-llama/Meta-Llama-3.1-8B",
    "mistralai_Mistral_7B_v0_1": "mistralai/Mistral-7B-v0.1",
    "mistralai_Mistral_7B_v0_3": "mistralai/Mistral-7B-v0.3",
    "mistralai_Mistral_Nemo_Base_2407": "mistralai/Mistral-Nemo-Base-2407",
    "google_gemma_2b": "google/gemma-2b",
    "google_gemma_7b": "google/gemma-7b",
    "google_gemma_3_12b_it": "google/gemma-3-12b-it",
    "Qwen_Qwen3_32B": "Qwen/Qwen3-32B",
    "openai_gpt_oss_20b": "openai/gpt-oss-20b",
    "openai_community_gpt2": "openai-community/gpt2",
    "deepseek_ai_DeepSeek_R1": "deepseek-ai/DeepSeek-R1",
    "meta_llama_Llama_2_7b_hf": "meta-llama/Llama-2-7b-hf",
}
MATCH, MISMATCH, NO_ID = "match", "mismatch", "id not in vocabulary"
NOT_SCANNED, NOT_IN_CATALOGUE = "tokenizer not in this database", "tokenizer not in the catalogue"
CHECKS = (MATCH, MISMATCH, NO_ID, NOT_SCANNED, NOT_IN_CATALOGUE)

_ESCAPE = re.compile(r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[tnr|])")
_SIMPLE = {"t": "\t", "n": "\n", "r": "\r", "|": "|"}


def _unescape(printed: str) -> str:
    """The report's token with its escapes decoded and ``▁`` as a space (a backslash not starting an escape stays)."""
    def one(m: re.Match[str]) -> str:
        body = m.group(0)[1:]
        return _SIMPLE[body] if body in _SIMPLE else chr(int(body[1:], 16))
    return _ESCAPE.sub(one, printed).replace("▁", " ")


def _printed(entry: str) -> str:
    """Our vocabulary entry printed the report's way: spaces as ``▁``, non-printing characters escaped, ``|`` as ``\\|``."""
    out = []
    for ch in entry:
        if ch == " ":
            out.append("▁")
        elif ch == "|":
            out.append("\\|")
        elif ch.isprintable() or ch == "\\":
            out.append(ch)
        else:
            out.append(repr(ch)[1:-1])
    return "".join(out)


def matches(entry: str, printed: str) -> bool:
    """Whether the report's ``printed`` token is our vocabulary ``entry`` (read either way; see the module doc)."""
    return _printed(entry) == printed or _unescape(printed) == entry


@dataclass(frozen=True)
class PublishedTables:
    """The shipped tables, read and checked by sha256."""

    models: pd.DataFrame
    tokens: pd.DataFrame
    files_sha256: str


def read_published(folder: Path = MAGIKARP_DIR) -> PublishedTables:
    """Read ``models.csv`` and ``tokens.csv``, refusing files whose sha256 is not the recorded one."""
    import pandas as pd

    models, tokens = _read_rows(folder)
    return PublishedTables(pd.DataFrame(models), pd.DataFrame(tokens), FILES_KEY)


def _read_rows(folder: Path = MAGIKARP_DIR) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The rows of ``models.csv`` and ``tokens.csv`` (each a dict of the header's columns), checked by sha256."""
    raw = {}
    for name, want in MAGIKARP_SHA256.items():
        path = folder / name
        try:
            data = path.read_bytes()
        except OSError as e:
            raise GlitchError(f"The published token tables are missing ({name}: {e.strerror}). Restore "
                              f"assets/published/magikarp/ from the repository.", title=N_("Published data missing")) from e
        got = hashlib.sha256(data).hexdigest()
        if got != want:
            raise GlitchError(f"assets/published/magikarp/{name} has sha256 {got[:12]}…, not the checked {want[:12]}…. "
                              "Restore it from the repository (and update MAGIKARP_SHA256 only after checking a new "
                              "copy against its source).", title=N_("Published data changed"))
        raw[name] = data.decode("utf-8")
    models = list(csv.DictReader(raw["models.csv"].splitlines()))
    tokens = list(csv.DictReader(raw["tokens.csv"].splitlines()))
    unknown = sorted({m["model"] for m in models} - set(MODEL_NAMES))
    if unknown:
        raise GlitchError(f"Published reports without a model name: {', '.join(unknown)}; add them to MODEL_NAMES.")
    return models, tokens


def _num(value: str) -> float | None:
    return float(value) if value not in ("", None) else None


def _checked_against(con: duckdb.DuckDBPyConnection) -> str:
    """What the checks of the published rows depend on: every scanned vocabulary (id, sha256, checks version)."""
    if not has_table(con, "glitch_scans"):
        return ""
    return ",".join(f"{t}:{s}:{v}" for t, s, v in con.execute(
        "SELECT tokenizer, tokenizer_sha256, checks_version FROM glitch_scans WHERE note IS NULL ORDER BY 1").fetchall())


def published_stale(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the published tables are missing, from other files, or checked against other vocabularies."""
    if not has_table(con, "published_models"):
        return True
    want = (FILES_KEY, _checked_against(con))  # no need to read the tables to know which ones they would be
    got = set(con.execute("SELECT files_sha256, checked_against FROM published_models").fetchall())
    return got != {want}


def load_published(con: duckdb.DuckDBPyConnection, *, catalogue_ids: list[str] | None = None) -> dict[str, int]:
    """(Re)load the published tables into the store and check every row against the stored vocabulary entries.

    Call it on a writer's connection after the token checks (their ``glitch_tokens.display`` is our entry for
    each id); the writer created the tables (:func:`analysis.store.writer.open_writer` with the
    :class:`~analysis.glitch.extension.TokenChecks` extension, as every build and ``glitch refresh`` open it: the
    store creates every table in one place). Returns how many rows got each check.

    Raises:
        GlitchError: the connection has no published tables (it was not opened that way).
    """
    from ..catalogue import load_catalogue

    if not has_table(con, "published_models") or not has_table(con, "published_tokens"):
        raise GlitchError("This database connection has no tables for the published verifications. Open the database "
                          "with analysis.store.writer.open_writer(db, extensions=[TokenChecks()]) (from "
                          "analysis.glitch.extension), which creates them, as the build and "
                          "`python -m analysis glitch refresh` do.")
    model_rows, tok = _read_rows()
    known = set(catalogue_ids if catalogue_ids is not None else load_catalogue().ids)
    con.execute("DELETE FROM published_tokens WHERE source = ?", [SOURCE])
    con.execute("DELETE FROM published_models WHERE source = ?", [SOURCE])
    ids = np.array([int(r["token_id"]) for r in tok], dtype=np.int64)
    model_of = np.array([r["model"] for r in tok], dtype=object)
    tokenizer_of = [r["tokenizer"] for r in tok]
    entries = np.full(len(tok), None, dtype=object)
    checks = np.full(len(tok), NOT_IN_CATALOGUE, dtype=object)
    scanned = {r[0] for r in con.execute("SELECT tokenizer FROM glitch_scans WHERE note IS NULL").fetchall()} \
        if has_table(con, "glitch_scans") else set()
    groups: dict[str, list[int]] = {}
    for r, tid in enumerate(tokenizer_of):
        groups.setdefault(tid, []).append(r)
    for tid, members in groups.items():
        rows = np.asarray(members, dtype=np.int64)
        if tid not in known:
            continue
        if tid not in scanned:
            checks[rows] = NOT_SCANNED
            continue
        stored = dict(con.execute(
            "SELECT token_id, display FROM glitch_tokens WHERE tokenizer = ? AND token_id IN "
            "(SELECT unnest(?::INTEGER[]))", [tid, sorted({int(i) for i in ids[rows]})]).fetchall())
        for r in rows.tolist():
            entry = stored.get(int(ids[r]))
            entries[r] = entry
            checks[r] = NO_ID if entry is None else MATCH if matches(entry, tok[r]["token"]) else MISMATCH
    # A value not given (none in the shipped files) is NaN, stored as NULL.
    max_prob = np.array([_num(r["max_prob"]) for r in tok], dtype=np.float64)
    rank = np.empty(len(tok), dtype=np.int32)  # each row's place in its report, from 1
    seen: dict[str, int] = {}
    for r, m in enumerate(model_of.tolist()):
        rank[r] = seen[m] = seen.get(m, 0) + 1
    insert_columns(con, "published_tokens", {
        "source": [SOURCE] * len(tok), "model": model_of, "tokenizer": tokenizer_of, "rank": rank,
        "token_id": ids.astype(np.int32), "token": [r["token"] for r in tok],
        "indicator": np.array([_num(r["indicator"]) for r in tok], dtype=np.float64), "max_prob": max_prob,
        "verified": max_prob < VERIFY_THRESHOLD, "vocab_entry": entries, "check": checks})
    against = _checked_against(con)
    for row in model_rows:
        m = SimpleNamespace(**row)
        in_model = checks[model_of == m.model]
        con.execute(
            "INSERT INTO published_models VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "(SELECT count(*) FILTER (WHERE verified) FROM published_tokens WHERE source = ? AND model = ?), ?, ?, ?, ?, ?)",
            [SOURCE, m.model, MODEL_NAMES[m.model], m.tokenizer, m.source_path, m.commit, m.indicator_name,
             _num(m.verification_threshold), _num(m.soft_threshold), int(m.vocab_size), m.embedding_shape or None,
             int(m.tested), int(m.below_p001), int(m.below_soft), len(in_model), SOURCE, m.model,
             int((in_model == MATCH).sum()), int((in_model == MISMATCH).sum()),
             int(np.isin(in_model, [NOT_SCANNED, NOT_IN_CATALOGUE]).sum()), FILES_KEY, against])
    return {c: int((checks == c).sum()) for c in CHECKS}


# ------------------------------------------------------------------ reading


def published_models(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per published report with its provenance, counts and how many of its rows matched our vocabulary."""
    import pandas as pd

    if not has_table(con, "published_models"):
        return pd.DataFrame(columns=["model", "name", "tokenizer", "source_path", "commit", "indicator_name",
                                     "n_rows", "n_verified", "n_match", "n_mismatch", "n_unchecked"])
    return con.execute("SELECT * EXCLUDE (files_sha256, checked_against) FROM published_models "
                       "ORDER BY tokenizer, model").df()


def published_tokens(con: duckdb.DuckDBPyConnection, model: str, *, search: str | None = None,
                     verified_only: bool = False) -> pd.DataFrame:
    """A report's rows in its order, with our check, our tokenizer-check categories and our corpus frequency.

    ``search`` keeps rows whose printed token or our entry contains it (case-insensitive, literal), or whose id is it.
    """
    import pandas as pd

    from .categories import names

    if not has_table(con, "published_tokens"):
        return pd.DataFrame(columns=["rank", "id", "token", "indicator", "max_prob", "verified", "check",
                                     "vocab_entry", "our categories", "occurrences"])
    where, params = ["p.model = ?"], [model]
    if verified_only:
        where.append("p.verified")
    if search:
        where.append("(contains(lower(p.token), lower(?)) OR contains(lower(coalesce(p.vocab_entry, '')), lower(?)) "
                     "OR CAST(p.token_id AS VARCHAR) = ?)")
        params += [search, search, search.strip()]
    has_checks = has_table(con, "glitch_tokens")
    joins = ("LEFT JOIN glitch_tokens g ON g.tokenizer = p.tokenizer AND g.token_id = p.token_id "
             "LEFT JOIN token_frequency f ON f.tokenizer = p.tokenizer AND f.token_id = p.token_id") if has_checks else ""
    extra = ("g.flags, CASE WHEN g.token_id IS NULL THEN NULL ELSE coalesce(f.total, 0) END AS occurrences"
             if has_checks else "NULL::USMALLINT AS flags, NULL::BIGINT AS occurrences")
    df = con.execute(f"""SELECT p.rank, p.token_id AS id, p.token, p.indicator, p.max_prob, p.verified, p."check",
                                p.vocab_entry, {extra}
                         FROM published_tokens p {joins} WHERE {' AND '.join(where)} ORDER BY p.rank""", params).df()
    df.insert(8, "our categories", ["" if pd.isna(f) else ";".join(names(int(f))) or "ok" for f in df["flags"].tolist()])
    return df.drop(columns=["flags"])


def category_summary(con: duckdb.DuckDBPyConnection, model: str) -> dict[str, int]:
    """For a report's rows that match our vocabulary: how many our tokenizer checks put in each category, how many
    occur nowhere in this database's corpora, and how many the report verified."""
    from .categories import CHECK_NAMES, from_names

    df = con.execute("""SELECT g.flags, coalesce(f.total, 0) AS total, p.verified FROM published_tokens p
                        JOIN glitch_tokens g ON g.tokenizer = p.tokenizer AND g.token_id = p.token_id
                        LEFT JOIN token_frequency f ON f.tokenizer = p.tokenizer AND f.token_id = p.token_id
                        WHERE p.model = ? AND p."check" = 'match'""", [model]).fetchnumpy()
    flags = np.asarray(df["flags"], dtype=np.int64)
    out = {"rows matching our vocabulary": len(flags), "verified under-trained": int(np.sum(df["verified"]))}
    for name in CHECK_NAMES:
        out[name] = int(np.count_nonzero(flags & int(from_names([name]))))
    out["no check category"] = int(np.count_nonzero(flags == 0))
    out["not in this database's corpora"] = int(np.count_nonzero(np.asarray(df["total"]) == 0))
    return out


@dataclass(frozen=True)
class Verification:
    """One published (or our own) verification of a token as under-trained in a model."""

    model: str
    max_prob: float
    source: str  # "Magikarp report (cohere-ai/magikarp@0d466b2, results/reports_mini/...)" or "our verification"

    def describe(self) -> str:
        return f"under-trained (verified) in {self.model}: max probability {self.max_prob:.2g} — {self.source}"


def verified_tokens(con: duckdb.DuckDBPyConnection, tokenizer_id: str, ids: list[int]) -> dict[int, list[Verification]]:
    """The published verifications (rows that match our vocabulary, max_prob below the threshold) of these ids."""
    if not ids or not has_table(con, "published_tokens"):
        return {}
    rows = con.execute(
        """SELECT p.token_id, m.name, p.max_prob, m.source_path, m.commit FROM published_tokens p
           JOIN published_models m USING (source, model)
           WHERE p.tokenizer = ? AND p.verified AND p."check" = 'match' AND p.token_id IN (SELECT unnest(?::INTEGER[]))
           ORDER BY p.token_id, m.name""", [tokenizer_id, ids]).fetchall()
    out: dict[int, list[Verification]] = {}
    for token_id, name, max_prob, path, commit in rows:
        out.setdefault(token_id, []).append(Verification(
            name, max_prob, f"published in the Magikarp report ({REPOSITORY}@{commit[:7]}, {path}; {CITATION})"))
    return out


# ------------------------------------------------------------------ agreement with our own indicators


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties given their average rank.

    >>> _ranks(np.array([10.0, 30.0, 20.0, 20.0])).tolist()
    [1.0, 4.0, 2.5, 2.5]
    """
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), dtype=float)
    sorted_vals = values[order]
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and sorted_vals[j + 1] == sorted_vals[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Spearman's rank correlation (Pearson's on average ranks); None with fewer than 3 pairs or a constant side.

    >>> spearman([1, 2, 3, 4], [10, 20, 30, 40]), spearman([1, 2, 3], [3, 2, 1]), spearman([1, 2, 3, 4], [1, 3, 2, 4])
    (1.0, -1.0, 0.8)
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(x) < 3:
        return None
    rx, ry = _ranks(x) - (len(x) + 1) / 2, _ranks(y) - (len(y) + 1) / 2
    denom = float(np.sqrt((rx * rx).sum() * (ry * ry).sum()))
    return None if denom == 0 else round(float((rx * ry).sum()) / denom, 6)


@dataclass(frozen=True)
class Agreement:
    """How our own indicators and verdicts for a model agree with a published report of a model with the same
    vocabulary (ids are comparable because the vocabulary is the same)."""

    published_verified: int  # the report's verified rows that match our vocabulary
    ours_verified: int  # our verdicts: under-trained
    both_verified: int
    jaccard: float | None  # |both| / |either|
    common_ranked: int  # ids with both a published indicator and our score
    spearman: float | None  # of the published indicator and our score over those ids


def agreement(con: duckdb.DuckDBPyConnection, published_model: str, our_model: str) -> Agreement:
    """Compare a published report with our indicators (``glitch indicators``) and verdicts (``glitch verify``)."""
    pub = con.execute("""SELECT token_id, indicator, verified FROM published_tokens
                         WHERE model = ? AND "check" = 'match'""", [published_model]).fetchall()
    scores = dict(con.execute("SELECT token_id, score FROM glitch_indicators WHERE model = ?", [our_model]).fetchall()) \
        if has_table(con, "glitch_indicators") else {}
    ours = {r[0] for r in con.execute("SELECT token_id FROM glitch_verdicts WHERE model = ? AND under_trained",
                                      [our_model]).fetchall()} if has_table(con, "glitch_verdicts") else set()
    theirs = {i for i, _, v in pub if v}
    either = theirs | ours
    common = [(ind, scores[i]) for i, ind, _ in pub if i in scores and ind is not None and scores[i] is not None]
    return Agreement(len(theirs), len(ours), len(theirs & ours),
                     round(len(theirs & ours) / len(either), 6) if either else None, len(common),
                     spearman([c[0] for c in common], [c[1] for c in common]))
