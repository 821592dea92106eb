"""The tokenizer catalogue: what each entry is, where it comes from, its sha256."""

from __future__ import annotations

import streamlit as st

from analysis import load_catalogue
from analysis.i18n import N_
from analysis.i18n import gettext as _
from app.language import headers

#: The table's headers (its rows keep these English keys; ``id`` and ``sha256`` are names).
HEADERS = {"name": N_("name"), "vendor": N_("vendor"), "backend": N_("backend"), "vocab size": N_("vocab size"),
           "models": N_("models"), "source": N_("source"), "licence": N_("licence")}

st.title(_("Tokenizers"))
st.caption(_("Every vocabulary is fetched from a registry package and checked by sha256 before use."))
rows = [
    {"id": e.id, "name": e.name, "vendor": e.vendor, "backend": e.backend, "vocab size": e.vocab_size,
     "models": ", ".join(e.models), "source": e.source, "sha256": e.sha256, "licence": e.licence}
    for e in load_catalogue().entries.values()
]
st.dataframe(rows, hide_index=True, key="cat_table", column_config=headers(HEADERS))
