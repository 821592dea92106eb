"""Real browser: Debian's Chromium, driven by Playwright, against a real `streamlit run` on a free port.

Screenshots land in test-artifacts/ (git-ignored) so a reviewer can see what users see.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from analysis import get_tokenizer
from tests import serve
from tests.serve import stop_server

pytestmark = pytest.mark.browser
expect.set_options(timeout=30_000)  # a busy 2-core CI machine renders slowly; waiting is not asserting a time

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
XSS = "<script>alert(1)</script><img src=x onerror=alert(1)>"


def start_server(db: Path) -> tuple[subprocess.Popen, str]:
    try:
        return serve.start_server(db, timeout=60)
    except RuntimeError as e:
        pytest.fail(str(e))


@pytest.fixture(scope="module")
def server(app_db: Path):
    """The app on the test database, for the module's tests."""
    proc, url = start_server(app_db)
    yield url
    stop_server(proc)


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    """A fresh context per test; every dialog (alert) is recorded and dismissed; a screenshot at the end."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    yield pg
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def wait_idle(page, timeout: float = 90_000) -> None:
    """Wait until the app is connected and Streamlit has finished the current script run."""
    page.wait_for_timeout(400)  # an interaction's rerun starts a moment after the event
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)


def counts(page) -> dict[str, int]:
    """Token counts as the page prints them above each tokenizer's view ("**id** · N tokens")."""
    expect(page.locator(".ta-tokens").first).to_be_visible()
    out = {}
    for text in page.locator('[data-testid="stMarkdownContainer"] p').all_inner_texts():
        m = re.fullmatch(r"(\S+) · ([\d,]+) tokens", text.strip())
        if m:
            out[m.group(1)] = int(m.group(2).replace(",", ""))
    return out


def counts_when(page, ready, timeout: float = 90.0) -> dict[str, int]:
    """The counts once `ready(counts)` holds, or the last counts read when `timeout` seconds have passed.

    An upload or a widget change starts its rerun after a network round trip, which on a loaded machine can come
    later than `wait_idle`'s grace: reading the counts at once could see the previous run's page. The caller still
    asserts the exact values, so a page that never shows them fails the test.
    """
    deadline = time.monotonic() + timeout
    while True:
        wait_idle(page)
        got = counts(page)
        if ready(got) or time.monotonic() > deadline:
            return got
        page.wait_for_timeout(250)


def type_text(page, text: str) -> None:
    area = page.get_by_label("Text", exact=True)
    area.fill(text)
    area.press("Control+Enter")
    wait_idle(page)


def test_paste_text_pick_tokenizers_read_counts(server, page) -> None:
    page.goto(server)
    page.wait_for_selector("text=Playground")
    wait_idle(page)
    assert set(counts(page)) == {"o200k_base", "llama3", "gemma3", "qwen3", "mistral-tekken", "bert-uncased"}
    text = "Tokenizers treat languages differently: नमस्ते दुनिया, 你好世界, ሰላም ዓለም."
    type_text(page, text)
    # Pick one more tokenizer through the multiselect, as a user would.
    page.get_by_label("Tokenizers", exact=False).first.click()
    page.keyboard.type("cl100k_base")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    got = counts_when(page, lambda got: "cl100k_base" in got)
    assert got == {t: get_tokenizer(t).count(text) for t in got}
    assert "cl100k_base" in got and len(got) == 7
    # The URL is the permalink: it carries the tokenizers and the text.
    query = urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)
    assert query["text"] == [text] and "cl100k_base" in query["tokenizers"][0].split(",")


def test_permalink_opens_the_same_state(server, page) -> None:
    text = "Ünïcödé → 😀 façade"
    page.goto(f"{server}/?tokenizers=utf8-bytes,codepoints,cl100k_base&ws=1&text={urllib.parse.quote(text)}")
    wait_idle(page)
    assert counts(page) == {"utf8-bytes": len(text.encode()), "codepoints": len(text),
                            "cl100k_base": get_tokenizer("cl100k_base").count(text)}
    expect(page.locator(".ta-ws").first).to_be_visible()  # whitespace made visible
    expect(page.locator(".ta-split").first).to_be_visible()  # split characters drawn once, with a marker
    assert "\ufffd" not in page.locator(".ta-tokens").first.inner_text()


