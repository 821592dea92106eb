"""The tokenizer catalogue: what each entry is, where it comes from, its sha256."""

from __future__ import annotations

import streamlit as st

from analysis import load_catalogue
from analysis.i18n import gettext as _

st.title(_("Tokenizers"))
st.caption(_("Every vocabulary is fetched from a registry package and checked by sha256 before use."))
rows = [
    {"id": e.id, _("name"): e.name, _("vendor"): e.vendor, _("backend"): e.backend, _("vocab size"): e.vocab_size,
     _("models"): ", ".join(e.models), _("source"): e.source, "sha256": e.sha256, _("licence"): e.licence}
    for e in load_catalogue().entries.values()
]
st.dataframe(rows, hide_index=True, key="cat_table")
