"""One small exception hierarchy; every message says what to do next.

Each error carries a short ``title`` a page can show as a heading, and the message below it.
Backend errors are caught at the boundary and re-raised ``from`` the original.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from analysis.i18n import N_


class AnalysisError(Exception):
    """Base class of every error Token Atlas raises on purpose."""

    title = N_("Token Atlas error")

    def __init__(self, message: str, *, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title


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

    def __init__(self, message: str, *, path: Path, line: int | None = None, title: str | None = None) -> None:
        super().__init__(message, title=title)
        self.path = path
        self.line = line

    def __reduce__(self) -> tuple[object, tuple[str]]:  # picklable across processes despite keyword-only fields
        return partial(type(self), path=self.path, line=self.line, title=self.title), (self.message,)
