"""AppTest (issue 17): the explorer opens on the dot plot, links name its tab, the presentation switch on every chart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis.store import read
from analysis.store.schema import open_readonly
from tests.app_harness import APP, clear_app_caches


@pytest.fixture(autouse=True)
def _store(app_db: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ATLAS_DB", str(app_db))
    clear_app_caches()
    yield


def explorer(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    at.switch_page("views/premiums.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def spec(at: AppTest, k: int = 0) -> dict:
    return json.loads(at.get("plotly_chart")[k].proto.spec)


def test_explorer_opens_on_the_dot_plot(app_db: Path) -> None:
    at = explorer()
    assert [t.label for t in at.tabs][:2] == ["Dots", "Bars"]
    assert len(at.get("plotly_chart")) == 1
    fig = spec(at)
    assert [t["name"] for t in fig["data"]] == ["o200k_base", "llama3", "bert-uncased"]  # catalogue order
    assert all(t["type"] == "scatter" and t["mode"] == "markers" for t in fig["data"])
    # 60 rows (the slider's default), the dearest language on top: by the mean premium over the three tokenizers.
    con = open_readonly(app_db)
    try:
        prem = read.premiums(con, "udhr", "eng", ["o200k_base", "llama3", "bert-uncased"])
    finally:
        con.close()
    mean = prem.groupby(["lang", "name"])["premium"].mean().sort_values(ascending=False)
    top = [f"{name} ({lang})" for lang, name in mean.index[:60]]
    assert fig["layout"]["yaxis"]["ticktext"] == top
    policy_lines = fig["layout"]["annotations"][0]["text"].count("<br>") + 1
    assert "Counting: no BOS/EOS" in fig["layout"]["annotations"][0]["text"]
    assert fig["layout"]["height"] == 22 * 60 + 150 + 30 + 15 * policy_lines
    assert fig["layout"]["xaxis"]["type"] == "log"
    # The whisker of the dearest language's o200k_base dot is its CI.
    lang = mean.index[0][0]
    row = prem[(prem["tokenizer"] == "o200k_base") & (prem["lang"] == lang)].iloc[0]
    o200k = fig["data"][0]
    assert o200k["x"][0] == row["premium"]
    assert o200k["error_x"]["array"][0] == pytest.approx(row["ci_high"] - row["premium"], abs=1e-12)
    assert o200k["error_x"]["arrayminus"][0] == pytest.approx(row["premium"] - row["ci_low"], abs=1e-12)


def test_a_link_names_the_tab_the_search_and_the_tokenizers() -> None:
    at = explorer(tab="Map", tokenizers="llama3,nope", search="Hindi")
    assert at.multiselect(key="px_tokenizers").value == ["llama3"]  # an id not counted is left out
    assert at.text_input(key="px_search").value == "Hindi"
    assert [t["type"] for t in spec(at)["data"]] == ["scattergeo"]
    # What the visitor changes afterwards is kept (the link is applied once).
    at.text_input(key="px_search").set_value("amh").run()
    assert at.text_input(key="px_search").value == "amh"


def test_presentation_switch_enlarges_every_chart() -> None:
    at = explorer()
    assert at.toggle(key="presentation").value is False
    small = spec(at)
    assert "font" not in small["layout"] or small["layout"]["font"].get("size") != 20
    at.toggle(key="presentation").set_value(True).run()
    big = spec(at)
    assert big["layout"]["font"]["size"] == 20 and big["layout"]["xaxis"]["tickfont"]["size"] == 18
    assert [t["marker"]["size"] for t in big["data"]] == [14, 14, 14]
    assert big["layout"]["height"] == round(small["layout"]["height"] * 1.35)
    # The switch is one session key: every chart drawn through app.charts.show_chart gets it, e.g. another tab's.
    at.session_state["px_tab"] = "Heatmap"
    at.run()
    assert spec(at)["layout"]["font"]["size"] == 20


def test_a_present_link_opens_with_the_switch_on() -> None:
    at = explorer(present="1")
    assert at.toggle(key="presentation").value is True
    assert spec(at)["layout"]["font"]["size"] == 20
