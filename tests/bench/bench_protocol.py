"""Load generator at the protocol level: N workshop participants speaking Streamlit's websocket protocol to K replicas.

Issue 6's browser load test measured the browsers: 30 Chromium contexts on the server's 2 cores. Here each
participant is a :class:`tests.st_protocol.Session`: what a browser tab sends and receives (BackMsg / ForwardMsg
protobufs), without rendering anything, so the generator costs a few percent of the server's CPU (measured, and
reported beside it on every level). The server side is deploy/launch.py's deployment on loopback: K `streamlit run`
replicas behind nginx with sticky sessions, started and stopped by this script.

Each participant replays a workshop script; every step is one script run, timed from sending the rerun BackMsg to
the script_finished ForwardMsg:

  load       open the Playground (a fresh session; its default tokenizers and text);
  paste      paste a UDHR article (its own language per participant) into "Text";
  switch     add cl100k_base to "Tokenizers";
  premiums   open the Premium explorer (a page change);
  reference  pick another reference language there;
  link       open a permalink in a new tab (a fresh session; three tokenizers and another text in its query string).

An interaction fails when its run shows an exception or an error box, when a Playground count differs from the
library's count for that text (computed before the level starts, in a separate process), when the connection drops
or cannot be made, or when no script_finished comes within --step-timeout. After a dropped connection the participant
reconnects through the proxy (resuming its session id, as Streamlit's frontend does; a replica that does not know it
starts a new session) and retries the step with its widget values: the time from the first failure to the next
success is that participant's outage.

Paced workshop (the default): participants arrive uniformly at random over --window seconds (60) and think --think
seconds (5-15) between steps; seeded (--seed). N = 1 runs MIN_ALONE sessions one after another.

Measured per level: p50/p95 latency (all steps, and per step), errors by kind, CPU seconds of the replicas (each
replica's process tree), of nginx and of this generator (its own process, all threads) from /proc, the generator's
CPU as a share of the replicas', and RSS per replica: idle (started, no session), after the warm-up (one full
script per replica, straight to its port), after each level (sessions closed, --settle seconds later) and the
level's peak. Sessions per core: the largest N whose p95 is at most 1 s with no error, over the machine's cores.

Faults (--kill-replica-at T): T seconds into each level with N > 1, replica --kill-replica gets SIGKILL (its whole
process group); the launcher's supervisor restarts it. The level then reports the failed interactions, the
participants that had one, and their outages.

Bounded: at most MAX_SESSIONS per level, --step-timeout per step, --deadline for the whole run; loopback only.
Nothing here asserts a time (targets are printed beside the figures). Needs nginx (`apt-get install -y nginx`) and a
database (`python -m analysis build`, or --db / ATLAS_DB).

Usage:
  python tests/bench/bench_protocol.py --quick                    # a small check: K = 1, N = 1 and 3, short pauses
  python tests/bench/bench_protocol.py --replicas 2 --levels 1,10,30,60 --json k2.json   # the figures (idle machine)
  python tests/bench/bench_protocol.py --replicas 2 --levels 30 --kill-replica-at 40      # the fault scenario
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import signal
import statistics
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import websockets  # noqa: E402

from analysis.playground import DEFAULT_TEXT  # noqa: E402
from analysis.store.schema import default_db_path  # noqa: E402
from deploy.launch import Deployment, LaunchError  # noqa: E402
from tests.bench.bench_encode import loadavg, machine  # noqa: E402
from tests.st_protocol import Disconnected, ProtocolError, Run, Session, string_state, strings_state  # noqa: E402

STEPS = ("load", "paste", "switch", "premiums", "reference", "link")
#: UDHR languages the participants paste (one per participant, in turn), and references they pick in the explorer.
LANGS = ["eng", "hin", "cmn_hans", "arb", "rus", "amh", "tha", "jpn", "spa", "tam", "kor", "ell_monotonic"]
REFERENCES = ["hin", "spa", "rus", "arb", "jpn", "tam"]
ADDED = "cl100k_base"
LINK_TOKENIZERS = ["gemma3", "deepseek-v3", "utf8-bytes"]
LINK_CHARS = 300
DEFAULT_TOKENIZERS = ["o200k_base", "llama3", "gemma3", "qwen3", "mistral-tekken", "bert-uncased"]  # app/state/resources.py
MAX_SESSIONS = 100
MIN_ALONE = 3
QUICK = {"levels": "1,3", "window": 5.0, "think": "1,2", "settle": 2.0}  # --quick, where not given explicitly
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
FAILURES = (Disconnected, ProtocolError, OSError, TimeoutError, asyncio.TimeoutError, websockets.InvalidHandshake)


# ------------------------------------------------------------------ texts and the counts they must show


def _udhr_texts(n: int) -> list[tuple[str, str]]:
    """(pasted text, permalink text) of participant i, for i < n: UDHR articles, one language per participant."""
    from analysis.corpus.udhr import load_udhr

    udhr = load_udhr()
    out = []
    for i in range(n):
        pair = []
        for shift, limit in ((0, None), (5, LINK_CHARS)):
            lang = LANGS[(i + shift) % len(LANGS)]
            units = udhr.texts(lang)
            text = units[sorted(units)[(i // len(LANGS) + shift) % len(units)]]
            pair.append(text[:limit] if limit else text)
        out.append((pair[0], pair[1]))
    return out


def _library_counts(jobs: list[tuple[str, str]]) -> list[int]:
    """analysis' count of each (tokenizer, text): run in a child process, so the generator loads no tokenizer."""
    from analysis import get_tokenizer

    return [get_tokenizer(tid).count(text) for tid, text in jobs]


