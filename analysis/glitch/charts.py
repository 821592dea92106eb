"""Figures for the Glitch tokens page (data -> plotly Figure; nothing here draws)."""

from __future__ import annotations

import pandas as pd

from analysis.i18n import N_, format_number
from analysis.i18n import gettext as _


def indicator_histogram(scores: pd.DataFrame, *, threshold: float, title: str = ""):
    """Histogram of the default indicator over reachable tokens and the rest, with the candidate threshold marked.

    ``scores`` has columns ``score`` and ``reachable`` (as :func:`analysis.glitch.store.model_scores` returns).
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    for reachable, name in ((True, N_("reachable tokens")), (False, N_("special / unreachable / partial UTF-8"))):
        part = scores.loc[scores["reachable"] == reachable, "score"]
        if len(part):
            fig.add_trace(go.Histogram(x=part, name=f"{_(name)} ({format_number(len(part))})", nbinsx=120,
                                       opacity=0.75))
    fig.add_vline(x=threshold, line_dash="dash", annotation_text=_("candidate threshold"))
    fig.update_layout(barmode="overlay", title=title, xaxis_title=_("score (lower = more likely under-trained)"),
                      yaxis_title=_("tokens"), yaxis_type="log", legend={"orientation": "h", "y": -0.25}, height=380)
    return fig
