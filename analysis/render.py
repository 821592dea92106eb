"""Token rendering as an HTML value (showing it is the UI's job). Every piece of text is escaped.

Example:
    >>> from analysis import get_tokenizer
    >>> html = tokens_html(get_tokenizer("codepoints").encode("<b>"))
    >>> "&lt;" in html and "<b>" not in html
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from .tokenizers.base import Encoding, TokenKind

#: Okabe-Ito colours, lightened for backgrounds: distinguishable with common colour-vision deficiencies.
PALETTE = ("#fde3b0", "#cde8f7", "#c7eadf", "#faf3b8", "#c9ddef", "#f6d5c2", "#ecd5e5")
_WS = {" ": "·", "\t": "→\t", "\n": "↵\n", "\r": "␍"}
_BADGE = {TokenKind.SPECIAL: "special", TokenKind.UNKNOWN: "UNK", TokenKind.BYTE_FALLBACK: "byte"}

CSS = """
.ta-tokens{font-family:ui-monospace,Menlo,Consolas,monospace;line-height:1.9;white-space:pre-wrap;word-break:break-word}
.ta-tok{border-left:2px solid #555;padding:1px 1px;margin:0 1px 0 0;border-radius:2px}
.ta-split{outline:2px dashed #d55e00;outline-offset:-1px}
.ta-badge{font-size:0.7em;vertical-align:super;margin-left:1px;padding:0 2px;border-radius:3px;background:#333;color:#fff}
.ta-ws{color:#888}
.ta-empty{border:1px dotted #555;padding:0 3px}
.ta-flag{box-shadow:inset 0 -3px 0 #cc79a7}
.ta-flag-badge{font-size:0.7em;vertical-align:super;margin-left:1px;padding:0 2px;border-radius:3px;background:#cc79a7;color:#000}
"""


@dataclass(frozen=True)
class _Group:
    start: int
    end: int
    first: int  # index of the first token in the group
    last: int


def _groups(enc: Encoding, limit: int) -> list[_Group]:
    """Consecutive tokens whose spans overlap (a split character) form one group, drawn once."""
    groups: list[_Group] = []
    for k in range(min(limit, len(enc.ids))):
        s, e = enc.starts[k], enc.ends[k]
        if groups and e > s and s < groups[-1].end and groups[-1].end > groups[-1].start:
            g = groups[-1]
            groups[-1] = _Group(g.start, max(g.end, e), g.first, k)
        else:
            groups.append(_Group(s, e, k, k))
    return groups


def _visible(text: str, show_whitespace: bool) -> str:
    out = escape(text)
    if show_whitespace:
        for ch, mark in _WS.items():
            out = out.replace(ch, f'<span class="ta-ws">{escape(mark)}</span>')
    return out


def token_title(enc: Encoding, k: int) -> str:
    """Hover text of token k: id, bytes in hex, vocabulary entry, kind."""
    b = enc.token_bytes[k]
    return f"id {enc.ids[k]} · bytes {b.hex(' ') or '—'} · entry {enc.tokenizer.piece(enc.ids[k])!r} · {enc.kinds[k].value}"


def tokens_html(enc: Encoding, *, show_whitespace: bool = False, max_tokens: int = 2000,
                flags: Mapping[int, Sequence[str]] | None = None) -> str:
    """Coloured token spans with a boundary mark, split characters drawn once, badges for special kinds.

    Text between tokens (characters a normalizer dropped, BERT's spaces) is shown plain.
    Right-to-left scripts keep their order because spans are laid out in logical order with ``dir=auto``.
    ``flags`` (token id -> glitch-token categories) underlines those tokens and adds a "⚠" badge naming them.

    >>> from analysis import get_tokenizer
    >>> html = tokens_html(get_tokenizer("codepoints").encode("ab"), flags={98: ["rare"]})
    >>> html.count("ta-flag-badge"), "rare" in html
    (1, True)
    """
    flags = flags or {}
    text = enc.text
    parts = ['<div class="ta-tokens" dir="auto">']
    pos = 0
    for n, g in enumerate(_groups(enc, max_tokens)):
        if g.start > pos:
            parts.append(_visible(text[pos:g.start], show_whitespace))
        colour = PALETTE[n % len(PALETTE)]
        flagged = sorted({c for k in range(g.first, g.last + 1) for c in flags.get(enc.ids[k], ())})
        titles = "\n".join(token_title(enc, k) for k in range(g.first, g.last + 1))
        if flagged:
            titles += "\nglitch-token categories: " + ", ".join(flagged)
        kinds = {enc.kinds[k] for k in range(g.first, g.last + 1)}
        split = g.last > g.first
        cls = ("ta-tok ta-split" if split else "ta-tok") + (" ta-flag" if flagged else "")
        body = _visible(text[g.start:g.end], show_whitespace) if g.end > g.start else \
            f'<span class="ta-empty">{escape(enc.tokenizer.piece(enc.ids[g.first]))}</span>'
        badges = "".join(f'<span class="ta-badge">{_BADGE[k]}</span>' for k in _BADGE if k in kinds)
        if split:
            badges += f'<span class="ta-badge">×{g.last - g.first + 1}</span>'
        if flagged:
            badges += '<span class="ta-flag-badge">⚠</span>'
        parts.append(f'<span class="{cls}" style="background:{colour}" title="{escape(titles)}">{body}{badges}</span>')
        pos = max(pos, g.end)
    shown_all = len(enc.ids) <= max_tokens
    if shown_all and pos < len(text):
        parts.append(_visible(text[pos:], show_whitespace))
    parts.append("</div>")
    return "".join(parts)
