"""Benchmark: an added tokenizer's background count over the store's UDHR vs the bare encode of the same texts.

In one run, per tokenizer file (added with ``analysis.user_tokenizers.add_upload`` into a temporary folder):
  * background: wall seconds from ``CountingPool.submit`` to the job's result on disk, on a pool of one worker
    process (the default ``ATLAS_USER_COUNT_WORKERS``); the corpus's sha256 is passed to ``submit`` as the app passes
    it (from its cached read of the store: read from the store on every submit, it added ~30-60 ms to each job
    before 2026-12-07 05:00 UTC); first in a fresh pool (the worker starts; the corpus's word
    spans are computed once per corpus version), then again in the warm pool after deleting the result: once after
    the worker released the tokenizer (``forget_tokenizers``: it loads it again, as for a visitor's new tokenizer;
    ``background_warm_s``, ``ratio_warm``), once with the tokenizer kept from the job before
    (``background_kept_s``, ``ratio_kept``: a later job for the same tokenizer);
  * bare: the backend library's own count call (tests/bench/bench_encode.bare_calls) on every unit text of the
    same store, one text at a time, in this process, single-threaded (TOKENIZERS_PARALLELISM=false, as the worker);
  * the ratios warm background / bare (target <= 1.5), kept / bare and cold background / bare;
  * where the warm job's seconds went, as the worker reports them (reading the corpus, which a warm worker holds
    already; loading the tokenizer; counting; writing the result database).
With ``--repeat N`` the two warm jobs and the bare encode are each timed N times, in turn, and every ratio is kept
(the spread on a busy machine); the row's figures are the medians. CPU seconds are reported beside wall seconds, and
their ratios (``ratio_warm_cpu``, ``ratio_kept_cpu``), which a busy machine disturbs less: the bare encode's in this
process, the job's as the worker processes used them (``worker_cpu_seconds``, read from /proc, pool overhead in).

Usage: python tests/bench/bench_user_counts.py [--quick] [--repeat N] [--db atlas.duckdb] [--json out.json]
                                              [--only NAME ...]
``--quick``: one small tokenizer (MiniLM's tokenizer.json), for a busy machine; the full run counts the three formats
with real LLM vocabularies (Llama 3's and Llama 2's tokenizer.json, cl100k_base.tiktoken, Mistral 7B v1's
SentencePiece .model) and needs an otherwise idle machine; ``--only`` keeps the files whose name (llama3.json,
cl100k.tiktoken, llama2.json, mistral-v1.model) contains one of the given words. Without ``--db`` a store of the
UDHR is built first (utf8-bytes only, no token checks).
Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ["TOKENIZERS_PARALLELISM"] = "false"
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from analysis.assets import asset_path  # noqa: E402
from analysis.catalogue import load_catalogue  # noqa: E402
from tests.bench.bench_encode import bare_calls, loadavg, machine  # noqa: E402

TARGET = 1.5
FULL = [("lenml/llama3/tokenizer.json", "llama3.json", None), ("openai/cl100k_base.tiktoken", "cl100k.tiktoken",
        "cl100k_base"), ("meta/llama2/tokenizer.json", "llama2.json", None), ("mistral/tokenizer.model.v1",
        "mistral-v1.model", None)]
QUICK = [("minilm/tokenizer.json", "minilm.json", None)]


def wait(job) -> None:
    """Until the job is finished: on its future (polling every 50 ms added 25 ms to a job on average), then the
    moment its done-callback takes to mark it."""
    if job.future is not None:
        job.future.exception()
    while job.state in ("queued", "running"):
        time.sleep(0.001)
    if job.state != "done":
        raise SystemExit(f"counting failed: {job.error}")


def bare_seconds(tokenizer_id: str, texts: list[str]) -> tuple[float, int, float]:
    """Wall seconds of the bare encode of every text, the tokens counted, and the CPU seconds it took."""
    from analysis.tokenizers import get_tokenizer

    count, _ = bare_calls(get_tokenizer(tokenizer_id))
    c0, t0 = time.process_time(), time.perf_counter()
    total = sum(count(t) for t in texts)
    return time.perf_counter() - t0, total, time.process_time() - c0


def worker_cpu(pool) -> float | None:
    """CPU seconds (user + system) the pool's worker processes have used so far, from Linux's /proc; None elsewhere.
    Read from outside, so it works for any version of the worker (and takes in the pool's own overhead)."""
    executor = pool._executor
    if executor is None or not getattr(executor, "_processes", None):
        return None
    total = 0
    try:
        for pid in list(executor._processes):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of the whole line)
    except (OSError, ValueError, IndexError):
        return None
    return total / os.sysconf("SC_CLK_TCK")


def timed_job(pool, tokenizer_id: str, db: Path, corpus_sha: str) -> tuple[float, dict[str, float]]:
    """Wall seconds from submitting a job to its result on disk, and the worker's own account of them (with
    ``worker_cpu_seconds``: the worker processes' CPU seconds over the job, read from /proc)."""
    cpu0 = worker_cpu(pool)
    t0 = time.perf_counter()
    job = pool.submit(tokenizer_id, db, corpus_sha=corpus_sha)
    wait(job)
    seconds = time.perf_counter() - t0
    cpu1 = worker_cpu(pool)
    steps = job.future.result() if job.future is not None else {}
    if cpu0 is not None and cpu1 is not None:
        steps["worker_cpu_seconds"] = cpu1 - cpu0
    job.out.unlink()
    pool._jobs.clear()  # forget the finished job: the next submit counts again, in the warm worker
    return seconds, {k: round(v, 3) for k, v in steps.items() if k.endswith("_seconds")}


