"""Benchmark: where the `build` command's memory goes, as a timeline of its resident size with what it is doing.

The job is bench_peers' 22 x 2 build (the UDHR-generated FLORES-style folder, 22 languages x 1012 lines, imported
once; then ``python -m analysis build --corpus peers --tokenizers llama3 o200k_base`` on a fresh copy of that
database per run, the checks cache warm after the first run). Each run is a child process that runs the CLI's own
entry (``analysis.cli.main``: the same process settings as the command) with a thread sampling ``/proc/self/status``
every 20 ms: the resident size (anonymous and file-backed), the build's last progress line (what it finished last),
the tokenizers loaded (``analysis.tokenizers.registry.loaded_ids``) and how many counting threads are alive; at
each new high the mappings that hold the most (``/proc/self/smaps``, grouped). Reported per run: the sampled peak
(what bench_peers' 10 ms sampling sees), the kernel's high-water mark (``VmHWM``: the true peak, with spikes
shorter than a sample), what was going on at the sampled peak, the mappings then, the wall time; ``--timeline``
prints each run's samples every 100 ms.

Usage:
    python tests/bench/bench_build_memory.py [--runs 3] [--timeline] [--code DIR] [--json out.json]

``--code DIR``: run another checkout's build (e.g. ``git archive main | tar -x -C DIR``) on the same database, to
compare (it reads this checkout's verified asset cache). Nothing here asserts a size; figures vary by ~±15 MiB from
run to run with the same code (what is freed when depends on the threads' timing), so compare medians of several
runs, alternating.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from tests.bench.bench_encode import loadavg  # noqa: E402
from tests.bench.bench_peers import LANGUAGES, TOKENIZERS, make_folder  # noqa: E402
from tests.bench.bench_store import code_version  # noqa: E402

#: What the child runs: the CLI's build with a sampler thread; its report is one JSON line on stdout, after "@@report ".
CHILD = r"""
import io, json, os, sys, threading, time
code, tokenizers = sys.argv[1], sys.argv[2:]
sys.path.insert(0, code)
T0 = time.perf_counter()
state = {"line": "start"}


class Tee(io.TextIOWrapper):  # the build's progress lines (stderr): the last one says what it finished last
    def write(self, s):
        for line in s.splitlines():
            if line.strip():
                state["line"] = line.strip()[:90]
        return super().write(s)


def status():
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[key] = int(value.split()[0]) // 1024
    return out


def smaps():
    held, name, size = {}, None, 0
    with open("/proc/self/smaps") as f:
        for line in f:
            parts = line.split()
            if ":" not in parts[0]:  # a mapping's first line: range, perms, offset, dev, inode[, path]
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                name = parts[5].rsplit("/", 1)[-1] if len(parts) > 5 else f"[anon {(hi - lo) >> 20} MiB]"
            elif parts[0] == "Rss:":
                held[name] = held.get(name, 0) + int(parts[1]) // 1024
    return sorted(((v, k) for k, v in held.items() if v >= 2), reverse=True)[:12]


samples, top, stop = [], {"rss": 0}, threading.Event()


def loaded():
    # The registry is imported by the build (never here first); it may be half imported when looked at.
    fn = getattr(sys.modules.get("analysis.tokenizers.registry"), "loaded_ids", None)
    return fn() if fn is not None else []


def sample():
    while not stop.is_set():
        s = status()
        counting = sum(t.name.startswith("atlas-count") for t in threading.enumerate())
        row = [round(time.perf_counter() - T0, 3), s["VmRSS"], s["RssAnon"], s["RssFile"], state["line"],
               ",".join(loaded()), counting]
        samples.append(row)
        if s["VmRSS"] > top["rss"]:
            top.update(rss=s["VmRSS"], row=row, smaps=smaps())
        stop.wait(0.02)


threading.Thread(target=sample, daemon=True, name="sampler").start()
sys.stderr = Tee(sys.stderr.buffer, encoding="utf-8", line_buffering=True)
import analysis.cli  # noqa: E402
rc = analysis.cli.main(["build", "--corpus", "peers", "--tokenizers", *tokenizers])
stop.set()
report = {"rc": rc, "wall": round(time.perf_counter() - T0, 3), "peak": top, "hwm": status()["VmHWM"],
          "samples": samples}
