"""Playground: paste, upload or pick a text and see it tokenized by several tokenizers side by side."""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st

from analysis import AnalysisError, load_catalogue
from analysis.glitch import EVIDENCE_NAMES, LEGEND, UNDER_TRAINED_VERIFIED
from analysis.i18n import N_, format_number, format_percent, language_name
from analysis.i18n import gettext as _
from analysis.lab.compare import load_tokenizer as load_lab_tokenizer
from analysis.langdetect import detect, match_language
from analysis.playground import (
    AGREEMENT_HEADERS,
    DEFAULT_TEXT,
    PAIR_HEADERS,
    PlaygroundState,
    boundary_diff,
    ids_html,
    pair_premiums,
    state_from_query,
    summary_row,
    tokens_csv,
    tokens_json,
)
from analysis.render import CSS, tokens_html
from analysis.textio import MAX_UPLOAD_BYTES, SUFFIXES, read_upload
from app import keys, state
from app.add_tokenizer import add_tokenizer_panel, added_ids, linkable
from app.language import headers, localized_grid, page_params, with_language
from app.lesson import lesson_mode
from app.reconnect import client_sent
from app.state import DEFAULT_TOKENIZERS, show_error, tokenizer, workshop

MAX_CHARS = 200_000  # what the Playground tokenizes; counts are for all of it, drawing is capped below
DRAW_STEP = 1000  # tokens drawn per tokenizer, more on request
UPLOADER_MB = 100  # the server's own upload cap (.streamlit/config.toml); read_upload refuses over MAX_UPLOAD_BYTES
SOURCES = (N_("Type or paste"), N_("Upload a file"), N_("UDHR sample"))
#: What the Playground can flag a token for: evidence only (special, byte-fallback and partial UTF-8 have badges).
FLAGGABLE = list(EVIDENCE_NAMES)
DEFAULT_FLAGS = list(EVIDENCE_NAMES)
WORKSHOP_SOURCE = N_("Workshop texts")
#: The summary table's column headers, translated when shown (the frame keeps its English names).
SUMMARY_HEADERS = {"tokenizer": N_("tokenizer"), "tokens": N_("tokens"), "chars/token": N_("chars/token"),
                   "bytes/token": N_("bytes/token"), "% of context": N_("% of context"), "unknown": N_("unknown"),
                   "byte fallback": N_("byte fallback"), "split chars": N_("split chars"),
                   "glitch-flagged": N_("glitch-flagged")}
ALL_UNITS = "(all)"

catalogue = load_catalogue()
lab: dict[str, str] = st.session_state.get(keys.LAB_TOKENIZERS, {})
known = catalogue.ids + list(lab) + added_ids()  # added_ids: this visitor's own tokenizers
ss = st.session_state

# ---------------------------------------------------------------- state from the URL
# On a session's first run, and whenever the URL holds parameters this page did not write itself (a permalink
# opened in a running session, the explorer's "open in the Playground" link).
params = page_params()  # the interface language (lang=fr) is the app's, not this page's state
# A browser reconnecting after its replica died sends its widgets' values, including a change the dead replica never
# answered, while its URL holds the page before that change: what the browser sent wins (app/reconnect.py).
sent = (client_sent((keys.PG_TEXT, keys.PG_TOKENIZERS, keys.PG_WS, keys.PG_VIEW)) if keys.PG_INIT not in ss
        else set())
if keys.PG_INIT not in ss or (params and params != ss.get(keys.PG_LAST_QUERY)):
    first_run = keys.PG_INIT not in ss
    ss[keys.PG_INIT] = True
    url_state, warnings = state_from_query(params, known)
    ss[keys.PG_LINK_WARNINGS] = warnings
    if keys.PG_TOKENIZERS not in sent:
        ss[keys.PG_TOKENIZERS] = url_state.tokenizers or [t for t in DEFAULT_TOKENIZERS if t in known]
    if url_state.text is not None and keys.PG_TEXT not in sent:
        ss[keys.PG_TEXT] = url_state.text
    elif url_state.text is None and not first_run:  # a link without a text, opened in a running session: the sample
        ss[keys.PG_TEXT] = DEFAULT_TEXT
    # A session's first run with no text in its URL leaves the text area to its own value: DEFAULT_TEXT on a page
    # load, or the text the browser still holds when it reconnects to another replica after one died
    # (docs/scaling.md). A text over MAX_URL_TEXT characters is in no URL, so setting it here would lose it.
    if keys.PG_WS not in sent:
        ss[keys.PG_WS] = url_state.show_whitespace
    if keys.PG_VIEW not in sent:
        ss[keys.PG_VIEW] = url_state.view
    if url_state.compare is not None:
        ss[keys.PG_TRANSLATE], ss[keys.PG_COMPARE] = True, url_state.compare
    if url_state.sample:
        ss[keys.PG_SOURCE] = SOURCES[2]
        ss[keys.PG_CORPUS], ss[keys.PG_SAMPLE_LANG], ss[keys.PG_SAMPLE_UNIT] = url_state.sample
        ss[keys.PG_LINK_SAMPLE] = url_state.sample  # checked against the database below, with a warning if replaced