def run(db: Path, files: list[tuple[str, str, str | None]], repeat: int = 1) -> list[dict[str, Any]]:
    import duckdb

    from analysis.user_counts import CountingPool, corpus_sha256

    try:
        from analysis.user_counts import forget_tokenizers
    except ImportError:  # a version from before the worker kept tokenizers (for back-to-back comparisons)
        forget_tokenizers = None
    from analysis.user_tokenizers import add_upload, pattern_for

    con = duckdb.connect(str(db), read_only=True)
    texts = [r[0] for r in con.execute("SELECT text FROM units WHERE corpus = 'udhr' ORDER BY lang, position, unit")
             .fetchall()]
    con.close()
    sha = corpus_sha256(db)  # what the app passes to submit (state.corpus_info, cached)
    rows = []
    for rel, name, pattern in files:
        added = add_upload(name, asset_path(load_catalogue().files[rel]).read_bytes(),
                           pattern=pattern_for(pattern) if pattern else None)
        pool = CountingPool(workers=1)
        warm: list[float] = []
        kept: list[float] = []
        bare: list[float] = []
        bare_cpu: list[float] = []
        warm_cpu: list[float | None] = []
        kept_cpu: list[float | None] = []
        try:
            cold, cold_steps = timed_job(pool, added.id, db, sha)
            for _ in range(repeat):
                if forget_tokenizers is not None:  # the worker loads the tokenizer again
                    pool.call_in_worker(forget_tokenizers).result()
                seconds, steps = timed_job(pool, added.id, db, sha)
                warm.append(seconds)
                warm_cpu.append(steps.get("worker_cpu_seconds"))
                seconds, kept_steps = timed_job(pool, added.id, db, sha)
                kept.append(seconds)
                kept_cpu.append(kept_steps.get("worker_cpu_seconds"))
                b, tokens, cpu = bare_seconds(added.id, texts)
                bare.append(b)
                bare_cpu.append(cpu)
        finally:
            pool.close()

        def ratios(times: list, bases: list) -> list[float] | None:
            return None if None in times else [round(t / b, 3) for t, b in zip(times, bases, strict=True)]

        def median(values: list | None) -> float | None:
            return None if values is None else round(statistics.median(values), 3)

        b_med = statistics.median(bare)
        # Without forget_tokenizers (a worker from before it), every job loads its tokenizer: "kept" is no different.
        row = {"file": rel, "format": added.format, "units": len(texts), "tokens": tokens,
               "bare_s": round(b_med, 3), "bare_cpu_s": median(bare_cpu),
               "background_cold_s": round(cold, 3), "background_warm_s": median(warm),
               "background_kept_s": median(kept),
               "ratio_warm": median(ratios(warm, bare)), "ratio_kept": median(ratios(kept, bare)),
               "ratio_cold": round(cold / b_med, 3),
               "ratio_warm_cpu": median(ratios(warm_cpu, bare_cpu)), "ratio_kept_cpu": median(ratios(kept_cpu, bare_cpu)),
               "ratios_warm": ratios(warm, bare), "ratios_kept": ratios(kept, bare),
               "ratios_warm_cpu": ratios(warm_cpu, bare_cpu), "ratios_kept_cpu": ratios(kept_cpu, bare_cpu),
               "warm_steps": steps, "kept_steps": kept_steps, "cold_steps": cold_steps}
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="one small tokenizer, for a busy machine")
    ap.add_argument("--db", type=Path, help="a built store with the UDHR (default: build one in a temporary folder)")
    ap.add_argument("--json", type=Path, help="write the results here too")
    ap.add_argument("--repeat", type=int, default=1, help="time the warm job and the bare encode this many times")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="only the full run's files whose name contains one of "
                    "these (e.g. cl100k llama2)")
    args = ap.parse_args()
    files = QUICK if args.quick else [f for f in FULL if not args.only or any(w in f[1] for w in args.only)]
    if not files:
        ap.error(f"--only {' '.join(args.only)} matches none of {', '.join(f[1] for f in FULL)}")
    with tempfile.TemporaryDirectory(prefix="atlas-bench-yours-") as tmp:
        os.environ["ATLAS_IMPORT"] = "1"
        os.environ["ATLAS_USER_TOKENIZERS"] = str(Path(tmp) / "yours")
        db = args.db
        if db is None:
            from analysis.store.build import build

            db = Path(tmp) / "atlas.duckdb"
            build(db, corpora=["udhr"], tokenizers=["utf8-bytes"], workers=1, token_checks=False)
        load0 = loadavg()
        rows = run(db, files, repeat=max(1, args.repeat))
        worst = max(r["ratio_warm"] for r in rows)
        summary = {"mode": "quick" if args.quick else "full", "repeat": max(1, args.repeat), "target_ratio": TARGET,
                   "worst_warm_ratio": worst, "worst_kept_ratio": max(r["ratio_kept"] for r in rows),
                   "worst_warm_cpu_ratio": max((r["ratio_warm_cpu"] or 0) for r in rows) or None,
                   "meets_target": worst <= TARGET, "loadavg_before": load0, "loadavg_after": loadavg(),
                   "machine": machine(), "results": rows}
        print(f"worst warm background/bare ratio {worst:.2f} (target <= {TARGET}); load average {load0} -> "
              f"{loadavg()}", flush=True)
        if args.json:
            args.json.write_text(json.dumps(summary, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