@dataclass
class Script:
    """One participant's texts, choices and the counts each Playground step must show."""

    paste: str
    link: str
    reference: str
    expected: dict[str, dict[str, int]] = field(default_factory=dict)  # step -> tokenizer -> count


def scripts(n: int, seed: int) -> list[Script]:
    """Participants 0..n-1 (participant 0 is the warm-up's), with their expected counts from the library."""
    rng = random.Random(f"{seed}/references")
    out = [Script(paste, link, rng.choice(REFERENCES)) for paste, link in _udhr_texts(n)]
    plans = {"load": (DEFAULT_TOKENIZERS, lambda s: DEFAULT_TEXT), "paste": (DEFAULT_TOKENIZERS, lambda s: s.paste),
             "switch": ([*DEFAULT_TOKENIZERS, ADDED], lambda s: s.paste), "link": (LINK_TOKENIZERS, lambda s: s.link)}
    jobs = [(tid, text_of(s)) for s in out for tids, text_of in plans.values() for tid in tids]
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        counts = iter(pool.submit(_library_counts, jobs).result())
    for s in out:
        for step, (tids, _) in plans.items():
            s.expected[step] = {tid: next(counts) for tid in tids}
    return out


# ------------------------------------------------------------------ a participant


class Participant:
    """One workshop participant: the six steps, each one script run; failures recorded, never raised."""

    def __init__(self, url: str, script: Script, *, timeout_s: float, deadline: float) -> None:
        self.url, self.script, self.timeout_s, self.deadline = url, script, timeout_s, deadline
        self.session = Session(url, timeout_s=timeout_s)
        self.last: Run | None = None
        self.latency: dict[str, float] = {}
        self.counts: dict[str, dict[str, int]] = {}  # step -> the counts its run showed (Playground steps)
        self.failures: list[dict[str, Any]] = []  # {step, kind, at, message}
        self.outages: list[float] = []
        self._down_since: float | None = None

    # the steps: each returns the finished run and what is wrong with it ("" if nothing)

    async def load(self) -> tuple[Run, str]:
        await self.session.connect()
        run = await self.session.rerun()
        return run, self._counts(run, "load")

    async def paste(self) -> tuple[Run, str]:
        text = self.last.widget("Text", "text_area")
        run = await self.session.rerun(widgets=[string_state(text.id, self.script.paste)])
        return run, self._counts(run, "paste")

    async def switch(self) -> tuple[Run, str]:
        chosen = self.last.widget("Tokenizers", "multiselect")
        run = await self.session.rerun(widgets=[strings_state(chosen.id, [*chosen.value, ADDED])])
        return run, self._counts(run, "switch")

    async def premiums(self) -> tuple[Run, str]:
        run = await self.session.rerun(page="premiums", query_string="")
        run.widget("Reference language", "selectbox")
        return run, ""

    async def reference(self) -> tuple[Run, str]:
        box = self.last.widget("Reference language", "selectbox")
        option = box.option(f"({self.script.reference})")
        run = await self.session.rerun(widgets=[string_state(box.id, option)])
        shown = run.widget("Reference language", "selectbox").value
        return run, "" if shown == option else f"reference shows {shown!r}, not {option!r}"

    async def link(self) -> tuple[Run, str]:
        """A permalink opened in a new tab: a fresh session (the browser's cookies, so the same replica)."""
        cookies = self.session.cookies
        await self.session.close()
        self.session = Session(self.url, timeout_s=self.timeout_s)
        self.session.cookies = cookies
        await self.session.connect()
        query = urllib.parse.urlencode({"tokenizers": ",".join(LINK_TOKENIZERS), "text": self.script.link})
        run = await self.session.rerun(query_string=query)  # a new tab: the default page, as its URL says
        return run, self._counts(run, "link")

    def _counts(self, run: Run, step: str) -> str:
        want = self.script.expected[step]
        if run.counts == want:
            return ""
        wrong = {t: (run.counts.get(t), n) for t, n in want.items() if run.counts.get(t) != n}
        extra = sorted(set(run.counts) - set(want))
        return f"counts (shown, library): {wrong}" + (f"; unexpected {extra}" if extra else "")

    async def step(self, name: str) -> None:
        """One step; after a dropped connection, reconnect through the proxy and retry it until the deadline."""
        while True:
            t = time.perf_counter()
            try:
                run, wrong = await getattr(self, name)()
            except FAILURES as e:
                kind = "disconnect" if isinstance(e, (Disconnected, OSError, websockets.InvalidHandshake)) else (
                    "protocol" if isinstance(e, ProtocolError) else "timeout")
                self._fail(name, kind, f"{type(e).__name__}: {str(e)[:160]}")
                if kind != "disconnect" or time.monotonic() > self.deadline:
                    return
                await self._reconnect()
                continue
            elapsed = time.perf_counter() - t
            problems = run.errors + ([wrong] if wrong else [])
            if problems:
                self._fail(name, "exception" if run.errors else "count", "; ".join(problems)[:300])
                return
            self.latency[name] = elapsed
            self.counts[name] = run.counts
            self.last = run
            if self._down_since is not None:
                self.outages.append(time.monotonic() - self._down_since)
                self._down_since = None
            return

    def _fail(self, step: str, kind: str, message: str) -> None:
        self.failures.append({"step": step, "kind": kind, "at": time.time(), "message": message})
        if self._down_since is None and kind == "disconnect":
            self._down_since = time.monotonic()

    async def _reconnect(self) -> None:
        """As Streamlit's frontend: connect again (to the proxy) with the old session id, backing off 0.5-2 s."""
        await self.session.close()
        wait = 0.5
        while time.monotonic() < self.deadline:
            await asyncio.sleep(wait)
            try:
                await self.session.connect(resume=True)
                self.session.reconnects += 1
                return
            except FAILURES:
                wait = min(2.0, wait * 2)

    async def run(self, *, arrive_s: float = 0.0, think_s: list[float] | None = None) -> Participant:
        await asyncio.sleep(arrive_s)
        try:
            for k, name in enumerate(STEPS):
                if k and think_s:
                    await asyncio.sleep(think_s[k - 1])
                if time.monotonic() > self.deadline:
                    self._fail(name, "deadline", "the run's --deadline passed")
                    return self
                await self.step(name)
                if name == "load" and self.last is None:
                    return self  # no page: nothing else to do
        finally:
            await self.session.close()
        return self


