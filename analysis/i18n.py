"""Interface language: the one place interface strings are translated (issue 17).

Usage everywhere (pages, charts, error messages)::

    from analysis.i18n import gettext as _
    st.title(_("Premium explorer"))
    st.caption(_("{n} tokens").format(n=format_number(1234)))

The active language is a context variable that the app sets once per rerun (:func:`set_language`); the library
stays free of Streamlit. Translations are gettext catalogs in ``analysis/locales/<lang>/LC_MESSAGES/atlas.po``,
read with Babel when first needed (and again when the file changes); a message a catalog lacks, or whose
translation is empty or fuzzy, is shown in English. ``N_`` marks a string for extraction without translating it
where it is defined (a tuple of choices translated when shown). How to add a string or a language: docs/i18n.md.

>>> set_language("fr"); gettext("Tokenizers"), language_name("hin", english="Hindi"), format_number(1234.5, decimals=2)
('Tokeniseurs', 'hindi', '1\u202f234,50')
>>> set_language("en"); gettext("Tokenizers"), language_name("hin", english="Hindi"), format_number(1234.5, decimals=2)
('Tokenizers', 'Hindi', '1,234.50')
"""

from __future__ import annotations

import copy
import gettext as _gettext_module
import re
import string
import threading
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

#: The interface languages, in the picker's order (BCP 47 / gettext locale names).
LANGUAGES = ("en", "es", "fr", "hi", "ar", "zh_Hans")
DEFAULT_LANGUAGE = "en"
#: The gettext domain: analysis/locales/<lang>/LC_MESSAGES/atlas.po.
DOMAIN = "atlas"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"

_current: ContextVar[str] = ContextVar("atlas_interface_language", default=DEFAULT_LANGUAGE)


def set_language(code: str) -> None:
    """Make ``code`` (one of :data:`LANGUAGES`) the language of this thread's interface strings."""
    _current.set(code if code in LANGUAGES else DEFAULT_LANGUAGE)


def current_language() -> str:
    return _current.get()


# ---------------------------------------------------------------- catalogs


@dataclass(frozen=True)
class _Catalog:
    messages: dict[str, str]
    plurals: dict[tuple[str, str], tuple[str, ...]]
    plural_index: Callable[[int], int]


_lock = threading.Lock()
_loaded: dict[str, tuple[tuple[int, int], _Catalog]] = {}


def catalog_path(lang: str) -> Path:
    """Where ``lang``'s catalog lives (English has none: its msgids are the English text)."""
    return LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _catalog(lang: str) -> _Catalog | None:
    """``lang``'s translations, read once per process and again after the .po file changes; None for English."""
    if lang == DEFAULT_LANGUAGE:
        return None
    path = catalog_path(lang)
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    version = (st.st_mtime_ns, st.st_size)
    with _lock:
        hit = _loaded.get(lang)
        if hit is not None and hit[0] == version:
            return hit[1]
        from babel.messages.pofile import read_po

        with path.open("rb") as f:
            cat = read_po(f, locale=lang, domain=DOMAIN)
        messages: dict[str, str] = {}
        plurals: dict[tuple[str, str], tuple[str, ...]] = {}
        for m in cat:
            if not m.id or m.fuzzy:
                continue
            if isinstance(m.id, tuple):
                forms = tuple(m.string)
                if all(forms):
                    plurals[(m.id[0], m.id[1])] = forms
            elif m.string:
                messages[m.id] = m.string
        loaded = _Catalog(messages, plurals, _gettext_module.c2py(cat.plural_expr))
        _loaded[lang] = (version, loaded)
        return loaded


