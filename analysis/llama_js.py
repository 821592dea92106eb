"""Llama 1/2's vocabulary out of npm ``llama-tokenizer-js``, as a Hugging Face ``tokenizer.json``.

The package bakes Llama's 32,000 pieces and merges into ``llama-tokenizer.js`` as two base64 strings
(its ``data-conversion.py`` made them from Meta's ``tokenizer.json``):

- ``llama_vocab_base64``: the pieces, UTF-8, one per line, line number = id;
- ``llama_merges_binary``: each merge as two little-endian uint16 piece ids, in priority order.

:func:`llama_js_to_tokenizer_json` rebuilds the ``tokenizer.json`` that Hugging Face's Llama tokenizer
(``LlamaTokenizerFast``, legacy mode) uses: SentencePiece-style BPE with byte fallback (``<0xNN>``), the
``▁`` dummy prefix, spaces as ``▁``, ``<unk>`` = 0, ``<s>`` = 1, ``</s>`` = 2, and a post-processor that
adds ``<s>`` (Llama's ``add_bos_token = true``). The output is deterministic, so its sha256 is checked too.

>>> pieces = ["<unk>", "<s>", "</s>", "▁", "a", "▁a"]
>>> data = module_source(pieces, [(3, 4)])
>>> tj = json.loads(llama_js_to_tokenizer_json(data))
>>> tj["model"]["vocab"]["▁a"], tj["model"]["merges"]
(5, ['▁ a'])
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct

#: ``const llama_vocab_base64 = "..."`` / ``const llama_merges_binary = "..."`` in llama-tokenizer.js.
_CONST = re.compile(r'^const (llama_vocab_base64|llama_merges_binary) = "([A-Za-z0-9+/=]*)"\s*;?\s*$', re.M)
_SPECIALS = ("<unk>", "<s>", "</s>")


def module_source(pieces: list[str], merges: list[tuple[int, int]]) -> bytes:
    """A minimal llama-tokenizer.js with these pieces and merges (for examples and tests)."""
    vocab = base64.b64encode("\n".join(pieces).encode()).decode()
    binary = base64.b64encode(struct.pack(f"<{2 * len(merges)}H", *[i for m in merges for i in m])).decode()
    return f'const llama_vocab_base64 = "{vocab}"\nconst llama_merges_binary = "{binary}"\n'.encode()


def read_llama_js(data: bytes) -> tuple[list[str], list[tuple[int, int]]]:
    """The pieces (id order) and merges (priority order, as piece-id pairs) of a llama-tokenizer.js file.

    Raises:
        ValueError: the file lacks either constant, or they do not decode to a consistent vocabulary.
    """
    found = dict(_CONST.findall(data.decode("utf-8")))
    missing = {"llama_vocab_base64", "llama_merges_binary"} - set(found)
    if missing:
        raise ValueError(f"not a llama-tokenizer.js bundle: no {', '.join(sorted(missing))}")
    try:
        pieces = base64.b64decode(found["llama_vocab_base64"], validate=True).decode("utf-8").split("\n")
        binary = base64.b64decode(found["llama_merges_binary"], validate=True)
    except (binascii.Error, UnicodeDecodeError) as e:
        raise ValueError(f"the vocabulary or merges are not valid base64/UTF-8: {e}") from e
    if len(binary) % 4:
        raise ValueError(f"the merges are {len(binary)} bytes, not whole pairs of uint16")
    ids = struct.unpack(f"<{len(binary) // 2}H", binary)
    merges = list(zip(ids[0::2], ids[1::2], strict=True))
    if len(set(pieces)) != len(pieces):
        raise ValueError("the vocabulary has repeated pieces")
    if tuple(pieces[:3]) != _SPECIALS:
        raise ValueError(f"the first pieces are {pieces[:3]}, not <unk>, <s>, </s>")
    index = {p: i for i, p in enumerate(pieces)}
    for a, b in merges:
        if max(a, b) >= len(pieces) or pieces[a] + pieces[b] not in index:
            raise ValueError(f"merge ({a}, {b}) does not name two pieces whose join is a piece")
        if " " in pieces[a] or " " in pieces[b]:
            raise ValueError(f"merge ({a}, {b}) has a piece with a space, which tokenizer.json merges cannot hold")
    return pieces, merges


def _special(i: int, content: str) -> dict[str, object]:
    return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": True}


def llama_js_to_tokenizer_json(data: bytes) -> bytes:
    """Convert llama-tokenizer.js to Llama's Hugging Face ``tokenizer.json`` (UTF-8, stable key order)."""
    pieces, merges = read_llama_js(data)
    bos = {"SpecialToken": {"id": "<s>", "type_id": 0}}
    doc = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [_special(i, p) for i, p in enumerate(_SPECIALS)],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
        ]},
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [bos, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [bos, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}},
        },
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "ByteFallback"},
            {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0},
        ]},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True,
            "vocab": {p: i for i, p in enumerate(pieces)},
            "merges": [f"{pieces[a]} {pieces[b]}" for a, b in merges],
        },
    }
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
