"""Train one lab tokenizer and write it as a standard ``tokenizer.json`` (plus a ``.lab.json`` description).

Algorithms:
    ``bpe``            the Hugging Face ``tokenizers`` BPE trainer
    ``superword-bpe``  two-stage BPE whose last merges may cross spaces (:mod:`.superword`)
    ``parity-bpe``     Parity-aware BPE (:mod:`.parity_bpe`), implemented here on an incremental engine
    ``unigram``        the HF Unigram (SentencePiece-style) trainer
    ``wordpiece``      the HF WordPiece trainer (``##`` continuation pieces)

Byte-level (the default) pipelines start from the 256 byte symbols and encode every text exactly; character-level
ones (``byte_level=False``; BPE, Unigram and WordPiece only) start from the characters seen in training and give
others the unknown token. Superword and Parity-aware BPE are byte-level.

Example:
    >>> data = load_lab_data("udhr", ["eng", "hin"])                                     # doctest: +SKIP
    >>> r = train(data, TrainSpec("parity-bpe", 2000), Path("/tmp/t/tokenizer.json"))    # doctest: +SKIP
    >>> analysis.get_tokenizer(r.spec).count("Everyone has the right")                     # doctest: +SKIP
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Literal

from tokenizers import Tokenizer, models, trainers

from ..fsio import atomic_write
from ..i18n import N_
from ..progress import FractionProgress
from .data import LabData, LabError
from .parity_bpe import BPEResult, WordTable, train_parity_bpe
from .superword import DEFAULT_TRANSITION, SUPERWORD_PRE, train_superword_bpe
from .tokjson import (
    PRE_TOKENIZERS,
    UNK,
    WORDPIECE_PREFIX,
    WORDPIECE_UNK,
    byte_alphabet,
    finish,
    pre_tokenizer,
    sidecar_path,
)

Algorithm = Literal["bpe", "superword-bpe", "parity-bpe", "unigram", "wordpiece"]
ALGORITHMS: tuple[Algorithm, ...] = ("bpe", "superword-bpe", "parity-bpe", "unigram", "wordpiece")
ALGORITHM_NAMES = {"bpe": "BPE", "superword-bpe": "Superword BPE", "parity-bpe": "Parity-aware BPE",
                   "unigram": "Unigram", "wordpiece": "WordPiece"}
BYTE_LEVEL_ONLY = ("superword-bpe", "parity-bpe")
MIN_VOCAB_SIZE = 300
MAX_VOCAB_SIZE = 262_144
FORMAT = "token-atlas-lab/1"


@dataclass(frozen=True)
class TrainSpec:
    """What to train: algorithm, vocabulary size (alphabet and special tokens included) and pipeline options."""

    algorithm: Algorithm
    vocab_size: int
    pre_tokenizer: str = "o200k"
    byte_level: bool = True
    min_frequency: int = 0  # as the HF trainers: a merge needs a pair seen at least this often (0 and 1 alike)
    superword_transition: float = DEFAULT_TRANSITION

    def check(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise LabError(N_("Unknown algorithm {algorithm!r}; choose one of: {choices}."),
                           algorithm=self.algorithm, choices=", ".join(ALGORITHMS))
        if isinstance(self.vocab_size, bool) or not isinstance(self.vocab_size, int) or not (
                MIN_VOCAB_SIZE <= self.vocab_size <= MAX_VOCAB_SIZE):
            raise LabError(N_("The vocabulary size must be a whole number from {least:,} to {most:,} (it includes "
                              "the 256 byte symbols); got {size!r}."),
                           least=MIN_VOCAB_SIZE, most=MAX_VOCAB_SIZE, size=self.vocab_size)
        if self.pre_tokenizer not in PRE_TOKENIZERS:
            raise LabError(N_("Unknown pre-tokenizer {pre!r}; choose one of: {choices}."), pre=self.pre_tokenizer,
                           choices=", ".join(PRE_TOKENIZERS))
        if not self.byte_level and self.algorithm in BYTE_LEVEL_ONLY:
            raise LabError(N_("{algorithm} is byte-level only here; drop the character-level option or choose bpe, "
                              "unigram or wordpiece."), algorithm=ALGORITHM_NAMES[self.algorithm])
        if not 0 <= self.min_frequency <= 1000:
            raise LabError(N_("min_frequency must be from 0 to 1000, got {n}."), n=self.min_frequency)
        if not 0 <= self.superword_transition <= 1:
            raise LabError(N_("The superword transition is a share of the merges (0 to 1), got {share}."),
                           share=self.superword_transition)

    @property
    def name(self) -> str:
        level = "" if self.byte_level else ", characters"
        return f"{ALGORITHM_NAMES[self.algorithm]} {self.vocab_size:,} ({self.pre_tokenizer}{level})"


@dataclass
class TrainResult:
    """A trained, written tokenizer: ``spec`` is what :func:`analysis.get_tokenizer` loads."""

    path: Path
    train_spec: TrainSpec
    vocab_size: int
    seconds: float
    stopped: str
    served: list[str | None] = field(default_factory=list)  # Parity-aware BPE: the language each merge served
    lengths_start: dict[str, int] = field(default_factory=dict)
    lengths_end: dict[str, int] = field(default_factory=dict)

    @property
    def spec(self) -> str:
        return f"file:{self.path.resolve()}"


def _weighted_texts(data: LabData) -> list[str]:
    return [t for lang in data.langs for _ in range(data.weights[lang]) for t in data.train_texts(lang)]


def _hf_train(data: LabData, spec: TrainSpec) -> tuple[Tokenizer, str]:
    alphabet = byte_alphabet() if spec.byte_level else []
    wordpiece = spec.algorithm == "wordpiece"
    if spec.algorithm == "bpe":
        model = models.BPE() if spec.byte_level else models.BPE(unk_token=UNK)
        trainer = trainers.BpeTrainer(vocab_size=spec.vocab_size, min_frequency=spec.min_frequency, show_progress=False,
                                      initial_alphabet=alphabet, special_tokens=[] if spec.byte_level else [UNK])
    elif spec.algorithm == "unigram":
        model = models.Unigram()
        trainer = trainers.UnigramTrainer(vocab_size=spec.vocab_size, show_progress=False, initial_alphabet=alphabet,
                                          special_tokens=[UNK], unk_token=UNK)
    else:
        model = models.WordPiece(unk_token=WORDPIECE_UNK, continuing_subword_prefix=WORDPIECE_PREFIX)
        trainer = trainers.WordPieceTrainer(vocab_size=spec.vocab_size, min_frequency=spec.min_frequency,
                                            show_progress=False, initial_alphabet=alphabet,
                                            special_tokens=[WORDPIECE_UNK], continuing_subword_prefix=WORDPIECE_PREFIX)
    tok = finish(Tokenizer(model), pre=spec.pre_tokenizer, byte_level=spec.byte_level, wordpiece=wordpiece)
    tok.train_from_iterator(_weighted_texts(data), trainer)
    if wordpiece and spec.byte_level:
        tok = _complete_wordpiece(tok, data, spec)
    short = "the trainer found nothing more to add" if spec.algorithm == "unigram" else \
        "no pair left with the minimum frequency"
    return tok, "vocab_size" if tok.get_vocab_size() >= spec.vocab_size else short


def _complete_wordpiece(tok: Tokenizer, data: LabData, spec: TrainSpec) -> Tokenizer:
    """Byte-level WordPiece that never needs [UNK]: every byte as a word-initial and as a ``##`` piece.

    WordPiece turns a whole word into [UNK] when one piece is missing, and its trainer adds ``##x`` only for bytes
    seen inside words. The missing ``##x`` are added, after training with that many fewer entries so that the
    total stays the requested size (which bytes are missing does not depend on the size), and the length limit
    on words (100 characters by default) is lifted.
    """
    have = tok.get_vocab()
    missing = [WORDPIECE_PREFIX + c for c in byte_alphabet() if WORDPIECE_PREFIX + c not in have]
    if missing:
        trainer = trainers.WordPieceTrainer(vocab_size=spec.vocab_size - len(missing), min_frequency=spec.min_frequency,
                                            show_progress=False, initial_alphabet=byte_alphabet(),
                                            special_tokens=[WORDPIECE_UNK], continuing_subword_prefix=WORDPIECE_PREFIX)
        tok.train_from_iterator(_weighted_texts(data), trainer)
    vocab = tok.get_vocab()
    for piece in missing:
        if piece not in vocab:
            vocab[piece] = len(vocab)
    model = models.WordPiece(vocab=vocab, unk_token=WORDPIECE_UNK, continuing_subword_prefix=WORDPIECE_PREFIX,
                             max_input_chars_per_word=1_000_000)
    out = finish(Tokenizer(model), pre=spec.pre_tokenizer, byte_level=True, wordpiece=True)
    out.add_special_tokens([WORDPIECE_UNK])
    return out


def _parity(data: LabData, spec: TrainSpec, progress: FractionProgress | None) -> BPEResult:
    common = data.common_train_units
    if not common:
        raise LabError(N_("No training unit is shared by every chosen language, so Parity-aware BPE has no parallel "
                          "text to compare their token counts on. Choose languages with more units in common, or a "
                          "smaller held-out share."))
    pt = pre_tokenizer(spec.pre_tokenizer, byte_level=True)
    langs = data.langs
    words = WordTable.from_texts([data.train_texts(lang) for lang in langs],
                                 [[data.texts[lang][u] for u in common] for lang in langs],
                                 pre_tokenize=lambda t: [w for w, _ in pt.pre_tokenize_str(t)], languages=langs)
    return train_parity_bpe(words, vocab_size=spec.vocab_size, min_frequency=spec.min_frequency,
                            weights=[data.weights[lang] for lang in langs], progress=progress)


def train(data: LabData, spec: TrainSpec, out: Path, *, progress: FractionProgress | None = None) -> TrainResult:
    """Train ``spec`` on the training units of ``data`` and write ``out`` (a ``tokenizer.json``) atomically.

    Beside it, ``<stem>.lab.json`` records the algorithm, options, languages, weights, split and seed, the time
    taken, and for Parity-aware BPE the language each merge served.

    Args:
        progress: called with (fraction done, message) while training.

    Raises:
        LabError: a bad spec (the message says which value and the allowed range).
    """
    spec.check()
    out = Path(out)
    if out.suffix != ".json":
        raise LabError(f"The output must be a .json file (e.g. tokenizer.json); got {out}.")
    if progress is not None:
        progress(0.0, f"training {spec.name}")
    t0 = time.perf_counter()
    served: list[str | None] = []
    lengths: tuple[dict[str, int], dict[str, int]] = ({}, {})
    langs = data.langs
    if spec.algorithm == "parity-bpe":
        result = _parity(data, spec, progress)
        tok, stopped = result.tokenizer(pre=spec.pre_tokenizer), result.stopped
        served = [langs[g] if g is not None else None for g in result.served]
        lengths = (dict(zip(langs, result.lengths_start)), dict(zip(langs, result.lengths_end)))
    elif spec.algorithm == "superword-bpe":
        result = train_superword_bpe([data.train_texts(lang) for lang in langs], pre=spec.pre_tokenizer,
                                     vocab_size=spec.vocab_size, transition=spec.superword_transition,
                                     min_frequency=spec.min_frequency, weights=[data.weights[x] for x in langs],
                                     languages=langs, progress=progress)
        tok, stopped = result.tokenizer(pre=SUPERWORD_PRE), result.stopped
    else:
        tok, stopped = _hf_train(data, spec)
    seconds = time.perf_counter() - t0
    res = TrainResult(out, spec, tok.get_vocab_size(), seconds, stopped, served, *lengths)
    meta = {"format": FORMAT, "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "tokenizers": metadata.version("tokenizers"), "spec": asdict(spec), "name": spec.name,
            "vocab_size": res.vocab_size, "seconds": round(seconds, 3), "stopped": stopped, "data": data.to_json(),
            "served": served, "lengths_start": res.lengths_start, "lengths_end": res.lengths_end}
    atomic_write(sidecar_path(out), json.dumps(meta, ensure_ascii=False))
    atomic_write(out, tok.to_str())
    if progress is not None:
        progress(1.0, f"trained {spec.name} in {seconds:.1f} s")
    return res