def test_script_injection_is_shown_literally(server, page) -> None:
    # Through the URL parameter...
    page.goto(f"{server}/?tokenizers=words,cl100k_base&text={urllib.parse.quote(XSS)}")
    wait_idle(page)
    expect(page.locator(".ta-tokens").first).to_be_visible()
    first = page.locator(".ta-tokens").first.inner_text()
    assert first == XSS  # no mark written into the text (issue 14 saw "<img⚠ src=x onerror⚠=alert(1)>")
    # ... and through the page.
    type_text(page, XSS + " again")
    assert XSS in page.locator(".ta-tokens").first.inner_text()
    page.wait_for_timeout(500)
    assert page.dialogs == []
    assert page.locator("img[src=x]").count() == 0


def test_upload_a_file(server, page, tmp_path: Path) -> None:
    f = tmp_path / "sample.tsv"
    f.write_bytes("lang\ttext\nen\tHello world\nhi\tनमस्ते दुनिया\n".encode("utf-16"))
    page.goto(f"{server}/?tokenizers=codepoints")
    wait_idle(page)
    page.get_by_text("Upload a file").click()
    wait_idle(page)
    page.locator('input[type="file"]').set_input_files(str(f))
    expect(page.get_by_text("utf-16-le").first).to_be_visible(timeout=90_000)  # the upload is read
    first_column = {"codepoints": len("en\nhi")}  # the first column is picked first
    assert counts_when(page, lambda got: got == first_column) == first_column
    page.get_by_label("Field to tokenize (rows joined by newlines)").click()
    page.get_by_role("option", name="text").click()
    text_column = {"codepoints": len("Hello world\nनमस्ते दुनिया")}
    assert counts_when(page, lambda got: got == text_column) == text_column


def test_premium_map(server, page) -> None:
    page.goto(f"{server}/premiums")
    wait_idle(page)
    page.get_by_role("tab", name="Map", exact=True).click()
    points = page.locator(".js-plotly-plot .scattergeo .point")
    expect(points.first).to_be_visible(timeout=30_000)
    # One marker per variant with coordinates, for the first of the default tokenizers.
    assert points.count() > 450


