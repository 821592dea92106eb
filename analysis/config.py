"""Where things live: configuration by environment variables, with defaults in the checkout."""

from __future__ import annotations

import os
from pathlib import Path

#: The checkout's root (the folder holding analysis/, app/, assets/).
ROOT = Path(__file__).resolve().parent.parent

#: Folder of small, committed data (the catalogue lives here).
ASSETS_DIR = ROOT / "assets"
CATALOGUE_PATH = ASSETS_DIR / "catalogue.toml"


def cache_dir() -> Path:
    """The asset cache: ``$ATLAS_CACHE``, default ``.cache/atlas`` in the checkout (git-ignored)."""
    env = os.environ.get("ATLAS_CACHE")
    return Path(env).expanduser() if env else ROOT / ".cache" / "atlas"
