"""Load test: N concurrent browser sessions against a real `streamlit run` on loopback (a workshop opening one link).

Kept for N <= 3, as the browser-side check of tests/bench/bench_protocol.py, the load generator for workshop-sized N
(30 Chromium contexts on the server's 2 cores measure the browsers, not the server; docs/scaling.md).
tests/test_protocol_vs_browser.py runs one session of each and compares the counts they show.

One server, started as tests/test_browser.py starts it (free loopback port, headless, no file watcher), and one
Debian Chromium driven by Playwright's async API; each session is its own browser context and does what a workshop
participant does:

  1. load     open the Playground (root URL);
  2. paste    paste a UDHR article (its own language per session) into "Text" and commit with Control+Enter;
  3. switch   add cl100k_base through the "Tokenizers" multiselect;
  4. link     open a permalink with three other tokenizers and another text.

Two scenarios (--scenario):

  burst   all N sessions take each step together (everyone opens the link, then everyone pastes, ...): the worst
          case, N page loads at the same instant. Levels: N = 1 is repeated to get MIN_SAMPLES sessions.
  paced   a workshop room: participants arrive uniformly at random over --window seconds (default 30) and each
          reads the page for a think time (uniform in --think, default 5-15 s) between steps; seeded (--seed).
          N = 1 is repeated to get MIN_PACED_SESSIONS sessions.
  (free   all arrive at once, then no barrier and no pause.)

A step's page-ready latency runs from its action (navigation, Control+Enter, Enter) until the script run has
finished (`data-test-script-state="notRunning"`), a token view is drawn for every tokenizer, and the page shows each
tokenizer's count exactly as the library computes it for that text (so a stale page never counts as ready, and a
wrong count is an error). The page checks this every --poll-ms (50) milliseconds, so a latency is late by up to that
much. Levels: N = 1, 10, 30, after one warm-up session (loads the tokenizers into the server).

The harness avoids client work that tells nothing about the app, because in this test the browsers share the
machine with the server: the readiness check reads textContent (innerText would force a layout on every poll), the
tokenizer name goes into the multiselect as one input event (not 11 key presses that each re-filter its menu), and
after each step focus leaves the field (a blinking caret repaints an idle page, ~0.01 CPU s per second each).

Server memory is the RSS of the streamlit process and its children, from /proc: before any session, after the
warm-up, after each level (sessions closed, a few seconds to settle) and the peak during each level. CPU seconds
are split between the server and the client side, and the client side by process (this script, Playwright's node
driver, Chromium's browser / renderer / gpu / utility / zygote processes), because on a small machine the browsers
themselves take most of it; at N = 1 the server's CPU time per step is its cost per request.

Targets (issue 6): p95 at N = 30 no more than 3x p95 at N = 1; no errors; memory flat after warm-up.
Bounded: at most MAX_SESSIONS sessions per level, every step times out after --step-timeout seconds and the whole
run after --deadline seconds. Loopback only. Nothing here asserts a time.

Usage: python tests/bench/bench_load.py [--scenario burst|paced|free] [--levels 1,10,30] [--window 30]
       [--think 5,15] [--seed 6] [--poll-ms 50] [--reduced-motion] [--db PATH] [--env KEY=VALUE] [--json out.json]
Needs the default database (`python -m analysis build`, or --db / ATLAS_DB pointing at one) and /usr/bin/chromium
(`bash .ci/install-browser`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from playwright.async_api import async_playwright  # noqa: E402

from analysis import get_tokenizer  # noqa: E402
from analysis.corpus.udhr import load_udhr  # noqa: E402
from analysis.store.schema import default_db_path  # noqa: E402
from tests import serve  # noqa: E402
from tests.bench.bench_encode import loadavg, machine  # noqa: E402
from tests.serve import CHROMIUM, CHROMIUM_ARGS, stop_server  # noqa: E402

STEPS = ("load", "paste", "switch", "link")
LANGS = ["eng", "hin", "cmn_hans", "arb", "rus", "amh", "tha", "jpn", "spa", "tam", "kor", "ell_monotonic"]
ADDED = "cl100k_base"  # the tokenizer each session adds through the multiselect
LINK_TOKENIZERS = ["gemma3", "deepseek-v3", "utf8-bytes"]
MAX_SESSIONS = 50
MIN_SAMPLES = 10  # burst: sessions at N = 1 (each gives one sample per step)
MIN_PACED_SESSIONS = 3  # paced: sessions at N = 1 (their think times make each one take ~35 s)
LINK_CHARS = 300  # permalink texts stay well under the Playground's URL text limit
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
POLLING: int | str = 50  # ms between readiness checks in the page (--poll-ms): the latencies' resolution
REDUCED_MOTION = False  # --reduced-motion: pages ask for prefers-reduced-motion (Streamlit then drops animations)
LEAN = True  # harness without needless client work (see Session); False: the harness as first written

#: Ready when the run is over, every tokenizer has a token view and the counts are the expected ones.
#: ``expected`` maps tokenizer id -> count (null: any count; used for the first load, whose defaults are the app's).
READY_JS = """(expected) => {
  if (document.querySelector('[data-testid="stException"]')) return 'exception';
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const got = {};
  for (const p of document.querySelectorAll('[data-testid="stMarkdownContainer"] p')) {
    const m = p.textContent.trim().match(/^(\\S+) · ([\\d,]+) tokens$/);
    if (m) got[m[1]] = parseInt(m[2].replace(/,/g, ''), 10);
  }
  const ids = Object.keys(got);
  if (!ids.length || document.querySelectorAll('.ta-tokens').length < ids.length) return false;
  if (expected === null) return JSON.stringify(got);
  const want = Object.keys(expected);
  if (want.length !== ids.length || !want.every((t) => t in got)) return false;
  const wrong = want.filter((t) => expected[t] !== null && got[t] !== expected[t]);
  return wrong.length ? false : JSON.stringify(got);
}"""


# ------------------------------------------------------------------ server and its memory


def _parents() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    return parents


def _tree(pid: int, parents: dict[int, int]) -> set[int]:
    tree, todo = set(), [pid]
    while todo:
        p = todo.pop()
        tree.add(p)
        todo.extend(c for c, pp in parents.items() if pp == p and c not in tree)
    return tree


def _cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of one process (not of its reaped children), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return None


def _group(pid: int) -> str:
    """What a client process is, from its command line: Chromium's browser / renderer / gpu / utility / zygote
    processes, Playwright's node driver, or other (this script is grouped by the caller)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().replace(b"\0", b" ").split()  # Chromium rewrites its title: one space-separated string
    except OSError:
        return "other"
    exe = os.path.basename(argv[0].decode(errors="replace")) if argv and argv[0] else ""
    if "chrom" in exe:
        kind = next((a[7:].decode() for a in argv if a.startswith(b"--type=")), "browser")
        return {"gpu-process": "gpu"}.get(kind, kind)
    if exe == "node" or any(b"playwright" in a for a in argv[:2]):
        return "driver"
    return "other"


