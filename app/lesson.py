"""A lesson in the Playground: one step at a time, with Next/Previous, the step kept in the URL (issue 17).

The teacher hands out one link, ``?workshop=NAME`` (or sets ATLAS_WORKSHOP on the server); the Playground calls
:func:`lesson_mode` first, which draws the lesson and stops the page when the preset holds one (a preset with
texts only, or a bad name, is left to the Playground's own workshop mode and its error message). The step is the
``step`` query parameter (1-based), so a reload keeps it and a participant can share the step they are on. Lesson
text comes in the interface language (:func:`analysis.i18n.current_language`), English where it has none.
"""

from __future__ import annotations

import os
from html import escape

import pandas as pd
import streamlit as st

from analysis import AnalysisError
from analysis.i18n import current_language, format_number
from analysis.i18n import gettext as _
from analysis.render import CSS, tokens_html
from analysis.workshops import Step, Workshop
from app.charts import presentation_on
from app.state import show_error, store, tokenizer, workshop

#: The app page each lesson link names (see analysis.workshops.LINK_PAGES).
PAGE_FILES = {"premiums": "views/premiums.py", "token": "views/token.py", "glitch": "views/glitch.py",
              "vocabulary": "views/vocab.py", "playground": "views/playground.py"}
STEP_PARAM = "step"
#: Larger tokens for a projector (the presentation switch).
_PRESENTATION_CSS = ".ta-tokens{font-size:1.7em;line-height:2.1}"


def step_from_url(raw: str | None, n_steps: int) -> tuple[int, str | None]:
    """The 1-based step a URL asks for, clamped to the lesson, and a warning when the value was not usable.

    >>> step_from_url("2", 5), step_from_url(None, 5), step_from_url("9", 5)[0], step_from_url("x", 5)[0]
    ((2, None), (1, None), 5, 1)
    """
    if raw is None:
        return 1, None
    try:
        k = int(raw)
    except ValueError:
        return 1, _("The link's step {value} is not a number; showing step 1.").format(value=repr(raw[:20]))
    if 1 <= k <= n_steps:
        return k, None
    near = min(max(k, 1), n_steps)
    return near, _("This lesson has steps 1 to {n}; the link asked for step {k}, showing step {near}.").format(
        n=n_steps, k=k, near=near)


def _go(k: int) -> None:
    st.query_params[STEP_PARAM] = str(k)


def _flags(enc) -> dict[int, list[str]]:
    """Glitch evidence for the step's tokens, as the Playground flags them (none without a statistics database)."""
    from analysis.glitch import EVIDENCE_NAMES, LEGEND, UNDER_TRAINED_VERIFIED, flags_for, verifications_for

    try:
        con = store()
        found = flags_for(con, enc.tokenizer.id, set(enc.ids), categories=tuple(EVIDENCE_NAMES))
        verified = verifications_for(con, enc.tokenizer.id, list(found))
    except AnalysisError:
        return {}
    meaning = dict(LEGEND)
    return {i: [f"{c}: {meaning[c]}" for c in cats if c != UNDER_TRAINED_VERIFIED] + verified.get(i, [])
            for i, cats in found.items()}


def _counts(step: Step, encodings: list, language: str) -> pd.DataFrame:
    """Tokens per tokenizer and, for a UDHR text in another language, the multiple of English's count of the
    same unit (the premium of that one article)."""
    rows = [{_("tokenizer"): e.tokenizer.id, _("tokens"): e.count, _("characters"): len(e.text)} for e in encodings]
    ref = step.udhr_ref(language)
    if ref and not ref.startswith("eng:"):
        from analysis.corpus.udhr import load_udhr

        english = load_udhr().texts("eng").get(ref.partition(":")[2])
        if english:
            for row, e in zip(rows, encodings, strict=True):
                base = tokenizer(e.tokenizer.id).count(english)
                row[_("× English (same article)")] = round(e.count / base, 2) if base else None
    return pd.DataFrame(rows)


def _draw(w: Workshop, k: int) -> None:
    language = current_language()
    step = w.steps[k - 1]
    n = len(w.steps)
    st.title(w.title)
    st.progress(k / n, text=_("Step {k} of {n}").format(k=k, n=n))
    # Next/Previous at the top: the step's tokens may run below the screen.
    prev, _gap, nxt = st.columns([1, 3, 1])
    prev.button(_("← Previous"), key="ls_prev", disabled=k <= 1, on_click=_go, args=(k - 1,), width="stretch")
    nxt.button(_("Next →"), key="ls_next", disabled=k >= n, on_click=_go, args=(k + 1,), width="stretch",
               type="primary")
    if language in w.review_languages:
        st.caption(_("This translation of the lesson is a draft awaiting review."))
    st.header(step.title(language))
    if step.note(language):
        st.markdown(escape(step.note(language)))
    st.info(f"**{_('Question for the room')}**\n\n{escape(step.question(language))}", icon="💬")
    text = step.text(language)
    ref = step.udhr_ref(language)
    if ref:
        st.caption(_("Text: the Universal Declaration of Human Rights, {ref} (language:article).").format(ref=ref))
    encodings = [tokenizer(t).encode(text) for t in step.tokenizers]
    st.html(f"<style>{CSS}{_PRESENTATION_CSS if presentation_on() else ''}</style>")
    counts = _counts(step, encodings, language)
    st.table(counts.style.format({c: "{:.2f}" for c in counts.columns if c.startswith("×")}, na_rep="—"),
             hide_index=True)
    grid = st.columns(2) if len(encodings) > 1 else [st.container()]
    for j, enc in enumerate(encodings):
        with grid[j % len(grid)].container(border=True):
            st.markdown(_("**{tokenizer}** · {n} tokens").format(tokenizer=enc.tokenizer.id, n=format_number(enc.count)))
            st.html(tokens_html(enc, flags=_flags(enc), link=True))
    links = st.columns(2)
    if step.link:
        links[0].page_link(PAGE_FILES[step.link.page], label=step.link.label(language), icon="➡️",
                           query_params=step.link.params or None)
    explore = ({"corpus": "udhr", "lang": ref.partition(":")[0], "unit": ref.partition(":")[2]} if ref
               else {"text": text})
    links[1].page_link("views/playground.py", label=_("Explore this text freely in the Playground"), icon="🔤",
                       query_params={"tokenizers": ",".join(step.tokenizers), **explore})
    with st.expander(_("For the teacher: the link to hand out")):
        st.code(f"?workshop={w.name}", language=None)
        st.caption(_("Add it to this server's address. Each participant steps on their own; ?workshop={name}&step=N "
                     "opens step N, and &present=1 turns on large charts for a projector.").format(name=w.name))


def lesson_mode() -> None:
    """Draw the lesson of the workshop preset in the URL (or ATLAS_WORKSHOP) and stop the page; return when the
    preset has no lesson, or cannot be read (the Playground then shows its texts or its error)."""
    name = st.query_params.get("workshop") or os.environ.get("ATLAS_WORKSHOP")
    if not name:
        return
    try:
        w, _texts = workshop(name)
    except AnalysisError:
        return
    if not w.is_lesson:
        return
    k, warning = step_from_url(st.query_params.get(STEP_PARAM), len(w.steps))
    if warning:
        st.warning(warning)
    if st.query_params.get(STEP_PARAM) != str(k):
        st.query_params[STEP_PARAM] = str(k)
    try:
        _draw(w, k)
    except AnalysisError as e:
        show_error(e)
    st.stop()
