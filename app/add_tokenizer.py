"""'Add a tokenizer': a Hugging Face repo or an uploaded file, for this visitor's session; its premiums counted in the
background. Every page that lists tokenizers calls :func:`add_tokenizer_panel` (one line) and lists
:func:`added_ids` beside its own; the checks, caps, storage and counting live in ``analysis.user_tokenizers`` and
``analysis.user_counts``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis import AnalysisError
from analysis.config import USER_TOKENIZER_MAX_BYTES, USER_TOKENIZER_MAX_VOCAB
from analysis.i18n import gettext as _
from analysis.user_counts import CORPUS, CountJob, counting_pool
from analysis.user_tokenizers import CUSTOM, PATTERNS, Added, add_hub, add_upload, format_of, is_yours, kept, resolve
from app import keys, state
from app.state import db_path


def added_ids() -> list[str]:
    """This session's added tokenizers; ones named in the page's link are restored where this server holds them."""
    ss = st.session_state
    mine: list[str] = ss.setdefault(keys.USER_TOKENIZERS, [])
    for tid in st.query_params.get("tokenizers", "").split(","):
        if not is_yours(tid) or tid in mine:
            continue
        try:
            resolve(tid)
        except AnalysisError:
            st.warning(_("The link names a tokenizer a visitor added ({id}), which this server does not hold: added "
                         "tokenizers travel in links only where the server keeps them (ATLAS_IMPORT=1). Add the "
                         "file again under 'Add a tokenizer'.").format(id=tid[:80]))
            continue
        mine.append(tid)
        _start(tid)
    return list(mine)


def _kept() -> bool:
    try:
        return kept()
    except AnalysisError:  # a malformed ATLAS_IMPORT: the Import page says so; here, nothing is kept
        return False


def linkable(tokenizer_ids: list[str]) -> list[str]:
    """The ids a permalink may carry: an added tokenizer only where this server keeps it."""
    return tokenizer_ids if _kept() else [t for t in tokenizer_ids if not is_yours(t)]


def _corpus_sha() -> str | None:
    try:
        return str(state.corpus_info(CORPUS)["sha256"])
    except AnalysisError:
        return None  # no statistics database, or no UDHR in it: the tokenizer works, without premiums


def _start(tid: str) -> CountJob | None:
    sha = _corpus_sha()
    if sha is None:
        return None
    try:
        return counting_pool().submit(tid, db_path(), corpus_sha=sha)
    except AnalysisError:
        return None


def _register(added: Added, select_key: str | None) -> None:
    ss = st.session_state
    mine = ss.setdefault(keys.USER_TOKENIZERS, [])
    if added.id not in mine:
        mine.append(added.id)
    if select_key is not None and added.id not in ss.get(select_key, []):
        ss[select_key] = [*ss.get(select_key, []), added.id]
    _start(added.id)
    ss[keys.YOURS_MESSAGE] = ("success", _("Added **{id}** ({n} tokens). Its premiums over the UDHR are being counted "
                                           "below; the page stays usable.").format(id=added.id, n=f"{added.vocab_size:,}"))


def _add_from_hub(p: str, select_key: str | None) -> None:
    ss = st.session_state
    try:
        _register(add_hub(ss.get(f"{p}_repo", ""), revision=ss.get(f"{p}_rev") or None), select_key)
    except AnalysisError as e:
        ss[keys.YOURS_MESSAGE] = ("error", f"**{_(e.title)}**\n\n{e.translated()}")


def _add_from_file(p: str, select_key: str | None) -> None:
    from analysis.user_tokenizers import pattern_for

    ss = st.session_state
    upload = ss.get(f"{p}_file")
    if upload is None:
        ss[keys.YOURS_MESSAGE] = ("error", _("Choose a tokenizer file first."))
        return
    try:
        pattern = None
        if format_of(upload.name) == "tiktoken":
            pattern = pattern_for(ss.get(f"{p}_pattern", next(iter(PATTERNS))), ss.get(f"{p}_regex"))
        _register(add_upload(upload.name, upload.getvalue(), pattern=pattern), select_key)
    except AnalysisError as e:
        ss[keys.YOURS_MESSAGE] = ("error", f"**{_(e.title)}**\n\n{e.translated()}")


def add_tokenizer_panel(*, select_key: str | None = None, prefix: str = "yours") -> None:
    """The 'Add a tokenizer' expander and the counting progress of this session's added tokenizers.

    Args:
        select_key: the page's tokenizer multiselect, which an added tokenizer joins (None: only listed).
        prefix: widget keys' prefix.
    """
    ss = st.session_state
    message = ss.pop(keys.YOURS_MESSAGE, None)
    with st.expander(_("Add a tokenizer"), expanded=message is not None, key=f"{prefix}_panel"):
        how = st.radio(_("From"), ("hub", "file"), horizontal=True, key=f"{prefix}_how",
                       format_func=lambda v: _("a Hugging Face repo") if v == "hub" else _("a file"))
        if how == "hub":
            c = st.columns([3, 2, 1], vertical_alignment="bottom")
            c[0].text_input(_("Repo id"), key=f"{prefix}_repo",  # i18n-exempt: the id's shape, not words
                            placeholder="ORG/NAME")
            c[1].text_input(_("Revision (optional)"), key=f"{prefix}_rev", placeholder=_("main, a tag or a commit"))
            c[2].button(_("Add"), key=f"{prefix}_add_hub", on_click=_add_from_hub, args=(prefix, select_key))
            st.caption(_("Its tokenizer.json (else tokenizer.model) is fetched with huggingface_hub; no repository code "
                         "is ever run. Gated repos need the server's HF_TOKEN."))
        else:
            st.file_uploader(_("tokenizer.json, SentencePiece .model or .tiktoken"), type=["json", "model", "tiktoken"],
                             key=f"{prefix}_file", max_upload_size=max(1, -(-USER_TOKENIZER_MAX_BYTES.value() // 2**20)))
            c = st.columns([2, 3, 1], vertical_alignment="bottom")
            choice = c[0].selectbox(_("Split pattern (.tiktoken only)"), [*PATTERNS, CUSTOM], key=f"{prefix}_pattern")
            if choice == CUSTOM:
                c[1].text_input(_("Custom split pattern (a regular expression)"), key=f"{prefix}_regex",
                                placeholder=r"\s+|\w+|[^\w\s]+")
            c[2].button(_("Add"), key=f"{prefix}_add_file", on_click=_add_from_file, args=(prefix, select_key))
        if message is not None:
            (st.success if message[0] == "success" else st.error)(message[1])
        st.caption(_("At most {mb} MB and {vocab} tokens. Added tokenizers belong to this session; {kept}").format(
            mb=f"{USER_TOKENIZER_MAX_BYTES.value() / 1e6:,.0f}", vocab=f"{USER_TOKENIZER_MAX_VOCAB.value():,}",
            kept=_("this server keeps them, so links carry them.") if _kept() else
            _("this server does not keep them (ATLAS_IMPORT=0), so links leave them out.")))
    if select_key is not None and not _kept() and any(is_yours(t) for t in ss.get(select_key, [])):
        st.caption(_("This page's link leaves out your added tokenizers: this server does not keep them "
                     "(ATLAS_IMPORT=0). Add the file again after opening the link."))
    _progress(prefix)


def _job_line(job: CountJob | None, tid: str) -> tuple[float, str]:
    if job is None:
        return 0.0, _("{id}: no premiums (this server's statistics database has no UDHR to count).").format(id=tid)
    if job.state == "failed":
        return 0.0, _("{id}: counting failed: {why}").format(id=tid, why=job.error)
    if job.state == "done":
        return 1.0, _("{id}: premiums ready in the Premium explorer and Vocabularies.").format(id=tid)
    where = counting_pool().position(job)
    if where is not None:
        return 0.0, _("{id}: waiting to be counted, place {n} in the queue.").format(id=tid, n=where)
    done = job.fraction()
    return done, _("{id}: counting the UDHR, {pct} done.").format(id=tid, pct=f"{done:.0%}")


def _progress(prefix: str) -> None:
    ss = st.session_state
    ids = ss.get(keys.USER_TOKENIZERS, [])
    if not ids:
        return
    jobs = {tid: _start(tid) for tid in ids}
    pending = any(j is not None and j.state in ("queued", "running") for j in jobs.values())

    @st.fragment(run_every=1.0 if pending else None)
    def show() -> None:
        done_before = ss.setdefault(keys.YOURS_DONE, set())
        finished = False
        for tid in ids:
            job = jobs[tid]
            value, text = _job_line(job, tid)
            st.progress(value, text=text)
            if job is not None and job.state == "done" and tid not in done_before:
                done_before.add(tid)
                finished = pending
        if finished:
            st.rerun()  # the whole page, so that its lists take the newly counted tokenizer

    show()


def counted_ids() -> list[str]:
    """This session's added tokenizers whose premiums are ready (counted over the store's UDHR)."""
    sha = _corpus_sha()
    if sha is None:
        return []
    out = []
    for tid in added_ids():
        job = _start(tid)
        if job is not None and job.state == "done":
            out.append(tid)
    return out


def premiums_with_yours(corpus: str, reference: str, tokenizers: tuple[str, ...]) -> pd.DataFrame:
    """The store's premiums of the catalogue tokenizers, and this session's added ones beside them (UDHR only)."""
    theirs = tuple(t for t in tokenizers if not is_yours(t))
    frames = [state.premiums(corpus, reference, theirs)] if theirs else []
    if corpus == CORPUS:
        for tid in tokenizers:
            job = _start(tid) if is_yours(tid) else None
            if job is not None and job.state == "done":
                frames.append(state.yours_premiums(str(job.out), tid, reference))
    if not frames:
        return pd.DataFrame(columns=["tokenizer", "lang", "name", "script", "premium", "ci_low", "ci_high", "units",
                                     "unk_flag"])
    return pd.concat(frames, ignore_index=True)

