"""Charts: data (pandas frames from the analysis functions) -> plotly Figure. No Streamlit here.

Every label that comes from data (tokenizer ids, script names) is HTML-escaped: plotly renders a subset of HTML
in titles, ticks and hover text.
"""

from __future__ import annotations

import math
from html import escape

import pandas as pd
import plotly.graph_objects as go

#: Okabe-Ito: distinguishable with the common colour-vision deficiencies (then a few extra, as a fallback).
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000",
             "#999933", "#882255", "#44AA99", "#AA4499")
#: Greys for the vocabulary script-share labels that are not scripts.
_NON_SCRIPT_COLOURS = {"mixed": "#7f7f7f", "partial UTF-8": "#b0b0b0", "bytes/other": "#d9d9d9",
                       "other scripts": "#4d4d4d"}


def _e(values) -> list[str]:
    return [escape(str(v)) for v in values]


#: Diverging scale centred on premium 1.0 (blue: cheaper than the reference, orange/red: dearer), on log2.
PREMIUM_SCALE = [[0.0, "#2166ac"], [0.5, "#f7f7f7"], [0.75, "#f4a582"], [1.0, "#b2182b"]]
#: Plotly config for every chart: the camera button saves a PNG; geo outlines come from the app's own static files
#: (a relative URL, so it also works under a base path), never from a CDN.
IMAGE_CONFIG = {"toImageButtonOptions": {"format": "png", "scale": 2}, "displaylogo": False,
                "topojsonURL": "app/static/maps/"}


def language_labels(df: pd.DataFrame) -> pd.Series:
    """"Name (code)" per row, HTML-escaped: names and codes of imported corpora come from users' files."""
    return (df["name"].fillna(df["lang"]) + " (" + df["lang"] + ")").map(lambda v: escape(str(v)))




def language_order(df: pd.DataFrame) -> list[str]:
    """Languages sorted by their mean premium over the tokenizers shown (ascending), as labels."""
    mean = df.assign(label=language_labels(df)).groupby("label")["premium"].mean().sort_values()
    return list(mean.index)


def _ci_text(low: float, high: float, units: int) -> str:
    """The hover text of one bar's interval.

    >>> _ci_text(0.95, 1.25, 2), _ci_text(float("nan"), float("nan"), 1)
    ('95% CI 0.950–1.250, 2 units', 'no CI: 1 unit')
    """
    if pd.isna(low) or pd.isna(high):
        return f"no CI: {units} unit{'s' if units != 1 else ''}"
    return f"95% CI {low:.3f}–{high:.3f}, {units} units"


def premium_bars(df: pd.DataFrame, *, reference_name: str, policy: str) -> go.Figure:
    """Sorted bars, one colour per tokenizer, 95% bootstrap CI as error bars.

    A premium without an interval (NULL ``ci_low``/``ci_high``: fewer than two units, e.g. a corpus counted with the
    petrov2023 protocol) gets no error bar, never one of width zero; a tokenizer with no interval at all gets none.
    """
    df = df[df["premium"].notna()].assign(label=lambda d: language_labels(d))
    order = language_order(df)
    fig = go.Figure()
    for k, (tid, g) in enumerate(df.groupby("tokenizer", sort=True)):
        g = g.set_index("label").reindex(order).dropna(subset=["premium"])
        tid = escape(str(tid))
        has_ci = g["ci_low"].notna() & g["ci_high"].notna()
        error_y = ({"type": "data", "symmetric": False, "array": (g["ci_high"] - g["premium"]).where(has_ci),
                    "arrayminus": (g["premium"] - g["ci_low"]).where(has_ci), "thickness": 1}
                   if has_ci.any() else None)
        fig.add_bar(
            x=g.index, y=g["premium"], name=tid, marker_color=OKABE_ITO[k % len(OKABE_ITO)], error_y=error_y,
            customdata=[_ci_text(lo, hi, int(n)) for lo, hi, n in zip(g["ci_low"], g["ci_high"], g["units"], strict=True)],
            hovertemplate="%{x}<br>" + tid + ": %{y:.3f}× (%{customdata})<extra></extra>",
        )
    fig.add_hline(y=1.0, line_dash="dot", line_color="#555")
    fig.update_layout(barmode="group", height=480, margin={"t": 60, "b": 10},
                      title={"text": f"Token premium vs {escape(reference_name)}<br><sup>{escape(policy)}</sup>"},
                      yaxis_title=f"tokens / tokens of {escape(reference_name)}", xaxis={"tickangle": -60},
                      legend_title="tokenizer")
    return fig


