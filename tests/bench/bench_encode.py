"""Benchmark: the encoding interface vs the bare backend libraries, on one multilingual text.

Per tokenizer, in one run and on the same input:
  * counting: ``tok.count(text)`` vs the backend's own count call (target ratio <= 1.10);
  * full encode: ``tok.encode(text)`` (ids + spans + bytes + kinds) vs the backend's bare ids (target <= 2.0).
Then, in a fresh interpreter: cold-load time of every catalogue tokenizer and resident memory.

Usage:
    python tests/bench/bench_encode.py [--tokenizers o200k_base,llama3] [--repeat 3] [--json out.json] [--quick]

Timings are medians of ``--repeat`` runs, ours and bare alternating. Nothing here asserts a time;
the run fails (exit 1) only if the interface's count differs from the backend's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from analysis import Tokenizer, get_tokenizer, load_catalogue  # noqa: E402
from analysis.config import cache_dir  # noqa: E402
from tests.bench.corpus import udhr_text  # noqa: E402

COUNT_TARGET, ENCODE_TARGET = 1.10, 2.0
SAMPLE = "Hello, world! Привет, мир! 你好，世界！ नमस्ते दुनिया 👩‍👩‍👧 <|endoftext|>"
Call = Callable[[str], Any]


def bare_calls(tok: Tokenizer) -> tuple[Call, Call]:
    """(count, ids) calls straight on the backend library, with the interface's policy (no BOS/EOS)."""
    if tok.backend == "tiktoken":
        enc = tok.encoding  # type: ignore[attr-defined]
        return (lambda t: len(enc.encode_ordinary(t))), enc.encode_ordinary
    if tok.backend == "hf":
        hf = tok.hf  # type: ignore[attr-defined]
        return (lambda t: len(hf.encode_batch_fast([t], add_special_tokens=False)[0].ids),
                lambda t: hf.encode(t, add_special_tokens=False).ids)
    if tok.backend == "mistral":
        raw = tok.raw  # type: ignore[attr-defined]
        return (lambda t: len(raw.encode(t, bos=False, eos=False))), (lambda t: raw.encode(t, bos=False, eos=False))
    if tok.backend == "sentencepiece":
        sp = tok.sp  # type: ignore[attr-defined]
        return (lambda t: len(sp.encode(t))), sp.encode
    if tok.backend == "ai21":  # the package's own encoder (ai21-tokenizer 1.0.0, requirements-dev.txt)
        from tests.reference_encoders import ai21_jurassic

        j2 = ai21_jurassic()
        return (lambda t: len(j2.encode(t))), j2.encode
    # Baselines have no library: the bare call is the plain Python builtin.
    return {
        "utf8-bytes": ((lambda t: len(t.encode())), (lambda t: list(t.encode()))),
        "codepoints": (len, (lambda t: list(map(ord, t)))),
        "words": ((lambda t: len(t.split())), str.split),
    }[tok.id]


def timed_pair(ours: Call, bare: Call, text: str, repeat: int) -> tuple[dict[str, float], Any, Any]:
    """Median wall (perf_counter) and CPU (process_time) seconds of ``ours(text)`` and ``bare(text)``,
    alternating which goes first, and their last results. CPU time is kept because a busy machine
    inflates wall time in bursts; it is reported in the JSON next to the wall-time figures."""
    wall: dict[str, list[float]] = {"ours": [], "bare": []}
    cpu: dict[str, list[float]] = {"ours": [], "bare": []}
    result: dict[str, Any] = {"ours": None, "bare": None}
    calls = {"ours": ours, "bare": bare}
    for r in range(repeat):
        for which in ("ours", "bare") if r % 2 == 0 else ("bare", "ours"):
            result[which] = None  # free the previous result outside the timed region
            c0, t0 = time.process_time(), time.perf_counter()
            result[which] = calls[which](text)
            wall[which].append(time.perf_counter() - t0)
            cpu[which].append(time.process_time() - c0)
    med = {f"{k}_{w}": statistics.median(v[w]) for k, v in (("wall", wall), ("cpu", cpu)) for w in ("ours", "bare")}
    return med, result["ours"], result["bare"]


