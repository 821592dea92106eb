"""Real browser (issue 17): a lesson link stepped through with Next/Previous and a reload; the explorer's dot plot
on a 1366×768 screen, with and without the presentation switch. Screenshots go to test-artifacts/."""

from __future__ import annotations

import itertools
import shutil
import urllib.parse
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.state import DEFAULT_TOKENIZERS
from tests.serve import stop_server
from tests.test_browser import ARTIFACTS, page, server, start_server, wait_idle  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def six_server(app_db: Path, tmp_path_factory: pytest.TempPathFactory):
    """The app on the test database plus the three default tokenizers it lacks: the explorer's default six."""
    from analysis.store.build import build

    db = tmp_path_factory.mktemp("six") / "atlas.duckdb"
    shutil.copyfile(app_db, db)
    build(db, corpora=["udhr"], tokenizers=["gemma3", "qwen3", "mistral-tekken"], workers=2)
    proc, url = start_server(db)
    yield url
    stop_server(proc)


def step_of(url: str) -> str:
    return urllib.parse.parse_qs(urllib.parse.urlparse(url).query)["step"][0]


def test_lesson_link_steps_next_previous_and_survives_a_reload(server, page) -> None:  # noqa: F811
    page.goto(f"{server}/?workshop=why-cost")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Why does my language cost more?")).to_be_visible()
    expect(page.get_by_role("heading", name="English: the yardstick")).to_be_visible()
    expect(page.get_by_text("Step 1 of 5")).to_be_visible()
    assert step_of(page.url) == "1"
    expect(page.get_by_role("button", name="← Previous")).to_be_disabled()

    page.get_by_role("button", name="Next →").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="The same article in Hindi")).to_be_visible()
    expect(page.get_by_text("Step 2 of 5")).to_be_visible()
    assert step_of(page.url) == "2"
    expect(page.locator(".ta-tokens").first).to_contain_text("सभी मनुष्यों")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lesson-why-cost-step2.png"))

    page.reload()  # the step is in the URL: a reload (or the same link on another machine) keeps it
    wait_idle(page)
    expect(page.get_by_role("heading", name="The same article in Hindi")).to_be_visible()
    assert step_of(page.url) == "2"

    page.get_by_role("button", name="Next →").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Amharic: a script the vocabulary barely knows")).to_be_visible()
    page.get_by_role("button", name="← Previous").click()
    wait_idle(page)
    page.get_by_role("button", name="← Previous").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="English: the yardstick")).to_be_visible()
    assert step_of(page.url) == "1"


@pytest.mark.parametrize("present", [False, True], ids=["normal", "presentation"])
def test_dot_plot_is_readable_on_1366x768(six_server, browser, present: bool) -> None:
    """60 languages × the six default tokenizers on a 1366×768 screen: no label overlaps, the chart fills its column."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    pg = context.new_page()
    name = "dotplot-1366x768" + ("-presentation" if present else "")
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        pg.goto(f"{six_server}/premiums" + ("?present=1" if present else ""))
        wait_idle(pg)
        plot = pg.locator(".js-plotly-plot").first
        expect(plot).to_be_visible()
        traces = pg.locator(".js-plotly-plot .scatterlayer .trace")
        expect(traces).to_have_count(6)
        legend = [t.text_content() for t in pg.locator(".js-plotly-plot .legend .traces .legendtext").all()]
        assert legend == DEFAULT_TOKENIZERS  # catalogue order: o200k_base, llama3, gemma3, qwen3, mistral-tekken, bert
        ticks = pg.locator(".js-plotly-plot .yaxislayer-above .ytick text")
        expect(ticks).to_have_count(60)
        boxes = [t.bounding_box() for t in ticks.all()]
        centres = [b["y"] + b["height"] / 2 for b in boxes]
        gaps = [abs(b - a) for a, b in itertools.pairwise(centres)]
        # Labels never overlap: each row is taller than its label's text.
        assert min(gaps) >= max(b["height"] for b in boxes), (min(gaps), max(b["height"] for b in boxes))
        # The chart fills its container: as wide as the page's content column (less than 2 px apart).
        column = pg.locator('[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"]').bounding_box()
        box = plot.bounding_box()
        assert abs(box["width"] - column["width"]) < 2, (box["width"], column["width"])
        dots = pg.locator(".js-plotly-plot .scatterlayer .trace .points path")
        assert dots.count() == 6 * 60
        # What the projector shows: the top of the chart, then one screen further down.
        plot.evaluate("e => e.scrollIntoView({block: 'start'})")
        pg.wait_for_timeout(300)
        pg.screenshot(path=str(ARTIFACTS / f"{name}.png"))
        pg.mouse.move(800, 400)
        pg.mouse.wheel(0, 700)
        pg.wait_for_timeout(300)
        pg.screenshot(path=str(ARTIFACTS / f"{name}-scrolled.png"))
    finally:
        context.close()
