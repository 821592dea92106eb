"""The public-demo image, built from the Dockerfile and run here: podman, runc, and base images bootstrapped from
Debian packages (tests/container_image.py; docs/container.md).

One module-scoped build (the bases are cached under .cache/container-bases/), one container for the browser checks,
each container removed at the end whatever happens. Skipped only where podman, runc or debootstrap is missing or the
test does not run as root (`bash .ci/install-browser`, which `.ci/run` runs first, installs them).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from analysis import get_tokenizer
from analysis.playground import DEFAULT_TEXT
from tests import container_image as ci
from tests.serve import free_port
from tests.test_browser import counts, counts_when
from tests.test_browser import wait_idle as wait_for_run

pytestmark = [pytest.mark.browser, pytest.mark.container, pytest.mark.slow]
expect.set_options(timeout=60_000)  # a busy 2-core machine renders slowly; waiting is not asserting a time

#: One tag per checkout, so that test runs in two worktrees of one machine do not run each other's image.
TAG = f"localhost/token-atlas:test-{hashlib.sha256(str(ci.ROOT).encode()).hexdigest()[:8]}"
#: Bounds against a hang, not expectations: on a 2-core machine shared with other builds (load average 12), the bases
#: took 12.5 minutes and the build 16 to 18.5 (docs/container.md); CI has 90 minutes for everything, ~11 of them for the rest.
BASES_TIMEOUT, BUILD_TIMEOUT, HEALTH_TIMEOUT = 25 * 60, 45 * 60, 5 * 60
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
#: The Playground's default tokenizers (app/views/playground.py), as tests/test_browser.py reads them.
DEFAULT_TOKENIZERS = {"o200k_base", "llama3", "gemma3", "qwen3", "mistral-tekken", "bert-uncased"}
TEXT = "Tokenizers treat languages differently: नमस्ते दुनिया, 你好世界, ሰላም ዓለም."
#: The dashboard's pages by URL path (app/streamlit_app.py; "" is the Playground) and each page's title (app/views/).
PAGES = {"": "Playground", "premiums": "Premium explorer", "vocabulary": "Vocabulary comparison",
         "glitch": "Glitch tokens", "lab": "Tokenizer lab", "import": "Import a corpus", "sql": "SQL console",
         "methods": "Methods", "tokenizers": "Tokenizers", "token": "Token"}


def say(message: str) -> None:
    print(f"[image {time.strftime('%H:%M:%S')}] {message}", flush=True)


@pytest.fixture(scope="module")
def image() -> str:
    """The image built from this checkout on bases bootstrapped from Debian packages."""
    if missing := ci.missing_tools():
        pytest.skip(f"{', '.join(missing)} not installed: run `bash .ci/install-browser` as root (it installs podman, "
                    "runc and debootstrap with apt-get)")
    if os.geteuid() != 0:
        pytest.skip("debootstrap, chroot and podman's chroot build need root: run the tests as root (as CI does)")
    started = time.monotonic()
    bases = ci.ensure_bases(say=say, timeout=BASES_TIMEOUT)
    say(f"bases ready after {time.monotonic() - started:.0f} s: {bases}")
    ci.build_image(TAG, bases, log=ARTIFACTS / "image-build.log", say=say, timeout=BUILD_TIMEOUT)
    say(f"image built after {time.monotonic() - started:.0f} s")
    return TAG


def start(image: str, *, env: dict[str, str] | None = None):
    """A container running the image's own CMD on a free loopback port; (name, URL) once it is healthy."""
    port = free_port()
    name = f"token-atlas-test-{os.getpid()}-{port}"
    command = ["127.0.0.1" if word == "0.0.0.0" else word for word in ci.image_command(image)]
    url = f"http://127.0.0.1:{port}"
    try:
        ci.run_detached(image, name, [*command, "--server.port", str(port)], env=env)
        ci.wait_healthy(url, name, timeout=HEALTH_TIMEOUT)
    except BaseException:
        ci.remove_container(name)
        raise
    return name, url


@pytest.fixture(scope="module")
def container(image: str):
    started = time.monotonic()
    name, url = start(image)
    say(f"healthy after {time.monotonic() - started:.0f} s at {url}")
    yield name, url
    ci.remove_container(name)


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    yield pg
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"image-{request.node.name}.png"), full_page=True)
    context.close()


def wait_idle(page) -> None:
    """The browser tests' wait, with this module's longer bound (the image's first runs load every tokenizer)."""
    wait_for_run(page, timeout=180_000)


