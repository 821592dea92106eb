"""Charts: data (pandas frames from the analysis functions) -> plotly Figure. No Streamlit here.

Every label that comes from data (tokenizer ids, script names) is HTML-escaped: plotly renders a subset of HTML
in titles, ticks and hover text.
"""

from __future__ import annotations

import hashlib
import math
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from html import escape

import pandas as pd
import plotly.graph_objects as go

from .i18n import gettext as _

#: Okabe-Ito: distinguishable with the common colour-vision deficiencies (then a few extra, as a fallback).
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000",
             "#999933", "#882255", "#44AA99", "#AA4499")
#: Greys for the vocabulary script-share labels that are not scripts.
_NON_SCRIPT_COLOURS = {"mixed": "#7f7f7f", "partial UTF-8": "#b0b0b0", "bytes/other": "#d9d9d9",
                       "other scripts": "#4d4d4d"}


#: The tokenizer palette: Okabe-Ito's eight, then five of Paul Tol's colour-blind-safe "muted" colours. Thirteen,
#: so that the app's six default tokenizers (catalogue positions 0, 7, 9, 10, 17, 19) get six different colours.
TOKENIZER_PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000",
                     "#999933", "#882255", "#44AA99", "#AA4499", "#332288")
#: Marker symbols and line dashes: the second pass through the palette gets the second of each, so no two
#: catalogue tokenizers share a (colour, symbol) pair; tokenizers outside the catalogue get the last.
_SYMBOLS = ("circle", "diamond", "square")
_DASHES = ("solid", "dash", "dot")


@dataclass(frozen=True)
class TokenizerStyle:
    """How every chart draws one tokenizer: a colour, a marker symbol and a line dash."""

    colour: str
    symbol: str
    dash: str


@lru_cache(maxsize=1)
def _catalogue_order() -> dict[str, int]:
    from .catalogue import load_catalogue

    return {tid: k for k, tid in enumerate(load_catalogue().ids)}


