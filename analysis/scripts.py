"""Unicode scripts (ISO 15924 codes) of characters, texts and vocabulary tokens, via ICU.

Only letters and marks (general categories ``L*`` and ``M*``) vote for a script, and the
script-neutral values are ignored: ``Zyyy`` (Common: digits, punctuation, spaces, and a few
shared letters such as the prolonged sound mark ``ー``), ``Zinh`` (Inherited: most combining
marks) and ``Zzzz`` (Unknown: unassigned code points).

ICU gives the Unicode Script property of one code point, so Han characters are ``Hani``, never
``Hans``/``Hant`` (those tell simplified from traditional usage, which no single character does).

Example:
    >>> char_script("Ж"), dominant_script("Привет, world!"), script_share(" the".encode())
    ('Cyrl', 'Cyrl', 'Latn')
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Final

import icu
import numpy as np

#: Script codes that do not identify a writing system: Common, Inherited, Unknown.
NEUTRAL_SCRIPTS: Final = frozenset({"Zyyy", "Zinh", "Zzzz"})
#: :func:`script_share` labels besides ISO 15924 codes.
MIXED: Final = "mixed"
PARTIAL_UTF8: Final = "partial UTF-8"
BYTES_OTHER: Final = "bytes/other"


@lru_cache(maxsize=1 << 16)
def char_script(ch: str) -> str:
    """The ISO 15924 short code of one character's Unicode Script property.

    >>> char_script("a"), char_script("अ"), char_script("中"), char_script("1"), char_script("\\u0301")
    ('Latn', 'Deva', 'Hani', 'Zyyy', 'Zinh')
    """
    return icu.Script.getScript(ord(ch)).getShortName()


@lru_cache(maxsize=1 << 16)
def _voting_script(ch: str) -> str | None:
    """The script a character votes for: its own if it is a letter or mark of a non-neutral script."""
    if unicodedata.category(ch)[0] not in "LM":
        return None
    script = char_script(ch)
    return None if script in NEUTRAL_SCRIPTS else script


def script_votes(text: str) -> Counter[str]:
    """How many letters and marks of ``text`` belong to each (non-neutral) script.

    >>> dict(script_votes("ab Жж 1"))
    {'Latn': 2, 'Cyrl': 2}
    """
    votes: Counter[str] = Counter()
    for ch, n in Counter(text).items():  # classify each distinct character once
        script = _voting_script(ch)
        if script is not None:
            votes[script] += n
    return votes


def dominant_script(text: str) -> str | None:
    """The most frequent script among the letters and marks of ``text``; None if it has none.

    Ties go to the script seen first in the text.

    >>> dominant_script("Всеобщая декларация (UDHR)")
    'Cyrl'
    >>> dominant_script("人人生而自由，在尊严和权利上一律平等。") is None, dominant_script("1, 2; 3!") is None
    (False, True)
    """
    votes = script_votes(text)
    if not votes:
        return None
    return votes.most_common(1)[0][0]


def script_share(s: bytes) -> str:
    """The script class of one vocabulary token's bytes, as counted by the METRICS.md "script share".

    Returns the ISO 15924 code when all the token's letters and marks are of one script, ``"mixed"``
    when they are of several, ``"partial UTF-8"`` when the bytes do not decode as UTF-8 on their own,
    and ``"bytes/other"`` when there is no letter (digits, punctuation, whitespace, control bytes).

    >>> script_share(" the".encode()), script_share("日本".encode()), script_share("日本の".encode())
    ('Latn', 'Hani', 'mixed')
    >>> script_share(b"\\xe4\\xb8"), script_share(b" 123."), script_share("ab\\u0301".encode())
    ('partial UTF-8', 'bytes/other', 'Latn')
    """
    try:
        text = s.decode("utf-8")
    except UnicodeDecodeError:
        return PARTIAL_UTF8
    scripts = {sc for ch in set(text) if (sc := _voting_script(ch)) is not None}
    if not scripts:
        return BYTES_OTHER
    if len(scripts) > 1:
        return MIXED
    return scripts.pop()


def script_classes(token_bytes: Sequence[bytes], texts: Sequence[str | None] | None = None) -> np.ndarray:
    """The script class of every token at once; equal to ``[script_share(b) for b in token_bytes]``.

    ``texts``, if given, is each token's bytes already decoded as UTF-8 (None where they are not valid UTF-8 on their
    own), so that a caller that has decoded them does not pay for it twice.

    Characters are classified once per distinct code point (a lookup table over all code points), then each
    token's voting scripts are reduced with ``np.minimum.reduceat``/``np.maximum.reduceat`` (one script: that script;
    several: "mixed"; none: "bytes/other"); bytes that are not UTF-8 on their own are "partial UTF-8".

    >>> script_classes([" the".encode(), "日本の".encode(), b"\\xe4\\xb8", b" 12", "ство".encode()]).tolist()
    ['Latn', 'mixed', 'partial UTF-8', 'bytes/other', 'Cyrl']
    """
    n = len(token_bytes)
    out = np.full(n, PARTIAL_UTF8, dtype=object)
    if texts is None:
        texts = decode_each(token_bytes)
    ok = [i for i, t in enumerate(texts) if t is not None]
    valid = [texts[i] for i in ok]
    if not valid:
        return out
    lengths = np.fromiter(map(len, valid), dtype=np.int64, count=len(valid))
    cps = np.frombuffer("".join(valid).encode("utf-32-le"), dtype=np.uint32)
    present = np.zeros(0x110000, dtype=bool)  # distinct code points by presence, not by sorting millions
    present[cps] = True
    distinct = np.flatnonzero(present)
    votes = [_voting_script(chr(c)) for c in distinct.tolist()]
    names = sorted({v for v in votes if v is not None})
    code_of = {name: k for k, name in enumerate(names)}
    lut = np.full(0x110000, -1, dtype=np.int16)  # fewer than 200 scripts; a small table gathers faster
    lut[distinct] = [code_of[v] if v is not None else -1 for v in votes]
    codes = lut[cps]
    labels = np.array([*names, BYTES_OTHER, MIXED], dtype=object)
    nonempty = lengths > 0  # the empty string (no characters) has no letter: bytes/other
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])[nonempty]
    lo = np.full(len(valid), -1, dtype=np.int16)
    hi = np.full(len(valid), -1, dtype=np.int16)
    if len(starts):
        lo[nonempty] = np.minimum.reduceat(np.where(codes >= 0, codes, np.int16(len(names))), starts)
        hi[nonempty] = np.maximum.reduceat(codes, starts)
    cls = np.where(hi < 0, len(names), np.where(lo != hi, len(names) + 1, hi))
    out[np.asarray(ok, dtype=np.int64)] = labels[cls]
    return out


def decode_each(token_bytes: Sequence[bytes]) -> list[str | None]:
    """Each entry decoded as UTF-8, or None where it is not valid UTF-8 on its own.

    >>> decode_each([b"ab", b"\\xe4\\xb8", "é".encode()])
    ['ab', None, 'é']
    """
    out: list[str | None] = []
    append = out.append
    for b in token_bytes:
        try:
            append(b.decode("utf-8"))
        except UnicodeDecodeError:
            append(None)
    return out
