"""Vocabulary comparison: sizes, token lengths, scripts, overlap, and the tokens only one tokenizer has."""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd
import streamlit as st

from analysis import AnalysisError
from analysis.charts import vocab_jaccard_figure, vocab_length_figure, vocab_script_figure
from analysis.downloads import to_csv_bytes
from analysis.i18n import N_, format_number, script_display_name
from analysis.i18n import gettext as _
from analysis.vocab import (
    CHIPS_CSS,
    SIZE_HEADERS,
    UNIQUE_HEADERS,
    has_vocabulary,
    script_name,
    token_chips_html,
)
from app import keys, state
from app.add_tokenizer import add_tokenizer_panel, added_ids
from app.charts import show_chart
from app.language import headers, localized_grid
from app.state import Chosen, catalogue_ids, show_error

DEFAULT_TOKENIZERS = ["o200k_base", "cl100k_base", "llama3", "gemma3", "qwen3", "mistral-tekken"]
PAGE_SIZES = (50, 100, 250, 500)
ANY = N_("any one of them")
ALL_SCRIPTS = N_("all scripts")
SORTS = {N_("vocabulary order (id)"): "id", N_("longest first"): "length", N_("alphabetical"): "token"}


def first_page() -> None:
    """A new filter starts the listing on its first page."""
    st.session_state[keys.VC_UNIQUE_PAGE] = 1


def download(label: str, frame: Callable[[], pd.DataFrame], name: str, key: str) -> None:
    """A CSV download whose bytes are made only when it is clicked."""
    st.download_button(label, lambda: to_csv_bytes(frame()), file_name=name, mime="text/csv", key=key,
                       on_click="ignore")


st.title(_("Vocabulary comparison"))
st.caption(_("A vocabulary is the set of byte strings its ids stand for when decoded (special and unknown tokens "
           "left out); SentencePiece's ▁ counts as a space, so vocabularies of every family compare. Token lengths "
           "are in UTF-8 bytes."))
specs = {i: i for i in catalogue_ids() if has_vocabulary(i)}
specs.update({label: spec for label, spec in st.session_state.get(keys.LAB_TOKENIZERS, {}).items() if label not in specs})
specs.update({i: i for i in added_ids()})  # this visitor's added tokenizers
add_tokenizer_panel(select_key=None)
ids = list(specs)
chosen = st.multiselect(_("Tokenizers"), ids, default=[i for i in DEFAULT_TOKENIZERS if i in ids], key="vc_tokenizers",
                        placeholder=_("Choose options"),
                        on_change=first_page,
                        help=_("Any number, including tokenizers trained in the lab this session. 'codepoints' is every "
                             "Unicode scalar value (1,112,064 entries): slower."))
if not chosen:
    st.info(_("Choose at least one tokenizer."))
    st.stop()
selection: Chosen = tuple((label, specs[label]) for label in chosen)
try:
    with st.spinner(_("Reading and comparing the vocabularies…")):
        cmp = state.vocab_comparison(selection)
    sizes, shares = state.vocab_sizes_and_scripts(selection)
except AnalysisError as e:
    show_error(e)
    st.stop()

st.subheader(_("Size"))
st.dataframe(localized_grid(sizes), hide_index=True, key="vc_sizes", height="content", column_config=headers(
    SIZE_HEADERS, ids=st.column_config.Column(help=_("ids in the tokenizer's table, special ones included")),
    entries=st.column_config.Column(help=_("ids compared here: not special, not UNK, not unused")),
    distinct_byte_strings=st.column_config.Column(
        help=_("entries with different bytes (WordPiece 'ing' and '##ing' are one)"))))
download(_("Sizes as CSV"), lambda: sizes, "vocabulary_sizes.csv", "vc_sizes_csv")

st.subheader(_("Token length"))
c1, c2 = st.columns(2)
value = c1.radio(_("Show"), ["share", "count"], horizontal=True, key="vc_len_value",
                 format_func=lambda v: _("% of the vocabulary") if v == "share" else _("number of tokens"))
cap = int(c2.number_input(_("Longest length shown (longer ones are one bucket)"), min_value=2, max_value=1024,
                          value=24, step=1, key="vc_len_cap"))
hist = state.vocab_lengths(selection, cap)
show_chart(vocab_length_figure(hist, value=value), key="vc_len_chart", mirrored=True)
download(_("Length distribution as CSV"), lambda: hist, "vocabulary_lengths.csv", "vc_len_csv")