def gettext(msgid: str) -> str:
    """``msgid`` in the current interface language (English where the catalog has no translation)."""
    cat = _catalog(current_language())
    return cat.messages.get(msgid, msgid) if cat else msgid


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current interface language.

    >>> ngettext("{n} token", "{n} tokens", 1), ngettext("{n} token", "{n} tokens", 3)
    ('{n} token', '{n} tokens')
    """
    cat = _catalog(current_language())
    forms = cat.plurals.get((singular, plural)) if cat else None
    if forms:
        i = cat.plural_index(n)
        return forms[i] if i < len(forms) else forms[-1]
    return singular if n == 1 else plural


def N_(msgid: str) -> str:  # the gettext convention's name, which Babel's extractor knows
    """Mark ``msgid`` for the catalogs without translating it here (translate it with ``gettext`` when shown)."""
    return msgid


class LazyText(str):
    """A msgid that is translated each time it is turned into text (``str(x)``, ``format(x)``), in the language
    current at that moment: for text fixed at import time but shown later, such as a cached function's spinner
    (``st.cache_resource(show_spinner=lazy_gettext("Loading tokenizer…"))``; Streamlit writes it with ``str()``).

    >>> t = lazy_gettext("Loading tokenizer…"); set_language("fr"); str(t)
    'Chargement du tokeniseur…'
    >>> set_language("en"); str(t)
    'Loading tokenizer…'
    """

    __slots__ = ()

    def __str__(self) -> str:
        return gettext(str.__str__(self))

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def lazy_gettext(msgid: str) -> LazyText:
    """``msgid`` as a :class:`LazyText`, translated when shown (extracted like ``_``)."""
    return LazyText(msgid)


class _LocaleFormatter(string.Formatter):
    """``str.format`` with numbers written for the interface language: ``{n:,}`` and ``{x:.1f}`` become
    :func:`format_number` (grouping, decimal sign and digits of the locale), ``{p:.0%}`` :func:`format_percent`."""

    def format_field(self, value: object, format_spec: str) -> str:
        if isinstance(value, int | float) and not isinstance(value, bool):
            m = re.fullmatch(r",?(?:\.(\d+))?([fg%]?)", format_spec)
            if m is not None:
                decimals = int(m.group(1)) if m.group(1) is not None else None
                if m.group(2) == "%":
                    return format_percent(float(value), decimals=decimals or 0)
                if decimals is None and m.group(2) == "f":
                    decimals = 6  # Python's default precision for "f"
                return format_number(value, decimals=decimals)
        return super().format_field(value, format_spec)


def format_message(template: str, values: dict[str, object], *, fallback: str | None = None) -> str:
    """``template`` (already translated) filled with ``values``, numbers written for the interface language.

    A template without values is returned as it is (its braces are text). Where a translated template names a
    field that ``values`` lacks, or is malformed, ``fallback`` (the English message) is returned instead of failing
    while an error is being shown.

    >>> set_language("fr"); format_message("{name} fait {size:.1f} Mo ; limite {limit:,} octets.",
    ...                                    {"name": "a.txt", "size": 12.25, "limit": 2000000})
    'a.txt fait 12,2 Mo ; limite 2\u202f000\u202f000 octets.'
    >>> set_language("en")
    """
    if not values:
        return template
    try:
        return _LocaleFormatter().vformat(template, (), values)
    except (KeyError, IndexError, ValueError, AttributeError):
        if fallback is None:
            raise
        return fallback


# ---------------------------------------------------------------- which language


_ZH = re.compile(r"^zh([-_].*)?$", re.IGNORECASE)


def normalize_language(tag: str | None) -> str | None:
    """The interface language a BCP 47 / POSIX tag asks for, or None if it is not one of :data:`LANGUAGES`.

    Region and script variants map to their language; any Chinese tag maps to Simplified Chinese (the one Chinese
    interface; a reader of Traditional characters reads it more easily than English).

    >>> [normalize_language(t) for t in ("fr-CA", "es_419", "zh-TW", "zh_Hans", "AR", "hin", "de", "", None)]
    ['fr', 'es', 'zh_Hans', 'zh_Hans', 'ar', None, None, None, None]
    """
    if not tag or not isinstance(tag, str):
        return None
    tag = tag.strip()
    if _ZH.match(tag):
        return "zh_Hans"
    base = re.split(r"[-_]", tag, maxsplit=1)[0].lower()
    return base if base in LANGUAGES else None


def resolve_language(url: str | None = None, browser: str | None = None) -> str:
    """The interface language: the link's ``?lang=`` if it names one, else the browser's, else English.

    >>> resolve_language("hi", "fr-FR"), resolve_language(None, "fr-FR"), resolve_language("xx", None)
    ('hi', 'fr', 'en')
    """
    return normalize_language(url) or normalize_language(browser) or DEFAULT_LANGUAGE


def _locale(lang: str | None = None):
    from babel import Locale

    return Locale.parse(lang or current_language())


def is_rtl(lang: str | None = None) -> bool:
    """True when the interface language is written right to left (Arabic)."""
    return _locale(lang).text_direction == "rtl"


def native_name(lang: str) -> str:
    """An interface language's name in itself, for the picker: ``"fr"`` -> ``"français"``."""
    return _locale(lang).get_display_name(_locale(lang)) or lang