def deploy_buttons(page) -> int:
    """How many developer "Deploy" buttons the page shows (Streamlit's toolbar)."""
    return page.get_by_test_id("stAppDeployButton").count() + page.get_by_role("button", name="Deploy").count()


def test_the_image_serves_the_playground_with_the_librarys_counts(container, page) -> None:
    _, url = container
    page.goto(url)
    page.wait_for_selector("text=Playground")
    wait_idle(page)
    first = counts(page)  # the Playground's own example sentence
    assert first == {t: get_tokenizer(t).count(DEFAULT_TEXT) for t in DEFAULT_TOKENIZERS}
    area = page.get_by_label("Text", exact=True)
    area.fill(TEXT)
    area.press("Control+Enter")
    want = {t: get_tokenizer(t).count(TEXT) for t in DEFAULT_TOKENIZERS}
    got = counts_when(page, lambda got: got == want)
    assert got == want
    assert got != first
    expect(page.get_by_test_id("stMainMenu")).to_be_visible()  # the header is drawn, with the viewer's menu only
    assert deploy_buttons(page) == 0


def test_every_page_opens_without_an_error(container, page) -> None:
    name, url = container
    for path, title in PAGES.items():
        page.goto(f"{url}/{path}")
        wait_idle(page)
        expect(page.get_by_role("heading", name=title).first).to_be_visible()
        assert page.get_by_test_id("stException").count() == 0, path
        assert page.get_by_text("Something went wrong").count() == 0, path
        if path == "premiums":  # the database built into the image: every UDHR variant
            expect(page.get_by_text("532 of 532 variants shown", exact=False)).to_be_visible()
        if path == "import":  # the image's ATLAS_IMPORT=0
            expect(page.get_by_text("Importing is switched off on this server (ATLAS_IMPORT=0)", exact=False)).to_be_visible()
    log = ci.logs(name)
    assert "Traceback" not in log and "Unexpected error" not in log, log[-3000:]


def test_the_images_health_check_passes_inside_the_container(container) -> None:
    name, url = container
    check = json.loads(ci.run(["podman", "image", "inspect", "--format", "{{json .Config.Healthcheck}}", TAG],
                              timeout=60).stdout)
    assert check["Test"][0] == "CMD" and "/_stcore/health" in check["Test"][-1]
    port = url.rsplit(":", 1)[1]
    command = [word.replace("127.0.0.1:8501/", f"127.0.0.1:{port}/") for word in check["Test"][1:]]
    ci.run(["podman", "exec", name, *command], timeout=60)  # raises if the check fails


def test_the_developer_toolbar_would_show_deploy(image, page) -> None:
    """The check above can fail: the same image with Streamlit's developer toolbar shows "Deploy"."""
    name, url = start(image, env={"STREAMLIT_CLIENT_TOOLBAR_MODE": "developer"})
    try:
        page.goto(url)
        wait_idle(page)
        expect(page.get_by_test_id("stAppDeployButton")).to_be_visible()
        assert deploy_buttons(page) >= 1
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "image-developer-toolbar.png"))  # before the server goes away
    finally:
        ci.remove_container(name)


#: Imports every module of the library and the app's helpers (the pages are scripts, opened in the browser above;
#: ``__main__`` runs the CLI); prints which distributions are importable, which modules failed on which missing
#: module, and the user id.
PROBE = """
import importlib, importlib.util, json, os, pkgutil
import analysis, app
failed = {}
for pkg in (analysis, app):
    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        if m.name.startswith("app.views") or m.name == "app.streamlit_app" or m.name.endswith(".__main__"):
            continue
        try:
            importlib.import_module(m.name)
        except ModuleNotFoundError as e:
            failed[m.name] = e.name
print(json.dumps({"present": [n for n in ("torch", "transformers", "ray", "streamlit", "duckdb")
                              if importlib.util.find_spec(n)], "failed": failed, "uid": os.getuid()}))
"""


def test_the_demo_image_carries_no_torch_transformers_or_ray(image) -> None:
    out = json.loads(ci.run_once(image, [".venv/bin/python", "-c", PROBE]).strip().splitlines()[-1])
    assert out["present"] == ["streamlit", "duckdb"]
    # Only the two modules that import torch at the top (model weights, prompt verification) cannot be imported.
    assert out["failed"] == {"analysis.glitch.indicators": "torch", "analysis.glitch.verify": "torch"}
    assert out["uid"] == 1000
