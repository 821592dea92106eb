"""Interface language: the one place interface strings are translated (issue 17).

Usage everywhere (pages, charts, error messages)::

    from analysis.i18n import gettext as _
    st.title(_("Premium explorer"))

The active language is a context variable that the app sets once per rerun (:func:`set_language`); the library
stays free of Streamlit. Until the catalogs land, every language falls back to the English msgid.
"""

from __future__ import annotations

from contextvars import ContextVar

#: The interface languages, in the picker's order (BCP 47 / gettext locale names).
LANGUAGES = ("en", "es", "fr", "hi", "ar", "zh_Hans")
DEFAULT_LANGUAGE = "en"

_current: ContextVar[str] = ContextVar("atlas_interface_language", default=DEFAULT_LANGUAGE)


def set_language(code: str) -> None:
    """Make ``code`` (one of :data:`LANGUAGES`) the language of this thread's interface strings."""
    _current.set(code if code in LANGUAGES else DEFAULT_LANGUAGE)


def current_language() -> str:
    return _current.get()


def gettext(msgid: str) -> str:
    """``msgid`` in the current interface language (English until a catalog has it)."""
    return msgid


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current interface language."""
    return singular if n == 1 else plural
