"""One encoding interface over tiktoken, HF tokenizers, SentencePiece/mistral-common and baselines."""

from .base import Encoding, Token, TokenClass, Tokenizer, TokenKind
from .registry import available_ids, clear_cache, get_tokenizer, load_file, load_hub, loaded_ids

__all__ = ["Encoding", "Token", "TokenClass", "TokenKind", "Tokenizer", "available_ids", "clear_cache", "get_tokenizer",
           "load_file", "load_hub", "loaded_ids"]
