"""Published verifications (the Magikarp reports) in the store: shipped as checked, every row checked against our
vocabularies, flags from evidence only.

Hand-derived facts used below (read off ``assets/published/magikarp/tokens.csv``):
- GPT-2 (r50k_base): 26 rows; all but ``ÃÂÃÂ`` (id 5815, max_prob 0.043) are below 0.01 -> 25 verified.
- gpt-oss-20b: 11 rows; only ``▁Short`` (id 15362, 0.0028) is below 0.01 -> 1 verified (its README says so too).
- DeepSeek-R1: 11 rows, every max_prob 0.5 -> 0 verified.
- `` ForCanBeConverted`` is llama3 id 80369 in both Llama 3 8B (max_prob 4.6e-05) and Llama 3.1 8B (4.6e-05).
"""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from analysis import get_tokenizer, load_catalogue
from analysis.glitch import EVIDENCE_NAMES, UNDER_TRAINED_VERIFIED, flags_for, verifications_for
from analysis.glitch import published as pub
from analysis.glitch.categories import GlitchError
from analysis.playground import DEFAULT_TEXT
from analysis.store.build import build
from analysis.store.schema import open_readonly
from analysis.workshops import available_workshops, load_workshop
from app.state import DEFAULT_TOKENIZERS
from tests.tiny_store import import_lines

SHARED = Path(__file__).resolve().parents[2] / "shared" / "reference" / "magikarp"
FOR_CAN = 80369  # llama3: " ForCanBeConverted"
#: Every tokenizer the default Playground and the workshop presets show, and two more with published reports.
PRESET_TOKENIZERS = sorted({*DEFAULT_TOKENIZERS, *(t for w in available_workshops() for t in load_workshop(w).tokenizers)})
TOKENIZERS = sorted({*PRESET_TOKENIZERS, "r50k_base", "mistral-v1", "llama2"})


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("published")
    db = import_lines(root, {"eng": ["all free"], "deu": ["alle frei"]})
    messages: list[str] = []
    build(db, corpora=["tiny"], tokenizers=TOKENIZERS, workers=2, progress=messages.append)
    return SimpleNamespace(db=db, root=root, messages=messages)


@pytest.fixture
def con(store: SimpleNamespace):
    c = open_readonly(store.db)
    yield c
    c.close()


# ------------------------------------------------------------------ the shipped files


