"""Charts: data (pandas frames from the analysis functions) -> plotly Figure. No Streamlit here.

Every label that comes from data (tokenizer ids, script names) is HTML-escaped: plotly renders a subset of HTML
in titles, ticks and hover text.
"""

from __future__ import annotations

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
