"""Every session-state key the app reads or writes, named once.

A page that reads or sets ``st.session_state`` does it through these names (``ss[keys.PG_TEXT]``), and the widget
that owns such a key is created with the same name (``st.text_area(..., key=keys.PG_TEXT)``). A widget whose
value nothing reads back (a table, a chart, a download button) keeps its key as a literal at its one use.

The values never change: permalinks, the tests and the protocol load test address widgets by them. Prefixes say
whose key it is: ``pg_`` Playground, ``cv_`` its conversation mode, ``px_`` Premium explorer (``px_cost_`` its Cost
tab), ``vc_`` Vocabularies, ``lab_`` Tokenizer lab, ``sql_`` SQL console, ``tk_`` Token page, ``im_`` Import.
"""

from __future__ import annotations

from analysis.lab import workspace as lab_workspace

# ------------------------------------------------------------------ every page (sidebar, shared panels)
#: The interface language picker (app/language.py).
UI_LANG = "ui_lang"
#: The last interface language read from the URL (a link naming another one switches to it).
UI_LANG_SEEN = "ui_lang_seen_in_url"
#: The sidebar's presentation switch (app/charts.py).
PRESENTATION = "presentation"
#: The ids of the tokenizers this visitor added, in the order added (app/add_tokenizer.py).
USER_TOKENIZERS = "user_tokenizers"
#: The 'Add a tokenizer' panel's last message, shown once: ("success" | "error", markdown).
YOURS_MESSAGE = "yours_message"
#: The added tokenizers whose counting was seen to finish (the page reruns once for each).
YOURS_DONE = "yours_done"

# ------------------------------------------------------------------ Tokenizer lab (see analysis.lab.workspace)
#: ``{label: "file:/path/to/tokenizer.json"}``: the tokenizers trained in the lab this session, which the Playground
#: and the Vocabularies page offer beside the catalogue.
LAB_TOKENIZERS = lab_workspace.TOKENIZERS
#: The rest of the lab's workspace (the library owns these keys; the lab page reaches them through it).
LAB_RUNS = lab_workspace.RUNS
LAB_RUN_COUNT = lab_workspace.RUN_COUNT
LAB_DIR = lab_workspace.FOLDER
LAB_LAST = lab_workspace.LAST
LAB_LANGS = "lab_langs"

# ------------------------------------------------------------------ Playground
PG_INIT = "pg_init"  # set once the URL's state was applied
PG_LAST_QUERY = "pg_last_query"  # the parameters this page last wrote into the URL
PG_LINK_WARNINGS = "pg_link_warnings"
PG_LINK_SAMPLE = "pg_link_sample"  # (corpus, lang, unit) a link asked for, checked against the database
PG_TOKENIZERS = "pg_tokenizers"
PG_TEXT = "pg_text"
PG_WS = "pg_ws"
PG_VIEW = "pg_view"
PG_TRANSLATE = "pg_translate"
PG_COMPARE = "pg_compare"
PG_SOURCE = "pg_source"
PG_CORPUS = "pg_corpus"
PG_SAMPLE_LANG = "pg_sample_lang"
PG_SAMPLE_UNIT = "pg_sample_unit"
PG_SAMPLE_VIEW = "pg_sample_view"
PG_WORKSHOP_INIT = "pg_workshop_init"
PG_WORKSHOP_VIEW = "pg_workshop_view"
PG_CAP = "pg_cap"  # tokens drawn per tokenizer

# ------------------------------------------------------------------ Playground, conversation mode
CV_N = "cv_n"  # how many messages


def cv_role(i: int) -> str:
    """The role selectbox of message ``i`` (0-based)."""
    return f"cv_role_{i}"


def cv_text(i: int) -> str:
    """The text area of message ``i`` (0-based)."""
    return f"cv_text_{i}"


# ------------------------------------------------------------------ Premium explorer
PX_LAST_LINK = "px_last_link"  # the explorer's link parameters last applied
PX_LINK = "px_link"  # link parameters waiting to be applied on this run
PX_CORPUS = "px_corpus"
PX_REFERENCE = "px_reference"
PX_TOKENIZERS = "px_tokenizers"
PX_SEARCH = "px_search"
PX_TAB = "px_tab"
PX_UNIT_LANG = "px_unit_lang"
PX_COST_PRESET = "px_cost_preset"
PX_COST_IN = "px_cost_in"
PX_COST_OUT = "px_cost_out"
PX_COST_CTX = "px_cost_ctx"
PX_COST_TOK = "px_cost_tok"
PX_COST_EXACT = "px_cost_exact"
PX_COST_CHARS_IN = "px_cost_chars_in"
PX_COST_CHARS_OUT = "px_cost_chars_out"
PX_COST_REQUESTS = "px_cost_requests"

# ------------------------------------------------------------------ Vocabularies
VC_UNIQUE_PAGE = "vc_unique_page"

# ------------------------------------------------------------------ SQL console
SQL_EXAMPLE = "sql_example"
SQL_TEXT = "sql_text"
SQL_SUBMITTED = "sql_submitted"  # the query last run (the text area may have changed since)

# ------------------------------------------------------------------ Token page
TK_INIT = "tk_init"
TK_LAST_QUERY = "tk_last_query"
TK_TOKENIZER = "tk_tokenizer"
TK_ID = "tk_id"
