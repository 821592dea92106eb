"""Parity-aware BPE (Foroutan et al., 2025), and standard BPE on the same engine.

Standard BPE merges, at every step, the pair that is most frequent in the whole training corpus, so languages with
more text (or more bytes per character) are served first. Parity-aware BPE first finds the *currently
worst-compressed language* — the one whose training text, over the parallel units every language has, now takes
the most tokens — and merges the pair that is most frequent in that language, i.e. the merge that shortens that
language the most. The units are translations of each other, so their token counts compare directly (the paper
measures them on a parallel development set; here the parallel training units play that part, and held-out units
are kept for evaluation). When the worst language has no pair left with the minimum frequency, the next-worst
language is served.

A language weight ``w`` multiplies its measured length (a language of weight 2 is served until it takes half as
many tokens as the others) — the mixture itself cannot move Parity-aware BPE, which only compares languages' own
counts. For standard BPE the weight is the data mixture: the language's training text counts ``w`` times.

Both run on :class:`~analysis.lab.engine.MergeEngine` (incremental pair counts per language). With one language
group holding the summed frequencies, :func:`train_standard_bpe` gives exactly the merges of the Hugging Face BPE
trainer on the same words (``tests/test_lab_parity.py`` checks this on real UDHR text).

Example (hand-worked in the tests): language 0 is "ab" four times (8 symbols), language 1 "cdef" three times
(12 symbols). Standard BPE first merges the corpus's most frequent pair, (a, b) with count 4; Parity-aware BPE
serves language 1, the longer one, twice before language 0 gets (a, b):
    >>> words = WordTable.from_counts([{"ab": 4}, {"cdef": 3}], alphabet=list("abcdef"))
    >>> [pair for pair, _ in train_standard_bpe(words, vocab_size=10).merges]
    [('a', 'b'), ('c', 'd'), ('e', 'f'), ('cd', 'ef')]
    >>> r = train_parity_bpe(words, vocab_size=10); [pair for pair, _ in r.merges], r.served
    ([('c', 'd'), ('e', 'f'), ('a', 'b'), ('cd', 'ef')], [1, 1, 0, 1])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from tokenizers import Tokenizer, models

from ..progress import FractionProgress
from .engine import MergeEngine
from .tokjson import byte_alphabet, finish


@dataclass
class WordTable:
    """Word types (pre-tokens) with a frequency per language, and the frequencies that lengths are measured on."""

    words: list[str]
    freqs: list[list[int]]  # [word][language]: occurrences in the language's training text, times its weight
    eval_freqs: list[list[int]]  # [word][language]: occurrences in the parallel training units (unweighted)
    alphabet: list[str]
    languages: list[str] = field(default_factory=list)

    @classmethod
    def from_counts(cls, counts: Sequence[Mapping[str, int]], *, alphabet: Sequence[str],
                    eval_counts: Sequence[Mapping[str, int]] | None = None,
                    languages: Sequence[str] | None = None) -> WordTable:
        """From one ``{word: count}`` per language (``eval_counts`` default: the same counts)."""
        ev = counts if eval_counts is None else eval_counts
        words = sorted({w for c in [*counts, *ev] for w in c})
        freqs = [[c.get(w, 0) for c in counts] for w in words]
        eval_freqs = [[c.get(w, 0) for c in ev] for w in words]
        names = list(languages) if languages is not None else [str(i) for i in range(len(counts))]
        return cls(words, freqs, eval_freqs, sorted(alphabet), names)

    @classmethod
    def from_texts(cls, train: Sequence[Sequence[str]], common: Sequence[Sequence[str]], *,
                   pre_tokenize: Callable[[str], list[str]], weights: Sequence[int] | None = None,
                   languages: Sequence[str] | None = None) -> WordTable:
        """Pre-tokenize each language's training texts (``train[l]``) and its parallel units (``common[l]``)."""

        def count(texts: Sequence[str], w: int) -> dict[str, int]:
            out: dict[str, int] = {}
            for t in texts:
                for word in pre_tokenize(t):
                    out[word] = out.get(word, 0) + w
            return out

        ws = list(weights) if weights is not None else [1] * len(train)
        return cls.from_counts([count(t, w) for t, w in zip(train, ws)], alphabet=byte_alphabet(),
                               eval_counts=[count(t, 1) for t in common], languages=languages)

    def engine(self, *, pooled: bool) -> MergeEngine:
        """A fresh engine: one group per language, or one pooled group (standard BPE)."""
        index = {s: i for i, s in enumerate(self.alphabet)}
        missing = sorted({ch for w in self.words for ch in w if ch not in index})
        if missing:
            raise ValueError(f"characters outside the alphabet: {missing[:5]}")
        seqs = [[index[ch] for ch in w] for w in self.words]
        if pooled:
            return MergeEngine(seqs, [[sum(f)] for f in self.freqs], self.alphabet,
                               eval_freqs=[[sum(f)] for f in self.eval_freqs])
        return MergeEngine(seqs, self.freqs, self.alphabet, eval_freqs=self.eval_freqs)


