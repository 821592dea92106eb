"""The protocol-level participant (tests/bench/bench_protocol.py over tests/st_protocol.py) against a real server.

One participant replays the whole workshop script on `streamlit run` (no proxy): every step must finish, the
Playground's counts must be the library's, the explorer must show the reference picked; and a count that differs
from the expected one must be reported as an error (the load generator's check can fail).
"""

from __future__ import annotations

import asyncio
import copy
import urllib.parse
from pathlib import Path

import pytest

from tests.serve import start_server, stop_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(app_db: Path):
    proc, url = start_server(app_db, env={"ATLAS_IMPORT": "0"})
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def script():
    from tests.bench.bench_protocol import scripts

    return scripts(3, seed=16)[2]  # participant 2: a Chinese (cmn_hans) article to paste


def _replay(url: str, script) -> object:
    from tests.bench.bench_protocol import STEPS, Participant

    async def go():
        p = Participant(url, script, timeout_s=120, deadline=float("inf"))
        for step in STEPS:
            await p.step(step)
        await p.session.close()
        return p

    return asyncio.run(go())


def test_the_workshop_script_runs_and_shows_the_library_counts(server, script):
    from tests.bench.bench_protocol import STEPS

    p = _replay(server, script)
    assert p.failures == []
    assert list(p.latency) == list(STEPS)
    for step in ("load", "paste", "switch", "link"):
        assert p.counts[step] == script.expected[step], step
    # The link's tokenizers include the byte baseline: its count is the text's UTF-8 length.
    assert p.counts["link"]["utf8-bytes"] == len(script.link.encode("utf-8"))
    assert p.counts["premiums"] == {} and p.counts["reference"] == {}
    assert p.last.widget("Tokenizers", "multiselect").value == ["gemma3", "deepseek-v3", "utf8-bytes"]
    assert urllib.parse.parse_qs(p.session.query_string)["tokenizers"] == ["gemma3,deepseek-v3,utf8-bytes"]


def test_a_count_the_library_does_not_give_is_an_error(server, script):
    wrong = copy.deepcopy(script)
    wrong.expected["paste"]["o200k_base"] += 1
    p = _replay(server, wrong)
    assert [(f["step"], f["kind"]) for f in p.failures] == [("paste", "count")]
    shown = script.expected["paste"]["o200k_base"]
    assert f"'o200k_base': ({shown}, {shown + 1})" in p.failures[0]["message"]
    assert "paste" not in p.latency and "switch" in p.latency  # the participant goes on with the next step


def test_a_long_text_survives_a_reconnect_to_a_process_that_does_not_know_the_session(server):
    """A replica died: the browser reconnects (through the proxy) to a process without its session, which starts a
    new one from what the browser sends. A text of more than 1,000 characters is not in the permalink (the URL), only
    in the text area's value: it must come back, not the sample text."""
    from analysis.playground import MAX_URL_TEXT
    from tests.st_protocol import Session, string_state

    long_text = "ab " * 400  # 1,200 ASCII characters: 1,200 UTF-8 bytes
    assert len(long_text) > MAX_URL_TEXT

    async def go():
        s = Session(server, timeout_s=120)
        await s.connect()
        run = await s.rerun(query_string="tokenizers=utf8-bytes")
        text_id = run.widget("Text", "text_area").id
        before = (await s.rerun(widgets=[string_state(text_id, long_text)])).counts
        assert "text=" not in s.query_string
        await s.close()
        s.session_id = "a-session-this-process-never-had"
        await s.connect(resume=True)
        after = await s.rerun()
        await s.close()
        return before, after

    before, after = asyncio.run(go())
    assert before == {"utf8-bytes": 1200}
    assert after.counts == {"utf8-bytes": 1200}
    assert after.widget("Text", "text_area").value == long_text


def test_a_change_the_dead_replica_never_answered_survives_the_reconnect(server):
    """The replica died while the browser sent a change (a new text, another tokenizer): the browser reconnects to a
    process without its session and sends its widgets' values, while its URL still holds the permalink of the page
    before the change. The new session must show the change, not the URL's older page (the fault run of
    docs/scaling.md lost 7 of 8 such changes before app/reconnect.py)."""
    from tests.st_protocol import Session, string_state, strings_state

    async def go():
        s = Session(server, timeout_s=120)
        await s.connect()
        run = await s.rerun(query_string="tokenizers=utf8-bytes")
        text_id, tok_id = run.widget("Text", "text_area").id, run.widget("Tokenizers", "multiselect").id
        before = await s.rerun(widgets=[string_state(text_id, "héllo")])
        link = s.query_string  # the permalink of the page before the change
        await s.close()
        s.session_id = "a-session-this-process-never-had"
        await s.connect(resume=True)
        after = await s.rerun(widgets=[string_state(text_id, "hello, world"),
                                       strings_state(tok_id, ["utf8-bytes", "codepoints"])])
        await s.close()
        return before, link, after

    before, link, after = asyncio.run(go())
    assert before.counts == {"utf8-bytes": 6}  # h, é (2 bytes), l, l, o
    assert urllib.parse.parse_qs(link)["text"] == ["héllo"]
    assert after.counts == {"utf8-bytes": 12, "codepoints": 12}
    assert after.widget("Text", "text_area").value == "hello, world"


def test_a_fresh_page_load_still_takes_the_permalink(server):
    """The other side of the reconnect rule: a new tab opening a permalink sends no widget values, so the URL wins."""
    from tests.st_protocol import Session

    async def go():
        s = Session(server, timeout_s=120)
        await s.connect()
        run = await s.rerun(query_string="tokenizers=codepoints&text=h%C3%A9llo")
        await s.close()
        return run

    assert asyncio.run(go()).counts == {"codepoints": 5}


def test_the_explorers_reference_survives_a_reconnect(server):
    """The fault run's other lost change: a reference language picked while the replica died came back as English."""
    from tests.st_protocol import Session, string_state

    async def go():
        s = Session(server, timeout_s=120)
        await s.connect()
        await s.rerun()
        run = await s.rerun(page="premiums", query_string="")
        box = run.widget("Reference language", "selectbox")
        hindi = box.option("(hin)")
        await s.close()
        s.session_id = "a-session-this-process-never-had"
        await s.connect(resume=True)
        after = await s.rerun(widgets=[string_state(box.id, hindi)])
        await s.close()
        return hindi, after

    hindi, after = asyncio.run(go())
    assert hindi == "Hindi (hin)"
    assert after.widget("Reference language", "selectbox").value == hindi
