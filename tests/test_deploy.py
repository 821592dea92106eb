"""deploy/: K real Streamlit replicas behind a real nginx on loopback (deploy/launch.py), and the compose files.

The sessions here are tests/st_protocol.py clients: Streamlit's own websocket protocol, through the proxy.
Counts are checked by hand where they can be (UTF-8 bytes: every Devanagari letter and sign is 3 bytes) and
against the library otherwise.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from analysis import get_tokenizer
from deploy.launch import Deployment, LaunchError, healthy, render

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
#: नमस्ते: न म स ् त े, six code points of the Devanagari block (U+0900-U+097F), 3 UTF-8 bytes each: 18 bytes.
TEXT = "नमस्ते"
QUERY = urllib.parse.urlencode({"tokenizers": "utf8-bytes,o200k_base", "text": TEXT})


def nginx() -> str:
    exe = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if exe is None:
        pytest.fail("nginx is missing: run `bash .ci/install-browser` (it installs nginx too) or apt-get install nginx")
    return exe


def test_compose_proxy_config_is_the_template_rendered_for_two_replicas():
    want = render(upstreams=["atlas-1:8501", "atlas-2:8501"], listen="8501")
    assert (DEPLOY / "nginx.compose.conf").read_text() == want, (
        "deploy/nginx.compose.conf is stale: python deploy/launch.py render --replicas 2 --upstream 'atlas-{i}:8501' "
        "--listen 8501 > deploy/nginx.compose.conf")
    assert "server atlas-1:8501 max_fails=1 fail_timeout=3s;\n        server atlas-2:8501" in want
    assert "daemon off" not in want and "pid " not in want  # the nginx image starts it with -g 'daemon off;'


def test_compose_file_runs_two_replicas_of_the_image_on_one_read_only_database():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert sorted(services) == ["atlas-1", "atlas-2", "proxy"]
    for name in ("atlas-1", "atlas-2"):
        s = services[name]
        assert s["image"] == "token-atlas"
        assert s["restart"] == "unless-stopped"
        assert s["environment"] == {"ATLAS_DB": "/data/atlas.duckdb", "ATLAS_IMPORT": "0"}
        assert [v.rsplit(":", 2)[1:] for v in s["volumes"]] == [["/data/atlas.duckdb", "ro"]]
        assert "/_stcore/health" in s["healthcheck"]["test"][-1]
    proxy = services["proxy"]
    assert proxy["volumes"] == ["./nginx.compose.conf:/etc/nginx/nginx.conf:ro"]
    assert proxy["depends_on"] == {"atlas-1": {"condition": "service_healthy"},
                                   "atlas-2": {"condition": "service_healthy"}}


def test_rendered_local_config_passes_nginx_own_check(tmp_path):
    conf = tmp_path / "nginx.conf"
    conf.write_text(render(upstreams=["127.0.0.1:9101", "127.0.0.1:9102"], listen="127.0.0.1:9100",
                           workdir=tmp_path))
    done = subprocess.run([nginx(), "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def test_render_refuses_no_replicas():
    with pytest.raises(LaunchError, match="at least one upstream"):
        render(upstreams=[], listen="8501")


@pytest.fixture(scope="module")
def deployment(app_db, tmp_path_factory):
    nginx()
    d = Deployment(replicas_n=2, db=app_db, workdir=tmp_path_factory.mktemp("deploy"), check_every=0.5, log=False)
    d.start()
    yield d
    d.stop()


async def _count(session, **rerun) -> dict[str, int]:
    run = await session.rerun(**rerun)
    assert run.errors == []
    return run.counts


def _by_replica(d: Deployment, address: str):
    return next(r for r in d.replicas if address == f"127.0.0.1:{r.port}")


@pytest.mark.slow
def test_through_the_proxy_a_session_counts_survives_its_replica_dying_and_the_replica_comes_back(deployment):
    from tests.st_protocol import Disconnected, Session, string_state

    d = deployment
    o200k = get_tokenizer("o200k_base").count(TEXT)
    other = "Token Atlas"  # 11 ASCII characters: 11 bytes; o200k_base: "Token", " Atlas"

    async def scenario():
        s = Session(d.url, timeout_s=60)
        await s.connect()
        assert set(s.cookies) >= {"atlas_route", "_streamlit_xsrf"}  # the proxy's sticky cookie and Streamlit's
        first = await s.rerun(query_string=QUERY)
        assert first.counts == {"utf8-bytes": 18, "o200k_base": o200k}
        served = _by_replica(d, s.replica)

        # Sticky: the same browser (same cookie) lands on the same replica again.
        again = Session(d.url)
        again.cookies = dict(s.cookies)
        await again.connect()
        assert again.replica == s.replica
        await again.close()

        # The participant types another text; the page puts it into the URL (the permalink) as well.
        text_area = first.widget("Text", "text_area")
        assert await _count(s, widgets=[string_state(text_area.id, other)]) == {"utf8-bytes": 11, "o200k_base": 2}
        assert "text=Token+Atlas" in s.query_string

        # Its replica dies: the open session notices, reconnects through the proxy and lands on the other one,
        # which starts a new session from what the client sends (query string, widget values): the same counts.
        pid = served.proc.pid
        os.killpg(pid, signal.SIGKILL)
        with pytest.raises(Disconnected):
            for _ in range(50):
                await s.rerun()
                await asyncio.sleep(0.1)
        await s.close()
        await s.connect(resume=True)
        assert s.replica != f"127.0.0.1:{served.port}"
        assert await _count(s) == {"utf8-bytes": 11, "o200k_base": 2}
        await s.close()
        return served, pid

    served, pid = asyncio.run(scenario())

    # The launcher restarts the killed replica on its port; it answers its health check again.
    deadline = time.monotonic() + 120
    while not (served.restarts >= 1 and served.proc.pid != pid and healthy(f"http://127.0.0.1:{served.port}")):
        assert time.monotonic() < deadline, f"replica {served.index} was not restarted: {d.events}"
        time.sleep(0.5)
    assert any(f"replica {served.index} exited (-9)" in what for _, what in d.events)

    async def after():
        s = Session(f"http://127.0.0.1:{served.port}")  # the restarted replica itself
        await s.connect()
        counts = await _count(s, query_string=QUERY)
        await s.close()
        return counts

    assert asyncio.run(after()) == {"utf8-bytes": 18, "o200k_base": o200k}
    with urllib.request.urlopen(f"{d.url}/_stcore/health", timeout=5) as r:
        assert r.read() == b"ok"
