"""Token rendering as an HTML value (showing it is the UI's job). Every piece of text is escaped.

Every mark on the text (boundary bar, badges, ×n, ⚠, whitespace signs, the piece of a token that covers no text) is
drawn by CSS from attributes (:data:`CSS`), never written into the text: selecting and copying the token view, or
reading its ``innerText``, gives exactly the text that was tokenized (:func:`shown_text` reads it back).

Example:
    >>> from analysis import get_tokenizer
    >>> html = tokens_html(get_tokenizer("codepoints").encode("<b>"))
    >>> "&lt;" in html and "<b>" not in html, shown_text(html)
    (True, '<b>')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser
from urllib.parse import urlencode

from .i18n import DEFAULT_LANGUAGE, current_language
from .tokenizers.base import Encoding, TokenKind

#: Okabe-Ito colours, lightened for backgrounds: distinguishable with common colour-vision deficiencies.
PALETTE = ("#fde3b0", "#cde8f7", "#c7eadf", "#faf3b8", "#c9ddef", "#f6d5c2", "#ecd5e5")
_WS = {" ": "·", "\t": "→", "\n": "↵", "\r": "␍"}
_BADGE = {TokenKind.SPECIAL: "special", TokenKind.UNKNOWN: "UNK", TokenKind.BYTE_FALLBACK: "byte"}

# Pseudo-elements are not part of the text (innerText and copy leave them out); user-select:none says so to older
# engines too.
CSS = """
.ta-tokens{font-family:ui-monospace,Menlo,Consolas,monospace;line-height:1.9;white-space:pre-wrap;word-break:break-word}
.ta-tok{border-left:2px solid #555;padding:1px 1px;margin:0 1px 0 0;border-radius:2px}
.ta-split{outline:2px dashed #d55e00;outline-offset:-1px}
.ta-tok[data-badge]::after{content:attr(data-badge);font-size:0.7em;vertical-align:super;margin-left:1px;padding:0 2px;
  border-radius:3px;background:#333;color:#fff;user-select:none}
.ta-ws{position:relative}
.ta-ws::before{content:attr(data-ws);position:absolute;left:0;top:0;color:#888;user-select:none;pointer-events:none}
.ta-empty::before{content:attr(data-piece);border:1px dotted #555;padding:0 3px;user-select:none}
.ta-flag{box-shadow:inset 0 -3px 0 #cc79a7}
.ta-flag::before{content:"⚠";font-size:0.7em;vertical-align:super;margin-right:1px;padding:0 2px;border-radius:3px;
  background:#cc79a7;color:#000;user-select:none}
.ta-cut::before{content:attr(data-cut);user-select:none}
.ta-cut-all::before{color:#0072b2;font-weight:bold}
.ta-cut-some::before{color:#d55e00;font-size:0.7em;vertical-align:super}
a.ta-link{color:inherit;text-decoration:none}
a.ta-link:hover .ta-tok{outline:1px solid #0072b2}
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
    """The text, escaped; with ``show_whitespace`` each space, tab, newline and carriage return is wrapped so that CSS
    draws its sign over it (the character itself stays, so copying gives it back)."""
    out = escape(text)
    if show_whitespace:
        for ch, mark in _WS.items():
            out = out.replace(ch, f'<span class="ta-ws" data-ws="{mark}">{ch}</span>')
    return out


def token_title(enc: Encoding, k: int) -> str:
    """Hover text of token k: id, bytes in hex, vocabulary entry, kind."""
    b = enc.token_bytes[k]
    return f"id {enc.ids[k]} · bytes {b.hex(' ') or '—'} · entry {enc.tokenizer.piece(enc.ids[k])!r} · {enc.kinds[k].value}"


def token_href(tokenizer_id: str, token_id: int) -> str:
    """The token page's relative address (escape it before putting it in an attribute); it carries the interface
    language when that is not English, so the token page opens in it.

    >>> token_href("o200k_base", 290)
    'token?tokenizer=o200k_base&id=290'
    """
    prefix, suffix = _href_parts(tokenizer_id)
    return f"{prefix}{int(token_id)}{suffix}"


def _href_parts(tokenizer_id: str) -> tuple[str, str]:
    """What :func:`token_href` puts before and after the id: built once per drawing, not once per token."""
    lang = current_language()
    return ("token?" + urlencode({"tokenizer": tokenizer_id}) + "&id=",
            "&" + urlencode({"lang": lang}) if lang != DEFAULT_LANGUAGE else "")


def tokens_html(enc: Encoding, *, show_whitespace: bool = False, max_tokens: int = 2000,
                flags: Mapping[int, Sequence[str]] | None = None, link: bool = False) -> str:
    """Coloured token spans with a boundary bar, split characters drawn once, badges for special kinds.

    Text between tokens (characters a normalizer dropped, BERT's spaces) is shown plain.
    Right-to-left scripts keep their order because spans are laid out in logical order with ``dir=auto``.
    ``flags`` (token id -> lines of evidence that it is a glitch token) underline those tokens and draw a "⚠"; the
    hover lists the lines. Marks live in attributes and CSS, so the text of the result is ``enc.text`` whenever every
    token is drawn. ``link`` wraps each token in an ``<a>`` to its token page (:func:`token_href`; a split character's
    group links its first token), which adds no text.

    >>> from analysis import get_tokenizer
    >>> html = tokens_html(get_tokenizer("codepoints").encode("ab"), flags={98: ["unreachable"]})
    >>> html.count("ta-flag"), "unreachable" in html, shown_text(html)
    (1, True, 'ab')
    """
    flags = flags or {}
    text = enc.text
    href_prefix, href_suffix = _href_parts(enc.tokenizer.id) if link else ("", "")
    parts = ['<div class="ta-tokens" dir="auto">']
    pos = 0
    for n, g in enumerate(_groups(enc, max_tokens)):
        if g.start > pos:
            parts.append(_visible(text[pos:g.start], show_whitespace))
        colour = PALETTE[n % len(PALETTE)]
        flagged = list(dict.fromkeys(c for k in range(g.first, g.last + 1) for c in flags.get(enc.ids[k], ())))
        titles = "\n".join(token_title(enc, k) for k in range(g.first, g.last + 1))
        if flagged:
            titles += "\nglitch-token evidence:\n" + "\n".join(f"- {c}" for c in flagged)
        kinds = {enc.kinds[k] for k in range(g.first, g.last + 1)}
        split = g.last > g.first
        cls = ("ta-tok ta-split" if split else "ta-tok") + (" ta-flag" if flagged else "")
        # A span that starts inside text already drawn (it overlaps an earlier group) draws only what is new.
        start = max(g.start, pos)
        body = (_visible(text[start:g.end], show_whitespace) if g.end > start else
                f'<span class="ta-empty" data-piece="{escape(enc.tokenizer.piece(enc.ids[g.first]))}"></span>')
        badges = [_BADGE[k] for k in _BADGE if k in kinds] + ([f"×{g.last - g.first + 1}"] if split else [])
        badge = f' data-badge="{" ".join(badges)}"' if badges else ""
        span = f'<span class="{cls}" style="background:{colour}" title="{escape(titles)}"{badge}>{body}</span>'
        if link:
            href = escape(f"{href_prefix}{int(enc.ids[g.first])}{href_suffix}")  # token_href's address
            span = f'<a class="ta-link" href="{href}">{span}</a>'
        parts.append(span)
        pos = max(pos, g.end)
    shown_all = len(enc.ids) <= max_tokens
    if shown_all and pos < len(text):
        parts.append(_visible(text[pos:], show_whitespace))
    parts.append("</div>")
    return "".join(parts)


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def shown_text(html: str) -> str:
    """The text an HTML value shows as text (its text nodes; attributes and CSS-drawn marks are not text): what a
    reader selects and copies.

    >>> shown_text('<span class="ta-tok" data-badge="×2">caf&eacute;</span>')
    'café'
    """
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)
