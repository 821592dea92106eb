"""What the Playground shows about encodings, as plain values: summary rows, exports, boundary diffs, permalinks.

Example:
    >>> from analysis import get_tokenizer
    >>> enc = get_tokenizer("cl100k_base").encode("hello world")
    >>> row = summary_row(enc)
    >>> row["tokens"], row["chars/token"], row["bytes/token"]
    (2, 5.5, 5.5)
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

from .catalogue import load_catalogue
from .i18n import N_, format_number, normalize_language
from .i18n import gettext as _
from .render import PALETTE
from .tokenizers.base import Encoding

#: Longest text a permalink carries in its ``text=`` parameter (longer texts are linked by sample or not at all).
MAX_URL_TEXT = 1000
#: The text the Playground opens with (four scripts; no token of it is flagged as a glitch token, tested).
DEFAULT_TEXT = "Every human being is born free. सभी मनुष्य जन्म से स्वतंत्र हैं। 人人生而自由。 ሰው ሁሉ ሲወለድ ነጻ ነው።"
VIEWS = ("tokens", "ids")


def summary_row(enc: Encoding) -> dict[str, object]:
    """Token count, characters and bytes per token, share of the model's context window, UNK/byte-fallback counts."""
    n, text = enc.count, enc.text
    kinds = enc.kind_counts()
    entries = load_catalogue().entries
    window = entries[enc.tokenizer.id].context_window if enc.tokenizer.id in entries else None
    return {
        "tokenizer": enc.tokenizer.id,
        "tokens": n,
        "chars/token": round(len(text) / n, 2) if n else None,
        "bytes/token": round(len(text.encode()) / n, 2) if n else None,
        "% of context": round(100 * n / window, 3) if window else None,
        "unknown": kinds["unknown"],
        "byte fallback": kinds["byte_fallback"],
        "split chars": kinds["split"],
    }


def token_records(enc: Encoding) -> list[dict[str, object]]:
    """One record per token (for the tokens table and its CSV/JSON export)."""
    piece = enc.tokenizer.piece
    return [
        {"index": k, "id": i, "piece": piece(i), "text": enc.text[s:e], "bytes_hex": b.hex(" "), "start": s,
         "end": e, "kind": kind.value}
        for k, (i, s, e, b, kind) in enumerate(zip(enc.ids, enc.starts, enc.ends, enc.token_bytes, enc.kinds))
    ]


def tokens_csv(enc: Encoding) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["index", "id", "piece", "text", "bytes_hex", "start", "end", "kind"])
    writer.writeheader()
    writer.writerows(token_records(enc))
    return out.getvalue().encode("utf-8")


def tokens_json(encodings: Sequence[Encoding]) -> bytes:
    return json.dumps([e.to_json() for e in encodings], ensure_ascii=False).encode("utf-8")


def ids_html(enc: Encoding, *, max_tokens: int = 2000) -> str:
    """The ids view: each id in the colour of its token, the token's text on hover."""
    parts = ['<div class="ta-tokens">']
    for k, (i, s, e) in enumerate(zip(enc.ids[:max_tokens], enc.starts, enc.ends)):
        parts.append(f'<span class="ta-tok" style="background:{PALETTE[k % len(PALETTE)]}" '
                     f'title="{escape(repr(enc.text[s:e]))}">{i}</span> ')
    parts.append("</div>")
    return "".join(parts)


# ------------------------------------------------------------------ boundary diff


def boundaries(enc: Encoding) -> set[int]:
    """Character offsets strictly inside the text where this encoding puts a token boundary.

    Offsets inside a split character (several tokens share its span) are not boundaries.

    >>> from analysis import get_tokenizer
    >>> sorted(boundaries(get_tokenizer("cl100k_base").encode("hello world")))
    [5]
    """
    n = len(enc.text)
    return {x for s, e in zip(enc.starts, enc.ends) for x in (s, e) if 0 < x < n}


@dataclass(frozen=True)
class BoundaryDiff:
    """Where the tokenizers' boundaries agree: per boundary offset, which of them cut there."""

    text: str
    tokenizers: list[str]
    cuts: dict[int, frozenset[str]] = field(default_factory=dict)

    @property
    def shared(self) -> list[int]:
        """Offsets where every tokenizer cuts."""
        everyone = frozenset(self.tokenizers)
        return sorted(x for x, who in self.cuts.items() if who == everyone)

    @property
    def disputed(self) -> list[int]:
        """Offsets where some but not all tokenizers cut."""
        everyone = frozenset(self.tokenizers)
        return sorted(x for x, who in self.cuts.items() if who != everyone)

    def agreement(self) -> list[dict[str, object]]:
        """Pairwise Jaccard similarity of the boundary sets (1.0: identical segmentations)."""
        sets = {t: {x for x, who in self.cuts.items() if t in who} for t in self.tokenizers}
        rows = []
        for a in self.tokenizers:
            row: dict[str, object] = {"tokenizer": a}
            for b in self.tokenizers:
                union = sets[a] | sets[b]
                row[b] = round(len(sets[a] & sets[b]) / len(union), 3) if union else 1.0
            rows.append(row)
        return rows

    def html(self, *, max_chars: int = 5000) -> str:
        """The text with a mark at every boundary: solid where all agree, numbered where only some cut."""
        n_all = len(self.tokenizers)
        parts = ['<div class="ta-tokens ta-diff" dir="auto">']
        pos = 0
        for x in sorted(self.cuts):
            if x > max_chars:
                break
            parts.append(escape(self.text[pos:x]))
            who = self.cuts[x]
            title = escape("cut by: " + ", ".join(t for t in self.tokenizers if t in who))
            # The mark is drawn by CSS from data-cut (analysis.render.CSS): the text stays the text.
            if len(who) == n_all:
                parts.append(f'<span class="ta-cut ta-cut-all" title="{title}" data-cut="│"></span>')
            else:
                parts.append(f'<span class="ta-cut ta-cut-some" title="{title}" data-cut="{len(who)}"></span>')
            pos = x
        parts.append(escape(self.text[pos:max_chars]))
        parts.append("</div>")
        return "".join(parts)


