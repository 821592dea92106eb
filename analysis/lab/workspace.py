"""One visitor's Tokenizer lab: the tokenizers they trained this session, the last comparison, and the caps.

The dashboard keeps a visitor's lab in its session state; this module holds the rules, with no Streamlit import,
so that they are tested on a plain dict. :class:`Workspace` reads and writes a few keys of any mutable mapping
(``st.session_state`` on the page): its keys and their values are the ones the app has always used, so the
Playground and the Vocabularies page find the lab's tokenizers under :data:`TOKENIZERS` (``{label: "file:PATH"}``).

Each training is one *run*: a folder ``run-N`` in the session's folder, holding one ``tokenizer.json`` per
algorithm trained (the chosen one, and standard BPE as the baseline). The last :data:`MAX_KEPT` tokenizers stay
registered; older ones are dropped, and a run's folder is deleted once none of its tokenizers is registered.

Example:
    >>> state: dict = {}
    >>> ws = Workspace(state, max_kept=2)
    >>> ws.register("lab 1: BPE", "file:/tmp/r1/bpe/tokenizer.json", Path("/tmp/none-1"))
    []
    >>> ws.register("lab 2: BPE", "file:/tmp/r2/bpe/tokenizer.json", Path("/tmp/none-2"))
    []
    >>> ws.register("lab 3: BPE", "file:/tmp/r3/bpe/tokenizer.json", Path("/tmp/none-3"))
    ['lab 1: BPE']
    >>> list(state["lab_tokenizers"])
    ['lab 2: BPE', 'lab 3: BPE']
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..progress import FractionProgress
from .compare import Comparison, compare_specs
from .data import LabData
from .trainers import ALGORITHM_NAMES, TrainSpec, train

# Caps for a hosted demo that a room of laptops may hit at once.
MAX_LANGS = 12  #: training languages per run
MAX_VOCAB = 16_000  #: vocabulary entries per tokenizer
MAX_WEIGHT = 5  #: how many times one language's training text may count
MAX_CONCURRENT = 2  #: trainings at once per server process (the others wait for a slot)
MAX_KEPT = 6  #: trained tokenizers kept per session; older ones are dropped and their files deleted
STALE_HOURS = 12  #: session folders older than this are removed when another session's folder is made
SESSION_PREFIX = "atlas-lab-session-"

# The session-state keys the workspace owns (their values are the app's; permalinks do not carry them).
TOKENIZERS = "lab_tokenizers"  #: ``{label: spec}`` of the tokenizers kept, oldest first
RUNS = "lab_runs"  #: ``[(label, run folder)]`` in the order registered
RUN_COUNT = "lab_run_count"  #: runs started this session (numbers the labels: "lab 3: ...")
FOLDER = "lab_dir"  #: this session's folder (``atlas-lab-session-*`` in the temporary directory)
LAST = "lab_last"  #: the last run's :class:`LabResult`
KEYS = (TOKENIZERS, RUNS, RUN_COUNT, FOLDER, LAST)



@dataclass(frozen=True)
class Trained:
    """One tokenizer a run trained: ``label`` names it in the app's lists, ``short`` in the comparison tables."""

    label: str
    short: str
    algorithm: str
    spec: str
    path: Path
    seconds: float
    vocab_size: int


@dataclass(frozen=True)
class LabResult:
    """What the page draws after a run: the tokenizers, their held-out comparison, and the data they came from."""

    trained: tuple[Trained, ...]
    comparison: Comparison
    description: tuple[str, dict[str, object]]  # LabData.description(): a template and its values
    langs: list[str]
    texts: dict[str, dict[str, str]]  # lang -> unit -> text, for the step-through's sample sentence
    requested: int  # the vocabulary size asked for (a trainer may stop short of it)

    @property
    def describe(self) -> str:
        """What the run was trained and compared on, in English (a page translates :attr:`description`)."""
        template, values = self.description
        return template.format(**values)

    @property
    def off_size(self) -> list[Trained]:
        """The tokenizers whose vocabulary size differs from the one asked for."""
        return [t for t in self.trained if t.vocab_size != self.requested]


def run_algorithms(algorithm: str) -> list[str]:
    """The algorithms one run trains: the chosen one, then standard BPE as the baseline (once if it is BPE).

    >>> run_algorithms("parity-bpe"), run_algorithms("bpe")
    (['parity-bpe', 'bpe'], ['bpe'])
    """
    return list(dict.fromkeys([algorithm, "bpe"]))


def run_label(n: int, spec: TrainSpec, langs: list[str]) -> str:
    """A trained tokenizer's label: the run number, the spec's name and its first four languages.

    >>> run_label(3, TrainSpec("bpe", 2000), ["eng", "fra", "hin", "arb", "tha"])
    'lab 3: BPE 2,000 (o200k) · eng+fra+hin+arb…'
    """
    return f"lab {n}: {spec.name} · " + "+".join(langs[:4]) + ("…" if len(langs) > 4 else "")


def capped_languages(chosen: object, *, cap: int = MAX_LANGS) -> list | None:
    """The first ``cap`` of a list of languages longer than the cap, or None when there is nothing to cut (the
    browser enforces the cap; a forged message may not).

    >>> capped_languages(["a", "b", "c"], cap=2), capped_languages(["a", "b"], cap=2), capped_languages(None)
    (['a', 'b'], None, None)
    """
    if isinstance(chosen, list) and len(chosen) > cap:
        return chosen[:cap]
    return None


