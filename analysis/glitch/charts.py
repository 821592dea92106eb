"""Figures for the Glitch tokens page (data -> plotly Figure; nothing here draws)."""

from __future__ import annotations

import pandas as pd


def indicator_histogram(scores: pd.DataFrame, *, threshold: float, title: str = ""):
    """Histogram of the default indicator over reachable tokens and the rest, with the candidate threshold marked.

    ``scores`` has columns ``score`` and ``reachable`` (as :func:`analysis.glitch.store.model_scores` returns).
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    for reachable, name in ((True, "reachable tokens"), (False, "special / unreachable / partial UTF-8")):
        part = scores.loc[scores["reachable"] == reachable, "score"]
        if len(part):
            fig.add_trace(go.Histogram(x=part, name=f"{name} ({len(part):,})", nbinsx=120, opacity=0.75))
    fig.add_vline(x=threshold, line_dash="dash", annotation_text="candidate threshold")
    fig.update_layout(barmode="overlay", title=title, xaxis_title="score (lower = more likely under-trained)",
                      yaxis_title="tokens", yaxis_type="log", legend={"orientation": "h", "y": -0.25}, height=380)
    return fig