def boundary_diff(encodings: Sequence[Encoding]) -> BoundaryDiff:
    """Align the encodings of one text on its characters and collect who cuts where.

    >>> from analysis import get_tokenizer
    >>> d = boundary_diff([get_tokenizer(t).encode("hello world") for t in ("cl100k_base", "words")])
    >>> d.shared, d.disputed
    ([5], [6])
    """
    if not encodings:
        return BoundaryDiff("", [])
    text = encodings[0].text
    cuts: dict[int, set[str]] = {}
    for enc in encodings:
        for x in boundaries(enc):
            cuts.setdefault(x, set()).add(enc.tokenizer.id)
    return BoundaryDiff(text, [e.tokenizer.id for e in encodings], {x: frozenset(w) for x, w in cuts.items()})


#: Headers of :func:`pair_premiums`' columns (msgids, translated where shown).
PAIR_HEADERS = {"tokenizer": N_("tokenizer"), "tokens (first)": N_("tokens (first)"),
                "tokens (second)": N_("tokens (second)"), "premium": N_("premium")}
#: Header of the first column of :meth:`BoundaryDiff.agreement`; the others are tokenizer ids.
AGREEMENT_HEADERS = {"tokenizer": N_("tokenizer")}


def pair_premiums(first: Sequence[Encoding], second: Sequence[Encoding]) -> list[dict[str, object]]:
    """Translation mode: tokens of the second text per token of the first, per tokenizer.

    >>> from analysis import get_tokenizer
    >>> t = get_tokenizer("utf8-bytes")
    >>> pair_premiums([t.encode("free")], [t.encode("libre")])[0]["premium"]
    1.25
    """
    rows = []
    for a, b in zip(first, second, strict=True):
        rows.append({"tokenizer": a.tokenizer.id, "tokens (first)": a.count, "tokens (second)": b.count,
                     "premium": round(b.count / a.count, 3) if a.count else None})
    return rows


# ------------------------------------------------------------------ permalinks


@dataclass
class PlaygroundState:
    """What a Playground permalink carries."""

    tokenizers: list[str] = field(default_factory=list)
    text: str | None = None
    show_whitespace: bool = False
    view: str = "tokens"
    sample: tuple[str, str, str] | None = None  # (corpus, lang, unit) of a text in the store
    compare: str | None = None
    workshop: str | None = None  # a preset in assets/workshops/ pinning tokenizers and texts

    def to_query(self) -> dict[str, str]:
        """Query parameters for this state; texts longer than MAX_URL_TEXT are left out (link a sample instead)."""
        q: dict[str, str] = {}
        if self.workshop:
            q["workshop"] = self.workshop
        if self.tokenizers:
            q["tokenizers"] = ",".join(self.tokenizers)
        if self.sample:
            q["corpus"], q["sample_lang"], q["unit"] = self.sample
        elif self.text is not None and len(self.text) <= MAX_URL_TEXT:
            q["text"] = self.text
        if self.compare is not None and len(self.compare) <= MAX_URL_TEXT:
            q["compare"] = self.compare
        if self.show_whitespace:
            q["ws"] = "1"
        if self.view != "tokens":
            q["view"] = self.view
        return q


def state_from_query(params: Mapping[str, str], known: Sequence[str]) -> tuple[PlaygroundState, list[str]]:
    """Parse permalink parameters; unknown tokenizers and bad values are dropped with a warning each.

    >>> s, warnings = state_from_query({"tokenizers": "o200k_base,nope", "ws": "1"}, ["o200k_base"])
    >>> s.tokenizers, s.show_whitespace, warnings
    (['o200k_base'], True, ["Unknown tokenizer 'nope' in the link was left out."])
    """
    state, warnings = PlaygroundState(), []
    if "tokenizers" in params:
        for tid in (t.strip() for t in params["tokenizers"].split(",")):
            if tid in known and tid not in state.tokenizers:
                state.tokenizers.append(tid)
            elif tid and tid not in known:
                warnings.append(_("Unknown tokenizer {id} in the link was left out.").format(id=repr(tid[:60])))
    for key in ("text", "compare"):
        if key in params:
            value = params[key]
            if len(value) > MAX_URL_TEXT:
                warnings.append(_("The link's {key} has {n} characters; links carry at most {cap}, so only the first "
                                  "{cap} are shown. Share a longer text as a file, or link a stored sample (corpus=, "
                                  "sample_lang=, unit=).").format(key=key, n=format_number(len(value)),
                                                                  cap=format_number(MAX_URL_TEXT)))
            setattr(state, key, value[:MAX_URL_TEXT])
    # The sample's language is sample_lang=; older links wrote it as lang=, which now names the interface language
    # when it is one (lang=fr), so a corpus code there (lang=hin) is still read as the sample's.
    sample_lang = params.get("sample_lang") or (params.get("lang") if normalize_language(params.get("lang")) is None
                                                else None)
    if "corpus" in params and "unit" in params and sample_lang:
        state.sample = (params["corpus"], sample_lang, params["unit"])
    state.workshop = params.get("workshop") or None
    state.show_whitespace = params.get("ws", "0") in ("1", "true")
    view = params.get("view", "tokens")
    if view in VIEWS:
        state.view = view
    else:
        warnings.append(_("Unknown view {view} in the link; showing tokens.").format(view=repr(view[:20])))
    return state, warnings