def premium_heatmap(df: pd.DataFrame, *, reference_name: str) -> go.Figure:
    """Tokenizer x language heatmap of premiums (colour on a log2 scale centred on 1.0)."""
    df = df[df["premium"].notna()].assign(label=lambda d: language_labels(d))
    order = language_order(df)
    pivot = df.pivot_table(index="tokenizer", columns="label", values="premium").reindex(columns=order)
    z = pivot.to_numpy()
    zlog = [[math.log2(v) if v and v > 0 else None for v in row] for row in z]
    bound = max((abs(v) for row in zlog for v in row if v is not None), default=1.0) or 1.0
    fig = go.Figure(go.Heatmap(
        z=zlog, x=list(pivot.columns), y=_e(pivot.index), customdata=z, zmin=-bound, zmax=bound,
        colorscale=PREMIUM_SCALE, hovertemplate="%{y} · %{x}: %{customdata:.3f}×<extra></extra>",
        colorbar={"title": "premium", "tickvals": [-2, -1, 0, 1, 2, 3], "ticktext": ["0.25×", "0.5×", "1×", "2×", "4×", "8×"]},
    ))
    fig.update_layout(height=max(260, 40 * len(pivot.index) + 160), title=f"Premium vs {escape(reference_name)}",
                      margin={"t": 50, "b": 10}, xaxis={"tickangle": -60})
    return fig


def premium_map(df: pd.DataFrame, languages: pd.DataFrame, *, tokenizer: str, reference_name: str) -> go.Figure:
    """The premiums of one tokenizer on a world map at each variant's UDHR coordinates."""
    g = df[(df["tokenizer"] == tokenizer) & df["premium"].notna()].merge(
        languages[["lang", "latitude", "longitude"]], on="lang", how="inner").dropna(subset=["latitude", "longitude"])
    fig = go.Figure(go.Scattergeo(
        lat=g["latitude"], lon=g["longitude"], text=language_labels(g), customdata=g[["premium", "ci_low", "ci_high"]].to_numpy(),
        marker={"color": [math.log2(v) for v in g["premium"]], "colorscale": PREMIUM_SCALE, "cmid": 0, "size": 7,
                "line": {"width": 0.5, "color": "#333"},
                "colorbar": {"title": "premium", "tickvals": [-1, 0, 1, 2, 3], "ticktext": ["0.5×", "1×", "2×", "4×", "8×"]}},
        hovertemplate="%{text}: %{customdata[0]:.3f}× (%{customdata[1]:.3f}–%{customdata[2]:.3f})<extra></extra>",
    ))
    fig.update_geos(projection_type="natural earth", showcountries=True, countrycolor="#bbb", showland=True,
                    landcolor="#f2f2f2")
    fig.update_layout(height=520, margin={"t": 50, "b": 0, "l": 0, "r": 0},
                      title=f"{escape(tokenizer)}: premium vs {escape(reference_name)}, {len(g)} variants placed")
    return fig


