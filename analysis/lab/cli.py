"""``python -m analysis lab ...``: train lab tokenizers and compare them on held-out units.

    python -m analysis lab train --corpus udhr --langs eng,hin,tha --algorithm parity-bpe --vocab-size 4000 --out t.json
    python -m analysis lab compare --corpus udhr --langs eng,hin,tha --algorithm parity-bpe --vocab-size 4000
    python -m analysis lab steps --tokenizer file:t.json --text "Everyone has the right" [--limit 30]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from .data import DEFAULT_CORPUS, DEFAULT_HELD_OUT, DEFAULT_SEED, LabError


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _weights(text: str | None) -> dict[str, int]:
    """``"eng=2,hin=3"`` -> ``{"eng": 2, "hin": 3}``.

    >>> _weights("eng=2, hin=3")
    {'eng': 2, 'hin': 3}
    """
    out: dict[str, int] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        code, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[code.strip()] = int(value)
        except ValueError:
            raise LabError(f"Weights look like eng=2,hin=3 (whole numbers); cannot read {item.strip()!r}.") from None
    return out


def _data(args: argparse.Namespace):
    from .data import load_lab_data

    return load_lab_data(args.corpus, args.langs.split(","), held_out=args.held_out, seed=args.seed,
                         weights=_weights(args.weights), db=args.db)


def _spec(args: argparse.Namespace, algorithm: str):
    from .trainers import TrainSpec

    return TrainSpec(algorithm, args.vocab_size, pre_tokenizer=args.pre_tokenizer, byte_level=not args.char_level,
                     min_frequency=args.min_frequency, superword_transition=args.transition)


def _progress(fraction: float, message: str) -> None:
    _say(f"[{fraction:4.0%}] {message}")


def _cmd_train(args: argparse.Namespace) -> int:
    from .trainers import train

    data = _data(args)
    _say(data.describe())
    result = train(data, _spec(args, args.algorithm), Path(args.out), progress=_progress)
    _say(f"wrote {result.path} ({result.vocab_size:,} entries, {result.seconds:.2f} s; stopped: {result.stopped}); "
         f"load it as {result.spec}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from .compare import compare_specs, format_comparison
    from .trainers import train

    data = _data(args)
    _say(data.describe())
    algorithms = list(dict.fromkeys([args.algorithm, "bpe"]))
    with tempfile.TemporaryDirectory(prefix="atlas-lab-") as tmp:
        folder = Path(args.out_dir) if args.out_dir else Path(tmp)
        specs = {}
        for alg in algorithms:
            result = train(data, _spec(args, alg), folder / alg / "tokenizer.json")
            _say(f"trained {result.train_spec.name} in {result.seconds:.2f} s")
            specs[alg] = result.spec
        for extra in args.tokenizer or []:
            specs[extra] = extra
        cmp = compare_specs(specs, data, reference=args.reference)
        if args.format == "json":
            from dataclasses import asdict

            print(json.dumps(asdict(cmp), ensure_ascii=False, indent=1, default=str))
        else:
            print(format_comparison(cmp))
    return 0


def _cmd_steps(args: argparse.Namespace) -> int:
    from .steps import initial_tokens, merge_steps

    print(f"start: {len(initial_tokens(args.tokenizer, args.text))} byte tokens")
    for s in merge_steps(args.tokenizer, args.text, limit=args.limit, only_changes=not args.all):
        served = f" [{s.served}]" if s.served else ""
        print(f"{s.rank:>6}{served} {s.merge!r}: {s.n_tokens} tokens | {' | '.join(s.tokens)}")
    return 0


def _data_args(p: argparse.ArgumentParser) -> None:
    from .tokjson import PRE_TOKENIZERS
    from .trainers import ALGORITHMS

    p.add_argument("--corpus", default=DEFAULT_CORPUS, help="udhr (default) or a corpus imported into the store")
    p.add_argument("--langs", required=True, help="comma-separated language codes, e.g. eng,fra,hin,arb,cmn_hans")
    p.add_argument("--algorithm", choices=ALGORITHMS, default="parity-bpe")
    p.add_argument("--vocab-size", type=int, required=True, help="entries including the 256 byte symbols")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the train/held-out split (default 0)")
    p.add_argument("--held-out", type=float, default=DEFAULT_HELD_OUT,
                   help="share of the parallel units kept for evaluation (default 0.25)")
    p.add_argument("--weights", help="e.g. hin=2,tha=3: a language's training text counts that many times")
    p.add_argument("--pre-tokenizer", choices=PRE_TOKENIZERS, default="o200k")
    p.add_argument("--char-level", action="store_true", help="characters instead of bytes (bpe, unigram, wordpiece)")
    p.add_argument("--min-frequency", type=int, default=0, help="minimum count of a merged pair (default 0)")
    p.add_argument("--transition", type=float, default=0.9,
                   help="superword-bpe: share of merges learnt inside words before merges may cross spaces")
    p.add_argument("--db", type=Path, help="statistics database for imported corpora (default: $ATLAS_DB)")


def add_lab_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``lab train``, ``lab compare`` and ``lab steps`` under the main parser's subcommands."""
    lab = sub.add_parser("lab", help="train tokenizers on parallel text and compare their premiums")
    lsub = lab.add_subparsers(dest="lab_command", required=True)

    tr = lsub.add_parser("train", help="train one tokenizer and write its tokenizer.json")
    _data_args(tr)
    tr.add_argument("--out", required=True, help="path of the tokenizer.json to write (a .lab.json goes beside it)")
    tr.set_defaults(func=_cmd_train)

    cp = lsub.add_parser("compare", help="train --algorithm and a standard BPE of the same size; print held-out "
                                         "premiums, compression, fairness and script shares side by side")
    _data_args(cp)
    cp.add_argument("--reference", help="reference language of the premiums (default: eng if chosen, else the first)")
    cp.add_argument("--tokenizer", action="append", help="also evaluate this tokenizer (catalogue id or file:PATH)")
    cp.add_argument("--out-dir", help="keep the trained files here (default: a temporary folder)")
    cp.add_argument("--format", choices=("table", "json"), default="table")
    cp.set_defaults(func=_cmd_compare)

    st = lsub.add_parser("steps", help="replay the first merges of a BPE tokenizer.json on one sentence")
    st.add_argument("--tokenizer", required=True, help="file:PATH of a BPE tokenizer.json")
    st.add_argument("--text", required=True)
    st.add_argument("--limit", type=int, default=30)
    st.add_argument("--all", action="store_true", help="list every merge, not only those that change the text")
    st.set_defaults(func=_cmd_steps)