# ------------------------------------------------------------------ /proc


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _stat(int(entry))) is not None:
            kids.setdefault(int(st[1]), []).append(int(entry))
    return kids


def _tree(pid: int, kids: dict[int, list[int]]) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of one process, None once it is gone (a killed replica keeps its last sample)."""
    st = _stat(pid)
    return (int(st[11]) + int(st[12])) / CLOCK_TICKS if st else None


def rss_mib(pids: list[int]) -> float:
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total / 1024


class Probe:
    """Every ``every`` s: CPU seconds of each replica's tree, nginx's and this process's, and each replica's RSS peak.

    A process counts from its first sample to its last, so a killed replica's CPU up to its death is kept and its
    restarted process counts from when it appears.
    """

    def __init__(self, deployment: Deployment, every: float = 0.5) -> None:
        self.d, self.every = deployment, every
        self.first: dict[tuple[str, int], float] = {}
        self.last: dict[tuple[str, int], float] = {}
        self.peak = [0.0] * len(deployment.replicas)
        self._task: asyncio.Task | None = None

    def groups(self) -> dict[str, list[int]]:
        kids = _children()
        out = {f"replica {r.index}": _tree(r.proc.pid, kids) for r in self.d.replicas if r.proc is not None}
        out["nginx"] = _tree(self.d.nginx.pid, kids) if self.d.nginx is not None else []
        out["generator"] = [os.getpid()]
        return out

    def sample(self) -> None:
        for name, pids in self.groups().items():
            for p in pids:
                key = (name, p)
                now = cpu_s(p) if p != os.getpid() else time.process_time()
                if now is None:
                    continue
                self.first.setdefault(key, now if self._task is None else 0.0)
                self.last[key] = now
            if name.startswith("replica "):
                i = int(name.split()[1])
                self.peak[i] = max(self.peak[i], rss_mib(pids))

    def cpu(self, prefix: str) -> float:
        """CPU seconds of the groups whose name starts with ``prefix`` ("replica" for all replicas)."""
        return sum(v - self.first[k] for k, v in self.last.items() if k[0].startswith(prefix))

    def cpu_of(self, name: str) -> float:
        return sum(v - self.first[k] for k, v in self.last.items() if k[0] == name)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            self.sample()

    def __enter__(self) -> Probe:
        self.sample()
        self._task = asyncio.get_running_loop().create_task(self._loop())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        self.sample()


def replica_rss(d: Deployment) -> list[float]:
    kids = _children()
    return [rss_mib(_tree(r.proc.pid, kids)) for r in d.replicas]


# ------------------------------------------------------------------ levels


def pace(args: argparse.Namespace, n: int, r: int, k: int) -> dict[str, Any]:
    """Participant k's arrival (uniform over the window; alone: at once) and think times, seeded."""
    rng = random.Random(f"{args.seed}/{n}/{r}/{k}")
    lo, hi = args.think
    return {"arrive_s": rng.uniform(0, args.window) if n > 1 else 0.0,
            "think_s": [rng.uniform(lo, hi) for _ in STEPS[1:]]}


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20, method="inclusive")[18] if len(xs) > 1 else xs[0]