st.subheader(_("Scripts"))
top = int(st.number_input(_("Scripts with their own colour"), min_value=1, max_value=40, value=10, key="vc_scripts_top"))
show_chart(vocab_script_figure(shares, top=top), key="vc_scripts_chart", mirrored=True)
st.caption(_("A token counts for a script when all its letters and marks are of that script; digits, punctuation "
           "and spaces do not vote. 'partial UTF-8': its bytes are part of a character, not a whole one."))
download(_("Script shares as CSV"), lambda: shares, "vocabulary_scripts.csv", "vc_scripts_csv")

st.subheader(_("Overlap"))
jaccard = cmp.jaccard()
show_chart(vocab_jaccard_figure(jaccard), key="vc_jaccard_chart")
st.caption(_("Jaccard index |A ∩ B| / |A ∪ B| of the sets of distinct byte strings."))
download(_("Overlap as CSV (intersections, unions, Jaccard)"), cmp.jaccard_long, "vocabulary_overlap.csv",
         "vc_jaccard_csv")

st.subheader(_("Tokens only one of them has"))
unique = pd.DataFrame({"tokenizer": list(cmp.unique_counts()), "unique byte strings": list(cmp.unique_counts().values())})
st.dataframe(localized_grid(unique), hide_index=True, key="vc_unique_counts", height="content", column_config=headers(
    {"tokenizer": N_("tokenizer"), "unique byte strings": N_("unique byte strings")}))
f1, f2, f3, f4 = st.columns([2, 2, 2, 1])
owner = f1.selectbox(_("Unique to"), [ANY, *chosen], key="vc_unique_owner", on_change=first_page,
                     format_func=lambda o: _(ANY) if o == ANY else o)
search = f2.text_input(_("Contains"), key="vc_unique_search", placeholder=_("e.g. ing, 中, ства"), on_change=first_page)
scripts = [ALL_SCRIPTS, *sorted(shares["script"].unique())]
script = f3.selectbox(_("Script"), scripts, key="vc_unique_script",
                      format_func=lambda s: _(ALL_SCRIPTS) if s == ALL_SCRIPTS
                      else f"{script_display_name(s, english=script_name(s))} ({s})", on_change=first_page)
page_size = f4.selectbox(_("Per page"), PAGE_SIZES, index=1, key="vc_unique_size", on_change=first_page)
sort = st.radio(_("Order"), list(SORTS), horizontal=True, key="vc_unique_sort", on_change=first_page, format_func=_)
filters = {"search": search, "script": None if script == ALL_SCRIPTS else script, "sort": SORTS[sort]}
who = None if owner == ANY else owner
page_slot = st.empty()  # the page number input goes above the table, once the number of pages is known
if keys.VC_UNIQUE_PAGE not in st.session_state:
    st.session_state[keys.VC_UNIQUE_PAGE] = 1
page_no = int(st.session_state[keys.VC_UNIQUE_PAGE])
page = cmp.unique_tokens(who, offset=(page_no - 1) * page_size, limit=page_size, **filters)
pages = max(1, math.ceil(page.total / page_size))
if page_no > pages:  # filters narrowed the list: show its last page
    page_no = pages
    page = cmp.unique_tokens(who, offset=(page_no - 1) * page_size, limit=page_size, **filters)
page_slot.number_input(_("Page (of {n})").format(n=format_number(pages)), min_value=1, step=1, key=keys.VC_UNIQUE_PAGE)
st.caption(_("{n} matching tokens; showing {first}–{last}.").format(
    n=format_number(page.total), first=format_number(page.offset + 1 if page.total else 0),
    last=format_number(page.offset + len(page.rows))))
shown = page.rows[["tokenizer", "id", "token", "bytes_hex", "length", "script"]]
st.dataframe(localized_grid(shown), hide_index=True, key="vc_unique_table",  # ordered by the radio above
             column_config=headers(UNIQUE_HEADERS, token=st.column_config.TextColumn(help=_("␣ space, ↵ newline, "
                                                                                          "⇥ tab"))))
st.html(f"<style>{CHIPS_CSS}</style>{token_chips_html(page.rows)}")
if page.total:
    download(_("All {n} matching tokens as CSV").format(n=format_number(page.total)),
             lambda: cmp.unique_tokens_all(who, **filters).drop(columns=["text"]), "unique_tokens.csv", "vc_unique_csv")