def script_distribution(df: pd.DataFrame, *, reference_name: str) -> go.Figure:
    """Premium distribution per Unicode script (box per script, one colour per tokenizer)."""
    df = df[df["premium"].notna()]
    order = list(df.groupby("script")["premium"].median().sort_values().index)
    fig = go.Figure()
    for k, (tid, g) in enumerate(df.groupby("tokenizer", sort=True)):
        fig.add_box(x=_e(g["script"]), y=g["premium"], name=escape(str(tid)), marker_color=OKABE_ITO[k % len(OKABE_ITO)],
                    boxpoints="outliers", text=language_labels(g), hovertemplate="%{text}: %{y:.3f}×<extra></extra>")
    fig.update_layout(boxmode="group", height=460, yaxis_type="log", yaxis_title="premium (log scale)",
                      xaxis={"categoryorder": "array", "categoryarray": order},
                      title=f"Premium vs {escape(reference_name)} by script", margin={"t": 50, "b": 10})
    return fig


def unit_distribution(units: pd.DataFrame, *, language_name: str, reference_name: str) -> go.Figure:
    """Per-unit premiums of one language (every unit a point, box per tokenizer)."""
    fig = go.Figure()
    for k, (tid, g) in enumerate(units.groupby("tokenizer", sort=True)):
        fig.add_box(y=g["ratio"], name=escape(str(tid)), boxpoints="all", jitter=0.4, pointpos=0, text=_e(g["unit"]),
                    marker_color=OKABE_ITO[k % len(OKABE_ITO)], hovertemplate="%{text}: %{y:.3f}×<extra></extra>")
    fig.add_hline(y=1.0, line_dash="dot", line_color="#555")
    fig.update_layout(height=420, showlegend=False, yaxis_title=f"tokens / tokens of {escape(reference_name)}",
                      title=f"{escape(language_name)}: premium of each parallel unit", margin={"t": 50, "b": 10})
    return fig


def fairness_chart(fair: pd.DataFrame) -> go.Figure:
    """Mean and worst premium per tokenizer (bars) with the Gini coefficient on a second axis."""
    fair = fair.sort_values("mean_premium")
    fig = go.Figure()
    fig.add_bar(x=_e(fair["tokenizer"]), y=fair["mean_premium"], name="mean premium", marker_color=OKABE_ITO[0])
    fig.add_bar(x=_e(fair["tokenizer"]), y=fair["max_premium"], name="worst premium", marker_color=OKABE_ITO[5],
                text=_e(fair["worst_language"]), hovertemplate="%{x}: worst %{y:.2f}× (%{text})<extra></extra>")
    fig.add_scatter(x=_e(fair["tokenizer"]), y=fair["gini"], name="Gini", yaxis="y2", mode="markers+lines",
                    marker={"color": OKABE_ITO[2], "size": 9, "symbol": "diamond"})
    fig.update_layout(barmode="group", height=420, yaxis={"title": "premium", "type": "log"},
                      yaxis2={"title": "Gini", "overlaying": "y", "side": "right", "rangemode": "tozero"},
                      title="Fairness per tokenizer", margin={"t": 50, "b": 10})
    return fig


# ------------------------------------------------------------------ vocabulary comparison


