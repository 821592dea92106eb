"""Token Atlas: how LLM tokenizers treat the world's languages. The library; no UI in here.

Example:
    >>> from analysis import get_tokenizer
    >>> enc = get_tokenizer("o200k_base").encode("hello world")
    >>> enc.ids
    [24912, 2375]
"""

from . import glitch  # noqa: F401  (registers the token checks with every build: see analysis.extensions)
from .assets import fetch_assets
from .catalogue import CatalogueEntry, load_catalogue
from .errors import AnalysisError, AssetError, AssetIntegrityError, InputTextError, UnknownTokenizerError
from .tokenizers import Encoding, Token, Tokenizer, TokenKind, available_ids, get_tokenizer

__all__ = [
    "AnalysisError", "AssetError", "AssetIntegrityError", "CatalogueEntry", "Encoding", "InputTextError",
    "Token", "TokenKind", "Tokenizer", "UnknownTokenizerError", "available_ids", "fetch_assets",
    "get_tokenizer", "load_catalogue",
]
