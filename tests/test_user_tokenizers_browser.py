"""'Add a tokenizer' in a real Chromium against a real `streamlit run`: an upload of each format, its counts on the
page, its premiums counted in the background and shown in the Premium explorer, and a permalink that carries it."""

from __future__ import annotations

import json
import re
import urllib.parse
from pathlib import Path

import pytest
from playwright.sync_api import expect

from analysis.assets import asset_path
from analysis.catalogue import load_catalogue
from analysis.playground import DEFAULT_TEXT
from analysis.tokenizers.registry import get_tokenizer, load_file
from tests import serve
from tests.test_browser import counts, counts_when, page, wait_idle  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
expect.set_options(timeout=30_000)

FILES = {  # format -> (catalogue file, split pattern to pick, the catalogue tokenizer it must equal)
    "tokenizer.json": ("minilm/tokenizer.json", None, None),
    "sentencepiece": ("mistral/tokenizer.model.v1", None, None),
    "tiktoken": ("openai/r50k_base.tiktoken", "gpt2 (r50k_base)", "r50k_base"),
}


@pytest.fixture(scope="module")
def kept_server(app_db: Path, tmp_path_factory: pytest.TempPathFactory):
    """The app on the test database, keeping added tokenizers (ATLAS_IMPORT=1) in a folder of its own."""
    folder = tmp_path_factory.mktemp("yours")
    try:
        proc, url = serve.start_server(app_db, env={"ATLAS_IMPORT": "1", "ATLAS_USER_TOKENIZERS": str(folder)},
                                       timeout=60)
    except RuntimeError as e:
        pytest.fail(str(e))
    yield url, folder
    serve.stop_server(proc)


def add_file(page, path: Path, pattern: str | None) -> None:  # noqa: F811
    page.get_by_text("Add a tokenizer", exact=True).click()
    page.get_by_text("a file", exact=True).click()
    wait_idle(page)
    page.locator('input[type="file"]').set_input_files(str(path))
    wait_idle(page)
    if pattern is not None:
        page.get_by_label("Split pattern (.tiktoken only)").click()
        page.get_by_role("option", name=pattern).click()
        wait_idle(page)
    page.get_by_role("button", name="Add", exact=True).click()
    wait_idle(page)


@pytest.mark.parametrize("fmt", list(FILES))
def test_upload_each_format_and_read_its_counts(kept_server, page, fmt: str, tmp_path: Path) -> None:  # noqa: F811
    url, folder = kept_server
    rel, pattern, same_as = FILES[fmt]
    src = asset_path(load_catalogue().files[rel])
    upload = tmp_path / ("vocab" + {"tokenizer.json": ".json", "sentencepiece": ".model", "tiktoken": ".tiktoken"}[fmt])
    upload.write_bytes(src.read_bytes())
    page.goto(f"{url}/?tokenizers=utf8-bytes")
    wait_idle(page)
    add_file(page, upload, pattern)
    # Adding loads the file in a separate process first: give a busy machine time (a guard, not a timing assertion).
    expect(page.get_by_text(re.compile(r"Added yours:vocab\."))).to_be_visible(timeout=120_000)
    # The rest of the run that said so: both views drawn (read at once, a loaded machine once gave the new one alone).
    got = counts_when(page, lambda c: len(c) == 2 and any(t.startswith("yours:") for t in c))
    mine = [t for t in got if t.startswith("yours:")]
    assert len(mine) == 1 and mine[0].startswith(f"yours:{upload.name}:")
    tok = load_file(src, pattern=get_tokenizer(same_as).encoding._pat_str if same_as else None)
    assert got == {"utf8-bytes": len(DEFAULT_TEXT.encode()), mine[0]: tok.count(DEFAULT_TEXT)}
    if same_as:
        assert got[mine[0]] == get_tokenizer(same_as).count(DEFAULT_TEXT)
    # Stored by content, under the server's folder; the permalink carries it (this server keeps them).
    key16 = mine[0].rsplit(":", 1)[1]
    assert [p.name[:16] for p in folder.iterdir() if p.is_dir()].count(key16) == 1
    assert mine[0] in urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)["tokenizers"][0].split(",")