def stats(xs: list[float]) -> dict[str, Any]:
    return {"n": len(xs), "p50_s": statistics.median(xs), "p95_s": p95(xs), "max_s": max(xs)} if xs else {"n": 0}


async def kill_later(d: Deployment, index: int, after_s: float, note: dict[str, Any]) -> None:
    await asyncio.sleep(after_s)
    r = d.replicas[index]
    note.update(replica=index, pid=r.proc.pid, at=time.time())
    os.killpg(r.proc.pid, signal.SIGKILL)
    print(f"  killed replica {index} (pid {note['pid']}) {after_s:g} s into the level", file=sys.stderr, flush=True)


async def level(args: argparse.Namespace, d: Deployment, n: int, plans: list[Script], deadline: float) -> dict[str, Any]:
    rounds = math.ceil(MIN_ALONE / n) if n == 1 else 1
    done: list[Participant] = []
    kill: dict[str, Any] = {}
    t0 = time.perf_counter()
    with Probe(d) as probe:
        for r in range(rounds):
            people = [Participant(d.url, plans[1 + (r * n + k) % (len(plans) - 1)], timeout_s=args.step_timeout,
                                  deadline=deadline) for k in range(n)]
            tasks = [p.run(**pace(args, n, r, k)) for k, p in enumerate(people)]
            if args.kill_replica_at is not None and n > 1:
                tasks.append(kill_later(d, args.kill_replica, args.kill_replica_at, kill))
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=max(1.0, deadline - time.monotonic() + 30))
            done += people
    wall = time.perf_counter() - t0
    await asyncio.sleep(args.settle)
    every = [x for p in done for x in p.latency.values()]
    failures = [f | {"participant": i} for i, p in enumerate(done) for f in p.failures]
    kinds: dict[str, int] = {}
    for f in failures:
        kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
    server, gen = probe.cpu("replica"), probe.cpu("generator")
    row = {"n": n, "k": len(d.replicas), "rounds": rounds, "participants": len(done), "wall_s": wall,
           "all": stats(every), "steps": {s: stats([p.latency[s] for p in done if s in p.latency]) for s in STEPS},
           "errors": len(failures), "errors_by_kind": kinds, "failures": failures[:50],
           "server_cpu_s": server, "server_cpu_per_replica_s": [probe.cpu_of(f"replica {r.index}") for r in d.replicas],
           "nginx_cpu_s": probe.cpu("nginx"), "generator_cpu_s": gen,
           "generator_share": gen / server if server else None,
           "rss_peak_mib": probe.peak, "rss_after_mib": replica_rss(d), "loadavg": loadavg(),
           "reconnects": sum(p.session.reconnects for p in done)}
    if kill:
        outages = [o for p in done for o in p.outages]
        hit = sorted({f["participant"] for f in failures if f["kind"] == "disconnect"})
        row["fault"] = {**kill, "failed_interactions": sum(f["kind"] == "disconnect" for f in failures),
                        "participants_hit": len(hit), "outage_s": stats(outages),
                        "unrecovered": sum(p._down_since is not None for p in done),
                        "restarts": [r.restarts for r in d.replicas]}
    return row