def bench_tokenizer(tok: Tokenizer, text: str, repeat: int) -> dict[str, Any]:
    bare_count, bare_ids = bare_calls(tok)
    tok.encode(SAMPLE)  # build lazy byte tables outside the timed runs
    c, ours_n, bare_n = timed_pair(tok.count, bare_count, text, repeat)
    e, enc, ids = timed_pair(tok.encode, bare_ids, text, repeat)
    ids_equal = None if tok.backend == "baseline" else enc.ids == list(ids)
    return {
        "id": tok.id, "backend": tok.backend, "tokens": bare_n, "ours_count": ours_n, "encode_count": len(enc),
        "counts_equal": ours_n == bare_n == len(enc), "ids_equal": ids_equal,
        "bare_count_s": c["wall_bare"], "ours_count_s": c["wall_ours"], "count_ratio": c["wall_ours"] / c["wall_bare"],
        "bare_ids_s": e["wall_bare"], "full_encode_s": e["wall_ours"], "encode_ratio": e["wall_ours"] / e["wall_bare"],
        "cpu": {"bare_count_s": c["cpu_bare"], "ours_count_s": c["cpu_ours"], "bare_ids_s": e["cpu_bare"],
                "full_encode_s": e["cpu_ours"], "count_ratio": c["cpu_ours"] / max(c["cpu_bare"], 1e-9),
                "encode_ratio": e["cpu_ours"] / max(e["cpu_bare"], 1e-9)},
    }


def _flag(ratio: float, target: float, baseline: bool) -> str:
    return f"{ratio:.2f}" + ("" if baseline or ratio <= target else " ⚠")