for w in ss.pop(keys.PG_LINK_WARNINGS, []):
    st.warning(w)
lesson_mode()  # a workshop preset that holds a lesson draws it here, one step at a time, and stops (app/lesson.py)

st.title(_("Playground"))
if st.radio(_("Mode"), (N_("Plain text"), N_("Conversation")), key="pg_mode", horizontal=True, format_func=_,
            help=_("Conversation: messages wrapped by each tokenizer's own chat template")) == "Conversation":
    from app.conversation import conversation_mode

    conversation_mode()
    st.stop()
# Workshop mode: a preset (from the link or the server's ATLAS_WORKSHOP) pins the tokenizers and offers its texts.
preset, preset_texts = None, {}
workshop_name = st.query_params.get("workshop") or os.environ.get("ATLAS_WORKSHOP")
if workshop_name:
    try:
        preset, preset_texts = workshop(workshop_name)
        st.info(_("**Workshop: {title}**").format(title=preset.title) + f"\n\n{preset.description}")
        ss[keys.PG_TOKENIZERS] = list(preset.tokenizers)
        if keys.PG_WORKSHOP_INIT not in ss:
            ss[keys.PG_WORKSHOP_INIT], ss[keys.PG_SOURCE] = True, WORKSHOP_SOURCE
    except AnalysisError as e:
        show_error(e)
sources = ((WORKSHOP_SOURCE,) if preset else ()) + SOURCES
source = st.radio(_("Source of the text"), sources, horizontal=True, key=keys.PG_SOURCE, label_visibility="collapsed",
                  format_func=_)
text, sample = "", None
if source == WORKSHOP_SOURCE:
    label = st.selectbox(_("Workshop text"), list(preset_texts), key="pg_workshop_text")
    text = ss[keys.PG_WORKSHOP_VIEW] = preset_texts[label]  # shown read-only (a keyed widget shows its state, so set it)
    st.text_area(_("Selected text"), height=140, disabled=True, key=keys.PG_WORKSHOP_VIEW)
elif source == SOURCES[0]:
    # No max_chars: the browser would drop a longer paste without a word; the warning below says what is cut.
    text = st.text_area(_("Text"), value=DEFAULT_TEXT, height=140, key=keys.PG_TEXT,
                        help=_("Up to {n} characters; upload a file for more structure.").format(
                            n=format_number(MAX_CHARS)))