# ---------------------------------------------------------------- names and numbers in the interface language


def language_name(code: str, *, english: str | None = None, lang: str | None = None) -> str:
    """A corpus language's name in the interface language, from CLDR where CLDR names it.

    ``code`` is the corpus's code: ISO 639-3 (``"hin"``), optionally with a script or variant after an underscore
    (``"cmn_hans"``). In English, or where CLDR has no name, ``english`` (the corpus's own name) is kept.

    >>> language_name("cmn_hans", english="Chinese, Mandarin (Simplified)", lang="es")
    'chino (simplificado)'
    >>> language_name("tzm", english="Tamazight, Central Atlas", lang="es")
    'tamazight del Atlas Central'
    >>> language_name("xyz", english="Xyz", lang="fr")
    'Xyz'
    """
    lang = lang or current_language()
    if lang == DEFAULT_LANGUAGE:
        return english or code
    from babel import Locale, UnknownLocaleError
    from babel.core import get_global

    base, _, rest = code.partition("_")
    base = base.lower()
    short = get_global("language_aliases").get(base, base)
    ui = _locale(lang)
    name = ui.languages.get(short)
    if name is None:
        return english or code
    script = rest[:4].title() if len(rest) >= 4 and rest[:4].isalpha() else None
    if script and script in ui.scripts:
        try:
            return Locale(short, script=script).get_display_name(ui) or name
        except (UnknownLocaleError, ValueError):
            return f"{name} ({ui.scripts[script]})"
    return name


def script_display_name(code: str, *, english: str | None = None, lang: str | None = None) -> str:
    """An ISO 15924 script's name in the interface language (``"Deva"`` -> ``"devanagari"`` in Spanish)."""
    lang = lang or current_language()
    if lang == DEFAULT_LANGUAGE:
        return english or code
    return _locale(lang).scripts.get(code, english or code)


def format_number(value: float | int, *, decimals: int | None = None, lang: str | None = None) -> str:
    """``value`` written for the interface language's locale (grouping, decimal sign, digits).

    ``decimals`` fixes the digits after the decimal sign; without it an int is written whole and a float with up
    to three decimals.

    >>> format_number(1234567, lang="hi"), format_number(0.5, decimals=2, lang="fr")
    ('12,34,567', '0,50')
    """
    from babel.numbers import parse_pattern

    loc = _locale(lang)
    if value != value:  # NaN
        return "—"
    pattern = parse_pattern(loc.decimal_formats[None])
    if decimals is not None:
        pattern = copy.copy(pattern)
        pattern.frac_prec = (decimals, decimals)
    return pattern.apply(value, loc)


def format_percent(value: float, *, decimals: int = 0, lang: str | None = None) -> str:
    """A share (0.25) as a percentage in the interface language's locale: ``"25%"``, ``"25 %"`` (French)."""
    from babel.numbers import parse_pattern

    loc = _locale(lang)
    pattern = copy.copy(parse_pattern(loc.percent_formats[None]))
    pattern.frac_prec = (decimals, decimals)
    return pattern.apply(value, loc)


def format_frame(frame, *, decimals: dict[str, int] | None = None, keep: tuple[str, ...] = (),
                 lang: str | None = None):
    """A copy of a pandas frame whose number columns are text written for the interface language's locale.

    For the small tables a page shows as they are (a grid sorts such a column as text: keep a number column where a
    reader sorts by it). Whole-number columns are written whole; other numbers with ``decimals[column]`` digits, or up
    to three. Missing values become "—"; text, booleans and dates are left as they are, and so are the ``keep``
    columns (e.g. one a progress bar draws).

    >>> import pandas as pd
    >>> format_frame(pd.DataFrame({"lang": ["hin"], "tokens": [1234567], "premium": [2.5]}),
    ...              decimals={"premium": 2}, lang="fr").iloc[0].tolist()
    ['hin', '1\u202f234\u202f567', '2,50']
    """
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if column in keep or not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        whole = pd.api.types.is_integer_dtype(series)
        digits = (decimals or {}).get(column)
        out[column] = [("—" if v is None or v != v else
                        format_number(int(v) if whole else float(v), decimals=None if whole else digits, lang=lang))
                       for v in series.tolist()]
    return out
