"""A rendered conversation as an HTML value: template tokens drawn apart from content tokens. Every text is escaped.

Content tokens are coloured like the token view; template tokens are grey with a dashed border. Marks (the
message number, the special-token badge) are drawn by CSS from attributes, so the view's text is the decoded
conversation. Tokens whose bytes end inside a character are drawn together with the tokens that complete it.

Example:
    >>> from analysis.chat import Message, render_chat
    >>> from analysis.render import shown_text
    >>> html = chat_html(render_chat("llama3", [Message("user", "<b>")]))
    >>> "<b>" in html, shown_text(html).count("<b>")
    (False, 1)
"""

from __future__ import annotations

from html import escape

from analysis.chat import ChatRender
from analysis.render import PALETTE

CSS = """
.ta-chat{font-family:ui-monospace,Menlo,Consolas,monospace;line-height:1.9;white-space:pre-wrap;word-break:break-word}
.ta-chat .ta-c{border-left:2px solid #555;padding:1px 1px;margin:0 1px 0 0;border-radius:2px}
.ta-chat .ta-t{border:1px dashed #888;background:#eee;color:#555;padding:0 1px;margin:0 1px 0 0;border-radius:2px}
.ta-chat .ta-t[data-special]{font-weight:bold;color:#333}
"""


def _groups(r: ChatRender) -> list[tuple[int, int, str]]:
    """(first, last, text): consecutive tokens whose bytes only decode together form one group."""
    out: list[tuple[int, int, str]] = []
    k = 0
    n = len(r.ids)
    while k < n:
        if r.special[k]:
            out.append((k, k, r.pieces[k]))
            k += 1
            continue
        acc = b""
        for j in range(k, n):
            if r.special[j]:
                j -= 1
                break
            acc += r.token_bytes[j]
            try:
                text = acc.decode("utf-8")
            except UnicodeDecodeError:
                if j - k < 3:
                    continue
                text = acc.decode("utf-8", errors="replace")
            break
        else:
            text = acc.decode("utf-8", errors="replace")
        j = max(j, k)
        out.append((k, j, text))
        k = j + 1
    return out


def chat_html(r: ChatRender, *, max_tokens: int = 4000) -> str:
    """The rendered conversation: content tokens coloured, template tokens grey and dashed; hover for id and message.

    >>> from analysis.chat import Message, render_chat
    >>> html = chat_html(render_chat("mistral-v3", [Message("user", "Hi")]))
    >>> html.count('class="ta-t"'), html.count('class="ta-c"')
    (3, 1)
    """
    parts = ['<div class="ta-chat" dir="auto">']
    colour = 0
    for first, last, text in _groups(r):
        if first >= max_tokens:
            break
        content = any(r.is_content[first:last + 1])
        m = r.message_of[first]
        where = f"message {m + 1} ({r.messages[m].role})" if m is not None else "closing"
        ids = " ".join(str(i) for i in r.ids[first:last + 1])
        title = f"id {ids} · {'content' if content else 'template'} · {where}"
        if content:
            style = f' style="background:{PALETTE[colour % len(PALETTE)]}"'
            colour += 1
            parts.append(f'<span class="ta-c"{style} title="{escape(title)}">{escape(text)}</span>')
        else:
            special = " data-special" if r.special[first] else ""
            parts.append(f'<span class="ta-t"{special} title="{escape(title)}">{escape(text)}</span>')
    parts.append("</div>")
    return "".join(parts)
