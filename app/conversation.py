"""The Playground's Conversation mode: messages rendered through each tokenizer's own chat template.

Not a page of its own: the Playground calls :func:`conversation_mode` when its mode is "Conversation".
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis import AnalysisError, load_catalogue
from analysis.chat import ROLES
from analysis.chat_render import CSS, chat_html
from analysis.i18n import N_, format_number
from analysis.i18n import gettext as _
from app import keys, state
from app.language import headers

MAX_MESSAGE_CHARS = 20_000
#: The tables' column headers (msgids; the frames keep the English names).
TOTAL_HEADERS = {"tokenizer": N_("tokenizer"), "template": N_("template"), "total tokens": N_("total tokens"),
                 "content tokens": N_("content tokens"), "template tokens": N_("template tokens")}
MESSAGE_HEADERS = {"tokenizer": N_("tokenizer"), "message": N_("message"), "content": N_("content"),
                   "template": N_("template"), "total": N_("total")}
#: Tokenizers with a known chat format, one of each kind, to start from.
DEFAULT = ["llama3", "qwen3", "mistral-v3", "mistral-tekken", "gpt-oss"]
START = [("system", "You are a helpful assistant."), ("user", "What is the capital of Kenya?"),
         ("assistant", "Nairobi."), ("user", "And of Peru?")]


def conversation_mode() -> None:
    """Message editors, then per tokenizer: template and content tokens, counts per message and in total."""
    ss = st.session_state
    ids = load_catalogue().ids
    if keys.CV_N not in ss:
        ss[keys.CV_N] = len(START)
        for i, (role, content) in enumerate(START):
            ss[keys.cv_role(i)], ss[keys.cv_text(i)] = role, content
    chosen = st.multiselect(_("Tokenizers"), ids, default=[t for t in DEFAULT if t in ids], key="cv_tokenizers",
                            placeholder=_("Choose options"),
                            format_func=lambda t: f"{t} · {state.chat_format_name(t)}")
    for i in range(ss[keys.CV_N]):
        c = st.columns([1, 5])
        c[0].selectbox(_("Role of message {n}").format(n=format_number(i + 1)), ROLES, key=keys.cv_role(i))
        c[1].text_area(_("Message {n}").format(n=format_number(i + 1)), key=keys.cv_text(i), height=68,
                       max_chars=MAX_MESSAGE_CHARS)
    b = st.columns([1, 1, 2])
    if b[0].button(_("Add a message"), key="cv_add"):
        n = ss[keys.CV_N]
        last = ss.get(keys.cv_role(n - 1), "assistant")
        ss[keys.cv_role(n)] = "assistant" if last == "user" else "user"
        ss[keys.cv_text(n)] = ""
        ss[keys.CV_N] = n + 1
        st.rerun()
    if b[1].button(_("Remove the last"), key="cv_remove", disabled=ss[keys.CV_N] <= 1):
        ss[keys.CV_N] -= 1
        st.rerun()
    gen = b[2].toggle(_("Add the generation prompt (the assistant's header after the last message)"), value=True,
                      key="cv_gen")
    messages = tuple((ss[keys.cv_role(i)], ss[keys.cv_text(i)]) for i in range(ss[keys.CV_N]))

    renders, rows, per_message = [], [], []
    for tid in chosen:
        try:
            r = state.chat_render(tid, messages, gen)
        except AnalysisError as e:
            st.warning(f"**{tid}: {_(e.title)}.** {e.translated()}")
            continue
        renders.append(r)
        rows.append({"tokenizer": tid, "template": r.template_name, "total tokens": r.total,
                     "content tokens": r.content_count, "template tokens": r.template_count})
        for m in r.per_message():
            label = f"{m.index + 1} · {m.role}" if m.index is not None else _("closing")
            per_message.append({"tokenizer": tid, "message": label, "content": m.content_tokens,
                                "template": m.template_tokens, "total": m.total})
    if not renders:
        return
    st.table(pd.DataFrame(rows).rename(columns=lambda c: _(TOTAL_HEADERS[c])), hide_index=True)
    with st.expander(_("Counts per message"), key="cv_per_message"):
        st.dataframe(pd.DataFrame(per_message), hide_index=True, key="cv_per_message_table",
                     column_config=headers(MESSAGE_HEADERS))
    st.html(f"<style>{CSS}</style>")
    grid = st.columns(2) if len(renders) > 1 else [st.container()]
    for k, r in enumerate(renders):
        with grid[k % len(grid)].container(border=True):
            st.markdown(_("**{tokenizer}** · {n} tokens ({content} content, {template} template) · {name}").format(
                tokenizer=r.tokenizer_id, n=format_number(r.total), content=format_number(r.content_count),
                template=format_number(r.template_count), name=r.template_name))
            for note in r.notes:
                st.caption(note)
            st.html(chat_html(r))
    st.caption(_("Coloured: content tokens (a token that straddles content and template counts as content). Grey, "
               "dashed: template tokens; bold: control tokens. Template tokens count with the message whose content "
               "follows them; those after the last content (end marker, generation prompt) are 'closing'. Jinja "
               "templates run sandboxed; Mistral uses mistral-common's encoders, gpt-oss the Harmony format "
               "(default system header, no date; a system message becomes developer instructions)."))
