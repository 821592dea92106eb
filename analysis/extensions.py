"""Extension points: packages that add their own tables to the statistics store, kept current by every build.

The builder (:mod:`analysis.store.build`) knows no extension by name. A package registers one here (by object, or
by ``"module:attribute"`` so that nothing is imported until a build runs), and every build calls each registered
extension's hooks, in this order:

1. :meth:`BuildExtension.create_tables` on the writer's private copy, before anything else (the store creates every
   table in one place, :func:`analysis.store.schema.create_store`);
2. :meth:`BuildExtension.forget_corpus` when a corpus is imported again (its old rows must go);
3. :meth:`BuildExtension.after_pair` after each (corpus x tokenizer) pair's counts are stored, and
   :meth:`BuildExtension.after_tokenizer` once every pair of a tokenizer is in, with what the counting workers
   computed besides the counts (:class:`WorkerResults`; the local engine only);
4. :meth:`BuildExtension.is_current`, asked before a build writes anything (a build with nothing to do writes
   nothing) and again at its end;
5. :meth:`BuildExtension.after_build` at the end of a build, when the extension is not current.

A build run with ``token_checks=False`` (``--no-token-checks``) runs no hook but :meth:`~BuildExtension.forget_corpus`.
The glitch-token checks (:mod:`analysis.glitch.extension`) are the one extension the library ships; the package
registers it on import (``analysis`` imports it).

Example:
    >>> class Census(BuildExtension):
    ...     name = "census"
    ...     def create_tables(self, con):
    ...         con.execute("CREATE TABLE IF NOT EXISTS census (corpus VARCHAR, tokenizer VARCHAR)")
    ...     def after_pair(self, con, corpus, tokenizer):
    ...         con.execute("INSERT INTO census VALUES (?, ?)", [corpus, tokenizer])
    >>> register("census", Census())
    >>> "census" in [e.name for e in registered()]
    True
    >>> unregister("census")
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import duckdb

    from .progress import Progress


class WorkerResults(Protocol):
    """What the local engine's counting workers computed besides the counts, per tokenizer, for extensions to reuse
    instead of encoding every unit again; an extension may ``pop`` what it has stored."""

    #: tokenizer -> corpus -> the (token id, language) counts of that pair (:class:`analysis.glitch.frequency.LangIdCounts`)
    lang_counts: dict[str, dict[str, Any]]
    #: tokenizer -> (its vocabulary checks, seconds) (:class:`analysis.glitch.checks.VocabularyScan`)
    scans: dict[str, tuple[Any, float]]


class BuildExtension:
    """The hooks a build calls (see the module's docstring for their order); each does nothing unless overridden.

    Every hook gets the writer's connection (a private copy of the database, swapped in when the build succeeds),
    except :meth:`is_current`, which may get a read-only one.
    """

    #: A short name, unique among the registered extensions.
    name = "extension"

    def create_tables(self, con: duckdb.DuckDBPyConnection) -> None:
        """Create this extension's tables if they are missing (``CREATE TABLE IF NOT EXISTS``)."""

    def forget_corpus(self, con: duckdb.DuckDBPyConnection, corpus: str) -> None:
        """Drop this extension's rows of ``corpus``: it is being imported again. Its tables may be missing."""

    def after_pair(self, con: duckdb.DuckDBPyConnection, corpus: str, tokenizer: str) -> None:
        """One (corpus x tokenizer) pair's counts, ``runs`` row and premiums are stored."""

    def after_tokenizer(self, con: duckdb.DuckDBPyConnection, tokenizer: str, results: WorkerResults,
                        progress: Progress) -> None:
        """Every pair of ``tokenizer`` in this build is counted (local engine), with ``results`` from its workers."""

    def is_current(self, con: duckdb.DuckDBPyConnection, tokenizer_ids: Sequence[str]) -> bool:
        """Whether this extension's tables are up to date for these tokenizers and the corpora in the store."""
        return True

    def after_build(self, con: duckdb.DuckDBPyConnection, tokenizer_ids: Sequence[str], *, workers: int | None,
                    progress: Progress, results: WorkerResults | None) -> None:
        """Bring this extension's tables up to date (called at the end of a build when :meth:`is_current` is not);
        ``results``: what the local engine's workers computed and no :meth:`after_tokenizer` took (None: nothing)."""


_REGISTRY: dict[str, BuildExtension | str] = {}
_LOCK = threading.Lock()


def register(name: str, extension: BuildExtension | str) -> None:
    """Run ``extension`` in every build from now on (replacing one registered under the same ``name``).

    ``extension`` may be ``"module:attribute"``: the module is imported, and the attribute (an instance, or a class
    called with no arguments) taken, the first time a build asks for the registered extensions.
    """
    with _LOCK:
        _REGISTRY[name] = extension


def unregister(name: str) -> None:
    """Stop running the extension registered as ``name`` (no error if there is none)."""
    with _LOCK:
        _REGISTRY.pop(name, None)


def registered() -> list[BuildExtension]:
    """The registered extensions, in the order they were registered (loading those given by name)."""
    with _LOCK:
        for name, ext in list(_REGISTRY.items()):
            if isinstance(ext, str):
                module, _, attribute = ext.partition(":")
                loaded = getattr(importlib.import_module(module), attribute)
                _REGISTRY[name] = loaded() if isinstance(loaded, type) else loaded
        return [ext for ext in _REGISTRY.values() if isinstance(ext, BuildExtension)]
