"""The Tokenizer lab: train tokenizers on parallel text and watch the premiums move (issue 8).

Example:
    >>> from analysis.lab import TrainSpec, compare_specs, load_lab_data, train        # doctest: +SKIP
    >>> data = load_lab_data("udhr", ["eng", "hin", "tha"])                             # doctest: +SKIP
    >>> par = train(data, TrainSpec("parity-bpe", 2000), Path("/tmp/p/tokenizer.json"))  # doctest: +SKIP
    >>> bpe = train(data, TrainSpec("bpe", 2000), Path("/tmp/b/tokenizer.json"))         # doctest: +SKIP
    >>> compare_specs({"parity": par.spec, "bpe": bpe.spec}, data).reports[0].fairness  # doctest: +SKIP

Modules: :mod:`.data` (languages, train/held-out split), :mod:`.engine` (incremental pair counts),
:mod:`.parity_bpe` (Parity-aware and standard BPE), :mod:`.superword`, :mod:`.trainers` (all algorithms ->
tokenizer.json), :mod:`.compare` (held-out premiums, compression, fairness, script shares), :mod:`.steps`
(merge step-through), :mod:`.charts` (Plotly; imported by the page only), :mod:`.cli`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names

if TYPE_CHECKING:
    from .compare import Comparison, compare_specs, evaluate, format_comparison
    from .data import LabData, LabError, corpus_languages, load_lab_data
    from .steps import merge_steps
    from .trainers import ALGORITHMS, TrainResult, TrainSpec, train

__all__ = ["ALGORITHMS", "Comparison", "LabData", "LabError", "TrainResult", "TrainSpec", "compare_specs",
           "corpus_languages", "evaluate", "format_comparison", "load_lab_data", "merge_steps", "train"]

# Loaded on first use (PEP 562): every ``python -m analysis`` command builds the lab's parser (:mod:`.cli`), which
# must not import the trainers and the comparison.
_LAZY = {"Comparison": "compare", "compare_specs": "compare", "evaluate": "compare", "format_comparison": "compare",
         "LabData": "data", "LabError": "data", "corpus_languages": "data", "load_lab_data": "data",
         "merge_steps": "steps", "ALGORITHMS": "trainers", "TrainResult": "trainers", "TrainSpec": "trainers",
         "train": "trainers"}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)