def tokenizer_style(tokenizer: str) -> TokenizerStyle:
    """The one tokenizer -> style mapping every chart uses, derived from the catalogue's order.

    The k-th catalogue tokenizer gets palette colour k mod 13 and symbol k // 13; a tokenizer outside the
    catalogue (trained in the lab, a visitor's file) gets a colour from a hash of its id, and a square.

    >>> tokenizer_style("o200k_base"), tokenizer_style("llama3").colour, tokenizer_style("bert-uncased").symbol
    (TokenizerStyle(colour='#E69F00', symbol='circle', dash='solid'), '#000000', 'diamond')
    """
    k = _catalogue_order().get(str(tokenizer))
    n = len(TOKENIZER_PALETTE)
    if k is None:
        digest = int.from_bytes(hashlib.sha256(str(tokenizer).encode()).digest()[:4], "big")
        return TokenizerStyle(TOKENIZER_PALETTE[digest % n], _SYMBOLS[-1], _DASHES[-1])
    cycle = min(k // n, len(_SYMBOLS) - 2)
    return TokenizerStyle(TOKENIZER_PALETTE[k % n], _SYMBOLS[cycle], _DASHES[cycle])


def tokenizer_colour(tokenizer: str) -> str:
    """The colour of ``tokenizer`` in every chart (see :func:`tokenizer_style`)."""
    return tokenizer_style(tokenizer).colour


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
    """The hover text of one premium's interval.

    >>> _ci_text(0.95, 1.25, 2), _ci_text(float("nan"), float("nan"), 1)
    ('95% CI 0.950–1.250, 2 units', 'no CI: 1 unit')
    """
    if pd.isna(low) or pd.isna(high):
        return _("no CI: {n} unit").format(n=units) if units == 1 else _("no CI: {n} units").format(n=units)
    return _("95% CI {low}–{high}, {n} units").format(low=f"{low:.3f}", high=f"{high:.3f}", n=units)


def _script_label(code: object) -> str:
    """"Devanagari (Deva)" for a script code, HTML-escaped; "?" when the corpus records none."""
    if code is None or pd.isna(code):
        return "?"
    from .vocab import script_name

    name = script_name(str(code))
    return escape(f"{name} ({code})" if name != code else str(code))


def _hover(g: pd.DataFrame) -> list[list[str]]:
    """Per row: language label, script, CI text (the premium itself goes through the hover template's format)."""
    return [[label, _script_label(script), _ci_text(lo, hi, int(n))]
            for label, script, lo, hi, n in zip(g.index, g["script"], g["ci_low"], g["ci_high"], g["units"], strict=True)]


def _error_arrays(g: pd.DataFrame) -> dict | None:
    """Asymmetric whiskers from ``ci_low``/``ci_high``; none where a row has no interval (never one of width zero)."""
    has_ci = g["ci_low"].notna() & g["ci_high"].notna()
    if not has_ci.any():
        return None
    return {"type": "data", "symmetric": False, "array": (g["ci_high"] - g["premium"]).where(has_ci).tolist(),
            "arrayminus": (g["premium"] - g["ci_low"]).where(has_ci).tolist(), "thickness": 1.5, "width": 3}


def _tokenizers_in_order(df: pd.DataFrame) -> list[str]:
    """The tokenizers of ``df`` in catalogue order (those outside it after, by name): the same order on every page."""
    order = _catalogue_order()
    return sorted(df["tokenizer"].astype(str).unique(), key=lambda t: (order.get(t, len(order)), t))


#: Pixels per language row of the dot plot (60 rows: about 1,400 px, read by scrolling on a 1366×768 screen).
DOT_ROW_PX = 22
#: Pixels above the plot for the title, the legend and the x axis.
DOT_TOP_PX = 150
#: Half the height of a row that one language's dots spread over (rows are 1 apart).
DOT_SPREAD = 0.3


def dot_offsets(n: int) -> list[float]:
    """Vertical offsets of ``n`` tokenizers' dots inside one language row, evenly over ±DOT_SPREAD.

    >>> dot_offsets(1), dot_offsets(2), dot_offsets(3)
    ([0.0], [-0.3, 0.3], [-0.3, 0.0, 0.3])
    """
    if n <= 1:
        return [0.0]
    return [round(-DOT_SPREAD + 2 * DOT_SPREAD * j / (n - 1), 10) for j in range(n)]


def premium_dots(df: pd.DataFrame, *, reference_name: str, policy: str) -> go.Figure:
    """The explorer's first chart: one row per language, one dot per tokenizer with its 95% CI as a whisker.

    Rows are sorted by the mean premium over the tokenizers shown, the dearest language at the top (row 0);
    x is the premium on a log scale (0.5× and 2× equally far from parity). Each tokenizer's dots sit at a fixed
    offset inside the row (:func:`dot_offsets`), in catalogue order, so whiskers never hide each other.
    A premium without an interval gets a dot and no whisker.
    """
    df = df[df["premium"].notna()].assign(label=lambda d: language_labels(d))
    order = list(reversed(language_order(df)))  # dearest first: row 0, drawn at the top
    row = {label: k for k, label in enumerate(order)}
    tokenizers = _tokenizers_in_order(df)
    fig = go.Figure()
    for tid, offset in zip(tokenizers, dot_offsets(len(tokenizers)), strict=True):
        g = df[df["tokenizer"].astype(str) == tid].set_index("label").reindex(order).dropna(subset=["premium"])
        style = tokenizer_style(tid)
        name = escape(tid)
        fig.add_scatter(
            x=g["premium"].tolist(), y=[row[label] + offset for label in g.index], mode="markers", name=name,
            marker={"color": style.colour, "symbol": style.symbol, "size": 9, "line": {"width": 1, "color": "#333"}},
            error_x=_error_arrays(g), customdata=_hover(g),
            hovertemplate=("<b>%{customdata[0]}</b><br>" + _("script") + ": %{customdata[1]}<br>" + name
                           + ": %{x:.3f}× (%{customdata[2]})<extra></extra>"),
        )
    fig.add_vline(x=1.0, line_dash="dot", line_color="#555")
    ticks = [0.125, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64]  # powers of two: equal steps on the log axis
    # The counting policy goes under the chart, wrapped, so that a downloaded PNG says how it was counted.
    notes = textwrap.wrap(policy, 150) if policy else []
    bottom = 30 + 15 * len(notes)
    height = max(320, DOT_ROW_PX * len(order) + DOT_TOP_PX + bottom)
    if notes:
        fig.add_annotation(text="<br>".join(escape(n) for n in notes), xref="paper", yref="paper", x=0, y=0,
                           yshift=-bottom + 4, xanchor="left", yanchor="bottom", showarrow=False, align="left",
                           font={"size": 10, "color": "#666"})
    # Title, legend and the x axis stacked at the top, placed in pixels (the chart is long: one scrolls down it).
    fig.update_layout(
        height=height, margin={"t": DOT_TOP_PX, "b": bottom, "l": 10, "r": 10},
        title={"text": _("Token premium vs {reference}").format(reference=escape(reference_name)),
               "yref": "container", "y": 1 - 8 / height, "yanchor": "top", "x": 0, "xanchor": "left"},
        xaxis={"type": "log", "side": "top", "tickvals": ticks, "ticktext": [f"{t:g}×" for t in ticks],
               "title": _("tokens / tokens of {reference} (log scale)").format(reference=escape(reference_name)),
               "gridcolor": "#e5e5e5", "zeroline": False, "automargin": True},
        # Row 0 at the top, half a row of room at each end (no autorange padding between the axis and row 0).
        yaxis={"tickmode": "array", "tickvals": list(range(len(order))), "ticktext": order,
               "range": [len(order) - 0.5, -0.5], "automargin": True, "gridcolor": "#f2f2f2"},
        legend={"orientation": "h", "yref": "container", "y": 1 - 48 / height, "yanchor": "top", "x": 0,
                "xanchor": "left", "title": {"text": ""}},
        hovermode="closest", autosize=True,
    )
    return fig


def premium_bars(df: pd.DataFrame, *, reference_name: str, policy: str) -> go.Figure:
    """Sorted bars, one colour per tokenizer, 95% bootstrap CI as error bars.

    A premium without an interval (NULL ``ci_low``/``ci_high``: fewer than two units, e.g. a corpus counted with the
    petrov2023 protocol) gets no error bar, never one of width zero; a tokenizer with no interval at all gets none.
    """
    df = df[df["premium"].notna()].assign(label=lambda d: language_labels(d))
    order = language_order(df)
    fig = go.Figure()
    for tid in _tokenizers_in_order(df):
        g = df[df["tokenizer"].astype(str) == tid].set_index("label").reindex(order).dropna(subset=["premium"])
        name = escape(tid)
        error_y = _error_arrays(g)
        if error_y:
            error_y.pop("width")
            error_y["thickness"] = 1
        fig.add_bar(
            x=list(g.index), y=g["premium"], name=name, marker_color=tokenizer_colour(tid), error_y=error_y,
            customdata=_hover(g),
            hovertemplate=("<b>%{x}</b><br>" + _("script") + ": %{customdata[1]}<br>" + name
                           + ": %{y:.3f}× (%{customdata[2]})<extra></extra>"),
        )
    fig.add_hline(y=1.0, line_dash="dot", line_color="#555")
    fig.update_layout(barmode="group", height=480, margin={"t": 60, "b": 10}, autosize=True,
                      title={"text": _("Token premium vs {reference}").format(reference=escape(reference_name))
                             + f"<br><sup>{escape(policy)}</sup>"},
                      yaxis_title=_("tokens / tokens of {reference}").format(reference=escape(reference_name)),
                      xaxis={"tickangle": -60}, legend_title=_("tokenizer"))
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
        colorbar={"title": _("premium"), "tickvals": [-2, -1, 0, 1, 2, 3], "ticktext": ["0.25×", "0.5×", "1×", "2×", "4×", "8×"]},
    ))
    fig.update_layout(height=max(260, 40 * len(pivot.index) + 160),
                      title=_("Premium vs {reference}").format(reference=escape(reference_name)),
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
                "colorbar": {"title": _("premium"), "tickvals": [-1, 0, 1, 2, 3], "ticktext": ["0.5×", "1×", "2×", "4×", "8×"]}},
        hovertemplate="%{text}: %{customdata[0]:.3f}× (%{customdata[1]:.3f}–%{customdata[2]:.3f})<extra></extra>",
    ))
    fig.update_geos(projection_type="natural earth", showcountries=True, countrycolor="#bbb", showland=True,
                    landcolor="#f2f2f2")
    fig.update_layout(height=520, margin={"t": 50, "b": 0, "l": 0, "r": 0},
                      title=_("{tokenizer}: premium vs {reference}, {n} variants placed").format(
                          tokenizer=escape(tokenizer), reference=escape(reference_name), n=len(g)))
    return fig


