"""Extension points: packages that add their own tables to the statistics store, kept current by every build.

The builder (:mod:`analysis.store.build`) knows no extension by name. A package registers one here (by object, or
by ``"module:attribute"`` so that nothing is imported until a build runs), and every build calls each registered
extension's hooks, in this order:

1. :meth:`BuildExtension.create_tables` on the writer's private copy, before anything else (the store creates every
   table in one place, :func:`analysis.store.schema.create_store`);
2. :meth:`BuildExtension.forget_corpus` when a corpus is imported again (its old rows must go);
3. :meth:`BuildExtension.plan_workers` before the local engine's workers count (what they should compute besides
   the counts: a :class:`WorkerPlan`); :meth:`BuildExtension.after_pair` after each (corpus x tokenizer) pair's
   counts are stored; :meth:`BuildExtension.job_done` in the build's process as each of the extension's worker jobs
   returns; :meth:`BuildExtension.load_cached` for each tokenizer its plan takes from its own cache, once the
   tokenizer's pairs and jobs are done; and :meth:`BuildExtension.after_tokenizer` then, with what the counting
   workers computed besides the counts (:class:`WorkerResults`; the local engine only);
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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .errors import StoreError

if TYPE_CHECKING:
    import duckdb

    from .progress import Progress
    from .store.lang_counts import LangIdCounts


@dataclass(frozen=True)
class WorkerPlan:
    """What an extension wants the local engine's counting workers to compute besides the counts (its answer to
    :meth:`BuildExtension.plan_workers`); the results reach :meth:`BuildExtension.after_tokenizer` and
    :meth:`BuildExtension.after_build` as :class:`WorkerResults`.

    Example (the (token id, language) counts of ``o200k_base``, and ``mypkg.jobs:profile(tokenizer_id)`` run in the
    worker that holds ``o200k_base``):
        >>> plan = WorkerPlan(lang_counts=frozenset({"o200k_base"}), job="mypkg.jobs:profile", run=("o200k_base",))
        >>> plan.wants("o200k_base"), plan.wants("words")
        (True, False)
    """

    #: The tokenizers whose pairs' (token id, language) counts the workers hand back
    #: (:class:`analysis.store.lang_counts.LangIdCounts`, made from the ids they count anyway).
    lang_counts: frozenset[str] = frozenset()
    #: ``"module:function"``: ``function(tokenizer_id)`` runs in a worker process that holds that tokenizer (loaded
    #: already, or loaded for it) and returns a picklable result; it must import nothing the workers do not need.
    job: str | None = None
    #: The tokenizers to run :attr:`job` for (each once, in the worker that counts the tokenizer's first pair).
    run: tuple[str, ...] = ()
    #: The tokenizers whose result :meth:`BuildExtension.load_cached` gives instead (asked when the tokenizer's pairs
    #: are counted: the result is held no longer than that).
    cached: tuple[str, ...] = ()
    #: A line for the build's progress when the counting starts (e.g. what comes from the cache), or None.
    note: str | None = None

    def wants(self, tokenizer_id: str) -> bool:
        """Whether the workers compute anything for ``tokenizer_id`` for this plan."""
        return tokenizer_id in self.lang_counts or tokenizer_id in self.run or tokenizer_id in self.cached


class WorkerResults(Protocol):
    """What the local engine's counting workers computed besides the counts, per tokenizer, for extensions to reuse
    instead of encoding every unit again; an extension may ``pop`` what it has stored."""

    #: tokenizer -> corpus -> the (token id, language) counts of that pair, for the tokenizers some extension's plan
    #: listed (:class:`analysis.store.lang_counts.LangIdCounts`)
    lang_counts: dict[str, dict[str, LangIdCounts]]
    #: extension name -> tokenizer -> the result of that extension's worker job (or of its cache)
    jobs: dict[str, dict[str, Any]]


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

    def plan_workers(self, con: duckdb.DuckDBPyConnection | None, tokenizer_ids: Sequence[str]) -> WorkerPlan:
        """What the counting workers should compute for this extension besides the counts of ``tokenizer_ids``
        (local engine; ``con``: the writer's copy, or None). Called once per build, before the counting starts."""
        return WorkerPlan()

    def job_done(self, tokenizer: str, result: Any) -> None:
        """This extension's worker job for ``tokenizer`` returned ``result`` (in the build's process; e.g. to keep it
        in a cache). The result is then in :attr:`WorkerResults.jobs` too."""

    def load_cached(self, tokenizer: str) -> Any | None:
        """The result of this extension's worker job for ``tokenizer``, from its own cache (a tokenizer its plan
        listed as ``cached``), or None if it is not there after all (then nothing is stored for it)."""
        return None

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
                loaded = resolve(ext)
                _REGISTRY[name] = loaded() if isinstance(loaded, type) else loaded
        return [ext for ext in _REGISTRY.values() if isinstance(ext, BuildExtension)]


def resolve(reference: str) -> Any:
    """The attribute a ``"module:attribute"`` reference names (the module imported if it is not yet).

    >>> resolve("analysis.extensions:WorkerPlan") is WorkerPlan
    True
    """
    module, sep, attribute = reference.partition(":")
    if not sep or not module or not attribute:
        raise StoreError(f"{reference!r} is not a \"module:attribute\" reference: register a build extension (or "
                         "name its worker job) as \"package.module:name\".")
    return getattr(importlib.import_module(module), attribute)