@dataclass
class BPEResult:
    """Learned merges in order, the vocabulary (ids in order), and for Parity-aware BPE the language served."""

    vocab: list[str]
    merges: list[tuple[tuple[str, str], int]]  # ((left, right), count in the language served / the corpus)
    served: list[int | None]  # per merge: index of the language it was chosen for (None: pooled)
    languages: list[str]
    lengths_start: list[int]
    lengths_end: list[int]
    stopped: str  # why training ended: "vocab_size" or "no pair left with the minimum frequency"

    def tokenizer(self, *, pre: str) -> Tokenizer:
        """A standard HF byte-level BPE ``Tokenizer`` holding this vocabulary and these merges."""
        vocab = {s: i for i, s in enumerate(self.vocab)}
        model = models.BPE(vocab=vocab, merges=[pair for pair, _ in self.merges])
        return finish(Tokenizer(model), pre=pre, byte_level=True)


def _check(vocab_size: int, engine: MergeEngine) -> None:
    if vocab_size <= engine.vocab_size:
        raise ValueError(f"vocab_size {vocab_size} leaves no room for merges over the {engine.vocab_size}-symbol "
                         "alphabet")


def _tick(progress: FractionProgress | None, engine: MergeEngine, start: int, vocab_size: int, label: str) -> None:
    if progress is not None and engine.vocab_size % 100 == 0:
        progress((engine.vocab_size - start) / max(1, vocab_size - start), label)


def run_standard(engine: MergeEngine, vocab_size: int, *, min_frequency: int = 0,
                 progress: FractionProgress | None = None, label: str = "BPE merges") -> list[tuple[tuple[int, int], int]]:
    """Merge the globally most frequent pair until the vocabulary has ``vocab_size`` symbols (engine ids)."""
    _check(vocab_size, engine)
    out: list[tuple[tuple[int, int], int]] = []
    start = engine.vocab_size
    floor = max(1, min_frequency)
    while engine.vocab_size < vocab_size:
        top = engine.best(0)
        if top is None or top[1] < floor:
            break
        engine.merge(top[0])
        out.append(top)
        _tick(progress, engine, start, vocab_size, label)
    return out


def train_standard_bpe(words: WordTable, *, vocab_size: int, min_frequency: int = 0,
                       progress: FractionProgress | None = None) -> BPEResult:
    """Standard BPE over the pooled word counts (the HF trainer's merges, from the same engine)."""
    engine = words.engine(pooled=True)
    start = list(engine.lengths)
    done = run_standard(engine, vocab_size, min_frequency=min_frequency, progress=progress)
    sym = engine.symbols
    return BPEResult(vocab=list(sym), merges=[((sym[a], sym[b]), n) for (a, b), n in done], served=[None] * len(done),
                     languages=words.languages, lengths_start=start, lengths_end=list(engine.lengths),
                     stopped="vocab_size" if engine.vocab_size >= vocab_size else
                     "no pair left with the minimum frequency")


def train_parity_bpe(words: WordTable, *, vocab_size: int, min_frequency: int = 0,
                     weights: Sequence[float] | None = None, progress: FractionProgress | None = None) -> BPEResult:
    """Parity-aware BPE: each merge is the most frequent pair of the language that now takes the most tokens.

    Args:
        words: per-language word counts; ``eval_freqs`` are the parallel units lengths are compared on.
        vocab_size: stop when the vocabulary (alphabet + merged tokens) has this many symbols.
        min_frequency: a pair needs at least this count in the served language (HF semantics: 0 and 1 alike).
        weights: per language, a factor on its measured length (default 1 for all).

    The worst language is the one with the largest ``weight * tokens`` over the parallel units (ties: the first
    in ``words.languages`` order); if it has no pair with the minimum frequency left, the next-worst is served.
    """
    engine = words.engine(pooled=False)
    _check(vocab_size, engine)
    n = engine.n_languages
    w = list(weights) if weights is not None else [1.0] * n
    if len(w) != n:
        raise ValueError(f"{len(w)} weights for {n} languages")
    start_lengths = list(engine.lengths)
    start = engine.vocab_size
    floor = max(1, min_frequency)
    exhausted: set[int] = set()
    merges: list[tuple[tuple[str, str], int]] = []
    served: list[int | None] = []
    while engine.vocab_size < vocab_size:
        order = sorted((g for g in range(n) if g not in exhausted), key=lambda g: (-w[g] * engine.lengths[g], g))
        choice = None
        for g in order:
            top = engine.best(g)
            if top is not None and top[1] >= floor:
                choice = (g, top)
                break
            exhausted.add(g)  # counts never rise again for a language without pairs above the floor
        if choice is None:
            break
        g, ((a, b), count) = choice
        merges.append(((engine.symbols[a], engine.symbols[b]), count))
        served.append(g)
        engine.merge((a, b))
        _tick(progress, engine, start, vocab_size, "Parity-aware BPE merges")
    return BPEResult(vocab=list(engine.symbols), merges=merges, served=served, languages=words.languages,
                     lengths_start=start_lengths, lengths_end=list(engine.lengths),
                     stopped="vocab_size" if engine.vocab_size >= vocab_size else
                     "no pair left with the minimum frequency")
