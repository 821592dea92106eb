"""A tiny causal LM trained here, in-process, with word tokens held out of its training text (no hub, no download).

Transformers' GPT-2 (2 layers, width 64) over a 268-token word-level vocabulary, trained for 250 steps on text made
from 200 words, the verification templates' own words, and repetitions of the kind the templates ask for. 24 further
words are in the vocabulary but never in the training text (``held``), nor are the 8 ``<unusedN>`` tokens, the
default reference set. Used by tests/test_glitch_tiny_model.py and the GPU script tests/gpu/test_gpu_glitch.py.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from types import SimpleNamespace

import torch

from analysis.glitch.verify import TEMPLATES, prompt_ids

SPECIAL = ["<|endoftext|>"] + [f"<unused{i}>" for i in range(8)]
STEPS, SEQ, BATCH = 250, 128, 16


def make_tiny_gpt2(folder: Path) -> SimpleNamespace:
    """Train the model into ``folder`` (CPU, seeded: the same weights every time); ``held``: the held-out ids."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    rng = random.Random(0)
    syllables = ["ka", "lo", "mi", "ra", "tu", "ne", "so", "vi", "pe", "da", "gu", "zo", "fa", "hi", "by", "ce"]
    words = sorted({rng.choice(syllables) + rng.choice(syllables) + rng.choice(syllables) for _ in range(400)})[:224]
    rng.shuffle(words)
    held, trained = sorted(words[:24]), words[24:]
    template_words = sorted({w for t in TEMPLATES for seg in t.segments() for w in re.findall(r"\w+|[^\w\s]+", seg)})
    vocab: dict[str, int] = {}
    for w in SPECIAL + template_words + sorted(trained + held):
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<|endoftext|>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.add_special_tokens(SPECIAL)
    folder.mkdir(parents=True)
    tok.save(str(folder / "tokenizer.json"))

    def encode(text: str) -> list[int]:
        return tok.encode(text, add_special_tokens=False).ids

    def document() -> list[int]:
        r, w = rng.random(), vocab[rng.choice(trained)]
        if r >= 0.7:  # plain text
            return encode(" ".join(rng.choice(trained + template_words) for _ in range(40)))
        ids, _ = prompt_ids(TEMPLATES[0] if r < 0.4 else TEMPLATES[1], encode)
        return [w if i == -1 else i for i in ids]

    def batch() -> torch.Tensor:
        rows = []
        for _ in range(BATCH):
            seq: list[int] = []
            while len(seq) < SEQ:
                seq += document()
            rows.append(seq[:SEQ])
        return torch.tensor(rows)

    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: the same weights on any machine, and no spin-waiting on a busy one
    try:
        _train(folder, vocab, batch)
    finally:
        torch.set_num_threads(threads)
    return SimpleNamespace(folder=folder, held={vocab[w] for w in held}, vocab=vocab)


def _train(folder: Path, vocab: dict[str, int], batch) -> None:
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(vocab_size=len(vocab), n_positions=SEQ, n_embd=64, n_layer=2, n_head=4, n_inner=128,
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=0)
    model = GPT2LMHeadModel(config)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.1)
    for _ in range(STEPS):
        x = batch()
        loss = model(input_ids=x, labels=x).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.save_pretrained(folder)
