"""The cost of a language: hand-computed costs and fits, the CI carried through ("no CI" kept), exact vs proxy,
the price presets, and the explorer's Cost tab on a real UDHR store."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analysis.catalogue import load_catalogue
from analysis.costs import PriceError, Prices, language_costs, load_presets
from analysis.store import read
from analysis.store.schema import open_readonly
from tests.app_harness import APP, clear_app_caches

PREM = pd.DataFrame({"tokenizer": ["a", "a", "b"], "lang": ["eng", "hin", "hin"], "name": ["English", "Hindi", "Hindi"],
                     "premium": [1.0, 3.0, 1.5], "ci_low": [1.0, 2.5, float("nan")],
                     "ci_high": [1.0, 4.0, float("nan")]})


def test_costs_by_hand():
    # a: English 4 chars/token; b: 5. 10,000 chars in -> a: 2,500 ref tokens; b: 2,000. 2,000 chars out -> 500; 400.
    out = language_costs(PREM, {"a": 4.0, "b": 5.0}, Prices(1.0, 4.0, 9000), input_chars=10_000, output_chars=2_000,
                         requests=10, exact_tokenizer="a").set_index(["tokenizer", "lang"])
    assert out.loc[("a", "eng"), "input_tokens"] == 2500 and out.loc[("a", "hin"), "input_tokens"] == 7500
    assert out.loc[("a", "hin"), "output_tokens"] == 1500
    # 10 × (7,500 × $1 + 1,500 × $4) / 1e6 = $0.135; the CI 2.5..4 gives 0.1125 .. 0.18
    assert out.loc[("a", "hin"), ["cost", "cost_low", "cost_high"]].tolist() == pytest.approx([0.135, 0.1125, 0.18])
    assert out.loc[("a", "eng"), "cost"] == pytest.approx(10 * (2500 * 1 + 500 * 4) / 1e6)
    # b/hin: 3,000 in + 600 out; no CI stays no CI
    assert out.loc[("b", "hin"), "cost"] == pytest.approx(10 * (3000 + 600 * 4) / 1e6)
    assert math.isnan(out.loc[("b", "hin"), "cost_low"]) and math.isnan(out.loc[("b", "hin"), "input_chars_fit_low"])
    # The window: 9,000 tokens. a/hin needs 9,000 (fits exactly), a/eng 3,000; input that fits = 9,000 × 4 / 3.
    assert out["fits"].tolist() == [True, True, True]
    assert out.loc[("a", "hin"), ["input_chars_fit", "input_chars_fit_low", "input_chars_fit_high"]].tolist() == \
        pytest.approx([12_000, 9_000, 14_400])
    assert out["count"].tolist() == ["exact", "exact", "proxy"]
    tighter = language_costs(PREM, {"a": 4.0, "b": 5.0}, Prices(1.0, 4.0, 8999), input_chars=10_000,
                             output_chars=2_000)
    assert tighter["fits"].tolist() == [True, False, True] and set(tighter["count"]) == {"proxy"}


@pytest.mark.parametrize("args, match", [
    (dict(prices=Prices(1, 1, 10), input_chars=-1), "0 or more"),
    (dict(prices=Prices(1, 1, 10), input_chars=1, requests=0), "at least 1"),
])
def test_bad_sizes(args, match):
    with pytest.raises(PriceError, match=match):
        language_costs(PREM, {"a": 4.0, "b": 5.0}, **args)


def test_missing_reference_figure_and_bad_prices():
    with pytest.raises(PriceError, match="count the reference language with them first"):
        language_costs(PREM, {"a": 4.0}, Prices(1, 1, 10), input_chars=1)
    with pytest.raises(PriceError, match="input price"):
        Prices(-1.0, 1.0, 10)
    with pytest.raises(PriceError, match="context window"):
        Prices(1.0, 1.0, 0)
    with pytest.raises(PriceError, match="output price"):
        Prices(1.0, float("nan"), 10)


def test_presets_are_sourced_and_claude_counts_are_proxies(tmp_path: Path):
    presets = load_presets()
    ids = set(load_catalogue().ids)
    assert all(p.tokenizer in ids and p.source for p in presets)
    assert {p.name: p.exact for p in presets if p.tokenizer == "claude-legacy"} == {
        "Claude 3.5 Sonnet": False, "Claude 3 Haiku": False}
    gpt4o = next(p for p in presets if p.name.startswith("GPT-4o ("))
    assert (gpt4o.tokenizer, gpt4o.exact, gpt4o.prices) == ("o200k_base", True, Prices(2.5, 10.0, 128000))
    bad = tmp_path / "p.toml"
    bad.write_text('[[preset]]\nname = "x"\n', encoding="utf-8")
    with pytest.raises(PriceError, match="Restore the file from git"):
        load_presets(bad)


@pytest.fixture
def _store(app_db: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ATLAS_DB", str(app_db))
    clear_app_caches()
    yield


def test_cost_tab(_store, app_db: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["px_tab"] = "Cost"
    at.switch_page("views/premiums.py").run()
    assert not at.exception, [e.message for e in at.exception]
    table = next(d.value for d in at.dataframe if "cost, $" in d.value.columns)
    con = open_readonly(app_db)
    try:
        prem = read.premiums(con, "udhr", "eng", ("o200k_base", "llama3", "bert-uncased"))
        stats = read.lang_stats(con, "udhr")
    finally:
        con.close()
    hin = prem[(prem.tokenizer == "o200k_base") & (prem.lang == "hin")].iloc[0]
    cpt = stats[(stats.tokenizer == "o200k_base") & (stats.lang == "eng")]["chars_per_token"].iloc[0]
    # GPT-4o preset: $2.50 in, $10 out; 2,000 characters in, 1,000 out, 1,000 requests.
    want = 1000 * (2000 / cpt * hin.premium * 2.5 + 1000 / cpt * hin.premium * 10) / 1e6
    row = table[(table.tokenizer == "o200k_base") & (table.language == "Hindi (hin)")].iloc[0]
    assert row["cost, $"] == pytest.approx(want) and row["count"] == "exact"
    assert set(table[table.tokenizer == "llama3"]["count"]) == {"proxy"}
    at.selectbox(key="px_cost_preset").set_value("Claude 3.5 Sonnet").run()
    table = next(d.value for d in at.dataframe if "cost, $" in d.value.columns)
    assert set(table["count"]) == {"proxy"} and any("stand-in" in w.value for w in at.warning)
    assert at.number_input(key="px_cost_in").value == 3.0 and at.number_input(key="px_cost_ctx").value == 200000