def test_added_tokenizer_premiums_in_the_explorer_and_its_link(kept_server, browser, tmp_path: Path) -> None:
    url, _ = kept_server
    upload = tmp_path / "mini.json"  # MiniLM's tokenizer re-serialized: other bytes (a key of its own), same tokenizer
    upload.write_text(json.dumps(json.loads(asset_path(load_catalogue().files["minilm/tokenizer.json"]).read_text())))
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.goto(f"{url}/?tokenizers=utf8-bytes")
    wait_idle(pg)
    add_file(pg, upload, None)
    # The background count: a progress bar, then 'ready' (the page stays usable meanwhile).
    expect(pg.get_by_text(re.compile(r"yours:mini\.json:[0-9a-f]{16}: premiums ready"))).to_be_visible(timeout=900_000)
    link = pg.url
    tid = next(t for t in urllib.parse.parse_qs(urllib.parse.urlparse(link).query)["tokenizers"][0].split(",")
               if t.startswith("yours:"))
    context.close()
    # A new visitor opening the link gets the tokenizer back, and so does its Premium explorer session.
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.goto(link)
    wait_idle(pg)
    assert tid in counts(pg)
    pg.get_by_role("link", name="Premium explorer").click()
    wait_idle(pg)
    pg.get_by_label("Tokenizers", exact=False).first.click()
    pg.keyboard.type("yours:mini")
    pg.keyboard.press("Enter")
    pg.keyboard.press("Escape")
    wait_idle(pg)
    pg.get_by_role("tab", name="Table", exact=True).click()
    wait_idle(pg)
    expect(pg.get_by_text("premium").first).to_be_visible()
    assert pg.get_by_text(re.compile("Something went wrong|Statistics database problem")).count() == 0
    pg.screenshot(path=str(Path(__file__).resolve().parent.parent / "test-artifacts" / "yours_premiums.png"),
                  full_page=True)
    context.close()


COMMIT = "89abcdef0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def unkept_server(app_db: Path, tmp_path_factory: pytest.TempPathFactory):
    """The app on a server that keeps nothing (ATLAS_IMPORT=0), offline, with a hub cache laid out here holding one
    repo: models--atlas-test--minilm/refs/main and snapshots/<commit>/tokenizer.json (MiniLM's real file)."""
    hub = tmp_path_factory.mktemp("hub")
    repo = hub / "models--atlas-test--minilm"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)
    (repo / "snapshots" / COMMIT).mkdir(parents=True)
    (repo / "snapshots" / COMMIT / "tokenizer.json").write_bytes(
        asset_path(load_catalogue().files["minilm/tokenizer.json"]).read_bytes())
    kept = tmp_path_factory.mktemp("kept")
    try:
        proc, url = serve.start_server(app_db, env={"ATLAS_IMPORT": "0", "ATLAS_USER_TOKENIZERS": str(kept),
                                                    "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(hub)}, timeout=60)
    except RuntimeError as e:
        pytest.fail(str(e))
    yield url, kept
    serve.stop_server(proc)


def test_hub_id_on_a_server_that_keeps_nothing(unkept_server, page) -> None:  # noqa: F811
    url, kept = unkept_server
    page.goto(f"{url}/?tokenizers=utf8-bytes")
    wait_idle(page)
    page.get_by_text("Add a tokenizer", exact=True).click()
    page.get_by_label("Repo id").fill("atlas-test/minilm")
    page.get_by_label("Repo id").press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Add", exact=True).click()
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"Added yours:atlas-test/minilm@89abcde:"))).to_be_visible(timeout=120_000)
    wait_idle(page)  # the rest of the run that said so
    got = counts(page)
    mine = [t for t in got if t.startswith("yours:")]
    assert len(mine) == 1 and mine[0].startswith("yours:atlas-test/minilm@89abcde:")
    assert got[mine[0]] == load_file(asset_path(load_catalogue().files["minilm/tokenizer.json"])).count(DEFAULT_TEXT)
    # Not kept: nothing under the keeping folder, the link leaves the tokenizer out, and the page says so.
    assert list(kept.iterdir()) == []
    assert urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)["tokenizers"] == ["utf8-bytes"]
    expect(page.get_by_text("This page's link leaves out your added tokenizers")).to_be_visible()
    # A repo the offline cache does not hold: the message says why and what to do.
    page.get_by_label("Repo id").fill("atlas-test/absent")
    page.get_by_label("Repo id").press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Add", exact=True).click()
    wait_idle(page)
    expect(page.get_by_text("atlas-test/absent cannot be fetched: this server works offline (HF_HUB_OFFLINE=1)")
           ).to_be_visible()
