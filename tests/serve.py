"""A real `streamlit run` of the dashboard on a free loopback port, for the browser tests and the load test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

from deploy.launch import stop_group

ROOT = Path(__file__).resolve().parent.parent
#: Debian's Chromium and the flags it needs here (Playwright must not download a browser of its own).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_environ() -> dict[str, str]:
    """This process's environment without the per-process state a real server never inherits: the temporary folder
    of visitors' tokenizers that an in-process test may have made (each server makes its own)."""
    return {k: v for k, v in os.environ.items() if k != "ATLAS_USER_TOKENIZERS_TMP"}


def start_server(db: Path, *, env: dict[str, str] | None = None, stderr: IO[bytes] | int = subprocess.PIPE,
                 timeout: float = 90) -> tuple[subprocess.Popen, str]:
    """Start the app reading ``db`` in its own process group; (process, URL) once `/_stcore/health` answers.

    Raises:
        RuntimeError: it exited or did not become healthy within ``timeout`` seconds (with its last stderr).
    """
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "streamlit_app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**_server_environ(), "ATLAS_DB": str(db), **(env or {})}, stdout=subprocess.DEVNULL, stderr=stderr,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    return proc, url
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr and proc.poll() is not None else ""
            stop_server(proc, signal.SIGKILL)
            raise RuntimeError(f"streamlit did not become healthy: {err[-2000:]}")
        time.sleep(0.2)


def stop_server(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop the server's whole process group (SIGKILL if it does not exit within 10 s)."""
    stop_group(proc, sig)
