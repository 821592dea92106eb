"""One small exception hierarchy; every message says what to do next.

Each error carries a short ``title`` a page can show as a heading, and the message below it.
Backend errors are caught at the boundary and re-raised ``from`` the original.

A message a visitor can meet in the app is raised as a template marked with ``N_`` plus its named values, so
that the command line prints the English (``str(e)``, ``e.message``) while the app shows it in the interface
language (``e.translated()``, numbers written for the locale)::

    >>> from analysis.i18n import set_language
    >>> e = LabError(N_("Choose at least two languages to compare (got {codes})."), codes="hin")
    >>> e.message
    'Choose at least two languages to compare (got hin).'
    >>> set_language("fr"); e.translated()
    'Choisissez au moins deux langues à comparer (reçu : hin).'
    >>> set_language("en")

A message raised as plain text (no values) is still translated when a catalog has it.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from analysis.i18n import N_, LazyText, format_message, gettext


class AnalysisError(Exception):
    """Base class of every error Token Atlas raises on purpose.

    Args:
        message: the English message, or a template with ``{named}`` fields (marked with ``N_`` so that the
            catalogs translate it) when ``values`` are given.
        title: a heading other than the class's own (marked with ``N_`` too).
        values: the template's fields; ``message`` is then the template filled in, in English.
    """

    title = N_("Token Atlas error")

    def __init__(self, message: str, *, title: str | None = None, **values: object) -> None:
        # The English text: a value that is itself a msgid (LazyText) is written as its English msgid.
        text = message.format(**{k: str.__str__(v) if isinstance(v, LazyText) else v for k, v in values.items()}) \
            if values else message
        super().__init__(text)
        self.message = text
        self.template = message
        self.values = values
        if title is not None:
            self.title = title

    def translated(self) -> str:
        """The message in the current interface language: the template translated, its values formatted for the
        locale (the English message where a catalog has no translation, or the translation cannot be filled in)."""
        return format_message(gettext(self.template), self.values, fallback=self.message)


class UnknownTokenizerError(AnalysisError, KeyError):
    """A tokenizer id that is neither in the catalogue nor a loadable spec."""

    title = N_("Unknown tokenizer")

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class AssetError(AnalysisError):
    """A vocabulary or other asset is missing, cannot be fetched, or cannot be read."""

    title = N_("Asset problem")


class AssetIntegrityError(AssetError):
    """A file's sha256 differs from the one the catalogue records."""

    title = N_("Asset failed its sha256 check")


class InputTextError(AnalysisError, ValueError):
    """Text that cannot be tokenized as given (e.g. lone surrogates)."""

    title = N_("Text cannot be tokenized")


class CorpusFormatError(AnalysisError, ValueError):
    """A corpus file or folder that cannot be imported as given.

    ``path`` is the file (or folder) at fault and ``line`` its 1-based line number, or ``None``
    where the problem is not on one line (an empty folder, a missing file, a file over the size limit).
    """

    title = N_("Corpus cannot be imported")

    def __init__(self, message: str, *, path: Path, line: int | None = None, title: str | None = None,
                 **values: object) -> None:
        super().__init__(message, title=title, **values)
        self.path = path
        self.line = line

    def __reduce__(self) -> tuple[object, tuple[str]]:  # picklable across processes despite keyword-only fields
        return partial(type(self), path=self.path, line=self.line, title=self.title, **self.values), (self.template,)


# Every other error class of the library, defined here (and imported by the module that raises it, so that
# ``from analysis.<module> import <Error>`` keeps working): one place to see the whole hierarchy and its titles.


class SettingError(AnalysisError, ValueError):
    """An environment variable whose value cannot be read."""

    title = N_("Bad setting")


class UploadError(InputTextError):
    title = N_("File cannot be read")


class MetricInputError(AnalysisError, ValueError):
    """Counts that a metric cannot be computed from (mismatched units, empty input, zero reference)."""

    title = N_("Metric cannot be computed")


class StoreError(AnalysisError):
    """The statistics database is missing, unreadable, or from another schema version."""

    title = N_("Statistics database problem")


class GlitchError(AnalysisError):
    """Glitch-token probing cannot go on as asked (a model without embeddings, a vocabulary without ids, ...)."""

    title = N_("Glitch-token probing")


class VocabularyError(AnalysisError):
    """A tokenizer without a fixed vocabulary, or a comparison that cannot be made as asked."""

    title = N_("Vocabulary not available")


class SqlConsoleError(AnalysisError):
    """A query the console cannot run; the message says why and what to do."""

    title = N_("Query not run")


class SqlRefusedError(SqlConsoleError):
    """A statement that is not allowed here (writes, settings, files, extensions, several statements)."""

    title = N_("Not allowed in this console")


class SqlTimeoutError(SqlConsoleError):
    """The query ran past the time limit and was interrupted."""

    title = N_("Query stopped: time limit")


class PriceError(AnalysisError, ValueError):
    """Prices, a context window or a preset file that cannot be used as given."""

    title = N_("Prices cannot be used")


class UserTokenizerError(AnalysisError, ValueError):
    """A tokenizer a visitor tried to add that cannot be used; the message names what is wrong and what to do."""

    title = N_("Tokenizer cannot be added")


class TokenPageError(AnalysisError, ValueError):
    """A token page asked for with a tokenizer or id that has none."""

    title = N_("No such token")


class LabError(AnalysisError, ValueError):
    """Lab input that cannot be trained on or compared (unknown language, bad split, bad vocabulary size...)."""

    title = N_("Tokenizer lab cannot run this")


class ChatTemplateError(AnalysisError):
    """A conversation the tokenizer's chat template refuses or cannot render."""

    title = N_("Chat template failed")


class NoChatTemplateError(ChatTemplateError):
    """The tokenizer has no known chat template."""

    title = N_("No known chat template")


class PublishedTableError(AnalysisError):
    """A shipped copy of the published table is missing or differs from the file it was copied from."""

    title = N_("Published table problem")


class MethodsError(AnalysisError):
    """A documentation file the Methods page reads is missing or malformed."""

    title = N_("Methods documentation problem")


class WorkshopError(AnalysisError):
    title = N_("Workshop preset problem")
