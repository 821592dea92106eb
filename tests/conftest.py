"""Shared fixtures: the verified asset cache (fetched once, through the real fetch path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import fetch_assets, load_catalogue
from analysis.tokenizers import get_tokenizer


@pytest.fixture(scope="session", autouse=True)
def verified_assets() -> None:
    """Make sure every catalogue file is present and verified (downloads only what is missing)."""
    fetch_assets(progress=lambda m: print(m, flush=True))


@pytest.fixture(scope="session", autouse=True)
def private_checks_cache(tmp_path_factory: pytest.TempPathFactory):
    """The vocabulary checks that builds keep in the asset cache, and the tokenizers' per-id tables, go to folders of
    this session's own, so that a test never depends on what an earlier run left there (CLI subprocesses inherit them
    through the environment)."""
    import os

    names = ("ATLAS_CHECKS_CACHE", "ATLAS_TABLES_CACHE")
    before = {name: os.environ.get(name) for name in names}
    for name in names:
        os.environ[name] = str(tmp_path_factory.mktemp(name.lower().replace("_", "-")))
    yield
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


ALL_IDS = load_catalogue().ids


@pytest.fixture(params=ALL_IDS, ids=ALL_IDS)
def any_tokenizer(request: pytest.FixtureRequest):
    """Every catalogue tokenizer, loaded once per process and shared."""
    return get_tokenizer(request.param)


#: Tokenizers counted into the dashboard tests' database: two real LLM vocabularies, one with UNK-flagged cells
#: (BERT), and the byte baseline whose counts anyone can check by hand.
APP_DB_TOKENIZERS = ["o200k_base", "llama3", "bert-uncased", "utf8-bytes"]


@pytest.fixture(scope="session")
def app_db(tmp_path_factory: pytest.TempPathFactory):
    """A real statistics database: the UDHR counted with APP_DB_TOKENIZERS (built once per test session)."""
    from analysis.store.build import build

    db = tmp_path_factory.mktemp("appdb") / "atlas.duckdb"
    build(db, corpora=["udhr"], tokenizers=APP_DB_TOKENIZERS, workers=2)
    return db


@pytest.fixture(scope="session")
def udhr_texts(app_db) -> list[str]:
    """Every UDHR unit's text (16,235) in the order a build and a counting job read them (``held_corpus``)."""
    from analysis.user_counts import HELD, held_corpus

    HELD.clear()
    texts = [t for piece, _ in held_corpus(app_db).pieces for t in piece]
    HELD.clear()
    return texts


@pytest.fixture
def fresh_db(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """A database path that does not exist yet, set as ATLAS_DB, with the app's caches emptied (for import pages)."""
    from tests.app_harness import clear_app_caches

    db = tmp_path / "atlas.duckdb"
    monkeypatch.setenv("ATLAS_DB", str(db))
    clear_app_caches()
    return db


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright, one per test module (Playwright cannot download a browser here)."""
    from playwright.sync_api import sync_playwright

    from tests.serve import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash .ci/install-browser` (the README's test command does).")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