def test_killed_mid_request_leaves_the_database_untouched(app_db: Path, browser, tmp_path: Path) -> None:
    import hashlib
    import shutil

    db = tmp_path / "atlas.duckdb"
    shutil.copyfile(app_db, db)
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    proc, url = start_server(db)
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"{url}/premiums")
        # Mid-request: the server dies while the explorer's script run (queries, charts) is in progress.
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="running"]', timeout=60_000)
    finally:
        stop_server(proc, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atlas.duckdb"]  # no lock, WAL or temporary file left
    proc, url = start_server(db)  # restarts cleanly on the same file
    try:
        page.goto(f"{url}/premiums")
        wait_idle(page)
        expect(page.get_by_role("heading", name="Premium explorer")).to_be_visible()
        expect(page.get_by_text("532 of 532 variants shown", exact=False)).to_be_visible()
    finally:
        stop_server(proc)
        context.close()
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest


COPY_TEXTS = ["Every human being is born free. सभी मनुष्य जन्म से स्वतंत्र हैं। 人人生而自由。 ሰው ሁሉ ሲወለድ ነጻ ነው።",
              "a  b\tc\nd 👩\u200d👩\u200d👧 e\u0301 مرحبا ForCanBeConverted"]


@pytest.mark.parametrize("ws", ["0", "1"])
def test_token_view_copies_back_the_input(server, page, ws: str) -> None:
    """Issue 14: every mark (bars, badges, ×n, ⚠, whitespace signs, BOS pieces) is drawn by CSS, so each tokenizer's
    token view reads back exactly the input: its innerText, and the text a reader selects with the mouse and copies."""
    tokenizers = "o200k_base,llama3,bert-uncased,utf8-bytes"
    for text in COPY_TEXTS:
        page.goto(f"{server}/?tokenizers={tokenizers}&ws={ws}&text={urllib.parse.quote(text)}")
        wait_idle(page)
        views = page.locator(".ta-tokens")
        expect(views).to_have_count(4)
        for k in range(4):
            assert views.nth(k).inner_text() == text, (k, text)
            # What a selection of the whole view copies (the clipboard takes the selection's text).
            selected = views.nth(k).evaluate("el => { const r = document.createRange(); r.selectNodeContents(el); "
                                             "const s = window.getSelection(); s.removeAllRanges(); s.addRange(r); "
                                             "return s.toString(); }")
            assert selected == text, (k, text)
    # The one flag of the second text: llama3's " ForCanBeConverted", drawn as a mark, its source in the hover.
    flagged = page.locator(".ta-flag")
    expect(flagged).to_have_count(1)
    assert flagged.inner_text() == " ForCanBeConverted"
    assert "meta-llama/Meta-Llama-3-8B" in flagged.get_attribute("title")
    assert page.evaluate("el => getComputedStyle(el, '::before').content", flagged.element_handle()) == '"⚠"'


def test_token_links_open_the_token_page_and_add_no_text(server, page) -> None:
    """Issue 22: every token of the token view is a link to its token page; the links add no text."""
    text = "Every human being is born free. 人人生而自由。"
    page.goto(f"{server}/?tokenizers=llama3&text={urllib.parse.quote(text)}")
    wait_idle(page)
    view = page.locator(".ta-tokens")
    expect(view).to_have_count(1)
    assert view.inner_text() == text
    links = view.locator("a.ta-link")
    ids = get_tokenizer("llama3").encode(text).ids
    # One link per drawn group: a character split over several tokens is one group (it links its first token).
    assert 0 < links.count() <= len(ids)
    href = links.nth(1).get_attribute("href")
    assert href == f"token?tokenizer=llama3&id={ids[1]}"  # " human"
    links.nth(1).click()
    page.wait_for_url(re.compile(r".*/token\?tokenizer=llama3&id=\d+"))
    wait_idle(page)
    expect(page.get_by_role("heading", name=f"' human' · id {ids[1]:,} of llama3")).to_be_visible()
    expect(page.get_by_text("Frequency by language in this database's corpora")).to_be_visible()
    assert not page.dialogs


def test_conversation_mode_draws_template_and_content_tokens(server, page) -> None:
    """Issue 22: the Playground's Conversation mode shows each template's tokens apart from the content's."""
    page.goto(server)
    wait_idle(page)
    page.get_by_text("Conversation", exact=True).click()
    wait_idle(page)
    chats = page.locator(".ta-chat")
    expect(chats).to_have_count(5)  # llama3, qwen3, mistral-v3, mistral-tekken, gpt-oss
    llama = chats.first
    # The default conversation has 4 messages: 4 <|start_header_id|> of its own and the generation prompt's.
    expect(llama.locator(".ta-t[data-special]", has_text="<|start_header_id|>")).to_have_count(5)
    assert llama.locator(".ta-c").first.inner_text() == "You"
    assert llama.inner_text().startswith("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are")


def test_lone_surrogate_is_counted_as_a_replacement_character_with_a_warning(server, page) -> None:
    # A browser string can hold a lone surrogate (half of an emoji); its protocol encoder writes bytes that are not
    # UTF-8, and the server used to drop the connection (1002) while the page kept the previous counts (issue 21).
    page.goto(f"{server}/?tokenizers=utf8-bytes,codepoints&text=hi")
    wait_idle(page)
    assert counts(page) == {"utf8-bytes": 2, "codepoints": 2}
    area = page.get_by_label("Text", exact=True)
    area.evaluate("""el => {
        const set = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value").set;
        set.call(el, "ab" + String.fromCharCode(0xD83D) + "cd");
        el.dispatchEvent(new Event("input", {bubbles: true}));
    }""")
    area.press("Control+Enter")
    # The warning shows once the rerun with the new text is done (the old code never reran: no message at all).
    expect(page.get_by_text("The text holds U+FFFD replacement characters", exact=False)).to_be_visible()
    wait_idle(page)
    assert counts(page) == {"utf8-bytes": 7, "codepoints": 5}  # a, b, U+FFFD (3 bytes), c, d
    type_text(page, "still connected")  # the session goes on
    still = {"utf8-bytes": 15, "codepoints": 15}
    assert counts_when(page, lambda got: got == still) == still


def test_visitors_see_no_developer_toolbar(server, page) -> None:
    """Issue 16: the hosted demo shows no "Deploy" button (client.toolbarMode = "viewer" in .streamlit/config.toml)."""
    page.goto(f"{server}/?tokenizers=utf8-bytes&text=hi")
    wait_idle(page)
    assert counts(page) == {"utf8-bytes": 2}
    expect(page.get_by_text("Deploy", exact=True)).to_have_count(0)
