"""Text from the browser that its protocol cannot carry: lone surrogates.

A browser string may hold a lone UTF-16 surrogate (a broken copy, an emoji cut in half). The frontend's protobuf
encoder writes it as the 3-byte sequence ``ED A0..BF 80..BF``, which is not UTF-8, so the server cannot parse the
message and closes the websocket (code 1002): the page keeps the previous text's counts and says nothing. This
module repairs such a frame before it is parsed: each of those sequences becomes U+FFFD (``EF BF BD``), the same
length, so every length prefix of the message stays right. Frames that parse as they are are never touched. The
Playground then says that the text holds U+FFFD and why.

>>> repair(b"\\x0a\\x03\\xed\\xa0\\x80")
b'\\n\\x03\\xef\\xbf\\xbd'
"""

from __future__ import annotations

import re

_LONE_SURROGATE = re.compile(rb"\xed[\xa0-\xbf][\x80-\xbf]")
_PATCHED = "_atlas_surrogate_repair"


def repair(data: bytes) -> bytes:
    """``data`` with every CESU-8 surrogate (``ED A0..BF 80..BF``) replaced by U+FFFD's UTF-8 bytes."""
    return _LONE_SURROGATE.sub(b"\xef\xbf\xbd", data)


def _parses(data: bytes) -> bool:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    try:
        BackMsg().ParseFromString(data)
    except Exception:  # any parse failure: the frame is not a valid BackMsg as it is
        return False
    return True


def install() -> None:
    """Repair lone surrogates in the frames this server process receives (once per process; idempotent).

    The hook is Starlette's ``WebSocket._raise_on_disconnect``, which ``receive_bytes`` calls on each message
    *after* awaiting it: a connection already waiting for its next frame when this runs (the first session's,
    whose first script run installs it) gets the repair too, which a patched ``receive_bytes`` would miss.
    """
    from starlette.websockets import WebSocket

    if getattr(WebSocket, _PATCHED, False):
        return
    original = WebSocket._raise_on_disconnect

    def check_and_repair(self: WebSocket, message: dict) -> None:
        original(self, message)
        data = message.get("bytes")
        if data and b"\xed" in data and _LONE_SURROGATE.search(data) and not _parses(data):
            fixed = repair(data)
            if _parses(fixed):
                message["bytes"] = fixed

    WebSocket._raise_on_disconnect = check_and_repair  # type: ignore[method-assign]
    setattr(WebSocket, _PATCHED, True)
