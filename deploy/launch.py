"""K Streamlit replicas of Token Atlas behind nginx on this machine, without containers; a dead replica is restarted.

    python deploy/launch.py --replicas 2 --port 8501            # until Ctrl-C; open http://127.0.0.1:8501
    python deploy/launch.py render --replicas 2 --upstream 'atlas-{i}:8501' --listen 8501   # a config for compose

Each replica is `streamlit run app/streamlit_app.py` on its own loopback port, in its own process group, with
ATLAS_DB pointing at the one database they all read (read-only connections, analysis/store/snapshots.py) and
ATLAS_IMPORT=0 (no replica writes it). nginx (the Debian package: `apt-get install -y nginx`) listens on --port and
forwards to them with sticky sessions and websocket upgrade (deploy/nginx.conf.template says how).

A supervisor thread checks every replica every --check-every seconds: a replica whose process exited is started
again on the same port (after a back-off that doubles while it keeps dying, up to 30 s); one whose
/_stcore/health has not answered "ok" for --unhealthy-after checks in a row after it was healthy is killed and
started again. nginx is supervised the same way. Every event is printed to stderr with its time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python deploy/launch.py` puts deploy/ on the path, not the checkout
    sys.path.insert(0, str(ROOT))

from analysis.errors import AnalysisError  # noqa: E402

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
MAX_BACKOFF_S = 30.0


class LaunchError(AnalysisError):
    """Something the launcher needs is missing or did not start; the message says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message, title="Cannot launch the replicas")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def render(*, upstreams: list[str], listen: str, workdir: Path | None = None, workers: int = 1) -> str:
    """deploy/nginx.conf.template with its fields filled.

    ``upstreams`` are host:port of the replicas; ``workdir`` (for a local, unprivileged nginx) holds its pid file,
    error log and temporary folders; without it they are nginx's defaults (a container's nginx).

    >>> conf = render(upstreams=["127.0.0.1:9001", "127.0.0.1:9002"], listen="127.0.0.1:8501")
    >>> "server 127.0.0.1:9002 max_fails=1 fail_timeout=3s;" in conf, "listen 127.0.0.1:8501;" in conf
    (True, True)
    """
    if not upstreams:
        raise LaunchError("No replica to proxy to: pass at least one upstream (--replicas 1 or more).")
    servers = "\n".join(f"        server {u} max_fails=1 fail_timeout=3s;" for u in upstreams)
    glob = http = ""
    if workdir is not None:
        glob = f"pid {workdir}/nginx.pid;\nerror_log {workdir}/nginx-error.log warn;\ndaemon off;"
        http = "\n".join(f"    {kind}_temp_path {workdir}/{kind}_temp;"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    out = TEMPLATE.read_text()
    for key, value in {"GLOBAL": glob, "HTTP": http, "SERVERS": servers, "LISTEN": listen,
                       "WORKERS": str(workers)}.items():
        out = out.replace("{{" + key + "}}", value)
    return out


def healthy(url: str, timeout: float = 2.0) -> bool:
    """Whether Streamlit's /_stcore/health at ``url`` answers "ok"."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=timeout) as r:
            return r.read() == b"ok"
    except OSError:
        return False


def stop_group(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Signal a process started in its own session and its whole group; SIGKILL if it does not exit within 10 s."""
    try:
        os.killpg(proc.pid, sig)
        proc.wait(10)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@dataclass
class Replica:
    """One Streamlit process on a fixed loopback port (kept across restarts, so nginx's upstream stays valid)."""

    index: int
    port: int
    proc: subprocess.Popen | None = None
    healthy: bool = False
    failed_checks: int = 0
    restarts: int = 0
    backoff_s: float = 1.0
    started_at: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Deployment:
    """K replicas and nginx on loopback; ``start()``, ``url``, ``stop()``; a context manager too.

    Example::

        with Deployment(replicas=2, db=Path("atlas.duckdb")) as d:
            urllib.request.urlopen(d.url)          # through nginx
            d.replicas[0].proc.kill()              # the supervisor starts it again
    """

    replicas_n: int = 2
    db: Path | None = None
    port: int = 0
    workdir: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    check_every: float = 1.0
    unhealthy_after: int = 5
    start_timeout: float = 120.0
    nginx_workers: int = 1
    log: bool = True
    replicas: list[Replica] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)
    nginx: subprocess.Popen | None = None

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def event(self, what: str) -> None:
        with self._lock:
            self.events.append((time.time(), what))
        if self.log:
            print(f"{time.strftime('%H:%M:%S')} launch: {what}", file=sys.stderr, flush=True)

    # ------------------------------------------------------------------ processes

    def _start_replica(self, r: Replica) -> None:
        assert self.workdir is not None
        log = open(self.workdir / f"replica-{r.index}.log", "ab")
        env = {**os.environ, "ATLAS_IMPORT": "0", **self.env}
        if self.db is not None:
            env["ATLAS_DB"] = str(self.db)
        r.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "streamlit_app.py"),
             "--server.port", str(r.port), "--server.address", "127.0.0.1", "--server.headless", "true",
             "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        log.close()
        r.healthy, r.failed_checks, r.started_at = False, 0, time.monotonic()
        self.event(f"replica {r.index} started (pid {r.proc.pid}, port {r.port})")

    def _start_nginx(self) -> None:
        assert self.workdir is not None
        exe = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
        if exe is None:
            raise LaunchError("nginx is not installed: run `apt-get install -y nginx` (Debian), then launch again.")
        conf = self.workdir / "nginx.conf"
        conf.write_text(render(upstreams=[f"127.0.0.1:{r.port}" for r in self.replicas],
                               listen=f"127.0.0.1:{self.port}", workdir=self.workdir, workers=self.nginx_workers))
        check = subprocess.run([exe, "-t", "-q", "-c", str(conf), "-p", str(self.workdir)], capture_output=True,
                               text=True)
        if check.returncode:
            raise LaunchError(f"nginx rejected {conf}: {check.stderr.strip()[-800:]}")
        self.nginx = subprocess.Popen([exe, "-c", str(conf), "-p", str(self.workdir)], stdout=subprocess.DEVNULL,
                                      stderr=open(self.workdir / "nginx.stderr", "ab"), start_new_session=True)
        self.event(f"nginx started (pid {self.nginx.pid}, port {self.port})")

    def start(self) -> Deployment:
        """Start the replicas and nginx; return once every replica is healthy and nginx answers.

        Raises:
            LaunchError: nginx missing, or a replica not healthy within ``start_timeout`` (with its log's tail).
        """
        if self.replicas_n < 1:
            raise LaunchError("--replicas must be at least 1.")
        if self.workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="atlas-deploy-")
            self.workdir = Path(self._tmp.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self.replicas = [Replica(i, free_port()) for i in range(self.replicas_n)]
        try:
            for r in self.replicas:
                self._start_replica(r)
            self._start_nginx()
            deadline = time.monotonic() + self.start_timeout
            for r in self.replicas:
                while not healthy(r.url):
                    if r.proc.poll() is not None or time.monotonic() > deadline:
                        tail = (self.workdir / f"replica-{r.index}.log").read_text(errors="replace")[-1500:]
                        raise LaunchError(f"replica {r.index} did not become healthy: {tail}")
                    time.sleep(0.2)
                r.healthy = True
                self.event(f"replica {r.index} healthy")
            while not healthy(self.url):
                if self.nginx.poll() is not None or time.monotonic() > deadline:
                    raise LaunchError("nginx did not answer: " + (self.workdir / "nginx-error.log").read_text()[-800:])
                time.sleep(0.1)
        except BaseException:
            self.stop()
            raise
        self._thread = threading.Thread(target=self._supervise, name="atlas-supervisor", daemon=True)
        self._thread.start()
        return self

    def _supervise(self) -> None:
        while not self._stop.wait(self.check_every):
            for r in self.replicas:
                self._check(r)
            if self.nginx is not None and self.nginx.poll() is not None and not self._stop.is_set():
                self.event(f"nginx exited ({self.nginx.returncode}); starting it again")
                self._start_nginx()

    def _check(self, r: Replica) -> None:
        if r.proc is None or self._stop.is_set():
            return
        code = r.proc.poll()
        if code is not None:
            self.event(f"replica {r.index} exited ({code}); restarting in {r.backoff_s:.0f} s")
            if self._stop.wait(r.backoff_s):
                return
            # A replica that dies again soon after its restart backs off longer; one that lived a minute does not.
            r.backoff_s = 1.0 if time.monotonic() - r.started_at > 60 else min(MAX_BACKOFF_S, r.backoff_s * 2)
            r.restarts += 1
            self._start_replica(r)
            return
        if healthy(r.url, timeout=5.0):  # a replica busy with script runs still answers within seconds
            if not r.healthy:
                self.event(f"replica {r.index} healthy")
            r.healthy, r.failed_checks = True, 0
        elif r.healthy or time.monotonic() - r.started_at > self.start_timeout:
            r.failed_checks += 1
            if r.failed_checks >= self.unhealthy_after:
                self.event(f"replica {r.index} failed {r.failed_checks} health checks; killing it")
                stop_group(r.proc, signal.SIGKILL)  # the next check restarts it

    def stop(self) -> None:
        """Stop the supervisor, nginx and every replica (their whole process groups)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        if self.nginx is not None:
            stop_group(self.nginx, signal.SIGQUIT)
        for r in self.replicas:
            if r.proc is not None:
                stop_group(r.proc)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Deployment:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["render"]:
        ap = argparse.ArgumentParser(prog="launch.py render", description="Print nginx.conf for given replicas.")
        ap.add_argument("--replicas", type=int, default=2)
        ap.add_argument("--upstream", default="127.0.0.1:{port}",
                        help="host:port of replica {i} (1-based), e.g. 'atlas-{i}:8501' for compose")
        ap.add_argument("--listen", default="8501", help="what nginx listens on (8501)")
        args = ap.parse_args(argv[1:])
        ups = [args.upstream.format(i=i, port=8501 + i) for i in range(1, args.replicas + 1)]
        sys.stdout.write(render(upstreams=ups, listen=args.listen))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicas", type=int, default=2, help="Streamlit processes (2)")
    ap.add_argument("--port", type=int, default=8501, help="nginx's port on 127.0.0.1 (8501)")
    ap.add_argument("--db", type=Path, default=None, help="the database every replica reads (default: $ATLAS_DB)")
    ap.add_argument("--workdir", type=Path, default=None, help="logs, nginx.conf and nginx's temp files (a temp dir)")
    ap.add_argument("--check-every", type=float, default=2.0, help="seconds between health checks (2)")
    ap.add_argument("--unhealthy-after", type=int, default=5, help="failed checks in a row before a restart (5)")
    args = ap.parse_args(argv)
    d = Deployment(replicas_n=args.replicas, db=args.db, port=args.port, workdir=args.workdir,
                   check_every=args.check_every, unhealthy_after=args.unhealthy_after)
    try:
        d.start()
    except LaunchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"Token Atlas on {d.url} ({args.replicas} replicas: "
          + ", ".join(f"{r.url} pid {r.proc.pid}" for r in d.replicas) + f"); logs in {d.workdir}. Ctrl-C stops.",
          flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        d.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
