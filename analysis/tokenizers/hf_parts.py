"""Reading the parts of a Hugging Face ``tokenizers`` pipeline: the bytes a byte-level piece stands for, and a
component's serialized state. Used by the backend (:mod:`.hf_backend`), its rank twin (:mod:`.rank_twin`) and the
lab."""

from __future__ import annotations

import json


def _gpt2_byte_decoder() -> dict[str, int]:
    """The inverse of GPT-2's bytes_to_unicode: printable stand-in character -> byte."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, chars)}


#: GPT-2's byte-level alphabet read backwards: the printable stand-in character of each byte -> that byte
#: (``"Ġ"`` -> 0x20). Byte-level BPE vocabularies (GPT-2, Llama 3, the lab's) write their pieces in it.
BYTE_DECODER: dict[str, int] = _gpt2_byte_decoder()
#: ``str.translate`` table taking each stand-in character to the character of its byte (U+0000-U+00FF), and every
#: other character below U+0100 to U+FFFF, so that ``piece.translate(_TO_BYTES).encode("latin-1")`` gives the bytes
#: exactly when every character of the piece is a stand-in, and fails otherwise.
_TO_BYTES = {i: "\uffff" for i in range(256)} | {ord(c): chr(b) for c, b in BYTE_DECODER.items()}


def byte_level_bytes(piece: str) -> bytes | None:
    """The bytes a byte-level piece stands for, or None if a character of it is not a byte stand-in.

    >>> byte_level_bytes("Ġthe"), byte_level_bytes("à¤"), byte_level_bytes("▁the")
    (b' the', b'\\xe0\\xa4', None)
    """
    try:
        return piece.translate(_TO_BYTES).encode("latin-1")
    except UnicodeEncodeError:
        return None


def component_state(component: object) -> object:
    """A ``tokenizers`` component (normalizer, pre-tokenizer, model, decoder) as the JSON it serializes to; None for
    none.

    >>> from tokenizers import normalizers
    >>> component_state(normalizers.NFC()), component_state(None)
    ({'type': 'NFC'}, None)
    """
    if component is None:
        return None
    return json.loads(component.__getstate__())