elif source == SOURCES[1]:
    # The uploader takes files up to the server's cap, so that one over this page's limit is refused by
    # read_upload with a message on the page, not only in the uploader's note.
    upload = st.file_uploader(_("A text file ({suffixes}; at most {mb} MB)").format(
                                  suffixes=" ".join(SUFFIXES), mb=format_number(MAX_UPLOAD_BYTES // 2**20)),
                              type=[s.lstrip(".") for s in SUFFIXES], key="pg_upload", max_upload_size=UPLOADER_MB)
    replace = st.checkbox(_("Decode with replacement characters (U+FFFD) if the file is not UTF-8"), key="pg_replace")
    if upload is not None:
        try:
            up = read_upload(upload.name, upload.getvalue(), errors="replace" if replace else "strict")
            field = None
            if up.kind != "text":
                field = st.selectbox(_("Field to tokenize (rows joined by newlines)"), up.fields, key="pg_field")
            text = up.text(field)
            note = up.decoded.encoding + (", " + _("{n} undecodable byte run(s) replaced by U+FFFD").format(
                n=format_number(up.decoded.replaced)) if up.decoded.replaced else "")
            st.caption(_("{name}: {n} characters ({note})").format(name=upload.name, n=format_number(len(text)),
                                                                    note=note))
        except AnalysisError as e:
            show_error(e)
else:
    asked = ss.pop(keys.PG_LINK_SAMPLE, None)  # (corpus, lang, unit) from a link: say so if one is not there
    try:
        corpora = state.corpora()
        if ss.get(keys.PG_CORPUS) not in corpora:
            if asked:
                st.warning(_("The link's corpus {asked} is not in this database; showing {shown} instead. Pick "
                             "another corpus below.").format(asked=repr(str(asked[0])[:60]), shown=repr(corpora[0])))
            ss[keys.PG_CORPUS] = "udhr" if "udhr" in corpora else corpora[0]
        corpus = st.selectbox(_("Corpus"), corpora, key=keys.PG_CORPUS)
        langs = state.languages(corpus)
        names = {code: f"{language_name(code, english=name)} ({code})" for code, name in zip(langs["lang"], langs["name"])}
        if ss.get(keys.PG_SAMPLE_LANG) not in names:
            ss[keys.PG_SAMPLE_LANG] = "hin" if "hin" in names else next(iter(names))
            if asked:
                st.warning(_("The link's language {asked} is not in the corpus {corpus}; showing {shown} instead. "
                             "Pick another language below.").format(asked=repr(str(asked[1])[:60]), corpus=repr(corpus),
                                                                     shown=repr(ss[keys.PG_SAMPLE_LANG])))
        lang = st.selectbox(_("Language (type to search by name or code)"), list(names), key=keys.PG_SAMPLE_LANG,
                            format_func=names.get)
        units = [ALL_UNITS, *state.unit_names(corpus)]
        if ss.get(keys.PG_SAMPLE_UNIT) not in units:
            ss[keys.PG_SAMPLE_UNIT] = units[1] if len(units) > 1 else units[0]
            if asked:
                st.warning(_("The link's unit {asked} is not in the corpus {corpus}; showing {shown} instead. Pick "
                             "another unit below.").format(asked=repr(str(asked[2])[:60]), corpus=repr(corpus),
                                                            shown=repr(ss[keys.PG_SAMPLE_UNIT])))
        unit = st.selectbox(_("Unit"), units, key=keys.PG_SAMPLE_UNIT,
                            format_func=lambda u: _("(all)") if u == ALL_UNITS else u)
        text = state.unit_text(corpus, lang, None if unit == ALL_UNITS else unit)
        sample = (corpus, lang, unit)
        ss[keys.PG_SAMPLE_VIEW] = text  # shown read-only (a keyed widget shows its state, so set it)
        st.text_area(_("Sample text"), height=140, disabled=True, key=keys.PG_SAMPLE_VIEW)
    except AnalysisError as e:
        show_error(e)

if len(text) > MAX_CHARS:
    st.warning(_("The text has {n} characters; the Playground tokenizes the first {cap}. For longer texts use "
                 "`python -m analysis encode --tokenizer ID < file`.").format(n=format_number(len(text)),
                                                                            cap=format_number(MAX_CHARS)))
    text = text[:MAX_CHARS]
if "\ufffd" in text and source == SOURCES[0]:
    st.warning(_("The text holds U+FFFD replacement characters (�), counted as typed. The browser sends one in place "
                 "of a character it cannot send, such as half of an emoji's surrogate pair (a broken copy); paste the "
                 "text again from its source to tokenize the original characters."))

cols = st.columns([3, 1, 1, 1])
chosen = cols[0].multiselect(_("Tokenizers"), known, key=keys.PG_TOKENIZERS, disabled=preset is not None,
                             placeholder=_("Choose options"),
                             format_func=lambda t: _("{id} (trained in the lab)").format(id=t) if t in lab else t,
                             help=_("Pinned by the workshop preset") if preset else None)
view = cols[1].radio(_("View"), ("tokens", "ids"), key=keys.PG_VIEW, horizontal=True,
                     format_func=lambda v: _("tokens") if v == "tokens" else _("ids"))
show_ws = cols[2].toggle(_("Show whitespace"), key=keys.PG_WS, help=_("Draw spaces as ·, tabs as →, newlines as ↵"))
translate = cols[3].toggle(_("Translation mode"), key=keys.PG_TRANSLATE,
                           help=_("Compare with the same text in another language"))
add_tokenizer_panel(select_key=keys.PG_TOKENIZERS)

# Keep the URL in step with what is shown: it is the permalink.
link = PlaygroundState(linkable(chosen), text if source != WORKSHOP_SOURCE else None, show_ws, view,
                       sample if source == SOURCES[2] else None, ss.get(keys.PG_COMPARE) if translate else None,
                       workshop_name if preset else None).to_query()
link = with_language(link)  # the interface language stays in the permalink
if params != link:
    st.query_params.from_dict(link)
ss[keys.PG_LAST_QUERY] = link


def encode_all(value: str) -> list:
    out = []
    for tid in chosen:
        try:
            # Lab files go through the lab's small cache keyed by path, mtime and size (retrained files change).
            out.append((load_lab_tokenizer(lab[tid]) if tid in lab else tokenizer(tid)).encode(value))
        except AnalysisError as e:
            show_error(e)
    return out


encodings = encode_all(text) if text else []
shown_as = {spec: label for label, spec in lab.items()}  # lab tokenizers by the label the user gave them


def name(enc) -> str:
    return shown_as.get(enc.tokenizer.id, enc.tokenizer.id)

# ---------------------------------------------------------------- language awareness
if text:
    found = detect(text[:4000])
    if found.code is None:
        st.caption(_("Script: {script} · language: {note}").format(script=found.script or _("none"), note=found.note))
    else:
        line = _("Detected language: **{code}** ({p}) · script **{script}**").format(
            code=found.code, p=format_percent(found.probability), script=found.script)
        try:
            match = match_language(found, state.languages("udhr").to_dict("records"))
            if match is not None and match["lang"] != "eng":
                counted = [e.tokenizer.id for e in encodings if e.tokenizer.id in state.counted_tokenizers("udhr")]
                if counted:
                    prem = state.premiums("udhr", "eng", tuple(counted))
                    prem = prem[prem["lang"] == match["lang"]]
                    facts = [_("{x}× with {tokenizer}").format(x=format_number(r.premium, decimals=2),
                                                                 tokenizer=r.tokenizer)
                             for r in prem.itertuples() if r.premium == r.premium]
                    line += " · " + _("on the UDHR, {name} ({code}) needs these multiples of English's token count: "
                                      "{facts}").format(name=language_name(match["lang"], english=match["name"]),
                                                        code=match["lang"], facts=", ".join(facts))
        except AnalysisError:
            pass  # no statistics database: the detection alone is still useful
        st.caption(line)

# ---------------------------------------------------------------- glitch-token flags from the store
with st.expander(_("Glitch-token flags"), expanded=False):
    flag_cats = st.multiselect(_("Flag tokens of your text (⚠) on this evidence: the vocabulary checks of the "
                                 "statistics database, and verifications of models with the same vocabulary "
                                 "(published, or run with `glitch verify`)"), FLAGGABLE, default=DEFAULT_FLAGS,
                               key="pg_flags", placeholder=_("Choose options"))
    st.markdown("\n".join(f"- **{n}**: {_(meaning)}" for n, meaning in LEGEND if n in flag_cats))
    st.caption(_("How often a token occurs in this database's corpora is not evidence of a glitch token (the UDHR is "
                 "a few MB); the Glitch tokens page shows those counts."))


def glitch_flags(enc) -> dict[int, list[str]]:
    """Each flagged id's lines of evidence: its check categories, then who verified it as under-trained (hover)."""
    if not flag_cats or enc.tokenizer.id not in catalogue.entries:
        return {}
    try:
        found, verified = state.token_flags(enc.tokenizer.id, enc.ids, flag_cats)
    except AnalysisError:
        return {}  # no statistics database: the Playground works without flags
    meaning = {n: _(m) for n, m in LEGEND}
    return {i: [f"{c}: {meaning[c]}" for c in cats if c != UNDER_TRAINED_VERIFIED] + verified.get(i, [])
            for i, cats in found.items()}


flags = {e.tokenizer.id: glitch_flags(e) for e in encodings}

# ---------------------------------------------------------------- summary, tokens, exports
if encodings:
    # A static table, not st.dataframe: a handful of rows needs no data grid, and the grid's canvas was about a
    # tenth of the browser's CPU for a first page load (README, Load test).
    summary = pd.DataFrame([{**summary_row(e), "tokenizer": name(e),
                             "glitch-flagged": sum(i in flags[e.tokenizer.id] for i in e.ids)} for e in encodings])
    fmt = {"chars/token": lambda x: format_number(x, decimals=2), "bytes/token": lambda x: format_number(x, decimals=2),
           "% of context": lambda x: format_number(x, decimals=3) + " %"}
    shown = summary.rename(columns=lambda c: _(SUMMARY_HEADERS.get(c, c)))
    st.table(shown.style.format({_(SUMMARY_HEADERS[c]): fmt.get(c, format_number) for c in summary.columns
                                 if c != "tokenizer"}, na_rep="—"), hide_index=True)
    cap = ss.setdefault(keys.PG_CAP, DRAW_STEP)
    st.html(f"<style>{CSS}</style>")
    grid = st.columns(2) if len(encodings) > 1 else [st.container()]
    for k, enc in enumerate(encodings):
        with grid[k % len(grid)].container(border=True):
            st.markdown(_("**{tokenizer}** · {n} tokens").format(tokenizer=name(enc), n=format_number(enc.count)))
            st.html(tokens_html(enc, show_whitespace=show_ws, max_tokens=cap, flags=flags[enc.tokenizer.id],
                                link=enc.tokenizer.id in catalogue.entries)
                    if view == "tokens" else ids_html(enc, max_tokens=cap))
    longest = max(e.count for e in encodings)
    if longest > cap:
        st.info(_("Drawing the first {n} tokens of each tokenizer; counts above are for the whole text.").format(
            n=format_number(cap)))
        if st.button(_("Draw {n} more tokens").format(n=format_number(DRAW_STEP)), key="pg_more"):
            ss[keys.PG_CAP] = cap + DRAW_STEP
            st.rerun()
    st.caption(_("Boundary mark: left edge of each token. Dashed outline ×n: one character split over n tokens. "
                 "Badges: special, UNK, byte (byte fallback); ⚠ with a pink underline: evidence of a glitch token (see "
                 "'Glitch-token flags'). Hover a token for its id, bytes, vocabulary entry and evidence; click it for "
                 "its token page. The marks are drawn, not written: copying the tokens gives back your text."))

    exp = st.columns(3)
    # Export data is built only when a button is pressed (a callable), not on every rerun.
    exp[0].download_button(_("Tokens as JSON (all)"), lambda: tokens_json(encodings), "tokens.json", "application/json",
                           key="pg_dl_json")
    pick = exp[1].selectbox(_("CSV of"), [e.tokenizer.id for e in encodings], key="pg_csv_of",
                            label_visibility="collapsed")
    exp[2].download_button(_("Tokens of {tokenizer} as CSV").format(tokenizer=pick),
                           lambda: tokens_csv(next(e for e in encodings if e.tokenizer.id == pick)),
                           f"tokens-{pick.replace(':', '_').replace('/', '_')}.csv", "text/csv", key="pg_dl_csv")

    if len(encodings) > 1:
        diff_box = st.expander(_("Boundary diff: where the tokenizers cut the text"), key="pg_diff", on_change="rerun")
        if diff_box.open:  # computed only while open
            with diff_box:
                diff = boundary_diff(encodings)
                st.caption(_("│ every tokenizer cuts here ({shared} places) · a number: only that many of the {n} cut "
                             "here ({disputed} places). Hover a mark for who cuts.").format(
                    shared=format_number(len(diff.shared)), n=format_number(len(encodings)),
                    disputed=format_number(len(diff.disputed))))
                st.html(diff.html())
                st.dataframe(localized_grid(diff.agreement()), hide_index=True, key="pg_agreement",
                             column_config=headers(AGREEMENT_HEADERS))

# ---------------------------------------------------------------- translation mode
if translate:
    other = st.text_area(_("The same text in another language"), height=120, key=keys.PG_COMPARE)
    if len(other) > MAX_CHARS:
        st.warning(_("The second text has {n} characters; the first {cap} are compared.").format(
            n=format_number(len(other)), cap=format_number(MAX_CHARS)))
        other = other[:MAX_CHARS]
    if other and encodings:
        second = encode_all(other)
        st.dataframe(localized_grid(pair_premiums(encodings, second)), hide_index=True, key="pg_pair",
                     column_config=headers(PAIR_HEADERS))
        st.caption(_("Premium = tokens of the second text / tokens of the first, per tokenizer (a ratio of totals)."))