def script_distribution(df: pd.DataFrame, *, reference_name: str) -> go.Figure:
    """Premium distribution per Unicode script (box per script, one colour per tokenizer)."""
    df = df[df["premium"].notna()]
    order = list(df.groupby("script")["premium"].median().sort_values().index)
    fig = go.Figure()
    for tid in _tokenizers_in_order(df):
        g = df[df["tokenizer"].astype(str) == tid]
        fig.add_box(x=_e(g["script"]), y=g["premium"], name=escape(tid), marker_color=tokenizer_colour(tid),
                    boxpoints="outliers", text=language_labels(g), hovertemplate="%{text}: %{y:.3f}×<extra></extra>")
    fig.update_layout(boxmode="group", height=460, yaxis_type="log", yaxis_title=_("premium (log scale)"),
                      xaxis={"categoryorder": "array", "categoryarray": order},
                      margin={"t": 50, "b": 10},
                      title=_("Premium vs {reference} by script").format(reference=escape(reference_name)))
    return fig


def unit_distribution(units: pd.DataFrame, *, language_name: str, reference_name: str) -> go.Figure:
    """Per-unit premiums of one language (every unit a point, box per tokenizer)."""
    fig = go.Figure()
    for tid in _tokenizers_in_order(units):
        g = units[units["tokenizer"].astype(str) == tid]
        fig.add_box(y=g["ratio"], name=escape(tid), boxpoints="all", jitter=0.4, pointpos=0, text=_e(g["unit"]),
                    marker_color=tokenizer_colour(tid), hovertemplate="%{text}: %{y:.3f}×<extra></extra>")
    fig.add_hline(y=1.0, line_dash="dot", line_color="#555")
    fig.update_layout(height=420, showlegend=False,
                      yaxis_title=_("tokens / tokens of {reference}").format(reference=escape(reference_name)),
                      margin={"t": 50, "b": 10},
                      title=_("{language}: premium of each parallel unit").format(language=escape(language_name)))
    return fig