def print_table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    print("| tokenizer | tokens | bare count s | ours count s | ratio | bare ids s | full encode s | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        base = r["backend"] == "baseline"
        name = r["id"] + (" (baseline)" if base else "")
        print(f"| {name} | {r['tokens']:,} | {r['bare_count_s']:.4f} | {r['ours_count_s']:.4f} | "
              f"{_flag(r['count_ratio'], COUNT_TARGET, base)} | {r['bare_ids_s']:.4f} | {r['full_encode_s']:.4f} | "
              f"{_flag(r['encode_ratio'], ENCODE_TARGET, base)} |")
    totals: dict[str, Any] = {}
    for label, sel in (("library backends", [r for r in rows if r["backend"] != "baseline"]), ("all", rows)):
        if not sel:
            continue
        keys = ("tokens", "bare_count_s", "ours_count_s", "bare_ids_s", "full_encode_s")
        t = {k: sum(r[k] for r in sel) for k in keys}
        t["count_ratio"] = t["ours_count_s"] / t["bare_count_s"]
        t["encode_ratio"] = t["full_encode_s"] / t["bare_ids_s"]
        totals[label] = t
        print(f"| **total, {label} ({len(sel)})** | {t['tokens']:,} | {t['bare_count_s']:.3f} | "
              f"{t['ours_count_s']:.3f} | {t['count_ratio']:.2f} | {t['bare_ids_s']:.3f} | "
              f"{t['full_encode_s']:.3f} | {t['encode_ratio']:.2f} |")
    print(f"\nTargets: count ratio <= {COUNT_TARGET}, full-encode ratio <= {ENCODE_TARGET} (⚠ = missed). "
          "Baselines have no backend library; their bare call is a plain builtin, so their ratios are shown "
          "but not held to a target.")
    return totals


# Runs in a fresh interpreter; prints one JSON object.
COLD_LOAD = r"""
import json, resource, sys, time
def status(key):  # /proc/self/status field in MiB: VmRSS now, VmHWM this process's peak
    with open("/proc/self/status") as f:
        return int(next(l for l in f if l.startswith(key + ":")).split()[1]) / 1024
def rss():
    return status("VmRSS")
def mem():  # ru_maxrss (KiB on Linux) survives exec, so it is only this process's own peak if the parent was smaller
    return {"rss_mib": rss(), "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "hwm_mib": status("VmHWM")}
t0 = time.perf_counter()
from analysis import get_tokenizer, load_catalogue
out = {"import_s": time.perf_counter() - t0, "rss_after_import_mib": rss(), "tokenizers": {}}
ids = load_catalogue().ids
t_all = time.perf_counter()
for tid in ids:
    m, t = rss(), time.perf_counter()
    get_tokenizer(tid)
    out["tokenizers"][tid] = {"load_s": time.perf_counter() - t, "load_rss_mib": rss() - m}
out["load_total_s"] = time.perf_counter() - t_all
out["loaded"] = mem()
t_all = time.perf_counter()
for tid in ids:
    m, t = rss(), time.perf_counter()
    get_tokenizer(tid).encode(sys.argv[1])
    out["tokenizers"][tid].update(first_encode_s=time.perf_counter() - t, first_encode_rss_mib=rss() - m)
out["first_encode_total_s"] = time.perf_counter() - t_all
out["after_first_encode"] = mem()
print(json.dumps(out))
"""


def cold_load() -> dict[str, Any]:
    """Run COLD_LOAD in a fresh interpreter. Call it while this process is still small: Linux carries
    the parent's peak RSS into the child's ru_maxrss (VmHWM is the child's own)."""
    proc = subprocess.run([sys.executable, "-c", COLD_LOAD, SAMPLE], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"cold-load subprocess failed:\n{proc.stderr}")
    res: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return res


def print_cold_load(res: dict[str, Any]) -> None:
    print("| tokenizer | cold load s | RSS +MiB | first encode s | RSS +MiB |")
    print("|---|---:|---:|---:|---:|")
    for tid, r in res["tokenizers"].items():
        print(f"| {tid} | {r['load_s']:.3f} | {r['load_rss_mib']:.0f} | {r['first_encode_s']:.3f} | "
              f"{r['first_encode_rss_mib']:.0f} |")
    print(f"| **total ({len(res['tokenizers'])})** | {res['load_total_s']:.2f} | | "
          f"{res['first_encode_total_s']:.2f} | |")
    print(f"\n`import analysis`: {res['import_s']:.2f} s, RSS {res['rss_after_import_mib']:.0f} MiB. "
          f"All loaded: RSS {res['loaded']['rss_mib']:.0f} MiB (peak: ru_maxrss {res['loaded']['peak_rss_mib']:.0f} "
          f"MiB, VmHWM {res['loaded']['hwm_mib']:.0f} MiB). After one small encode each (lazy byte tables built): "
          f"RSS {res['after_first_encode']['rss_mib']:.0f} MiB (peak: ru_maxrss "
          f"{res['after_first_encode']['peak_rss_mib']:.0f} MiB, VmHWM {res['after_first_encode']['hwm_mib']:.0f} MiB)."
          " Vocabulary files were likely in the OS page cache.")


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    except OSError:
        pass
    libs = {p: version(p) for p in ("tiktoken", "tokenizers", "sentencepiece", "mistral-common", "numpy")}
    return {"cpus": os.cpu_count(), "cpu": cpu, "loadavg": loadavg(),
            "python": platform.python_version(), "libraries": libs}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokenizers", help="comma-separated ids (default: the whole catalogue)")
    ap.add_argument("--repeat", type=int, default=None, help="runs per measurement (default 3; 1 with --quick)")
    ap.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    ap.add_argument("--quick", action="store_true", help="smoke run: 1 MB of text, one run each")
    args = ap.parse_args()
    repeat = args.repeat or (1 if args.quick else 3)
    ids = args.tokenizers.split(",") if args.tokenizers else load_catalogue().ids

    m = machine()
    libs = ", ".join(f"{k} {v}" for k, v in m["libraries"].items())
    print(f"Machine: {m['cpus']} cores ({m['cpu']}), Python {m['python']}; {libs}.")
    corpus = udhr_text(cache_dir(), min_bytes=1_000_000 if args.quick else 5_000_000, whole=not args.quick)
    print(f"Text: {corpus.megabytes:.2f} MB UTF-8, {len(corpus.text):,} characters, {corpus.languages} UDHR "
          f"translations (udhr@6.0.0, {corpus.copies:.2f}x the full concatenation). Medians of {repeat} run(s).\n")

    cold = cold_load()  # first, while this process is small (see cold_load)
    toks = [get_tokenizer(tid) for tid in ids]  # every backend module imported before any timing
    rows = []
    for tok in toks:
        tid = tok.id
        r = bench_tokenizer(tok, corpus.text, repeat)
        rows.append(r)
        print(f"  {tid}: {r['tokens']:,} tokens, count x{r['count_ratio']:.2f} (cpu x{r['cpu']['count_ratio']:.2f}), "
              f"encode x{r['encode_ratio']:.2f} (cpu x{r['cpu']['encode_ratio']:.2f})", file=sys.stderr, flush=True)
    load = loadavg()
    totals = print_table(rows)
    print(f"\nLoad average (1/5/15 min) at the start: {m['loadavg']}; after the timings: {load}. "
          f"Above 1 means other processes shared the {m['cpus']} cores, which inflates wall times in bursts; "
          "CPU-time (process_time) ratios of the same runs, less sensitive to that:\n")
    print("| tokenizer | count ratio (CPU) | encode ratio (CPU) |\n|---|---:|---:|")
    for r in rows:
        if r["backend"] != "baseline":
            print(f"| {r['id']} | {r['cpu']['count_ratio']:.2f} | {r['cpu']['encode_ratio']:.2f} |")
    bad = [r for r in rows if not r["counts_equal"] or r["ids_equal"] is False]
    for r in bad:
        print(f"MISMATCH {r['id']}: bare count {r['tokens']}, tok.count {r['ours_count']}, "
              f"len(tok.encode) {r['encode_count']}, ids equal: {r['ids_equal']}")

    print("\nCold load (fresh interpreter, every catalogue tokenizer):\n")
    print_cold_load(cold)
    if args.json:
        figures = {"machine": m, "repeat": repeat, "quick": args.quick,
                   "text": {"source": "npm:udhr@6.0.0", "megabytes": corpus.megabytes, "characters": len(corpus.text),
                            "languages": corpus.languages, "copies": corpus.copies},
                   "targets": {"count_ratio": COUNT_TARGET, "encode_ratio": ENCODE_TARGET},
                   "results": rows, "totals": totals, "cold_load": cold}
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
