"""Token Atlas: how LLM tokenizers treat the world's languages. The library; no UI in here.

The public names below load on first use (PEP 562), so that ``import analysis`` (as every
``python -m analysis`` command does) costs little: a command imports only what it uses.

Example:
    >>> from analysis import get_tokenizer
    >>> enc = get_tokenizer("o200k_base").encode("hello world")
    >>> enc.ids
    [24912, 2375]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import glitch  # noqa: F401  (registers the token checks with every build: see analysis.extensions)
from .errors import AnalysisError, AssetError, AssetIntegrityError, InputTextError, UnknownTokenizerError
from .lazy import lazy_names

if TYPE_CHECKING:
    from .assets import fetch_assets
    from .catalogue import CatalogueEntry, load_catalogue
    from .tokenizers import Encoding, Token, Tokenizer, TokenKind, available_ids, get_tokenizer

__all__ = [
    "AnalysisError", "AssetError", "AssetIntegrityError", "CatalogueEntry", "Encoding", "InputTextError",
    "Token", "TokenKind", "Tokenizer", "UnknownTokenizerError", "available_ids", "fetch_assets",
    "get_tokenizer", "load_catalogue",
]

#: Public name -> the module that defines it, imported when the name is first asked for.
_LAZY = {"fetch_assets": "assets", "CatalogueEntry": "catalogue", "load_catalogue": "catalogue",
         "Encoding": "tokenizers", "Token": "tokenizers", "TokenKind": "tokenizers", "Tokenizer": "tokenizers",
         "available_ids": "tokenizers", "get_tokenizer": "tokenizers"}


__getattr__, __dir__ = lazy_names(__name__, _LAZY, submodules=True)
