"""The column headers of the glitch tables that the library returns, as msgids: one mapping per table.

The frames keep their English column names (the command line prints them, the pages' code and the CSV downloads read
them); a page shows each column under its translated header with ``app.language.headers(MAPPING)``. A column left
out of a mapping is shown under its own name: the token ``id`` and the report's own field ``max_prob``.

Example:
    >>> from analysis.i18n import gettext, set_language
    >>> set_language("fr"); gettext(MODEL_HEADERS["n_candidates"]), gettext(CATEGORY_LABELS["unreachable"])
    ('candidats', 'inatteignable')
    >>> set_language("en")
"""

from __future__ import annotations

from ..i18n import N_
from .categories import CATEGORY_NAMES, UNDER_TRAINED_VERIFIED

#: Each category's name as a reader sees it (the names themselves are the English msgids, and the keys the CLI,
#: the filters and the ``category`` cells use).
CATEGORY_LABELS: dict[str, str] = {
    "special": N_("special"), "byte-fallback": N_("byte-fallback"), "partial-utf8": N_("partial-utf8"),
    "unreachable": N_("unreachable"), "normalization-changed": N_("normalization-changed"),
    UNDER_TRAINED_VERIFIED: N_("under-trained (verified)"),
}
assert set(CATEGORY_NAMES) <= set(CATEGORY_LABELS)  # a new category needs its label here

_NOT_IN_CORPORA = N_("not in this database's corpora")

#: :func:`analysis.glitch.store.category_counts`
COUNTS_HEADERS = {"tokenizer": N_("tokenizer"), "ids": N_("ids"),
                  **{name: CATEGORY_LABELS[name] for name in CATEGORY_NAMES},
                  "not in this database's corpora": _NOT_IN_CORPORA}

#: :func:`analysis.glitch.store.token_table` (``id`` is shown as it is)
TOKEN_HEADERS = {"token": N_("token"), "category": N_("category"), "bytes_hex": N_("bytes (hex)"),
                 "script": N_("script"), "total": N_("occurrences"), "n_langs": N_("languages"),
                 "top_langs": N_("most frequent in")}

#: :func:`analysis.glitch.published.published_models`
PUBLISHED_MODEL_HEADERS = {
    "model": N_("model id"), "name": N_("model"), "tokenizer": N_("tokenizer"), "n_rows": N_("rows"),
    "n_verified": N_("verified"), "n_match": N_("match our vocabulary"), "n_mismatch": N_("differ from our vocabulary"),
    "n_unchecked": N_("not checked"), "indicator_name": N_("indicator"), "tested": N_("tokens tested"),
    "below_p001": N_("below p = 0.01"), "source_path": N_("source file"), "commit": N_("commit"),
}

#: :func:`analysis.glitch.published.category_summary` (one row: the keys of its dict)
PUBLISHED_SUMMARY_HEADERS = {
    "rows matching our vocabulary": N_("rows matching our vocabulary"),
    "verified under-trained": N_("verified under-trained"),
    **{name: CATEGORY_LABELS[name] for name in CATEGORY_NAMES},
    "no check category": N_("no check category"), "not in this database's corpora": _NOT_IN_CORPORA,
}

#: :func:`analysis.glitch.published.published_tokens` (``id`` and the report's ``max_prob`` are shown as they are)
PUBLISHED_TOKEN_HEADERS = {"rank": N_("rank"), "token": N_("token (as printed)"), "indicator": N_("indicator"),
                           "verified": N_("verified"), "check": N_("check"), "vocab_entry": N_("our entry"),
                           "our categories": N_("our categories"), "occurrences": N_("occurrences")}

#: :func:`analysis.glitch.store.models`
MODEL_HEADERS = {
    "model": N_("model"), "tokenizer": N_("tokenizer"), "n_rows": N_("rows"), "dim": N_("dimension"),
    "dtype": N_("number type"), "embedding": N_("embedding matrix"), "unembedding": N_("unembedding matrix"),
    "indicator": N_("indicator"), "reference": N_("reference tokens"), "percentile": N_("percentile"),
    "threshold": N_("threshold"), "n_candidates": N_("candidates"), "device": N_("device"),
    "computed_at": N_("computed at"), "verified": N_("verified"), "under_trained": N_("under-trained"),
}

#: :func:`analysis.glitch.store.model_candidates` (``id`` is shown as it is)
CANDIDATE_HEADERS = {"token": N_("token"), "score": N_("score"), "norm": N_("norm"),
                     "max_prob": N_("max probability"), "under_trained": N_("under-trained"),
                     "best_prompt": N_("best prompt"), "template_version": N_("template version")}
