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
    build(path, corpora=["tiny"], tokenizers=["utf8-bytes", "bert-uncased", "words"], workers=1)
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
ORDER = ("gl_counts", "gl_table", "gl_models", "gl_candidates")


def frame(at: AppTest, key: str):
    return at.dataframe[ORDER.index(key)].value


def test_category_counts_and_models(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(db, monkeypatch)
    counts = frame(at, "gl_counts").set_index("tokenizer")
    row = counts.loc["utf8-bytes"]
    assert (row["ids"], row["special"], row["partial-utf8"], row["never-seen"], row["rare"]) == (259, 3, 128, 251, 4)
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
    at.multiselect(key="gl_categories").set_value(["rare"])
    at.run()
    assert frame(at, "gl_table")["token"].tolist() == [" ", "a", "b", "i"]  # counted in test_glitch_store.py
    at.text_input(key="gl_search").set_value("b")
    at.run()
    assert frame(at, "gl_table")["id"].tolist() == [101]
    at.multiselect(key="gl_categories").set_value([])
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
    assert len(frame(at, "gl_counts")) == 2  # utf8-bytes and bert-uncased
