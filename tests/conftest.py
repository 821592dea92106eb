"""Shared fixtures: the verified asset cache (fetched once, through the real fetch path)."""

from __future__ import annotations

import pytest

from analysis import fetch_assets, load_catalogue
from analysis.tokenizers import get_tokenizer


@pytest.fixture(scope="session", autouse=True)
def verified_assets() -> None:
    """Make sure every catalogue file is present and verified (downloads only what is missing)."""
    fetch_assets(progress=lambda m: print(m, flush=True))


ALL_IDS = load_catalogue().ids


@pytest.fixture(params=ALL_IDS, ids=ALL_IDS)
def any_tokenizer(request: pytest.FixtureRequest):
    """Every catalogue tokenizer, loaded once per process and shared."""
    return get_tokenizer(request.param)
