"""Data -> Plotly figures for the premium explorer (no Streamlit here; pages only show them).

Every figure takes the DataFrame the store's read functions return, so what a chart shows is exactly
what its download button hands out.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

#: Okabe-Ito: distinguishable with the common colour-vision deficiencies.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
#: Diverging scale centred on premium 1.0 (blue: cheaper than the reference, orange/red: dearer), on log2.
PREMIUM_SCALE = [[0.0, "#2166ac"], [0.5, "#f7f7f7"], [0.75, "#f4a582"], [1.0, "#b2182b"]]
#: Plotly config for every chart: the camera button saves a PNG; geo outlines come from the app's own static files
#: (a relative URL, so it also works under a base path), never from a CDN.
IMAGE_CONFIG = {"toImageButtonOptions": {"format": "png", "scale": 2}, "displaylogo": False,
                "topojsonURL": "app/static/maps/"}


def _label(df: pd.DataFrame) -> pd.Series:
    return df["name"].fillna(df["lang"]) + " (" + df["lang"] + ")"


def language_order(df: pd.DataFrame) -> list[str]:
    """Languages sorted by their mean premium over the tokenizers shown (ascending), as labels."""
    mean = df.assign(label=_label(df)).groupby("label")["premium"].mean().sort_values()
    return list(mean.index)


def premium_bars(df: pd.DataFrame, *, reference_name: str, policy: str) -> go.Figure:
    """Sorted bars, one colour per tokenizer, 95% bootstrap CI as error bars."""
    df = df[df["premium"].notna()].assign(label=lambda d: _label(d))
    order = language_order(df)
    fig = go.Figure()
    for k, (tid, g) in enumerate(df.groupby("tokenizer", sort=True)):
        g = g.set_index("label").reindex(order).dropna(subset=["premium"])
        fig.add_bar(
            x=g.index, y=g["premium"], name=tid, marker_color=OKABE_ITO[k % len(OKABE_ITO)],
            error_y={"type": "data", "symmetric": False, "array": g["ci_high"] - g["premium"],
                     "arrayminus": g["premium"] - g["ci_low"], "thickness": 1},
            customdata=g[["ci_low", "ci_high", "units"]].to_numpy(),
            hovertemplate=("%{x}<br>" + tid + ": %{y:.3f}× (95% CI %{customdata[0]:.3f}–%{customdata[1]:.3f}, "
                           "%{customdata[2]} units)<extra></extra>"),
        )
    fig.add_hline(y=1.0, line_dash="dot", line_color="#555")
    fig.update_layout(barmode="group", height=480, margin={"t": 60, "b": 10},
                      title={"text": f"Token premium vs {reference_name}<br><sup>{policy}</sup>"},
                      yaxis_title=f"tokens / tokens of {reference_name}", xaxis={"tickangle": -60},
                      legend_title="tokenizer")
    return fig


def premium_heatmap(df: pd.DataFrame, *, reference_name: str) -> go.Figure:
    """Tokenizer x language heatmap of premiums (colour on a log2 scale centred on 1.0)."""
    df = df[df["premium"].notna()].assign(label=lambda d: _label(d))
    order = language_order(df)
    pivot = df.pivot_table(index="tokenizer", columns="label", values="premium").reindex(columns=order)
    z = pivot.to_numpy()
    zlog = [[math.log2(v) if v and v > 0 else None for v in row] for row in z]
    bound = max((abs(v) for row in zlog for v in row if v is not None), default=1.0) or 1.0
    fig = go.Figure(go.Heatmap(
        z=zlog, x=list(pivot.columns), y=list(pivot.index), customdata=z, zmin=-bound, zmax=bound,
        colorscale=PREMIUM_SCALE, hovertemplate="%{y} · %{x}: %{customdata:.3f}×<extra></extra>",
        colorbar={"title": "premium", "tickvals": [-2, -1, 0, 1, 2, 3], "ticktext": ["0.25×", "0.5×", "1×", "2×", "4×", "8×"]},
    ))
    fig.update_layout(height=max(260, 40 * len(pivot.index) + 160), title=f"Premium vs {reference_name}",
                      margin={"t": 50, "b": 10}, xaxis={"tickangle": -60})
    return fig


def premium_map(df: pd.DataFrame, languages: pd.DataFrame, *, tokenizer: str, reference_name: str) -> go.Figure:
    """The premiums of one tokenizer on a world map at each variant's UDHR coordinates."""
    g = df[(df["tokenizer"] == tokenizer) & df["premium"].notna()].merge(
        languages[["lang", "latitude", "longitude"]], on="lang", how="inner").dropna(subset=["latitude", "longitude"])
    fig = go.Figure(go.Scattergeo(
        lat=g["latitude"], lon=g["longitude"], text=_label(g), customdata=g[["premium", "ci_low", "ci_high"]].to_numpy(),
        marker={"color": [math.log2(v) for v in g["premium"]], "colorscale": PREMIUM_SCALE, "cmid": 0, "size": 7,
                "line": {"width": 0.5, "color": "#333"},
                "colorbar": {"title": "premium", "tickvals": [-1, 0, 1, 2, 3], "ticktext": ["0.5×", "1×", "2×", "4×", "8×"]}},
        hovertemplate="%{text}: %{customdata[0]:.3f}× (%{customdata[1]:.3f}–%{customdata[2]:.3f})<extra></extra>",
    ))
    fig.update_geos(projection_type="natural earth", showcountries=True, countrycolor="#bbb", showland=True,
                    landcolor="#f2f2f2")
    fig.update_layout(height=520, margin={"t": 50, "b": 0, "l": 0, "r": 0},
                      title=f"{tokenizer}: premium vs {reference_name}, {len(g)} variants placed")
    return fig


