"""Errors on a page: what a visitor sees of an exception (part of the data layer, :mod:`app.state`)."""

from __future__ import annotations

import logging

import streamlit as st

from analysis import AnalysisError
from analysis.i18n import gettext as _

# ================================================================== errors on a page


def show_error(e: Exception) -> None:
    """An AnalysisError as title + message, never a stack trace, and no path of the server (file names only)."""
    from analysis.redact import redact_message

    title = _(getattr(e, "title", None) or "Error")
    message = e.translated() if isinstance(e, AnalysisError) else str(e)  # in the interface language
    st.error(f"**{title}**\n\n{redact_message(message)}")


def show_unexpected(e: BaseException) -> None:
    """Any other exception that reached a page's boundary: what happened and what to do, with no stack trace and
    no server path; the traceback goes to the server's log for whoever runs it."""
    from analysis.redact import redact_message

    logging.getLogger("token_atlas").error("Unexpected error on a page", exc_info=e)
    if isinstance(e, AnalysisError):
        show_error(e)
        return
    what = redact_message(str(e)).split(". ")[0].strip().rstrip(".")[:300]
    if isinstance(e, RecursionError):
        what = _("the input is nested too deeply to be read")
    elif isinstance(e, MemoryError):
        what = _("the request needed more memory than this server allows (ATLAS_MEMORY_MAX; see docs/deployment.md "
                 "to raise it on your own server)")
    st.error(_("**Something went wrong: {error}**\n\n{what}. Nothing was saved. Check what you entered (a smaller "
               "input, another file), reload the page and try again; if it happens again, report it with the steps "
               "that led here.").format(error=type(e).__name__, what=what or _("no details")))
