"""AppTest: the Glitch tokens page on a real database (the hand-counted corpus of test_glitch_store.py, and the
real BERT's indicators)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis.assets import asset_path
from analysis.catalogue import load_catalogue
from analysis.glitch.probe import run_indicators, store_indicators
from analysis.store.build import build
from tests.app_harness import APP, clear_app_caches
from tests.tiny_store import import_lines

TEXTS = {"eng": ["all free", "be free"], "deu": ["alle frei", "frei"]}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = import_lines(tmp_path_factory.mktemp("glitch_app"), TEXTS)
    build(path, corpora=["tiny"], tokenizers=["utf8-bytes", "bert-uncased", "words", "r50k_base"], workers=1)
    minilm = asset_path(load_catalogue().files["minilm/model.safetensors"]).parent
    store_indicators(path, run_indicators(str(minilm)))
    return path


@pytest.fixture(autouse=True)
def _clear_caches():
    clear_app_caches()
    yield


def page(db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("ATLAS_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=90)
    at.switch_page("views/glitch.py").run()
    assert not at.exception, at.exception
    return at


#: The page's tables in the order it draws them (AppTest does not expose a dataframe's key).
ORDER = ("gl_counts", "gl_table", "gl_pub_models", "gl_pub_summary", "gl_pub_tokens", "gl_models", "gl_candidates")


def frame(at: AppTest, key: str):
    return at.dataframe[ORDER.index(key)].value


def test_category_counts_and_models(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(db, monkeypatch)
    counts = frame(at, "gl_counts").set_index("tokenizer")
    row = counts.loc["utf8-bytes"]
    assert (row["ids"], row["special"], row["partial-utf8"], row["not in this database's corpora"]) == (259, 3, 128, 251)
    assert "rare" not in row and "never-seen" not in row  # occurrences are information, not categories
    assert counts.loc["bert-uncased", "special"] == 5 and counts.loc["bert-uncased", "unreachable"] == 1331
    assert "words" not in counts.index
    assert any("not scanned: no finite vocabulary" in c.value for c in at.caption)
    assert len(frame(at, "gl_candidates")) == 584
    assert len(at.get("plotly_chart")) == 1


def test_filters(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(db, monkeypatch)
    at.selectbox(key="gl_tokenizer").set_value("utf8-bytes")
    at.multiselect(key="gl_categories").set_value(["partial-utf8"])
    at.run()
    assert len(frame(at, "gl_table")) == 128
    at.multiselect(key="gl_categories").set_value([])
    at.number_input(key="gl_max_total").set_value(3)
    at.run()
    table = frame(at, "gl_table")
    # seen 1..3 times (counted in test_glitch_store.py): space 3, a 2, i 2, b 1
    assert table[table["total"] > 0]["token"].tolist() == [" ", "a", "b", "i"]
    at.text_input(key="gl_search").set_value("b")
    at.run()
    table = frame(at, "gl_table")
    assert table[table["total"] > 0]["id"].tolist() == [101]  # "b"; "B", "<0x8B>", ... are never seen
    assert {69, 101, 142} <= set(table["id"])
    at.text_input(key="gl_search").set_value("")
    at.number_input(key="gl_max_total").set_value(1)
    script = next(o for o in at.selectbox(key="gl_script").options if o.startswith("Latn"))
    at.selectbox(key="gl_script").set_value(script)
    at.run()
    assert len(frame(at, "gl_table")) == 46  # "b" and the 45 ASCII letters never seen


def test_html_is_escaped(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(db, monkeypatch)
    body = "".join(h.proto.body for h in at.get("html"))
    assert "&lt;|endoftext|&gt;" in body and "<|endoftext|>" not in body


def test_missing_database_is_an_error_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(tmp_path / "none.duckdb", monkeypatch)
    assert at.error and "No statistics database" in at.error[0].value


def test_database_without_models(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    import duckdb

    copy = tmp_path / "nomodels.duckdb"
    shutil.copyfile(db, copy)
    con = duckdb.connect(str(copy))
    con.execute("DELETE FROM glitch_models")
    con.close()
    at = page(copy, monkeypatch)
    assert any("No model has been scanned" in i.value for i in at.info)
    assert len(frame(at, "gl_counts")) == 3  # utf8-bytes, bert-uncased and r50k_base


def test_published_verifications(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(db, monkeypatch)
    models = frame(at, "gl_pub_models").set_index("name")
    assert len(models) == 13
    gpt2 = models.loc["openai-community/gpt2"]
    assert (gpt2["tokenizer"], gpt2["n_rows"], gpt2["n_verified"], gpt2["n_match"], gpt2["n_mismatch"]) == \
        ("r50k_base", 26, 25, 26, 0)
    assert models.loc["meta-llama/Meta-Llama-3-8B", "n_unchecked"] == 188  # llama3 is not in this database
    assert any(c.value == "Rows that differ from our vocabulary: none." for c in at.caption)
    assert any("meta-llama/Meta-Llama-3-8B (`llama3` is not in this database: build with it to check its rows)" in c.value
               for c in at.caption)
    assert at.selectbox(key="gl_pub_model").value == "openai_community_gpt2"  # the first report checked here
    at.selectbox(key="gl_pub_model").set_value("deepseek_ai_DeepSeek_R1").run()
    assert "every listed max_prob is 0.5" in at.warning[0].value
    at.selectbox(key="gl_pub_model").set_value("openai_community_gpt2").run()
    assert not at.warning
    assert any("results/reports_mini/openai_community_gpt2.md" in m.value and "0d466b27416b" in m.value
               for m in at.markdown)
    rows = frame(at, "gl_pub_tokens")
    assert len(rows) == 26 and set(rows["check"]) == {"match"}
    assert rows.iloc[0][["id", "token", "vocab_entry"]].tolist() == [40241, "InstoreAndOnline", "InstoreAndOnline"]
    summary = frame(at, "gl_pub_summary").iloc[0]
    assert (summary["rows matching our vocabulary"], summary["verified under-trained"]) == (26, 25)
    at.text_input(key="gl_pub_search").set_value("nitrome").run()
    assert frame(at, "gl_pub_tokens")["id"].tolist() == [42089, 42066]
    at.text_input(key="gl_pub_search").set_value("").run()
    at.toggle(key="gl_pub_verified").set_value(True).run()
    assert len(frame(at, "gl_pub_tokens")) == 25 and 5815 not in frame(at, "gl_pub_tokens")["id"].tolist()
