"""Standard ``tokenizer.json`` pieces for lab tokenizers: pre-tokenizers, decoders, models, atomic writing.

Every tokenizer the lab trains is a plain Hugging Face ``tokenizers`` pipeline, so it loads anywhere a
``tokenizer.json`` loads (``analysis.get_tokenizer("file:/path/tokenizer.json")``). Byte-level pipelines map each
UTF-8 byte to one printable character (GPT-2's table) before the model sees it, so they encode and decode every
text exactly; character-level pipelines write spaces as ``▁`` and give characters never seen in training the
unknown token.

Pre-tokenizers (where words are cut before any merge; a lever on premiums in itself):
    ``gpt2``        GPT-2's regex: letters, digits and other symbols apart; combining marks split from letters
    ``o200k``       GPT-4o's regex: marks stay with their letters (Devanagari, Thai, Arabic vowels...)
    ``whitespace``  cut only before spaces; punctuation stays attached to its word
Superword BPE continues past these boundaries; its final pipeline cuts only at newlines (see :mod:`.superword`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from tokenizers import Regex, Tokenizer, decoders, pre_tokenizers

PreTokenizerName = Literal["gpt2", "o200k", "whitespace"]
PRE_TOKENIZERS: tuple[PreTokenizerName, ...] = ("gpt2", "o200k", "whitespace")

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
O200K_PATTERN = "|".join([
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"\p{N}{1,3}", r" ?[^\s\p{L}\p{N}]+[\r\n/]*", r"\s*[\r\n]+", r"\s+(?!\S)", r"\s+",
])
WHITESPACE_PATTERN = r" ?\S+|\s+(?!\S)|\s+"
NEWLINE_PATTERN = r"\n"
PATTERNS: dict[str, str] = {"gpt2": GPT2_PATTERN, "o200k": O200K_PATTERN, "whitespace": WHITESPACE_PATTERN,
                            "newline": NEWLINE_PATTERN}
UNK = "<unk>"
WORDPIECE_UNK = "[UNK]"
WORDPIECE_PREFIX = "##"
METASPACE = "\u2581"


def byte_alphabet() -> list[str]:
    """GPT-2's 256 byte stand-in characters, sorted by code point (the order HF's trainer gives them ids).

    >>> a = byte_alphabet(); len(a), a[0], a[-1]
    (256, '!', 'Ń')
    """
    return sorted(pre_tokenizers.ByteLevel.alphabet())


def pre_tokenizer(name: str, *, byte_level: bool) -> pre_tokenizers.PreTokenizer:
    """The pre-tokenizer ``name`` (``gpt2``, ``o200k``, ``whitespace``, or ``newline`` for superword BPE).

    >>> [w for w, _ in pre_tokenizer("whitespace", byte_level=True).pre_tokenize_str("Hi, you")]
    ['Hi,', 'Ġyou']
    """
    if name not in PATTERNS:
        raise ValueError(f"unknown pre-tokenizer {name!r}; choose one of {', '.join(PRE_TOKENIZERS)}")
    if byte_level and name == "gpt2":
        return pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    split = pre_tokenizers.Split(Regex(PATTERNS[name]), behavior="isolated")
    tail = (pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False) if byte_level
            else pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="never", split=False))
    return pre_tokenizers.Sequence([split, tail])


def decoder(*, byte_level: bool, wordpiece: bool = False) -> decoders.Decoder:
    """The decoder that inverts :func:`pre_tokenizer` (and WordPiece's ``##`` continuation prefix) exactly.

    HF's WordPiece decoder puts a space before every word-initial piece; real spaces are already in the pieces
    (``Ġ`` or ``▁``), so those inserted spaces are removed again before the byte or ``▁`` mapping is undone.
    """
    tail = decoders.ByteLevel() if byte_level else decoders.Metaspace(replacement=METASPACE, prepend_scheme="never")
    if not wordpiece:
        return tail
    return decoders.Sequence([decoders.WordPiece(prefix=WORDPIECE_PREFIX, cleanup=False),
                              decoders.Replace(" ", ""), tail])


def finish(tok: Tokenizer, *, pre: str, byte_level: bool, wordpiece: bool = False) -> Tokenizer:
    """Attach the pre-tokenizer and decoder; no normalizer (text as given) and no post-processor (no BOS/EOS)."""
    tok.pre_tokenizer = pre_tokenizer(pre, byte_level=byte_level)
    tok.decoder = decoder(byte_level=byte_level, wordpiece=wordpiece)
    return tok


def sidecar_path(path: Path) -> Path:
    """Where the lab's description of a trained file lives: ``tokenizer.json`` -> ``tokenizer.lab.json``.

    >>> sidecar_path(Path("/t/tokenizer.json")).name
    'tokenizer.lab.json'
    """
    return path.with_name(f"{path.stem}.lab.json")


def read_sidecar(path: Path) -> dict[str, object] | None:
    side = sidecar_path(path)
    if not side.is_file():
        return None
    try:
        return json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
