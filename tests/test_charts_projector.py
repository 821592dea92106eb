"""Charts for a projector (issue 17): the dot plot's exact traces, the presentation style, one colour per tokenizer.

The frames are small and made by hand; every expected value below is worked out from them.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import pytest

from analysis import charts, load_catalogue
from analysis.charts import (
    PRESENTATION,
    TOKENIZER_PALETTE,
    dot_offsets,
    premium_dots,
    presentation_style,
    tokenizer_colour,
    tokenizer_style,
)
from app.state import DEFAULT_TOKENIZERS


def frame() -> pd.DataFrame:
    """Three languages, two tokenizers, given llama3 first (the chart orders by the catalogue: o200k_base first).

    Mean premiums: Amharic (4.0 + 6.0) / 2 = 5.0, Hindi (2.0 + 3.0) / 2 = 2.5, French (1.25 + 1.5) / 2 = 1.375,
    so the rows, dearest first, are Amharic (row 0), Hindi (1), French (2).
    """
    return pd.DataFrame([
        # tokenizer, lang, name, script, premium, ci_low, ci_high, units
        ("llama3", "hin", "Hindi", "Deva", 3.0, 2.5, 3.5, 31),
        ("llama3", "amh", "Amharic", "Ethi", 6.0, None, None, 1),
        ("llama3", "fra", "French", "Latn", 1.5, 1.25, 2.0, 31),
        ("o200k_base", "hin", "Hindi", "Deva", 2.0, 1.75, 2.5, 31),
        ("o200k_base", "amh", "Amharic", "Ethi", 4.0, 3.0, 4.5, 30),
        ("o200k_base", "fra", "French", "Latn", 1.25, 1.0, 1.5, 31),
    ], columns=["tokenizer", "lang", "name", "script", "premium", "ci_low", "ci_high", "units"])


def nan_to_none(values) -> list:
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in values]


def test_dot_plot_traces_exact() -> None:
    fig = premium_dots(frame(), reference_name="English", policy="Counting: no BOS/EOS")
    assert [t.type for t in fig.data] == ["scatter", "scatter"]
    assert [t.name for t in fig.data] == ["o200k_base", "llama3"]  # catalogue order, not the frame's
    o200k, llama = fig.data
    # One row per language, dearest at the top; rows 0, 1, 2 drawn top to bottom (reversed axis).
    assert list(fig.layout.yaxis.ticktext) == ["Amharic (amh)", "Hindi (hin)", "French (fra)"]
    assert list(fig.layout.yaxis.tickvals) == [0, 1, 2] and list(fig.layout.yaxis.range) == [2.5, -0.5]
    # Two tokenizers: offsets -0.3 and +0.3 inside each row.
    assert dot_offsets(2) == [-0.3, 0.3]
    assert list(o200k.y) == [-0.3, 0.7, 1.7] and list(llama.y) == [0.3, 1.3, 2.3]
    assert list(o200k.x) == [4.0, 2.0, 1.25] and list(llama.x) == [6.0, 3.0, 1.5]
    # Whiskers: ci_high - premium to the right, premium - ci_low to the left (binary-exact values).
    assert list(o200k.error_x.array) == [0.5, 0.5, 0.25] and list(o200k.error_x.arrayminus) == [1.0, 0.25, 0.25]
    assert o200k.error_x.symmetric is False and o200k.error_x.type == "data"
    # Amharic with llama3 has no interval (one unit): a dot and no whisker, never one of length zero.
    assert nan_to_none(llama.error_x.array) == [None, 0.5, 0.5]
    assert nan_to_none(llama.error_x.arrayminus) == [None, 0.5, 0.25]
    # Hover: language, script, premium (from x) and the interval.
    assert [list(c) for c in llama.customdata] == [
        ["Amharic (amh)", "Ethiopic (Ethi)", "no CI: 1 unit"],
        ["Hindi (hin)", "Devanagari (Deva)", "95% CI 2.500–3.500, 31 units"],
        ["French (fra)", "Latin (Latn)", "95% CI 1.250–2.000, 31 units"]]
    assert "%{customdata[0]}" in llama.hovertemplate and "llama3: %{x:.3f}×" in llama.hovertemplate
    assert "script: %{customdata[1]}" in llama.hovertemplate and "(%{customdata[2]})" in llama.hovertemplate
    # Log x axis with parity marked, colours and symbols from the one tokenizer mapping.
    assert fig.layout.xaxis.type == "log"
    assert [s.x0 for s in fig.layout.shapes] == [1.0]
    assert o200k.marker.color == "#E69F00" and llama.marker.color == "#000000"
    assert (o200k.marker.size, o200k.marker.symbol) == (9, "circle")
    assert fig.layout.height == 320  # max(320, 22 px × 3 rows + 150 px on top + 45 px for one line of policy)
    assert fig.layout.annotations[0].text == "Counting: no BOS/EOS"


def test_dot_plot_height_grows_with_the_rows() -> None:
    rows = [("o200k_base", f"l{k:02d}", f"Language {k}", "Latn", 1 + k / 10, 1 + k / 10 - 0.05, 1 + k / 10 + 0.05, 31)
            for k in range(60)]
    df = pd.DataFrame(rows, columns=frame().columns)
    fig = premium_dots(df, reference_name="English", policy="p")
    assert fig.layout.height == 22 * 60 + 150 + 30 + 15  # rows, title/legend/axis, one line of policy
    assert fig.layout.yaxis.ticktext[0] == "Language 59 (l59)" and fig.layout.yaxis.ticktext[-1] == "Language 0 (l00)"


def test_dot_offsets_three_and_six() -> None:
    assert dot_offsets(3) == [-0.3, 0.0, 0.3]
    assert dot_offsets(6) == [-0.3, -0.18, -0.06, 0.06, 0.18, 0.3]


def test_dot_plot_escapes_labels() -> None:
    df = frame().assign(name=lambda d: d["name"].where(d["lang"] != "fra", "<b>x</b>"))
    fig = premium_dots(df, reference_name="<i>Eng</i>", policy="<script>")
    assert "&lt;b&gt;x&lt;/b&gt; (fra)" in fig.layout.yaxis.ticktext
    assert "<i>" not in fig.layout.title.text and "<script>" not in fig.layout.title.text


# ------------------------------------------------------------------ presentation style


def all_figures() -> dict[str, go.Figure]:
    """One figure of every kind the app draws (premium, vocabulary, glitch, lab charts)."""
    from analysis.glitch.charts import indicator_histogram

    df = frame()
    langs = pd.DataFrame({"lang": ["hin", "amh", "fra"], "latitude": [25.0, 9.0, 46.0], "longitude": [77.0, 38.0, 2.0]})
    units = pd.DataFrame({"tokenizer": ["llama3", "llama3"], "unit": ["1", "2"], "ratio": [2.0, 3.0]})
    fair = pd.DataFrame({"tokenizer": ["llama3"], "mean_premium": [2.0], "max_premium": [6.0],
                         "worst_language": ["amh"], "gini": [0.25]})
    hist = pd.DataFrame({"tokenizer": ["llama3", "llama3"], "length": [1, 2], "label": ["1", "2"],
                         "count": [10, 20], "share": [0.25, 0.75]})
    scores = pd.DataFrame({"score": [0.1, 0.2, 0.9], "reachable": [True, True, False]})
    return {
        "dots": premium_dots(df, reference_name="English", policy="p"),
        "bars": charts.premium_bars(df, reference_name="English", policy="p"),
        "heatmap": charts.premium_heatmap(df, reference_name="English"),
        "map": charts.premium_map(df, langs, tokenizer="llama3", reference_name="English"),
        "scripts": charts.script_distribution(df, reference_name="English"),
        "units": charts.unit_distribution(units, language_name="Hindi", reference_name="English"),
        "fairness": charts.fairness_chart(fair),
        "vocab lengths": charts.vocab_length_figure(hist),
        "glitch histogram": indicator_histogram(scores, threshold=0.15, title="indicator"),
    }


def test_presentation_style_font_sizes_and_markers() -> None:
    fig = premium_dots(frame(), reference_name="English", policy="p")
    big = presentation_style(fig)
    assert (PRESENTATION.font, PRESENTATION.title, PRESENTATION.ticks) == (20, 26, 18)
    assert big.layout.font.size == 20 and big.layout.legend.font.size == 20 and big.layout.title.font.size == 26
    assert big.layout.xaxis.tickfont.size == 18 and big.layout.yaxis.tickfont.size == 18
    assert big.layout.xaxis.title.font.size == 20 and big.layout.hoverlabel.font.size == 18
    assert [t.marker.size for t in big.data] == [14, 14]  # round(9 × 1.6)
    assert big.data[0].error_x.thickness == 2.4  # 1.5 × 1.6
    assert big.layout.height == 432  # round(320 × 1.35)
    # The input is not changed.
    assert fig.layout.font.size is None and fig.data[0].marker.size == 9 and fig.layout.height == 320


@pytest.mark.parametrize("kind", list(all_figures()))
def test_presentation_style_applies_to_every_chart(kind: str) -> None:
    big = presentation_style(all_figures()[kind])
    assert big.layout.font.size == 20
    axes = [big.layout[k] for k in big.layout if k.startswith(("xaxis", "yaxis"))]
    assert all(a.tickfont.size == 18 for a in axes)
    sized = [t for t in big.data if t.type in ("scatter", "scattergeo", "box")]
    for t in sized:
        assert t.marker.size is not None and t.marker.size >= 10, (kind, t.type, t.marker.size)


def test_presentation_style_on_a_lab_chart() -> None:
    from analysis.lab.charts import compression_chart
    from analysis.lab.compare import Comparison

    fig = compression_chart(Comparison(reference="eng", held_out_units=["1"], reports=[], language_set="none"))
    assert presentation_style(fig).layout.font.size == 20


# ------------------------------------------------------------------ one colour per tokenizer


def test_colour_mapping_follows_the_catalogue_order() -> None:
    ids = load_catalogue().ids
    for k, tid in enumerate(ids):
        assert tokenizer_colour(tid) == TOKENIZER_PALETTE[k % 13]
    pairs = [(tokenizer_style(t).colour, tokenizer_style(t).symbol) for t in ids]
    assert len(set(pairs)) == len(ids)  # no two catalogue tokenizers look alike
    assert len({tokenizer_colour(t) for t in DEFAULT_TOKENIZERS}) == 6  # the default six: six colours
    # A tokenizer outside the catalogue: a stable colour from the palette, and a square.
    style = tokenizer_style("file:/tmp/my-bpe/tokenizer.json")
    assert style == tokenizer_style("file:/tmp/my-bpe/tokenizer.json")
    assert style.colour in TOKENIZER_PALETTE and style.symbol == "square"


def test_same_tokenizer_same_colour_across_charts() -> None:
    figs = all_figures()
    dots = {t.name: t.marker.color for t in figs["dots"].data}
    bars = {t.name: t.marker.color for t in figs["bars"].data}
    boxes = {t.name: t.marker.color for t in figs["scripts"].data}
    lines = {t.name: t.line.color for t in figs["vocab lengths"].data}
    assert dots == bars == boxes == {"o200k_base": "#E69F00", "llama3": "#000000"}
    assert lines == {"llama3": "#000000"}
    # Another selection does not shift the colours: llama3 alone keeps its colour.
    alone = premium_dots(frame()[frame()["tokenizer"] == "llama3"], reference_name="English", policy="p")
    assert [t.marker.color for t in alone.data] == ["#000000"]


def test_bar_hover_gives_language_script_premium_and_ci() -> None:
    bars = charts.premium_bars(frame(), reference_name="English", policy="p")
    o200k = bars.data[0]
    assert list(o200k.x) == ["French (fra)", "Hindi (hin)", "Amharic (amh)"]  # cheapest first, as before
    assert list(o200k.customdata[1]) == ["Hindi (hin)", "Devanagari (Deva)", "95% CI 1.750–2.500, 31 units"]
    assert "%{y:.3f}×" in o200k.hovertemplate and "script: %{customdata[1]}" in o200k.hovertemplate