def script_distribution(df: pd.DataFrame, *, reference_name: str) -> go.Figure:
    """Premium distribution per Unicode script (box per script, one colour per tokenizer)."""
    df = df[df["premium"].notna()]
    order = list(df.groupby("script")["premium"].median().sort_values().index)
    fig = go.Figure()
    for k, (tid, g) in enumerate(df.groupby("tokenizer", sort=True)):
        fig.add_box(x=g["script"], y=g["premium"], name=tid, marker_color=OKABE_ITO[k % len(OKABE_ITO)],
                    boxpoints="outliers", text=_label(g), hovertemplate="%{text}: %{y:.3f}×<extra></extra>")
    fig.update_layout(boxmode="group", height=460, yaxis_type="log", yaxis_title="premium (log scale)",
                      xaxis={"categoryorder": "array", "categoryarray": order},
                      title=f"Premium vs {reference_name} by script", margin={"t": 50, "b": 10})
    return fig


def unit_distribution(units: pd.DataFrame, *, language_name: str, reference_name: str) -> go.Figure:
    """Per-unit premiums of one language (every unit a point, box per tokenizer)."""
    fig = go.Figure()
    for k, (tid, g) in enumerate(units.groupby("tokenizer", sort=True)):
        fig.add_box(y=g["ratio"], name=tid, boxpoints="all", jitter=0.4, pointpos=0, text=g["unit"],
                    marker_color=OKABE_ITO[k % len(OKABE_ITO)], hovertemplate="%{text}: %{y:.3f}×<extra></extra>")
    fig.add_hline(y=1.0, line_dash="dot", line_color="#555")
    fig.update_layout(height=420, showlegend=False, yaxis_title=f"tokens / tokens of {reference_name}",
                      title=f"{language_name}: premium of each parallel unit", margin={"t": 50, "b": 10})
    return fig


def fairness_chart(fair: pd.DataFrame) -> go.Figure:
    """Mean and worst premium per tokenizer (bars) with the Gini coefficient on a second axis."""
    fair = fair.sort_values("mean_premium")
    fig = go.Figure()
    fig.add_bar(x=fair["tokenizer"], y=fair["mean_premium"], name="mean premium", marker_color=OKABE_ITO[0])
    fig.add_bar(x=fair["tokenizer"], y=fair["max_premium"], name="worst premium", marker_color=OKABE_ITO[5],
                text=fair["worst_language"], hovertemplate="%{x}: worst %{y:.2f}× (%{text})<extra></extra>")
    fig.add_scatter(x=fair["tokenizer"], y=fair["gini"], name="Gini", yaxis="y2", mode="markers+lines",
                    marker={"color": OKABE_ITO[2], "size": 9, "symbol": "diamond"})
    fig.update_layout(barmode="group", height=420, yaxis={"title": "premium", "type": "log"},
                      yaxis2={"title": "Gini", "overlaying": "y", "side": "right", "rangemode": "tozero"},
                      title="Fairness per tokenizer", margin={"t": 50, "b": 10})
    return fig
