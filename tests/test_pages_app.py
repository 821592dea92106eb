"""AppTest for the Vocabulary, SQL console and Methods pages: a smoke test each, and interactions with exact values.

The SQL console and Methods pages read a tiny store built here (see tests/tiny_store.py for its hand counts);
the Vocabulary page reads the real vocabularies (see tests/test_vocab.py for how its numbers follow).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from analysis.methods import metric_sections, papers
from analysis.sql_console import EXAMPLES
from tests.app_harness import APP, clear_app_caches
from tests.tiny_store import build_tiny_store

SMALL = ["r50k_base", "p50k_base", "utf8-bytes"]


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_store(tmp_path_factory.mktemp("pages"))


@pytest.fixture(autouse=True)
def _clear_caches_and_use_tiny_db(tiny_db: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ATLAS_DB", str(tiny_db))
    clear_app_caches()
    yield


def page(path: str, **state: object) -> AppTest:
    """The app on ``path``, run once; ``state`` presets widget values (so that the first run is already small)."""
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    at.query_params["tokenizers"] = "utf8-bytes"  # a cheap first run: pages with their own url_path need one
    at.run().switch_page(path).run()
    assert not at.exception, at.exception
    return at


def chart(at: AppTest, n: int) -> dict:
    return json.loads(at.get("plotly_chart")[n].proto.spec)


def array(value) -> np.ndarray:
    """A plotly trace array, which plotly may send base64-encoded ("bdata") with its dtype and shape."""
    if isinstance(value, dict) and "bdata" in value:
        arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = [int(s) for s in str(value.get("shape", len(arr))).split(",")]
        return arr.reshape(shape)
    return np.asarray(value)


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


# ------------------------------------------------------------------ Vocabulary comparison


def test_vocabulary_page_smoke_with_its_defaults() -> None:
    at = page("views/vocab.py")
    chosen = at.multiselect(key="vc_tokenizers").value
    assert chosen == ["o200k_base", "cl100k_base", "llama3", "gemma3", "qwen3", "mistral-tekken"]
    assert at.dataframe[0].value["tokenizer"].tolist() == chosen
    assert len(at.get("plotly_chart")) == 3 and len(at.get("download_button")) == 5
    assert "words" not in at.multiselect(key="vc_tokenizers").options


def test_vocabulary_page_exact_values() -> None:
    at = page("views/vocab.py", vc_tokenizers=["utf8-bytes"])
    at.multiselect(key="vc_tokenizers").set_value(SMALL).run()
    assert not at.exception
    sizes = at.dataframe[0].value.set_index("tokenizer")
    assert sizes["entries"].to_dict() == {"r50k_base": 50256, "p50k_base": 50280, "utf8-bytes": 256}
    assert sizes["special"].to_dict() == {"r50k_base": 1, "p50k_base": 1, "utf8-bytes": 3}
    heat = chart(at, 2)["data"][0]
    assert heat["x"] == SMALL
    r_p, r_u, p_u = 50256 / 50280, 256 / 50256, 256 / 50280
    assert np.array_equal(array(heat["z"]), [[1, r_p, r_u], [r_p, 1, p_u], [r_u, p_u, 1]])
    unique = at.dataframe[1].value
    assert dict(zip(unique["tokenizer"], unique["unique byte strings"])) == {
        "r50k_base": 0, "p50k_base": 24, "utf8-bytes": 0}
    assert at.dataframe[2].value["id"].tolist() == list(range(50257, 50281))  # "any one of them": p50k's 24


def test_vocabulary_page_unique_token_browsing() -> None:
    at = page("views/vocab.py", vc_tokenizers=["utf8-bytes"])
    at.multiselect(key="vc_tokenizers").set_value(SMALL).run()
    at.selectbox(key="vc_unique_owner").set_value("p50k_base")
    at.text_input(key="vc_unique_search").set_value("   ")  # runs of 3+ spaces: 23 tokens
    at.selectbox(key="vc_unique_size").set_value(50)
    at.radio(key="vc_unique_sort").set_value("longest first").run()
    assert not at.exception
    table = at.dataframe[2].value
    assert table["id"].tolist() == list(range(50280, 50257, -1))
    assert table["token"].tolist()[0] == "␣" * 25
    assert "23 matching tokens; showing 1–23." in [c.value for c in at.caption]
    at.selectbox(key="vc_unique_script").set_value("Latn").run()
    assert at.dataframe[2].value.empty
    assert "0 matching tokens; showing 0–0." in [c.value for c in at.caption]


def test_vocabulary_page_paging() -> None:
    at = page("views/vocab.py", vc_tokenizers=["utf8-bytes"])
    at.multiselect(key="vc_tokenizers").set_value(["utf8-bytes", "r50k_base"]).run()
    at.selectbox(key="vc_unique_owner").set_value("r50k_base").run()  # 50,256 - 256 = 50,000 tokens only r50k has
    at.number_input(key="vc_unique_page").set_value(500).run()  # the last page of 100
    assert not at.exception
    assert len(at.dataframe[2].value) == 100
    assert "50,000 matching tokens; showing 49,901–50,000." in [c.value for c in at.caption]
    at.number_input(key="vc_unique_page").set_value(9999).run()  # past the end: the last page
    assert "50,000 matching tokens; showing 49,901–50,000." in [c.value for c in at.caption]
    at.number_input(key="vc_unique_page").set_value(3).run()
    assert "50,000 matching tokens; showing 201–300." in [c.value for c in at.caption]
    at.text_input(key="vc_unique_search").set_value("<").run()  # a new filter starts on page 1 (23 tokens, see test_vocab)
    assert at.number_input(key="vc_unique_page").value == 1
    assert "23 matching tokens; showing 1–23." in [c.value for c in at.caption]


def test_vocabulary_page_length_chart_counts() -> None:
    at = page("views/vocab.py", vc_tokenizers=["utf8-bytes"])
    at.multiselect(key="vc_tokenizers").set_value(["utf8-bytes", "codepoints"]).run()
    at.radio(key="vc_len_value").set_value("count")
    at.number_input(key="vc_len_cap").set_value(3).run()
    assert not at.exception
    traces = {t["name"]: (array(t["x"]).tolist(), array(t["y"]).tolist()) for t in chart(at, 0)["data"]}
    assert traces == {"utf8-bytes": ([1], [256]), "codepoints": ([1, 2, 3], [128, 1920, 61440 + 1_048_576])}


def test_vocabulary_page_escapes_tokens() -> None:
    at = page("views/vocab.py", vc_tokenizers=["utf8-bytes"])
    at.multiselect(key="vc_tokenizers").set_value(["r50k_base", "utf8-bytes"]).run()
    at.selectbox(key="vc_unique_owner").set_value("r50k_base")
    at.text_input(key="vc_unique_search").set_value("</").run()
    assert not at.exception
    html = at.get("html")[-1].proto.body
    assert "&lt;/" in html and 'title="r50k_base · id ' in html
    body = html.split("</style>", 1)[1]
    assert body.count("<") == body.count('<span class="ta-vchip"') + body.count("</span>") + 2  # + div open/close


def test_vocabulary_page_without_a_choice() -> None:
    at = page("views/vocab.py", vc_tokenizers=["utf8-bytes"])
    at.multiselect(key="vc_tokenizers").set_value([]).run()
    assert not at.exception and at.info[0].value == "Choose at least one tokenizer."


# ------------------------------------------------------------------ SQL console


def run_sql(at: AppTest, sql: str) -> AppTest:
    at.text_area(key="sql_text").set_value(sql)
    at.button(key="sql_run").click().run()
    assert not at.exception
    return at


def test_sql_page_smoke_and_schema() -> None:
    at = page("views/sql_console.py")
    schema = at.dataframe[0].value.set_index("name")
    assert schema.loc["counts", "rows"] == 12 and schema.loc["languages", "rows"] == 2
    assert at.text_area(key="sql_text").value == EXAMPLES[0][1]
    assert len(at.expander) == len(schema)


def test_sql_page_runs_a_query_with_exact_results() -> None:
    at = run_sql(page("views/sql_console.py"),
                 "SELECT lang, sum(n_tokens) AS tokens FROM counts WHERE tokenizer = 'utf8-bytes' GROUP BY lang "
                 "ORDER BY lang")
    result = at.dataframe[-1].value
    assert result.to_dict("list") == {"lang": ["ell", "eng"], "tokens": [25, 20]}
    assert any(c.value.startswith("2 rows in ") for c in at.caption)
    assert [b.proto.label for b in at.get("download_button")] == ["CSV", "Parquet"]


def test_sql_page_example_and_row_cap() -> None:
    at = page("views/sql_console.py")
    at.selectbox(key="sql_example").set_value("Build settings (the meta table)").run()
    assert at.text_area(key="sql_text").value == dict(EXAMPLES)["Build settings (the meta table)"]
    at.button(key="sql_run").click().run()
    assert len(at.dataframe[-1].value) == 6
    at.number_input(key="sql_max_rows").set_value(2)
    run_sql(at, "SELECT * FROM range(5)")
    assert at.dataframe[-1].value["range"].tolist() == [0, 1]
    assert any("capped at 2; there are more" in c.value for c in at.caption)


@pytest.mark.parametrize(("sql", "message"), [
    ("COPY counts TO '/tmp/atlas-page-leak.csv'", "COPY reads or writes files"),
    ("SELECT * FROM read_csv('/etc/passwd')", "File, network and extension access is switched off"),
    ("SELECT 1; DROP TABLE counts", "One statement at a time"),
    ("SET threads = 8", "Settings are locked"),
])
def test_sql_page_refuses_escapes(sql: str, message: str) -> None:
    at = run_sql(page("views/sql_console.py"), sql)
    assert any(e.startswith("**Not allowed in this console**") and message in e for e in errors(at))
    assert not Path("/tmp/atlas-page-leak.csv").exists()


def test_sql_page_without_a_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ATLAS_DB", str(tmp_path / "none.duckdb"))
    at = page("views/sql_console.py")
    assert any("analysis build --db" in e for e in errors(at))


# ------------------------------------------------------------------ Methods


def test_methods_page() -> None:
    at = page("views/methods.py")
    table = at.dataframe[0].value  # dataframes carry no key in AppTest: settings first, then sources
    settings = dict(zip(table["setting"], table["value"]))
    assert settings["Unicode normalization before tokenizing"] == "none"
    assert settings["Bootstrap confidence intervals"] == "B=1000, seed=0, percentile 2.5/97.5"
    sources = at.dataframe[1].value
    assert sources["id"].tolist() == ["bert-uncased", "codepoints", "utf8-bytes", "tiny"]
    assert sources.set_index("id").loc["bert-uncased", "sha256"].startswith("be50c362")
    assert [s.value for s in at.subheader] == [s.title for s in metric_sections()[1:]]
    assert len(at.expander) == len(papers()) == 24
    assert at.info[0].value.startswith("**As recorded in this database:** no BOS/EOS")
    assert not at.warning  # every vocabulary hash matches the catalogue


def test_methods_page_without_a_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ATLAS_DB", str(tmp_path / "none.duckdb"))
    at = page("views/methods.py")
    assert any("Statistics database not built yet" in e for e in errors(at))
    assert len(at.subheader) == len(metric_sections()) - 1  # the definitions still show


def test_vocabulary_page_offers_lab_tokenizers() -> None:
    # A tokenizer trained in the lab arrives as {label: "file:PATH"}; here PATH is mistral-v1-hf's own tokenizer.json,
    # so its vocabulary equals mistral-v1-hf's: Jaccard 1, no token unique to either. The label is user text.
    from analysis.assets import require_asset
    from analysis.catalogue import load_catalogue

    path = require_asset(load_catalogue().tokenizer("mistral-v1-hf").files["tokenizer"])
    label = "my <b>bpe</b>"
    at = page("views/vocab.py", vc_tokenizers=["utf8-bytes"], lab_tokenizers={label: f"file:{path}"})
    assert label in at.multiselect(key="vc_tokenizers").options
    at.multiselect(key="vc_tokenizers").set_value(["mistral-v1-hf", label]).run()
    assert not at.exception
    assert at.dataframe[0].value.set_index("tokenizer").loc[label, "entries"] == 31997
    heat = chart(at, 2)["data"][0]
    assert heat["x"] == ["mistral-v1-hf", "my &lt;b&gt;bpe&lt;/b&gt;"]
    assert np.array_equal(array(heat["z"]), [[1, 1], [1, 1]])
    assert at.dataframe[1].value["unique byte strings"].tolist() == [0, 0]
