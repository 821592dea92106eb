"""``python -m analysis glitch ...``: tokenizer checks, weight indicators, prompt verification.

    python -m analysis glitch scan --tokenizer ID [--db DB] [--category C ...] [--format csv|json]
    python -m analysis glitch refresh [--db DB] [--tokenizers ID ...] [--workers N]
    python -m analysis glitch indicators --model PATH_OR_ID [--device cpu|cuda] [--format csv|json] [--db DB]
    python -m analysis glitch verify --model PATH_OR_ID [--device cuda] [--top N] [--db DB] [--format ...]

Nothing here imports torch until a model command runs.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from .categories import CATEGORY_NAMES


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _print(df, fmt: str) -> None:
    if fmt == "csv":  # every string quoted: tokens hold carriage returns, which minimal quoting leaves bare
        df.to_csv(sys.stdout, index=False, quoting=csv.QUOTE_NONNUMERIC)
    elif fmt == "json":
        records = df.astype(object).where(df.notna(), None).to_dict(orient="records")
        print(json.dumps(records, ensure_ascii=False, indent=1, default=str))
    else:
        import pandas as pd

        with pd.option_context("display.max_rows", None, "display.width", 200):
            print(df.to_string(index=False))


def _live_scan(tokenizer: str):
    import pandas as pd

    from ..tokenizers import get_tokenizer
    from .categories import names
    from .checks import scan_vocabulary

    scan = scan_vocabulary(get_tokenizer(tokenizer))
    return pd.DataFrame({
        "id": range(len(scan)), "token": scan.display,
        "category": [";".join(names(int(f))) or "ok" for f in scan.flags.tolist()],
        "bytes_hex": [b.hex() for b in scan.token_bytes.tolist()], "script": scan.script, "flags": scan.flags,
    })


def _cmd_scan(args: argparse.Namespace) -> int:
    from ..store.schema import default_db_path, open_readonly
    from ..store.writer import has_table
    from .categories import from_names

    db = Path(args.db) if args.db else default_db_path()
    df = None
    if db.is_file() and not args.live:
        with open_readonly(db) as con:
            if has_table(con, "glitch_scans") and con.execute(
                    "SELECT count(*) FROM glitch_scans WHERE tokenizer = ? AND note IS NULL", [args.tokenizer]).fetchone()[0]:
                from .store import token_table

                df = token_table(con, args.tokenizer, categories=args.category or ())
    if df is None:
        if not args.live:
            _say(f"# {args.tokenizer} is not in the token checks of {db}: checking it now; frequency columns need a "
                 f"built store (`python -m analysis build --db {db} --tokenizers {args.tokenizer}`)")
        df = _live_scan(args.tokenizer)
        if args.category:
            bits = int(from_names(args.category))
            df = df[(df["flags"].astype(int) & bits) == bits]
    _print(df.drop(columns=["flags"]), args.format)
    return 0


def _cmd_refresh(args: argparse.Namespace) -> int:
    from ..store.schema import default_db_path
    from ..store.writer import open_writer
    from .extension import TokenChecks
    from .store import refresh_token_checks

    db = Path(args.db) if args.db else default_db_path()
    if not db.is_file():
        from ..errors import StoreError

        raise StoreError(f"No statistics database at {db}; build it with `python -m analysis build --db {db}` (which "
                         "runs the token checks too).")
    with open_writer(db, extensions=[TokenChecks()]) as con:
        ids = args.tokenizers or [r[0] for r in con.execute("SELECT tokenizer FROM tokenizers ORDER BY 1").fetchall()]
        done = refresh_token_checks(con, ids, workers=args.workers, progress=_say)
    _say(f"token checks: {len(done)} tokenizer(s) scanned into {db}")
    return 0


def _reference_ids(text: str | None) -> list[int] | None:
    if not text:
        return None
    from .categories import GlitchError

    try:
        return [int(x) for x in text.replace(",", " ").split()]
    except ValueError:
        raise GlitchError(f"--reference-ids takes token ids separated by commas, e.g. 1,2,3; got {text!r}.") from None


def _indicator_options(args: argparse.Namespace) -> dict:
    return {"reference_ids": _reference_ids(args.reference_ids), "reference_pattern": args.reference_pattern,
            "percentile": args.percentile, "embedding": args.embedding_tensor, "unembedding": args.unembedding_tensor}


def _cmd_indicators(args: argparse.Namespace) -> int:
    from .probe import run_indicators, store_indicators

    run = run_indicators(args.model, device=args.device, progress=_say, **_indicator_options(args))
    if not args.no_store:
        db = store_indicators(args.db, run)
        _say(f"stored {len(run.frame):,} rows for {run.model} in {db}")
    _print(run.frame[["id", "token", "norm", "score", "candidate", "reachable"]], args.format)
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from .probe import run_verification

    df = run_verification(args.model, db=args.db, device=args.device, top=args.top, batch_size=args.batch_size,
                          threshold=args.threshold, progress=_say, **_indicator_options(args))
    _print(df, args.format)
    return 0


def _model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="a local model folder, or hf:ORG/NAME[@REVISION]")
    p.add_argument("--device", help="cpu or cuda (default: cuda when torch sees a GPU, else cpu)")
    p.add_argument("--reference-ids", help="known-unused token ids, e.g. 1,2,3 (default: the family's own, e.g. [unusedN])")
    p.add_argument("--reference-pattern", help="regular expression for known-unused token pieces")
    p.add_argument("--percentile", type=float, default=2.0, help="candidates: score at or below this percentile (2)")
    p.add_argument("--embedding-tensor", help="name of the input-embedding tensor, if not found by name")
    p.add_argument("--unembedding-tensor", help="name of the LM-head tensor, or 'tied'")


def add_glitch_parser(sub: argparse._SubParsersAction, db_help: str = "the statistics database") -> None:
    """Add ``glitch scan|refresh|indicators|verify`` to the main parser's subcommands."""
    g = sub.add_parser("glitch", help="glitch (under-trained) tokens: tokenizer checks, weight indicators, verification")
    gsub = g.add_subparsers(dest="glitch_command", required=True)

    scan = gsub.add_parser("scan", help="one row per token id: token, category, bytes, script, corpus frequency")
    scan.add_argument("--tokenizer", "-t", required=True, help="catalogue id, file:PATH or hf:ORG/NAME[@REV]")
    scan.add_argument("--db", type=Path, help=db_help + " (frequency columns come from it)")
    scan.add_argument("--category", nargs="+", choices=CATEGORY_NAMES, help="only ids in all of these categories")
    scan.add_argument("--live", action="store_true", help="check the vocabulary now instead of reading the store")
    scan.add_argument("--format", choices=("csv", "json", "table"), default="csv")
    scan.set_defaults(func=_cmd_scan)

    ref = gsub.add_parser("refresh", help="add or update the token checks of an existing database (atomically)")
    ref.add_argument("--db", type=Path, help=db_help)
    ref.add_argument("--tokenizers", nargs="+", help="catalogue ids (default: every tokenizer the database counted)")
    ref.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    ref.set_defaults(func=_cmd_refresh)

    ind = gsub.add_parser("indicators", help="weight indicators for every token of a model (stored in the database)")
    _model_options(ind)
    ind.add_argument("--format", choices=("csv", "json", "table"), default="csv")
    ind.add_argument("--db", type=Path, help=db_help)
    ind.add_argument("--no-store", action="store_true", help="print only; do not write the database")
    ind.set_defaults(func=_cmd_indicators)

    ver = gsub.add_parser("verify", help="prompt a causal LM to repeat each candidate; resumable, stored in the database")
    _model_options(ver)
    ver.add_argument("--top", type=int, help="verify only the N lowest-scoring candidates")
    ver.add_argument("--batch-size", type=int, help="prompts per forward pass (default 64 on cuda, 8 on cpu)")
    ver.add_argument("--threshold", type=float, help="under-trained below this probability (default 0.01)")
    ver.add_argument("--format", choices=("csv", "json", "table"), default="table")
    ver.add_argument("--db", type=Path, help=db_help)
    ver.set_defaults(func=_cmd_verify)