def print_level(row: dict[str, Any], file: Any = sys.stdout) -> None:
    a = row["all"]
    lat = f"p50/p95 {a['p50_s']:.3f}/{a['p95_s']:.3f} s" if a["n"] else "no interaction finished"
    steps = "  ".join(f"{s} {v['p50_s']:.2f}/{v['p95_s']:.2f}" for s, v in row["steps"].items() if v["n"])
    share = f"{100 * row['generator_share']:.1f}%" if row["generator_share"] is not None else "-"
    if row["generator_share"] is not None and row["generator_share"] > 0.2:
        share += ", OVER 20%: the generator disturbs what it measures"
    print(f"K={row['k']} N={row['n']:>2} ({row['participants']} participants, {a['n']} interactions) {lat}  "
          f"errors {row['errors']} {row['errors_by_kind'] or ''}  CPU s: replicas {row['server_cpu_s']:.1f} ("
          f"{' + '.join(f'{x:.1f}' for x in row['server_cpu_per_replica_s'])}), nginx "
          f"{row['nginx_cpu_s']:.1f}, generator {row['generator_cpu_s']:.1f} ({share} of replicas)  RSS MiB per "
          f"replica after {', '.join(f'{x:.0f}' for x in row['rss_after_mib'])} (peak "
          f"{', '.join(f'{x:.0f}' for x in row['rss_peak_mib'])})  wall {row['wall_s']:.0f} s  load {row['loadavg']}",
          file=file, flush=True)
    print(f"       per step p50/p95 s: {steps}", file=file, flush=True)
    if "fault" in row:
        f = row["fault"]
        o = f["outage_s"]
        print(f"       fault: replica {f['replica']} killed; {f['failed_interactions']} interaction(s) failed for "
              f"{f['participants_hit']} participant(s); outage " + (f"p50/max {o['p50_s']:.1f}/{o['max_s']:.1f} s"
                                                                     if o["n"] else "none") +
              f"; unrecovered {f['unrecovered']}; restarts per replica {f['restarts']}", file=file, flush=True)
    for fl in row["failures"][:5]:
        print(f"       #{fl['participant']} {fl['step']}: {fl['kind']}: {fl['message']}", file=file, flush=True)