def fairness_chart(fair: pd.DataFrame) -> go.Figure:
    """Mean and worst premium per tokenizer (bars) with the Gini coefficient on a second axis."""
    fair = fair.sort_values("mean_premium")
    fig = go.Figure()
    fig.add_bar(x=_e(fair["tokenizer"]), y=fair["mean_premium"], name=_("mean premium"), marker_color=OKABE_ITO[0])
    fig.add_bar(x=_e(fair["tokenizer"]), y=fair["max_premium"], name=_("worst premium"), marker_color=OKABE_ITO[5],
                text=_e(fair["worst_language"]), hovertemplate="%{x}: " + _("worst") + " %{y:.2f}× (%{text})<extra></extra>")
    fig.add_scatter(x=_e(fair["tokenizer"]), y=fair["gini"], name=_("Gini"), yaxis="y2", mode="markers+lines",
                    marker={"color": OKABE_ITO[2], "size": 9, "symbol": "diamond"})
    fig.update_layout(barmode="group", height=420, yaxis={"title": _("premium"), "type": "log"},
                      yaxis2={"title": _("Gini"), "overlaying": "y", "side": "right", "rangemode": "tozero"},
                      title=_("Fairness per tokenizer"), margin={"t": 50, "b": 10})
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
    for tokenizer, part in hist.groupby("tokenizer", sort=False):
        part = part.sort_values("length")
        y = part["share"] * 100 if value == "share" else part["count"]
        style = tokenizer_style(str(tokenizer))
        fig.add_trace(go.Scatter(
            x=part["length"], y=y, mode="lines+markers", name=escape(str(tokenizer)),
            line={"color": style.colour, "dash": style.dash}, marker={"symbol": style.symbol},
            customdata=list(zip(_e(part["label"]), part["count"], part["share"] * 100)),
            hovertemplate=f"{escape(str(tokenizer))}<br>%{{customdata[0]}} bytes: %{{customdata[1]:,}} tokens "
                          "(%{customdata[2]:.2f}%)<extra></extra>",
        ))
    fig.update_layout(
        xaxis={"title": _("token length (bytes)"), "tickmode": "array", "tickvals": order["length"].tolist(),
               "ticktext": _e(order["label"])},
        yaxis={"title": _("% of the vocabulary") if value == "share" else _("tokens")},
        legend={"title": _("tokenizer")}, margin={"t": 30}, hovermode="closest",
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
    fig.update_layout(barmode="stack", xaxis={"title": _("% of the vocabulary"), "range": [0, 100]},
                      yaxis={"autorange": "reversed"}, legend={"title": _("script")}, margin={"t": 30},
                      height=max(260, 60 + 34 * len(tokenizers)))
    return fig


def vocab_jaccard_figure(matrix: pd.DataFrame) -> go.Figure:
    """Heatmap of pairwise Jaccard overlap, from :meth:`analysis.vocab.Comparison.jaccard`."""
    labels = _e(matrix.columns)
    values = matrix.to_numpy()
    fig = go.Figure(go.Heatmap(
        z=values, x=labels, y=_e(matrix.index), zmin=0, zmax=1, colorscale="Viridis",
        text=[[f"{v:.3f}" for v in row] for row in values], texttemplate="%{text}",
        hovertemplate="%{y} ∩ %{x}: Jaccard %{z:.4f}<extra></extra>", colorbar={"title": _("Jaccard")},
    ))
    size = max(320, 80 + 44 * len(labels))
    fig.update_layout(yaxis={"autorange": "reversed"}, height=size, margin={"t": 30})
    return fig


# ------------------------------------------------------------------ presentation (projector) style


@dataclass(frozen=True)
class Presentation:
    """Sizes for a projector: read from the back of a room (pixels; marker and line sizes are multiplied)."""

    font: int = 20
    title: int = 26
    ticks: int = 18
    hover: int = 18
    marker_scale: float = 1.6
    line_scale: float = 1.6
    height_scale: float = 1.35


PRESENTATION = Presentation()
#: Plotly's default marker size, used when a trace sets none.
_DEFAULT_MARKER = 6


def presentation_style(fig: go.Figure, *, style: Presentation = PRESENTATION) -> go.Figure:
    """A copy of ``fig`` with fonts, markers, lines and whiskers enlarged for a projector; ``fig`` is unchanged.

    Works on any figure (bars, dots, boxes, heatmaps, maps, histograms): fonts are set on the layout, every axis,
    the legend, colour bars and hover labels; marker sizes and line widths are multiplied; a fixed height grows
    with the fonts. Example: a dot of size 9 becomes 14 (9 × 1.6, rounded), the base font 20 px.
    """
    out = go.Figure(fig)
    out.update_layout(font={"size": style.font}, legend={"font": {"size": style.font}},
                      hoverlabel={"font": {"size": style.hover}})
    if out.layout.title.text:
        out.layout.title.font.size = style.title
    out.for_each_xaxis(lambda a: a.update(tickfont={"size": style.ticks}, title_font={"size": style.font}))
    out.for_each_yaxis(lambda a: a.update(tickfont={"size": style.ticks}, title_font={"size": style.font}))
    if out.layout.height:
        out.layout.height = round(out.layout.height * style.height_scale)
    for ann in out.layout.annotations or ():
        if ann.font.size is None:  # a note with a size of its own (the dot plot's policy line) keeps it
            ann.font.size = style.ticks
    for trace in out.data:
        _enlarge_trace(trace, style)
    return out


def _enlarge_trace(trace, style: Presentation) -> None:
    if "marker" in trace and trace.type not in ("bar", "heatmap", "histogram", "box"):
        size = trace.marker.size
        if size is None or isinstance(size, int | float):
            trace.marker.size = round((size or _DEFAULT_MARKER) * style.marker_scale)
    if trace.type == "box" and "marker" in trace:
        trace.marker.size = round((trace.marker.size or _DEFAULT_MARKER) * style.marker_scale)
    if "line" in trace and trace.type in ("scatter", "scattergl"):
        trace.line.width = round((trace.line.width or 2) * style.line_scale, 1)
    for axis in ("error_x", "error_y"):
        bar = getattr(trace, axis, None) if axis in trace else None
        if bar is not None and (bar.array is not None or bar.value is not None):
            bar.thickness = round((bar.thickness or 2) * style.line_scale, 1)
            bar.width = round((bar.width if bar.width is not None else 4) * style.line_scale, 1)
    if "textfont" in trace:
        trace.textfont.size = style.ticks
    if "colorbar" in trace:
        trace.colorbar.tickfont.size = style.ticks
        trace.colorbar.title.font.size = style.font
    if trace.type == "scattergeo":  # its colour bar hangs off the marker
        trace.marker.colorbar.tickfont.size = style.ticks
        trace.marker.colorbar.title.font.size = style.font
