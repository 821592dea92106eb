"""Superword BPE: merges that may cross spaces (the two-stage recipe of SuperBPE, Liu et al., 2025).

Stage 1 is standard BPE inside pre-tokens (words) up to a *transition point*, a share of the merges; stage 2 takes
whole lines — the stage-1 tokens of a line, with no word boundary left between them — and continues BPE until the
vocabulary is full, so frequent multi-word strings ("of the", "everyone has the right") become single tokens.
"Explaining and Mitigating Crosslingual Tokenizer Inequities" found such superword tokenizers both compress better
and reduce premiums.

The result is one standard byte-level BPE ``tokenizer.json`` whose pre-tokenizer cuts only at newlines; its merges
are the stage-1 merges followed by the stage-2 merges, applied by rank as any BPE. (Encoding a line with ranked
merges can occasionally join bytes across a former word boundary earlier than stage 1 did; the tokenizer stays
exact — byte-level — only the segmentation may differ from training in such spots.)

Example:
    >>> from analysis.lab.tokjson import pre_tokenizer
    >>> r = train_superword_bpe([["ab ab ab"]], pre="whitespace", vocab_size=259, transition=0.34)
    >>> [pair for pair, _ in r.merges]
    [('a', 'b'), ('Ġ', 'ab'), ('ab', 'Ġab')]
"""

from __future__ import annotations

from collections.abc import Sequence

from tokenizers import Tokenizer, models

from ..progress import FractionProgress
from .engine import MergeEngine
from .parity_bpe import BPEResult, WordTable, run_standard
from .tokjson import finish, pre_tokenizer

DEFAULT_TRANSITION = 0.9  # SuperBPE's best setting for a 200k vocabulary: the last 10% of merges cross spaces
SUPERWORD_PRE = "newline"


def _lines(text: str) -> list[str]:
    """The pieces stage 2 merges over: lines, with each newline its own piece (as the final pre-tokenizer cuts)."""
    out: list[str] = []
    for k, line in enumerate(text.split("\n")):
        if k:
            out.append("\n")
        if line:
            out.append(line)
    return out


def train_superword_bpe(train: Sequence[Sequence[str]], *, pre: str, vocab_size: int,
                        transition: float = DEFAULT_TRANSITION, min_frequency: int = 0,
                        weights: Sequence[int] | None = None, languages: Sequence[str] | None = None,
                        progress: FractionProgress | None = None) -> BPEResult:
    """Two-stage BPE over ``train[l]`` (each language's training texts).

    Args:
        pre: the stage-1 pre-tokenizer (``gpt2``, ``o200k``, ``whitespace``).
        transition: share of the merges learnt inside words (stage 1); the rest may cross spaces.
        weights: per language, how many times its texts count.
    """
    if not 0 <= transition <= 1:
        raise ValueError(f"transition must be between 0 and 1, got {transition}")
    ws = list(weights) if weights is not None else [1] * len(train)
    pt = pre_tokenizer(pre, byte_level=True)
    table = WordTable.from_texts(train, train, pre_tokenize=lambda t: [w for w, _ in pt.pre_tokenize_str(t)],
                                 weights=ws, languages=languages)
    engine = table.engine(pooled=True)
    alphabet = engine.vocab_size
    stage1_size = alphabet + round(transition * (vocab_size - alphabet))
    report = (lambda f, m: progress(f * transition, m)) if progress is not None else None
    stage1 = run_standard(engine, max(stage1_size, alphabet + 1), min_frequency=min_frequency, progress=report,
                          label="superword BPE: merges inside words")
    symbols = list(engine.symbols)
    merges = [((symbols[a], symbols[b]), n) for (a, b), n in stage1]

    # Stage 2: each line as the stage-1 tokenizer segments it, with no word boundary left.
    stage1_tok = finish(Tokenizer(models.BPE(vocab={s: i for i, s in enumerate(symbols)},
                                             merges=[p for p, _ in merges])), pre=pre, byte_level=True)
    line_freq: dict[str, int] = {}
    for texts, w in zip(train, ws):
        for text in texts:
            for piece in _lines(text):
                line_freq[piece] = line_freq.get(piece, 0) + w
    pieces = list(line_freq)
    encoded = stage1_tok.encode_batch_fast(pieces, add_special_tokens=False)
    stage2 = MergeEngine([e.ids for e in encoded], [[line_freq[p]] for p in pieces], symbols)
    report2 = ((lambda f, m: progress(transition + f * (1 - transition), m)) if progress is not None else None)
    if vocab_size > stage2.vocab_size:
        done = run_standard(stage2, vocab_size, min_frequency=min_frequency, progress=report2,
                            label="superword BPE: merges across words")
        merges += [((stage2.symbols[a], stage2.symbols[b]), n) for (a, b), n in done]
    return BPEResult(vocab=list(stage2.symbols), merges=merges, served=[None] * len(merges),
                     languages=list(languages or []), lengths_start=[], lengths_end=[],
                     stopped="vocab_size" if stage2.vocab_size >= vocab_size else
                     "no pair left with the minimum frequency")