async def run(args: argparse.Namespace, plans: list[Script]) -> dict[str, Any]:
    report: dict[str, Any] = {"machine": machine(), "db": str(args.db), "replicas": args.replicas,
                              "scenario": (f"paced: arrivals uniform over {args.window:g} s, think {args.think[0]:g}-"
                                           f"{args.think[1]:g} s, seed {args.seed}"), "levels": []}
    deadline = time.monotonic() + args.deadline
    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as tmp:
        d = Deployment(replicas_n=args.replicas, db=args.db, workdir=Path(tmp), log=args.verbose,
                       env=dict(kv.split("=", 1) for kv in args.env), nginx_workers=1)
        try:
            d.start()
        except LaunchError as e:
            raise SystemExit(f"error: {e.message}") from None
        try:
            await asyncio.sleep(args.settle)
            report["rss_idle_mib"] = replica_rss(d)
            # Warm-up: the full script once per replica, straight to its port (the proxy might send both to one).
            warm = [Participant(r.url, plans[0], timeout_s=args.step_timeout * 3, deadline=deadline) for r in d.replicas]
            await asyncio.gather(*(p.run() for p in warm))
            bad = [f for p in warm for f in p.failures]
            if bad:
                raise SystemExit(f"the warm-up failed: {bad[0]}")
            report["warmup_s"] = [p.latency for p in warm]
            await asyncio.sleep(args.settle)
            report["rss_after_warmup_mib"] = replica_rss(d)
            print(f"RSS MiB per replica: idle {', '.join(f'{x:.0f}' for x in report['rss_idle_mib'])}; after warm-up "
                  f"{', '.join(f'{x:.0f}' for x in report['rss_after_warmup_mib'])}", file=sys.stderr, flush=True)
            for n in args.levels:
                if time.monotonic() > deadline:
                    raise SystemExit(f"--deadline {args.deadline:.0f} s reached before N = {n}")
                row = await level(args, d, n, plans, deadline)
                report["levels"].append(row)
                print_level(row, file=sys.stderr)
            report["restarts"] = [r.restarts for r in d.replicas]
        finally:
            d.stop()
        report["server_tracebacks"] = sum((Path(tmp) / f"replica-{r.index}.log").read_text(errors="replace")
                                          .count("Traceback") for r in d.replicas
                                          if (Path(tmp) / f"replica-{r.index}.log").exists())
    return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicas", type=int, default=1, help="K Streamlit processes behind nginx (1)")
    ap.add_argument("--levels", default="1,10,30,60", help=f"comma-separated N, each at most {MAX_SESSIONS}")
    ap.add_argument("--window", type=float, default=60.0, help="arrivals uniform over this many seconds (60)")
    ap.add_argument("--think", default="5,15", help="think time between steps, uniform in LO,HI seconds (5,15)")
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--step-timeout", type=float, default=60.0, help="seconds one script run may take (60)")
    ap.add_argument("--deadline", type=float, default=1800.0, help="seconds for the whole run (1800)")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds before reading memory (5)")
    ap.add_argument("--kill-replica-at", type=float, default=None, metavar="SECONDS",
                    help="SIGKILL a replica this many seconds into each level with N > 1 (the supervisor restarts it)")
    ap.add_argument("--kill-replica", type=int, default=0, help="which replica --kill-replica-at kills (0)")
    ap.add_argument("--quick", action="store_true",
                    help="a small check on a busy machine: levels 1,3, arrivals over 5 s, think 1-2 s, settle 2 s "
                         "(options given explicitly still win)")
    ap.add_argument("--db", type=Path, default=None, help="statistics database (default: $ATLAS_DB, else the cache's)")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra environment for the replicas")
    ap.add_argument("--json", type=Path, help="also write the full report here")
    ap.add_argument("--verbose", action="store_true", help="print the launcher's events")
    args = ap.parse_args()
    if args.quick:
        for name, value in QUICK.items():
            if getattr(args, name) == ap.get_default(name):
                setattr(args, name, value)
    args.levels = [int(x) for x in str(args.levels).split(",")]
    args.think = tuple(float(x) for x in str(args.think).split(","))
    if len(args.think) != 2 or not 0 <= args.think[0] <= args.think[1]:
        ap.error("--think takes LO,HI seconds with 0 <= LO <= HI")
    if not all(1 <= n <= MAX_SESSIONS for n in args.levels):
        ap.error(f"each level must be between 1 and {MAX_SESSIONS}")
    if args.replicas < 1 or not 0 <= args.kill_replica < args.replicas:
        ap.error("--replicas must be at least 1 and --kill-replica one of them (0-based)")
    args.db = (args.db or default_db_path()).resolve()
    if not args.db.is_file():
        ap.error(f"no database at {args.db}: run `python -m analysis build` or pass --db")
    plans = scripts(1 + max(max(args.levels), MIN_ALONE), args.seed)
    report = asyncio.run(run(args, plans))
    print(f"\n{report['machine']['cpus']} CPU(s) {report['machine']['cpu']}; K = {args.replicas}; {report['scenario']}")
    print(f"RSS MiB per replica: idle {', '.join(f'{x:.0f}' for x in report['rss_idle_mib'])}, after warm-up "
          f"{', '.join(f'{x:.0f}' for x in report['rss_after_warmup_mib'])}")
    for row in report["levels"]:
        print_level(row)
    alone = next((row for row in report["levels"] if row["n"] == 1 and row["all"]["n"]), None)
    if alone is not None:
        for row in report["levels"]:
            if row["all"]["n"]:
                row["p95_ratio_vs_1"] = row["all"]["p95_s"] / alone["all"]["p95_s"]
                print(f"p95 ratio N={row['n']} / N=1: {row['p95_ratio_vs_1']:.2f} (target at N = 30, K = 2: <= 3)")
    fine = [row["n"] for row in report["levels"] if row["all"]["n"] and row["all"]["p95_s"] <= 1.0 and not row["errors"]]
    report["sessions_per_core"] = max(fine) / report["machine"]["cpus"] if fine else 0.0
    print(f"sessions per core at p95 <= 1 s (largest N measured, no errors, / {report['machine']['cpus']} cores): "
          f"{report['sessions_per_core']:.1f}")
    print(f"server tracebacks in the replicas' logs: {report['server_tracebacks']}; restarts: {report['restarts']}")
    if args.json:
        tmp = args.json.with_name(args.json.name + ".tmp")
        tmp.write_text(json.dumps(report, indent=1))
        os.replace(tmp, args.json)
    return 1 if any(row["errors"] for row in report["levels"]) and args.kill_replica_at is None else 0


if __name__ == "__main__":
    sys.exit(main())
