"""Plotly figures for the Tokenizer lab (data -> Figure; no Streamlit). Imported by the page only.

Example:
    >>> fig = premium_chart(comparison)   # doctest: +SKIP
"""

from __future__ import annotations

import plotly.graph_objects as go

from analysis.i18n import gettext as _

from .compare import Comparison

#: Okabe-Ito: distinguishable with common colour-vision deficiencies.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")


def premium_chart(cmp: Comparison) -> go.Figure:
    """Held-out premium per language and tokenizer, with 95% bootstrap CIs as error bars; 1.0 = parity.

    Bars of languages with more than 10% unknown tokens are labelled: their premium is not meaningful.
    """
    fig = go.Figure()
    for k, rep in enumerate(cmp.reports):
        fig.add_bar(
            name=rep.label, x=[r.name for r in rep.langs], y=[r.premium for r in rep.langs],
            marker_color=COLOURS[k % len(COLOURS)],
            error_y={"type": "data", "symmetric": False, "array": [r.ci_high - r.premium for r in rep.langs],
                     "arrayminus": [r.premium - r.ci_low for r in rep.langs]},
            text=["UNK > 10%" if r.flagged else "" for r in rep.langs], textposition="outside",
            hovertemplate="%{x}<br>" + _("premium") + " %{y:.3f} %{text}<extra>" + rep.label + "</extra>",
        )
    fig.add_hline(y=1.0, line_dash="dot", line_color="#555")
    fig.update_layout(barmode="group", yaxis_title=_("premium vs {reference} (held-out units)").format(
                      reference=cmp.reference), legend_title=_("tokenizer"), margin={"t": 30, "b": 10})
    return fig


def compression_chart(cmp: Comparison) -> go.Figure:
    """UTF-8 bytes per token on the held-out units, per language and tokenizer (higher = more compression)."""
    fig = go.Figure()
    for k, rep in enumerate(cmp.reports):
        fig.add_bar(name=rep.label, x=[r.name for r in rep.langs], y=[r.bytes_per_token for r in rep.langs],
                    marker_color=COLOURS[k % len(COLOURS)])
    fig.update_layout(barmode="group", yaxis_title=_("bytes per token (held-out)"), legend_title=_("tokenizer"),
                      margin={"t": 30, "b": 10})
    return fig


def script_chart(cmp: Comparison, *, top: int = 10) -> go.Figure:
    """Share of each vocabulary per script class, stacked (tokenizers without a readable vocabulary are left out)."""
    reports = [r for r in cmp.reports if r.script_share]
    scripts: dict[str, float] = {}
    for rep in reports:
        for s, v in rep.script_share.items():
            scripts[s] = scripts.get(s, 0.0) + v
    order = sorted(scripts, key=lambda s: -scripts[s])[:top]
    fig = go.Figure()
    for k, s in enumerate(order):
        fig.add_bar(name=s, y=[r.label for r in reports], x=[r.script_share.get(s, 0.0) for r in reports],
                    orientation="h", marker_color=COLOURS[k % len(COLOURS)] if k < len(COLOURS) else None)
    fig.update_layout(barmode="stack", xaxis_title=_("share of the vocabulary"), xaxis_tickformat=".0%",
                      legend_title=_("script"), margin={"t": 30, "b": 10})
    return fig
