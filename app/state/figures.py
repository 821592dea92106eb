"""Charts built from the rows a page shows, cached (part of the data layer, :mod:`app.state`).

Building a Plotly figure is most of a page's rerun where the chart is large: the Premium explorer's dot plot of 8
tokenizers x 532 languages took ~60% of the CPU of a rerun that read everything else from the caches (profiled with
``tests/bench/bench_app.py``'s interactions; the reads took ~5 ms of ~230). A rerun that shows the same rows (the
same state again, or a widget that changes nothing the chart draws) takes the figure from here.

The key is a digest of the rows (values, index and column names: exact, whatever their number) with the other
arguments and the interface language, which the figure's titles and hover texts are written in. Each hit is a fresh
copy (``st.cache_data`` unpickles it), so a page may restyle what it gets (:func:`app.charts.show_chart` does).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from analysis import charts
from analysis.i18n import current_language

if TYPE_CHECKING:
    import plotly.graph_objects as go


def rows_digest(rows: pd.DataFrame) -> str:
    """A digest of a frame's values, index, column names and dtypes: equal frames, equal digests.

    >>> a = pd.DataFrame({"lang": ["amh", "hin"], "premium": [2.5, 1.75]})
    >>> rows_digest(a) == rows_digest(a.copy()), rows_digest(a) == rows_digest(a.iloc[::-1])
    (True, False)
    """
    h = hashlib.blake2b(digest_size=16)
    h.update(repr([(str(c), str(t)) for c, t in rows.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(rows, index=True).to_numpy().tobytes())
    return h.hexdigest()


@st.cache_data(max_entries=32, show_spinner=False)
def _premium_dots(digest: str, reference_name: str, policy: str, language: str, _rows: pd.DataFrame) -> go.Figure:
    return charts.premium_dots(_rows, reference_name=reference_name, policy=policy)


def premium_dots(rows: pd.DataFrame, *, reference_name: str, policy: str) -> go.Figure:
    """:func:`analysis.charts.premium_dots` of ``rows``, cached per rows, names and interface language."""
    return _premium_dots(rows_digest(rows), reference_name, policy, current_language(), rows)