def vocab_length_figure(hist: pd.DataFrame, *, value: str = "share") -> go.Figure:
    """Token length distribution (bytes), one line per tokenizer, from :func:`analysis.vocab.length_histogram`.

    ``value`` is ``"share"`` (percent of each vocabulary's entries) or ``"count"``.
    """
    if value not in ("share", "count"):
        raise ValueError(f"value must be 'share' or 'count', not {value!r}")
    fig = go.Figure()
    order = hist.sort_values("length")[["length", "label"]].drop_duplicates("length")
    for n, (tokenizer, part) in enumerate(hist.groupby("tokenizer", sort=False)):
        part = part.sort_values("length")
        y = part["share"] * 100 if value == "share" else part["count"]
        fig.add_trace(go.Scatter(
            x=part["length"], y=y, mode="lines+markers", name=escape(str(tokenizer)),
            line={"color": OKABE_ITO[n % len(OKABE_ITO)], "dash": ("solid", "dash", "dot", "dashdot")[n // 8 % 4]},
            customdata=list(zip(_e(part["label"]), part["count"], part["share"] * 100)),
            hovertemplate=f"{escape(str(tokenizer))}<br>%{{customdata[0]}} bytes: %{{customdata[1]:,}} tokens "
                          "(%{customdata[2]:.2f}%)<extra></extra>",
        ))
    fig.update_layout(
        xaxis={"title": "token length (bytes)", "tickmode": "array", "tickvals": order["length"].tolist(),
               "ticktext": _e(order["label"])},
        yaxis={"title": "% of the vocabulary" if value == "share" else "tokens"},
        legend={"title": "tokenizer"}, margin={"t": 30}, hovermode="closest",
    )
    return fig


def vocab_script_figure(shares: pd.DataFrame, *, top: int = 10) -> go.Figure:
    """Stacked horizontal bars: each tokenizer's vocabulary by script, from :func:`analysis.vocab.script_shares`.

    The ``top`` scripts by their largest share in any tokenizer get their own colour; other scripts are summed
    as "other scripts"; "mixed", "partial UTF-8" and "bytes/other" are always shown, in greys.
    """
    non_scripts = [s for s in _NON_SCRIPT_COLOURS if s != "other scripts"]
    real = shares[~shares["script"].isin(non_scripts)]
    ranked = real.groupby("script")["share"].max().sort_values(ascending=False, kind="stable")
    shown = ranked.index[:top].tolist()
    frame = shares.copy()
    frame["group"] = frame["script"].where(frame["script"].isin(shown + non_scripts), "other scripts")
    names = dict(zip(shares["script"], shares["script_name"]))
    grouped = frame.groupby(["tokenizer", "group"], sort=False)[["count", "share"]].sum().reset_index()
    tokenizers = list(dict.fromkeys(shares["tokenizer"]))
    fig = go.Figure()
    for n, group in enumerate([*shown, "other scripts", *non_scripts]):
        part = grouped[grouped["group"] == group].set_index("tokenizer").reindex(tokenizers)
        if part["count"].isna().all():
            continue
        label = f"{names.get(group, group)} ({group})" if group in shown else group
        colour = _NON_SCRIPT_COLOURS.get(group, OKABE_ITO[n % len(OKABE_ITO)])
        fig.add_trace(go.Bar(
            y=_e(tokenizers), x=(part["share"].fillna(0) * 100).tolist(), orientation="h", name=escape(label),
            marker={"color": colour, "line": {"color": "#ffffff", "width": 0.5}},
            customdata=part["count"].fillna(0).astype(int).tolist(),
            hovertemplate=f"%{{y}} · {escape(label)}: %{{x:.2f}}% (%{{customdata:,}} tokens)<extra></extra>",
        ))
    fig.update_layout(barmode="stack", xaxis={"title": "% of the vocabulary", "range": [0, 100]},
                      yaxis={"autorange": "reversed"}, legend={"title": "script"}, margin={"t": 30},
                      height=max(260, 60 + 34 * len(tokenizers)))
    return fig


def vocab_jaccard_figure(matrix: pd.DataFrame) -> go.Figure:
    """Heatmap of pairwise Jaccard overlap, from :meth:`analysis.vocab.Comparison.jaccard`."""
    labels = _e(matrix.columns)
    values = matrix.to_numpy()
    fig = go.Figure(go.Heatmap(
        z=values, x=labels, y=_e(matrix.index), zmin=0, zmax=1, colorscale="Viridis",
        text=[[f"{v:.3f}" for v in row] for row in values], texttemplate="%{text}",
        hovertemplate="%{y} ∩ %{x}: Jaccard %{z:.4f}<extra></extra>", colorbar={"title": "Jaccard"},
    ))
    size = max(320, 80 + 44 * len(labels))
    fig.update_layout(yaxis={"autorange": "reversed"}, height=size, margin={"t": 30})
    return fig
