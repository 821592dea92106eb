"""The protocol-level load generator against a real browser: the same workshop script ends in the same counts.

tests/bench/bench_protocol.py simulates participants with Streamlit's websocket protocol only (tests/st_protocol.py);
tests/bench/bench_load.py drives Debian's Chromium. Here one participant of each replays the same script on one
server (open the Playground, paste participant 1's UDHR article, add cl100k_base, open a permalink), and the
Playground's counts at every step must be the same in both and equal to the library's.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.serve import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
STEPS = ("load", "paste", "switch", "link")


@pytest.fixture(scope="module")
def server(app_db: Path):
    proc, url = start_server(app_db, env={"ATLAS_IMPORT": "0"})
    yield proc, url
    stop_server(proc)


def test_protocol_client_and_browser_show_the_same_counts(server):
    from playwright.async_api import async_playwright

    from tests.bench import bench_load
    from tests.bench.bench_protocol import ADDED, DEFAULT_TOKENIZERS, LINK_TOKENIZERS, Participant, scripts

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash .ci/install-browser` (the README's test command does).")
    proc, url = server
    script = scripts(2, seed=16)[1]  # participant 1: the same texts bench_load gives its session 1
    assert bench_load.ADDED == ADDED and bench_load.LINK_TOKENIZERS == LINK_TOKENIZERS

    async def both():
        protocol = Participant(url, script, timeout_s=120, deadline=float("inf"))
        for step in STEPS:
            await protocol.step(step)
        await protocol.session.close()
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = bench_load.Session(browser, url, 1, bench_load.Texts(), 120, proc.pid)
            await page.run()
            await browser.close()
        return protocol, page

    protocol, page = asyncio.run(both())
    assert protocol.failures == []
    assert page.error is None
    assert page.text == script.paste
    for step in STEPS:
        assert protocol.counts[step] == page.counts[step], step
        assert protocol.counts[step] == script.expected[step], step  # the library's counts for that text
    assert sorted(protocol.counts["switch"]) == sorted([*DEFAULT_TOKENIZERS, ADDED])
    assert sorted(protocol.counts["link"]) == sorted(LINK_TOKENIZERS)
