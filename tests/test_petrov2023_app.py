"""AppTest for the petrov2023 protocol: the explorer's "Published vs ours" tab, its no-CI caption and bars without
error bars, and the import page's protocol choice. Hand counts: see tests/test_petrov2023.py."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis.corpus.imports import read_corpus, read_flores200_petrov2023
from analysis.published_premiums import COMPARISON_COLUMNS
from analysis.store import read
from analysis.store.build import build
from analysis.store.corpora import import_into_store
from analysis.store.schema import open_readonly
from tests.app_harness import APP, clear_app_caches
from tests.test_petrov2023 import BYTES, CODEPOINTS, FILES, TEXT, flores_folder, published_csv


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("petrov-app")
    folder = flores_folder(root / "flores")
    db = root / "atlas.duckdb"
    import_into_store(db, read_flores200_petrov2023(folder, name="fp"))
    import_into_store(db, read_corpus("flores200", folder, name="fs"))  # the same folder, one unit per sentence
    build(db, corpora=["fp", "fs"], tokenizers=["utf8-bytes", "codepoints", "words"], workers=1,
          token_checks=False)
    return db


@pytest.fixture(autouse=True)
def _use_db(db: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ATLAS_DB", str(db))
    clear_app_caches()
    yield


def explorer(corpus: str, tab: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["tokenizers"] = "utf8-bytes"
    at.run()
    at.session_state["px_corpus"] = corpus
    at.session_state["px_tokenizers"] = ["utf8-bytes", "codepoints"]
    at.session_state["px_tab"] = tab
    at.switch_page("views/premiums.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def test_published_vs_ours_tab_exact() -> None:
    t = published_csv()
    at = explorer("fp", "Published vs ours")
    assert at.selectbox(key="px_reference").value == "eng_Latn"  # the FLORES code of English is the default
    assert [tab.label for tab in at.tabs] == ["Dots", "Bars", "Heatmap", "Map", "By script", "Per unit", "Fairness", "Table",
                                              "Cost", "Published vs ours"]
    table = next(d.value for d in at.dataframe if "published_premium" in d.value.columns)
    assert list(table.columns) == COMPARISON_COLUMNS
    assert list(table["column"].drop_duplicates()) == ["ByT5", "UTF-32"] and len(table) == 6
    rows = table.set_index(["column", "lang"])
    for column, ours in (("ByT5", BYTES), ("UTF-32", CODEPOINTS)):
        for code, name in (("eng_Latn", "English"), ("fra_Latn", "French"), ("deu_Latn", "German")):
            r = rows.loc[(column, code)]
            published = t[name][column] / t["English"][column]
            assert (r["published_tokens"], r["our_tokens"]) == (t[name][column], ours[code])
            assert (r["published_premium"], r["our_premium"]) == (published, ours[code] / 28)
            assert r["difference"] == ours[code] / 28 - published
    text = captions(at)
    assert "2 of 6 (column, language) cells agree to 4 decimals, 0 with the very same token count" in text
    assert "Petrov, La Malfa, Torr, Bibi" in text and "commit 365c3f8" in text
    assert "No confidence intervals: this corpus was imported with the petrov2023 protocol" in text
    assert "CI: none (protocol petrov2023: one unit per language)" in text


def test_search_filters_the_comparison_too() -> None:
    at = explorer("fp", "Published vs ours")
    at.text_input(key="px_search").set_value("fra").run()
    table = next(d.value for d in at.dataframe if "published_premium" in d.value.columns)
    assert sorted(table["lang"].unique()) == ["fra_Latn"] and len(table) == 2


def test_bars_have_no_error_bars_without_ci() -> None:
    at = explorer("fp", "Bars")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    bars = [tr for tr in spec["data"] if tr["type"] == "bar"]
    assert [b["name"] for b in bars] == ["utf8-bytes", "codepoints"]  # catalogue order, as on every chart
    assert all("error_y" not in b for b in bars)  # no bar of width zero
    assert {c[2] for c in bars[0]["customdata"]} == {"no CI: 1 unit"}


def test_dots_have_no_whiskers_without_ci() -> None:
    at = explorer("fp", "Dots")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    dots = [tr for tr in spec["data"] if tr["type"] == "scatter"]
    assert [d["name"] for d in dots] == ["utf8-bytes", "codepoints"]
    assert all("error_x" not in d for d in dots)  # a dot, never a whisker of length zero
    assert {c[2] for c in dots[1]["customdata"]} == {"no CI: 1 unit"}


def test_table_has_empty_ci_columns() -> None:
    at = explorer("fp", "Table")
    table = next(d.value for d in at.dataframe if "ci_low" in d.value.columns).set_index(["tokenizer", "lang"])
    assert table["ci_low"].isna().all() and table["ci_high"].isna().all()
    assert table.loc[("utf8-bytes", "fra_Latn"), "premium"] == 36 / 28


def test_sentence_corpus_has_no_published_tab_and_keeps_its_ci() -> None:
    at = explorer("fs", "Bars")
    assert "Published vs ours" not in [tab.label for tab in at.tabs]
    assert "No confidence intervals" not in captions(at)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert all("error_y" in tr for tr in spec["data"] if tr["type"] == "bar")
    at.session_state["px_tab"] = "Dots"
    at.run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert all("error_x" in tr for tr in spec["data"] if tr["type"] == "scatter")


def test_comparison_follows_the_tokenizers_picked() -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["tokenizers"] = "utf8-bytes"
    at.run()
    at.session_state["px_corpus"] = "fp"
    at.session_state["px_tab"] = "Published vs ours"
    at.switch_page("views/premiums.py").run()
    at.multiselect(key="px_tokenizers").set_value(["codepoints"]).run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "published_premium" in d.value.columns)
    assert list(table["column"].unique()) == ["UTF-32"]
    at.multiselect(key="px_tokenizers").set_value(["words"]).run()  # counted, but not in their table
    assert not at.exception
    assert [i.value for i in at.info] == ["None of the tokenizers picked is in the published table. Pick codepoints, "
                                          "utf8-bytes."]


def test_import_page_offers_the_protocol(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "up.duckdb"
    monkeypatch.setenv("ATLAS_DB", str(db))
    clear_app_caches()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for code, (dev, devtest) in FILES.items():
            z.writestr(f"fl/dev/{code}.dev", dev.encode())
            z.writestr(f"fl/devtest/{code}.devtest", devtest.encode())
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["tokenizers"] = "utf8-bytes"
    at.run().switch_page("views/import_corpus.py").run()
    at.selectbox(key="im_kind").set_value("flores200").run()
    assert at.radio(key="im_protocol").options == [
        "One unit per sentence (per-unit confidence intervals)",
        "petrov2023: one string per language, dev then devtest lines joined by spaces, as Petrov et al. (2023) counted "
        "(reproduces their published table; no confidence intervals)"]
    at.radio(key="im_protocol").set_value("petrov2023")
    at.text_input(key="im_name").set_value("up")
    at.multiselect(key="im_tokenizers").set_value(["codepoints"])
    at.file_uploader(key="im_file").set_value(("fl.zip", buf.getvalue(), "application/zip"))
    at.run()
    at.button(key="im_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    con = open_readonly(db)
    try:
        assert read.corpus_protocol(con, "up") == "petrov2023"
        assert dict(con.execute("SELECT lang, text FROM units WHERE corpus = 'up'").fetchall()) == TEXT
    finally:
        con.close()


def test_switching_to_a_sentence_corpus_leaves_the_published_tab() -> None:
    at = explorer("fp", "Published vs ours")
    at.selectbox(key="px_corpus").set_value("fs").run()
    assert not at.exception, [e.message for e in at.exception]
    assert "Published vs ours" not in [tab.label for tab in at.tabs]
    assert not any("published_premium" in d.value.columns for d in at.dataframe)