class Workspace:
    """A visitor's lab, kept in ``state`` (the session's state: any mutable mapping).

    Args:
        state: where the workspace lives; it reads and writes the keys in :data:`KEYS` only.
        max_kept: tokenizers kept registered (older ones are dropped and their run folders deleted).
        tmp_root: where session folders are made (the system's temporary directory by default).
        stale_hours: another session's folder older than this is removed when a new one is made.
        clock: seconds since the epoch (``time.time``), for the age of old folders.
    """

    def __init__(self, state: MutableMapping[str, Any], *, max_kept: int = MAX_KEPT, tmp_root: Path | None = None,
                 stale_hours: float = STALE_HOURS, clock: Callable[[], float] = time.time) -> None:
        self.state = state
        self.max_kept = max_kept
        self.tmp_root = Path(tmp_root) if tmp_root is not None else Path(tempfile.gettempdir())
        self.stale_hours = stale_hours
        self.clock = clock

    @property
    def tokenizers(self) -> dict[str, str]:
        """The kept tokenizers, ``{label: spec}``, oldest first (the same dict the session's state holds)."""
        return self.state.setdefault(TOKENIZERS, {})

    @property
    def last(self) -> LabResult | None:
        """The last run's result, or None before the first one."""
        return self.state.get(LAST)

    def folder(self) -> Path:
        """This session's folder, made on first use (and again if it was removed); making one removes other
        sessions' folders older than ``stale_hours``."""
        folder = self.state.get(FOLDER)
        if folder is None or not Path(folder).is_dir():
            for old in self.tmp_root.glob(f"{SESSION_PREFIX}*"):
                try:
                    if self.clock() - old.stat().st_mtime > self.stale_hours * 3600:
                        shutil.rmtree(old, ignore_errors=True)
                except OSError:
                    pass  # removed meanwhile by another session
            folder = tempfile.mkdtemp(prefix=SESSION_PREFIX, dir=self.tmp_root)
            self.state[FOLDER] = folder
        return Path(folder)

    def new_run(self) -> tuple[int, Path]:
        """The next run's number (1, 2, ...) and its folder, ``<session folder>/run-N`` (not made yet)."""
        n = int(self.state.get(RUN_COUNT, 0)) + 1
        self.state[RUN_COUNT] = n
        return n, self.folder() / f"run-{n}"

    def register(self, label: str, spec: str, run_dir: Path) -> list[str]:
        """Keep a trained tokenizer under ``label`` (replacing one of that label); drop the oldest beyond
        ``max_kept``, deleting a run's folder once none of its tokenizers is kept.

        Tokenizers in the state that no run registered (put there by a test, or by an older app) count toward the
        cap but are never dropped.

        Returns:
            The labels dropped, oldest first (a replaced label is not among them).
        """
        registry = self.tokenizers
        runs: list[tuple[str, str]] = self.state.setdefault(RUNS, [])
        replaced = [d for name, d in runs if name == label]
        runs[:] = [(name, d) for name, d in runs if name != label]
        registry.pop(label, None)  # a replaced tokenizer moves to the newest place
        registry[label] = spec
        runs.append((label, str(run_dir)))
        for d in replaced:
            self._delete_if_unused(d)
        dropped = []
        while len(registry) > self.max_kept and runs:
            old_label, old_dir = runs.pop(0)
            registry.pop(old_label, None)
            dropped.append(old_label)
            self._delete_if_unused(old_dir)
        return dropped

    def _delete_if_unused(self, run_dir: str) -> None:
        if all(d != run_dir for _label, d in self.state.get(RUNS, [])):
            shutil.rmtree(run_dir, ignore_errors=True)

    def train(self, data: LabData, spec: TrainSpec, *, progress: FractionProgress | None = None) -> list[Trained]:
        """Train ``spec`` and the standard-BPE baseline of the same size on ``data`` into a new run's folder, and
        keep both (see :meth:`register`).

        Args:
            progress: called with (fraction of the whole run done, message) while training.

        Raises:
            LabError: a bad spec (checked by :func:`analysis.lab.trainers.train`).
        """
        algorithms = run_algorithms(spec.algorithm)
        n, run_dir = self.new_run()
        out = []
        for k, alg in enumerate(algorithms):
            s = TrainSpec(alg, spec.vocab_size, pre_tokenizer=spec.pre_tokenizer,  # type: ignore[arg-type]
                          byte_level=spec.byte_level, superword_transition=spec.superword_transition)

            def step(fraction: float, message: str, k: int = k) -> None:
                if progress is not None:
                    progress(min(1.0, (k + fraction) / len(algorithms)), message)

            result = train(data, s, run_dir / alg / "tokenizer.json", progress=step)
            label = run_label(n, s, data.langs)
            self.register(label, result.spec, run_dir)
            out.append(Trained(label, ALGORITHM_NAMES[alg], alg, result.spec, result.path, result.seconds,
                               result.vocab_size))
        return out

    def compare(self, trained: list[Trained], data: LabData, *, requested: int) -> LabResult:
        """Compare the run's tokenizers on the held-out units of ``data`` and keep the result as :attr:`last`."""
        comparison = compare_specs({t.short: t.spec for t in trained}, data)
        result = LabResult(tuple(trained), comparison, data.description(), data.langs,
                           {c: dict(data.texts[c]) for c in data.langs}, requested)
        self.state[LAST] = result
        return result