def rss_tree(pid: int) -> int:
    """Resident memory in bytes of ``pid`` and all its descendants (from /proc)."""
    total = 0
    for p in _tree(pid, _parents()):
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total


def start_server(db: Path, log: Path, extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """The app on a free loopback port (tests/serve.py, as the browser tests start it), stderr to ``log``."""
    try:
        return serve.start_server(db, env={"ATLAS_IMPORT": "0", **(extra_env or {})}, stderr=open(log, "wb"))
    except RuntimeError:
        raise SystemExit(f"streamlit did not become healthy: {log.read_text(errors='replace')[-2000:]}") from None


class Probe:
    """While a level runs: the server's peak RSS, and CPU seconds spent by the server and by the client side.

    Every ``every`` seconds it reads /proc: the server is the streamlit process tree; the client is this process and
    its other descendants (Playwright's driver, Chromium and its renderers). A process's CPU counts from when the
    probe starts (or the process appears) to its last sample, so a renderer that exits loses at most ``every``
    seconds: the client figure is a slight underestimate.
    """

    def __init__(self, server_pid: int, every: float = 0.5) -> None:
        self.server_pid, self.every, self.peak = server_pid, every, 0
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._side: dict[int, str] = {}
        self._group: dict[int, str] = {}
        self._task: asyncio.Task | None = None

    def sample(self) -> None:
        parents = _parents()
        server = _tree(self.server_pid, parents)
        client = _tree(os.getpid(), parents) - server
        for side, pids in (("server", server), ("client", client)):
            for pid in pids:
                cpu = _cpu_s(pid)
                if cpu is None:
                    continue
                if pid not in self._first:
                    self._first[pid] = cpu if self._task is None else 0.0  # new processes count from their start
                    self._side[pid] = side
                    self._group[pid] = "server" if side == "server" else "script" if pid == os.getpid() else _group(pid)
                self._last[pid] = cpu
        self.peak = max(self.peak, rss_tree(self.server_pid))

    def cpu_s(self, side: str) -> float:
        return sum(self._last[p] - self._first[p] for p in self._last if self._side[p] == side)

    def cpu_by_group(self) -> dict[str, float]:
        """CPU seconds per process group (server, script, driver, browser, renderer, gpu, utility, zygote, other)."""
        out: dict[str, float] = {}
        for p in self._last:
            out[self._group[p]] = out.get(self._group[p], 0.0) + self._last[p] - self._first[p]
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            self.sample()

    def __enter__(self) -> Probe:
        self.sample()
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        self.sample()


# ------------------------------------------------------------------ sessions


class Texts:
    """Per-session texts (UDHR articles, one language per session) and their exact counts from the library."""

    def __init__(self) -> None:
        self.udhr = load_udhr()
        self._counts: dict[tuple[str, str], int] = {}

    def article(self, i: int, *, shift: int = 0, limit: int | None = None) -> str:
        lang = LANGS[(i + shift) % len(LANGS)]
        units = self.udhr.texts(lang)
        if not units:
            raise SystemExit(f"the UDHR has no language {lang!r}; fix LANGS in {__file__}")
        text = units[sorted(units)[(i // len(LANGS) + shift) % len(units)]]
        return text[:limit] if limit else text

    def count(self, tid: str, text: str) -> int:
        key = (tid, text)
        if key not in self._counts:
            self._counts[key] = get_tokenizer(tid).count(text)
        return self._counts[key]

    def expected(self, tids: list[str], text: str) -> dict[str, int]:
        return {t: self.count(t, text) for t in tids}


async def ready(page: Any, expected: dict[str, int] | None, timeout_s: float) -> dict[str, int]:
    """Wait until the page is ready (see READY_JS); the counts it shows."""
    handle = await page.wait_for_function(READY_JS, arg=expected, polling=POLLING, timeout=timeout_s * 1000)
    value = await handle.json_value()
    if value == "exception":
        raise RuntimeError("the page shows an exception")
    return json.loads(value)


class Session:
    """One participant: the four steps, each timed from its action until the page is ready (see READY_JS).

    With a barrier, every session finishes a step before any starts the next, as in a workshop where everyone
    opens the link, then everyone pastes, and so on. ``server_cpu`` is the server's CPU time during each step: that
    step's own cost only when a session runs alone.
    """

    def __init__(self, browser: Any, url: str, i: int, texts: Texts, timeout_s: float, server_pid: int) -> None:
        self.browser, self.url, self.i, self.texts, self.timeout_s, self.server_pid = (
            browser, url, i, texts, timeout_s, server_pid)
        self.latency: dict[str, float] = {}
        self.counts: dict[str, dict[str, int]] = {}  # step -> the counts the page showed when it was ready
        self.server_cpu: dict[str, float] = {}
        self.error: str | None = None
        self.page: Any = None
        self.shown: list[str] = []
        self.text = texts.article(i)

    async def _timed(self, step: str, action: Any, expected: dict[str, int] | None) -> dict[str, int]:
        t, cpu = time.perf_counter(), _cpu_s(self.server_pid) or 0.0
        await action()
        got = await ready(self.page, expected, self.timeout_s)
        self.latency[step] = time.perf_counter() - t
        self.counts[step] = got
        self.server_cpu[step] = (_cpu_s(self.server_pid) or 0.0) - cpu
        if LEAN:  # focus off the field, as a participant who reads the result: a blinking caret repaints the page
            await self.page.evaluate("document.activeElement && document.activeElement.blur()")
        return got

    async def load(self) -> None:
        got = await self._timed("load", lambda: self.page.goto(self.url, wait_until="commit"), None)
        self.shown = list(got)  # the app's default tokenizers

    async def paste(self) -> None:
        area = self.page.get_by_label("Text", exact=True)
        await area.fill(self.text)
        await self._timed("paste", lambda: area.press("Control+Enter"), self.texts.expected(self.shown, self.text))

    async def switch(self) -> None:
        await self.page.get_by_label("Tokenizers", exact=False).first.click()
        if LEAN:  # the name arrives as one input event (as pasted), not 11 key presses each re-filtering the menu
            await self.page.keyboard.insert_text(ADDED)
        else:
            await self.page.keyboard.type(ADDED)

        async def pick() -> None:
            await self.page.keyboard.press("Enter")
            await self.page.keyboard.press("Escape")

        await self._timed("switch", pick, self.texts.expected([*self.shown, ADDED], self.text))

    async def link(self) -> None:
        text = self.texts.article(self.i, shift=5, limit=LINK_CHARS)
        query = urllib.parse.urlencode({"tokenizers": ",".join(LINK_TOKENIZERS), "text": text})
        await self._timed("link", lambda: self.page.goto(f"{self.url}/?{query}", wait_until="commit"),
                          self.texts.expected(LINK_TOKENIZERS, text))

    async def run(self, barrier: asyncio.Barrier | None = None, *, arrive_s: float = 0.0,
                  think_s: list[float] | None = None) -> dict[str, Any]:
        """All steps; a failed step is recorded (never raised) and the session still meets every barrier.

        Paced (no barrier): the participant arrives ``arrive_s`` seconds after the level starts and waits
        ``think_s[k]`` seconds after step k before the next one (reading the page; not part of any latency).
        """
        await asyncio.sleep(arrive_s)
        ctx = await self.browser.new_context(viewport={"width": 1280, "height": 900},
                                             reduced_motion="reduce" if REDUCED_MOTION else "no-preference")
        ctx.set_default_timeout(self.timeout_s * 1000)
        page_errors: list[str] = []
        try:
            self.page = await ctx.new_page()
            self.page.on("pageerror", lambda e: page_errors.append(str(e)))
            for k, step in enumerate(STEPS):
                if barrier is not None:
                    await barrier.wait()
                elif k and think_s and self.error is None:
                    await asyncio.sleep(think_s[k - 1])
                if self.error is None:
                    try:
                        await getattr(self, step)()
                        if page_errors:
                            raise RuntimeError(f"JavaScript error: {page_errors[0][:200]}")
                    except Exception as e:  # every failure is counted and reported
                        first = str(e).splitlines()[0][:200] if str(e) else ""
                        self.error = f"{step}: {type(e).__name__}: {first}"
        finally:
            await ctx.close()
        return {"latency": self.latency, "server_cpu": self.server_cpu, "error": self.error}


def pace(args: argparse.Namespace, n: int, r: int, k: int) -> dict[str, Any]:
    """Participant k's arrival (uniform over the window; at N = 1 it arrives at once) and think times, seeded."""
    rng = random.Random(f"{args.seed}/{n}/{r}/{k}")
    lo, hi = args.think
    return {"arrive_s": rng.uniform(0, args.window) if n > 1 else 0.0,
            "think_s": [rng.uniform(lo, hi) for _ in STEPS[1:]]}


def scenario_line(args: argparse.Namespace) -> str:
    line = f"scenario {args.scenario}"
    if args.scenario == "paced":
        line += (f": arrivals uniform over {args.window:g} s, think {args.think[0]:g}-{args.think[1]:g} s between steps, "
                 f"seed {args.seed}")
    return line + f"; readiness polled every {POLLING} ms" + ("; pages prefer reduced motion" if REDUCED_MOTION else "")


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20, method="inclusive")[18] if len(xs) > 1 else xs[0]


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    row: dict[str, Any] = {"sessions": len(results), "errors": [r["error"] for r in results if r["error"]]}
    every = []
    for step in STEPS:
        xs = [r["latency"][step] for r in results if step in r["latency"]]
        every += xs
        row[step] = {"n": len(xs), "p50_s": statistics.median(xs), "p95_s": p95(xs)} if xs else {"n": 0}
    row["all"] = {"n": len(every), "p50_s": statistics.median(every), "p95_s": p95(every)} if every else {"n": 0}
    row["server_cpu_median_s"] = {step: statistics.median(xs) for step in STEPS
                                  if (xs := [r["server_cpu"][step] for r in results if step in r["server_cpu"]])}
    return row


# ------------------------------------------------------------------ the run


async def run(args: argparse.Namespace, texts: Texts) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="atlas-load-") as tmp:
        log = Path(tmp) / "streamlit.log"
        proc, url = start_server(args.db, log, dict(kv.split("=", 1) for kv in args.env))
        deadline = time.monotonic() + args.deadline
        mib = 2**20
        report: dict[str, Any] = {"machine": machine(), "db": str(args.db), "server_env": args.env,
                                  "scenario": scenario_line(args), "levels": [], "rss_mib": {"before": rss_tree(proc.pid) / mib}}
        try:
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                warm = await Session(browser, url, 0, texts, args.step_timeout, proc.pid).run()
                if warm["error"]:
                    raise SystemExit(f"the warm-up session failed: {warm['error']}")
                await asyncio.sleep(args.settle)
                report["warmup_s"] = warm["latency"]
                report["rss_mib"]["after_warmup"] = rss_tree(proc.pid) / mib
                for n in args.levels:
                    paced = args.scenario == "paced"
                    rounds = math.ceil((MIN_PACED_SESSIONS if paced else MIN_SAMPLES) / n)
                    results: list[dict[str, Any]] = []
                    t0 = time.perf_counter()
                    with Probe(proc.pid) as probe:
                        for r in range(rounds):
                            left = deadline - time.monotonic()
                            if left <= 0:
                                raise SystemExit(f"--deadline {args.deadline:.0f} s reached at N = {n}")
                            barrier = asyncio.Barrier(n) if args.scenario == "burst" else None
                            sessions = [Session(browser, url, 1 + r * n + k, texts, args.step_timeout, proc.pid)
                                        for k in range(n)]
                            plans = [pace(args, n, r, k) for k in range(n)] if paced else [{}] * n
                            results += await asyncio.wait_for(
                                asyncio.gather(*(sess.run(barrier, **plan) for sess, plan in zip(sessions, plans))),
                                timeout=left)
                    wall = time.perf_counter() - t0
                    await asyncio.sleep(args.settle)
                    row = summarize(results)
                    row.update(n=n, rounds=rounds, wall_s=wall, server_cpu_s=probe.cpu_s("server"),
                               client_cpu_s=probe.cpu_s("client"), cpu_by_group_s=probe.cpu_by_group(),
                               rss_peak_mib=probe.peak / mib,
                               rss_after_mib=rss_tree(proc.pid) / mib, loadavg=loadavg())
                    report["levels"].append(row)
                    print_level(row, file=sys.stderr)
                await browser.close()
        finally:
            stop_server(proc)
            server_log = log.read_text(errors="replace")
        report["server_tracebacks"] = server_log.count("Traceback")
    return report


def print_level(row: dict[str, Any], file: Any = sys.stdout) -> None:
    steps = "  ".join(f"{s} {row[s]['p50_s']:.2f}/{row[s]['p95_s']:.2f}" for s in STEPS if row[s]["n"])
    print(f"N={row['n']:>2} ({row['rounds']} round(s), {row['all']['n']} samples)  p50/p95 s: all "
          f"{row['all']['p50_s']:.2f}/{row['all']['p95_s']:.2f}  {steps}  errors {len(row['errors'])}  "
          f"RSS after {row['rss_after_mib']:.0f} MiB (peak {row['rss_peak_mib']:.0f})  wall {row['wall_s']:.1f} s, "
          f"CPU s server {row['server_cpu_s']:.1f} client {row['client_cpu_s']:.1f}  load {row['loadavg']}",
          file=file, flush=True)
    steps_done = row["all"]["n"] or 1
    print("       CPU s per step by process: " + ", ".join(f"{g} {v / steps_done:.3f}"
                                                     for g, v in row["cpu_by_group_s"].items()), file=file, flush=True)


def main() -> int:
    global POLLING, REDUCED_MOTION
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--levels", default="1,10,30", help="comma-separated session counts (each at most 50)")
    ap.add_argument("--db", type=Path, default=None, help="statistics database (default: $ATLAS_DB, else the cache's)")
    ap.add_argument("--step-timeout", type=float, default=120.0, help="seconds one step may take (default 120)")
    ap.add_argument("--deadline", type=float, default=900.0, help="seconds for the whole run (default 900)")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds before reading memory after a level")
    ap.add_argument("--scenario", choices=("burst", "paced", "free"), default="burst",
                    help="burst: all N take every step together; paced: a workshop room (arrivals spread over --window, "
                         "--think seconds between steps); free: all arrive at once, then no barrier, no pause")
    ap.add_argument("--window", type=float, default=30.0, help="paced: arrivals uniform over this many seconds (30)")
    ap.add_argument("--think", default="5,15", help="paced: think time between steps, uniform in LO,HI seconds (5,15)")
    ap.add_argument("--seed", type=int, default=6, help="paced: seed of the arrivals and think times (6)")
    ap.add_argument("--poll-ms", type=int, default=POLLING,
                    help=f"ms between readiness checks in each page, the latencies' resolution ({POLLING})")
    ap.add_argument("--reduced-motion", action="store_true",
                    help="every page prefers reduced motion (an accessibility setting; Streamlit drops its animations)")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for the server, e.g. STREAMLIT_RUNNER_POST_SCRIPT_GC=false (repeatable)")
    ap.add_argument("--json", type=Path, help="also write the full report here")
    args = ap.parse_args()
    args.levels = [int(x) for x in args.levels.split(",")]
    args.think = tuple(float(x) for x in args.think.split(","))
    if len(args.think) != 2 or not 0 <= args.think[0] <= args.think[1]:
        ap.error("--think takes LO,HI seconds with 0 <= LO <= HI")
    POLLING = args.poll_ms
    REDUCED_MOTION = args.reduced_motion
    if not all(1 <= n <= MAX_SESSIONS for n in args.levels):
        ap.error(f"each level must be between 1 and {MAX_SESSIONS}")
    args.db = args.db or default_db_path()
    if not args.db.is_file():
        ap.error(f"no database at {args.db}: run `python -m analysis build` or pass --db")
    if not Path(CHROMIUM).exists():
        ap.error(f"{CHROMIUM} is missing: run `bash .ci/install-browser`")
    texts = Texts()
    report = asyncio.run(run(args, texts))
    rss = report["rss_mib"]
    print(f"\n{report['machine']['cpus']} CPU(s) {report['machine']['cpu']}; database {report['db']}; "
          f"server environment {' '.join(args.env) or '(defaults)'}")
    print(report["scenario"])
    print(f"server RSS: before {rss['before']:.0f} MiB, after warm-up {rss['after_warmup']:.0f} MiB; "
          f"warm-up session (s): {', '.join(f'{k} {v:.2f}' for k, v in report['warmup_s'].items())}")
    for row in report["levels"]:
        print_level(row)
    alone = next((row for row in report["levels"] if row["n"] == 1), None)
    if alone is not None:
        per_step = alone["server_cpu_median_s"]
        print("server CPU per step, sessions alone (median s): "
              + ", ".join(f"{k} {v:.3f}" for k, v in per_step.items()) + f"; a session: {sum(per_step.values()):.2f}")
        for row in report["levels"]:
            row["p95_ratio_vs_1"] = row["all"]["p95_s"] / alone["all"]["p95_s"]
            print(f"p95 ratio N={row['n']} / N=1: {row['p95_ratio_vs_1']:.2f} (target <= 3.0 at N = 30)")
    errors = [e for row in report["levels"] for e in row["errors"]]
    print(f"errors: {len(errors)}" + "".join(f"\n  {e}" for e in errors[:10]))
    print(f"server tracebacks in its log: {report['server_tracebacks']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