def test_shipped_tables_are_the_checked_reference_copy() -> None:
    for name, want in pub.MAGIKARP_SHA256.items():
        data = (pub.MAGIKARP_DIR / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == want
        if SHARED.is_dir():  # the reference copy the planners handed over, where it is beside the checkout
            assert data == (SHARED / name).read_bytes()
    tables = pub.read_published()
    assert len(tables.models) == 13 and len(tables.tokens) == 4864
    counts = tables.tokens.groupby("model").size().to_dict()
    assert counts == {m: int(n) for m, n in zip(tables.models["model"], tables.models["rows_extracted"])}


def test_a_changed_copy_is_refused(tmp_path: Path) -> None:
    for name in pub.MAGIKARP_SHA256:
        shutil.copy(pub.MAGIKARP_DIR / name, tmp_path / name)
    with open(tmp_path / "tokens.csv", "a", encoding="utf-8") as f:
        f.write("meta_llama_Meta_Llama_3_8B,llama3,1,x,0.1,0.5\n")
    with pytest.raises(GlitchError, match=r"tokens\.csv has sha256"):
        pub.read_published(tmp_path)


@pytest.mark.parametrize(("entry", "printed", "same"), [
    (" ForCanBeConverted", "▁ForCanBeConverted", True),
    ("\tTokenNameIdentifier", r"\tTokenNameIdentifier", True),  # a tab printed as an escape
    (";\r\r\r\n", r";\r\r\r\n", True),
    ("\\n", r"\n", True),  # a real backslash and an n, printed the same way as a newline
    ('."+"|', r'."+"\|', True),  # the markdown table's escaped pipe
    ("\U0001fac5", r"\U0001fac5", True),  # printed as an escape by an older Python, a character to ours
    ("\ue603", r"\ue603", True),  # a private-use character
    ("\xa0word", r"\xa0word", True),
    ("ForCanBeConverted", "▁ForCanBeConverted", False),  # the space matters
    ("\\t", "\t", False),
    (" ForCanBeConverte", "▁ForCanBeConverted", False),
])
def test_report_tokens_compare_with_vocabulary_entries(entry: str, printed: str, same: bool) -> None:
    assert pub.matches(entry, printed) is same


# ------------------------------------------------------------------ loaded into a built store


def test_every_row_of_a_scanned_vocabulary_matches(con) -> None:
    models = pub.published_models(con).set_index("model")
    catalogue = set(load_catalogue().ids)
    for model, row in models.iterrows():
        if row["tokenizer"] in TOKENIZERS:
            assert (row["n_match"], row["n_mismatch"], row["n_unchecked"]) == (row["n_rows"], 0, 0), model
        else:
            assert (row["n_match"], row["n_unchecked"]) == (0, row["n_rows"]), model
    assert models.loc["meta_llama_Meta_Llama_3_8B", ["n_rows", "n_verified"]].tolist() == [188, 178]
    assert models.loc["openai_community_gpt2", ["n_rows", "n_verified"]].tolist() == [26, 25]
    assert models.loc["openai_gpt_oss_20b", ["n_rows", "n_verified"]].tolist() == [11, 1]
    assert models.loc["deepseek_ai_DeepSeek_R1", ["n_rows", "n_verified"]].tolist() == [11, 0]
    # Llama 2's rows attach to the real Llama 2 vocabulary (catalogue id llama2): all 11 match, 6 verified.
    assert "llama2" in catalogue
    assert models.loc["meta_llama_Llama_2_7b_hf", ["name", "n_rows", "n_match", "n_verified"]].tolist() == \
        ["meta-llama/Llama-2-7b-hf", 11, 11, 6]


def test_rows_of_a_vocabulary_not_in_the_catalogue_are_kept_unchecked(store: SimpleNamespace, tmp_path: Path) -> None:
    db = tmp_path / "no_llama2.duckdb"
    shutil.copyfile(store.db, db)
    c = duckdb.connect(str(db))
    counts = pub.load_published(c, catalogue_ids=[t for t in load_catalogue().ids if t != "llama2"])
    assert counts[pub.NOT_IN_CATALOGUE] == 11
    row = pub.published_models(c).set_index("model").loc["meta_llama_Llama_2_7b_hf"]
    assert (row["n_rows"], row["n_match"], row["n_unchecked"]) == (11, 0, 11)
    c.close()


def test_published_rows_in_report_order_with_our_checks(con) -> None:
    df = pub.published_tokens(con, "openai_community_gpt2")
    first = df.iloc[0]
    assert (first["rank"], first["id"], first["token"], first["vocab_entry"], first["check"]) == \
        (1, 40241, "InstoreAndOnline", "InstoreAndOnline", "match")
    assert first["verified"] and first["max_prob"] == pytest.approx(8.6e-09)
    found = pub.published_tokens(con, "openai_community_gpt2", search="nitrome")
    assert found["id"].tolist() == [42089, 42066]  # " TheNitrome" (rank 9), "Nitrome" (rank 17)
    assert pub.published_tokens(con, "openai_community_gpt2", search="5815")["token"].tolist() == ["ÃÂÃÂ"]
    assert len(pub.published_tokens(con, "openai_community_gpt2", verified_only=True)) == 25
    summary = pub.category_summary(con, "openai_community_gpt2")
    assert summary["rows matching our vocabulary"] == 26 and summary["verified under-trained"] == 25
    # None of the tiny corpus's bytes spell these tokens: all 26 occur nowhere in it.
    assert summary["not in this database's corpora"] == 26


def test_the_verified_token_is_flagged_with_model_and_source(con) -> None:
    enc = get_tokenizer("llama3").encode("Try ForCanBeConverted here")
    assert FOR_CAN in enc.ids
    assert flags_for(con, "llama3", enc.ids) == {FOR_CAN: [UNDER_TRAINED_VERIFIED]}
    lines = verifications_for(con, "llama3", enc.ids)[FOR_CAN]
    assert lines == [
        "under-trained (verified) in meta-llama/Meta-Llama-3-8B: max probability 4.6e-05 — published in the Magikarp "
        "report (cohere-ai/magikarp@0d466b2, results/reports_mini/meta_llama_Meta_Llama_3_8B.md; " + pub.CITATION + ")",
        "under-trained (verified) in meta-llama/Meta-Llama-3.1-8B: max probability 4.6e-05 — published in the Magikarp "
        "report (cohere-ai/magikarp@3b632ac, results/reports_mini/meta_llama_Meta_Llama_3_1_8B.md; " + pub.CITATION + ")"]
    # A row the model could still repeat (max_prob 0.043) is listed but flags nothing.
    assert flags_for(con, "r50k_base", [5815]) == {}


def test_the_default_text_and_the_presets_show_no_flag(con) -> None:
    texts = {"default": DEFAULT_TEXT}
    for name in available_workshops():
        texts |= {f"{name}: {label}": t for label, t in load_workshop(name).texts().items()}
    for tid in PRESET_TOKENIZERS:
        for label, text in texts.items():
            # What the Playground flags (special tokens such as BERT's [UNK] for Amharic have their own badge).
            assert flags_for(con, tid, get_tokenizer(tid).encode(text).ids, categories=EVIDENCE_NAMES) == {}, (tid, label)


def test_a_mismatch_is_counted_and_flags_nothing(store: SimpleNamespace, tmp_path: Path) -> None:
    """If our vocabulary had another entry at 80369, both Llama 3 reports' rows for it would be mismatches."""
    db = tmp_path / "edited.duckdb"
    shutil.copyfile(store.db, db)
    c = duckdb.connect(str(db))
    c.execute("UPDATE glitch_tokens SET display = ' SomethingElse' WHERE tokenizer = 'llama3' AND token_id = ?", [FOR_CAN])
    assert pub.published_stale(c) is False  # the same vocabulary sha256: the stored checks still count as current
    counts = pub.load_published(c)
    assert counts[pub.MISMATCH] == 2
    models = pub.published_models(c).set_index("model")
    assert models.loc["meta_llama_Meta_Llama_3_8B", ["n_match", "n_mismatch"]].tolist() == [187, 1]
    assert flags_for(c, "llama3", [FOR_CAN]) == {}
    row = pub.published_tokens(c, "meta_llama_Meta_Llama_3_8B", search="ForCanBeConverted").iloc[0]
    assert (row["check"], row["vocab_entry"]) == ("mismatch", " SomethingElse")
    c.close()


def test_published_tables_follow_the_scans(store: SimpleNamespace, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copyfile(store.db, db)
    c = duckdb.connect(str(db))
    assert not pub.published_stale(c)
    c.execute("DELETE FROM glitch_scans WHERE tokenizer = 'r50k_base'")
    assert pub.published_stale(c)
    pub.load_published(c)
    assert pub.published_models(c).set_index("model").loc["openai_community_gpt2", "n_unchecked"] == 26
    c.close()


def test_agreement_with_our_own_indicators(store: SimpleNamespace, tmp_path: Path) -> None:
    """Our scan of a GPT-2-vocabulary model, written as `glitch indicators`/`verify` would store it, against the report.

    Report (matching rows): verified {40241, 30905, ...25 ids}, not verified {5815}. Ours: scores for 40241 (0.1),
    30905 (0.3), 39752 (0.2) and 5815 (0.9); verdicts under-trained for 40241 and 5815.
    Published indicators: 40241 0.00143921, 30905 0.00145763, 39752 0.00147873, 5815 0.182786 -> ranks 1 2 3 4;
    ours 0.1 0.3 0.2 0.9 -> ranks 1 3 2 4: d = 0 1 1 0, Spearman = 1 - 6*2/(4*15) = 0.8.
    Verified: theirs 25, ours 2, both 1 (40241), either 26 -> Jaccard 1/26.
    """
    db = tmp_path / "ours.duckdb"
    shutil.copyfile(store.db, db)
    c = duckdb.connect(str(db))
    c.execute("INSERT INTO glitch_models (model, tokenizer) VALUES ('tiny-gpt2', 'r50k_base')")
    for token_id, score in [(40241, 0.1), (30905, 0.3), (39752, 0.2), (5815, 0.9)]:
        c.execute("INSERT INTO glitch_indicators (model, token_id, score, candidate) VALUES ('tiny-gpt2', ?, ?, true)",
                  [token_id, score])
    for token_id in (40241, 5815):
        c.execute("INSERT INTO glitch_verdicts (model, token_id, max_prob, under_trained) VALUES ('tiny-gpt2', ?, 0.001, "
                  "true)", [token_id])
    a = pub.agreement(c, "openai_community_gpt2", "tiny-gpt2")
    assert (a.published_verified, a.ours_verified, a.both_verified, a.common_ranked) == (25, 2, 1, 4)
    assert a.jaccard == pytest.approx(1 / 26, abs=1e-6) and a.spearman == pytest.approx(0.8)
    # Our own verification flags too, named as ours.
    assert verifications_for(c, "r50k_base", [5815]) == {5815: [
        "under-trained (verified) in tiny-gpt2: max probability 0.001 — our verification (python -m analysis glitch "
        "verify)"]}
    c.close()


def test_build_reports_the_published_checks(store: SimpleNamespace) -> None:
    line = next(m for m in store.messages if m.startswith("published verifications"))
    n_scanned = sum(int(r["rows_extracted"]) for r in csv.DictReader(open(pub.MAGIKARP_DIR / "models.csv"))
                    if r["tokenizer"] in TOKENIZERS)
    assert f"{n_scanned:,} match" in line