print("@@report " + json.dumps(report), flush=True)
"""


def run_once(code: Path, db: Path, template: Path, env: dict[str, str]) -> dict:
    for p in db.parent.glob(db.name + "*"):
        p.unlink()
    shutil.copyfile(template, db)
    proc = subprocess.run([sys.executable, "-c", CHILD, str(code), *TOKENIZERS], capture_output=True, text=True,
                          cwd=code, env={**os.environ, **env, "ATLAS_DB": str(db)})
    if proc.returncode or "Traceback" in proc.stderr:
        raise SystemExit(f"the build (or its sampler) failed:\n{proc.stderr[-3000:]}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("@@report ")]
    if not lines:
        raise SystemExit(f"the build gave no report (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n"
                         f"{proc.stderr[-3000:]}")
    report = json.loads(lines[-1][9:])
    if report["rc"]:
        raise SystemExit(f"the build exited with {report['rc']}")
    return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeline", action="store_true", help="print every run's samples, every 100 ms")
    ap.add_argument("--code", type=Path, help="another checkout whose build to measure, alternating with this one's")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="atlas-build-memory-"))
    env = {"ATLAS_CHECKS_CACHE": str(work / "checks"),
           "ATLAS_CACHE": os.environ.get("ATLAS_CACHE", str(ROOT / ".cache" / "atlas"))}
    try:
        folder = make_folder(work / "flores", list(LANGUAGES), 1012)
        template = work / "template.duckdb"
        subprocess.run([sys.executable, "-m", "analysis", "corpus", "import", "--kind", "lines", "--path",
                        str(folder), "--name", "peers"], check=True, capture_output=True, cwd=ROOT,
                       env={**os.environ, **env, "ATLAS_DB": str(template)})
        run_once(ROOT, work / "warm.duckdb", template, env)  # fills the checks cache, as after any first build
        codes = {"this": ROOT, **({"other": args.code.resolve()} if args.code else {})}
        results: dict[str, list[dict]] = {name: [] for name in codes}
        print(f"load average {loadavg()} at the start; code {code_version()}", flush=True)
        for k in range(args.runs):
            for name, code in codes.items():
                r = run_once(code, work / f"{name}.duckdb", template, env)
                t, rss, anon, file, line, loaded, counting = r["peak"]["row"]
                print(f"run {k + 1} {name}: peak {rss} MiB sampled (the kernel's high-water mark {r['hwm']} MiB; anon "
                      f"{anon}, files {file}) at {t:.2f} s of {r['wall']:.2f}"
                      f" s; loaded [{loaded}], {counting} counting thread(s), after: {line!r}", flush=True)
                print("    held most at the peak (MiB): "
                      + ", ".join(f"{name} {mib}" for mib, name in r["peak"]["smaps"]), flush=True)
                if args.timeline:
                    last = -1.0
                    for s in r["samples"]:
                        if s[0] - last >= 0.1:
                            last = s[0]
                            print("   ", *s, sep="  ")
                results[name].append({"peak_mib": rss, "hwm_mib": r["hwm"], "wall": r["wall"], "at": t, "loaded": loaded,
                                      "after": line, "smaps": r["peak"]["smaps"]})
        summary = {name: {"peak_mib_median": statistics.median(x["peak_mib"] for x in runs),
                          "peaks": [x["peak_mib"] for x in runs],
                          "hwm_mib_median": statistics.median(x["hwm_mib"] for x in runs),
                          "hwms": [x["hwm_mib"] for x in runs],
                          "wall_median": statistics.median(x["wall"] for x in runs)}
                   for name, runs in results.items()}
        for name, s in summary.items():
            print(f"{name}: sampled peak median {s['peak_mib_median']} MiB {s['peaks']}, high-water mark median "
                  f"{s['hwm_mib_median']} MiB {s['hwms']}, wall median {s['wall_median']:.2f} s")
        print(f"load average {loadavg()} at the end", flush=True)
        if args.json:
            args.json.write_text(json.dumps({"code": code_version(), "summary": summary, "runs": results}, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
