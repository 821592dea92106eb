"""Step through the first merges of a trained BPE tokenizer on one sentence, to watch tokens grow.

The sentence is cut by the tokenizer's own pre-tokenizer and starts as single bytes (byte-level symbols); merge k
(in training order, which is also the order a BPE tokenizer applies them) replaces every adjacent occurrence of its
pair, left to right. After all merges this gives exactly the tokenizer's own encoding. A step records the merge,
whether it changed the sentence, the sentence's tokens after it, and — for Parity-aware BPE — which language the
merge was chosen for.

Example:
    >>> steps = merge_steps("file:/t/tokenizer.json", "Everyone has the right", limit=20)   # doctest: +SKIP
    >>> steps[0].merge, steps[0].n_tokens                                                   # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..tokenizers.hf_parts import byte_level_bytes
from .compare import load_tokenizer
from .data import LabError
from .tokjson import read_sidecar


@dataclass(frozen=True)
class Step:
    rank: int  # 1-based merge number
    left: str  # the two merged pieces and the result, shown as text (partial UTF-8 bytes as \\x..)
    right: str
    token: str
    changed: bool  # whether this merge occurs in the sentence
    tokens: tuple[str, ...]  # the sentence's tokens after this merge
    served: str | None = None  # Parity-aware BPE: the language this merge was chosen for

    @property
    def n_tokens(self) -> int:
        return len(self.tokens)

    @property
    def merge(self) -> str:
        return f"{self.left} + {self.right} → {self.token}"


def show(piece: str) -> str:
    """A byte-level piece as readable text; bytes that do not form whole UTF-8 characters as ``\\xNN``.

    >>> show("Ġthe"), show("à¤"), show("Ċ")
    (' the', '\\\\xe0\\\\xa4', '\\n')
    """
    raw = byte_level_bytes(piece)
    if raw is None:
        return piece
    return raw.decode("utf-8", errors="backslashreplace")


def _apply(words: list[list[str]], left: str, right: str) -> bool:
    merged, changed = left + right, False
    for w in words:
        i = 0
        while i < len(w) - 1:
            if w[i] == left and w[i + 1] == right:
                w[i:i + 2] = [merged]
                changed = True
            i += 1
    return changed


def merge_steps(spec: str, text: str, *, limit: int = 50, only_changes: bool = False) -> list[Step]:
    """The first ``limit`` merges of a BPE tokenizer.json applied to ``text`` one by one.

    Args:
        spec: ``file:/path/tokenizer.json`` of a byte-level BPE model (any lab BPE; catalogue BPE files work too).
        limit: how many steps to return.
        only_changes: count and return only the merges that change ``text`` (the first ``limit`` of those).

    Raises:
        LabError: the tokenizer is not a BPE ``tokenizer.json``.
    """
    tok = load_tokenizer(spec)
    hf = getattr(tok, "hf", None)
    state = json.loads(hf.to_str()) if hf is not None else {}
    model = state.get("model", {})
    if model.get("type") != "BPE":
        raise LabError(f"{spec} is not a BPE tokenizer.json; the step-through replays BPE merges (train bpe, "
                       "superword-bpe or parity-bpe).")
    merges: Sequence = model.get("merges", [])
    pairs = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in merges]
    served: list[str | None] = []
    if spec.startswith("file:"):
        side = read_sidecar(Path(spec[len("file:"):]))
        served = list(side.get("served") or []) if side else []
    pre = hf.pre_tokenizer
    words = [list(w) for w, _ in pre.pre_tokenize_str(text)] if pre is not None else [list(text)]
    out: list[Step] = []
    for k, (left, right) in enumerate(pairs):
        changed = _apply(words, left, right)
        if only_changes and not changed:
            continue
        out.append(Step(rank=k + 1, left=show(left), right=show(right), token=show(left + right), changed=changed,
                        tokens=tuple(show(p) for w in words for p in w),
                        served=served[k] if k < len(served) else None))
        if len(out) >= limit:
            break
    return out


def initial_tokens(spec: str, text: str) -> tuple[str, ...]:
    """The sentence before any merge: its pre-tokens as single byte symbols."""
    hf = load_tokenizer(spec).hf  # type: ignore[attr-defined]
    pre = hf.pre_tokenizer
    words = [w for w, _ in pre.pre_tokenize_str(text)] if pre is not None else [text]
    return tuple(show(c) for w in words for c in w)


def steps_html(tokens: Sequence[str], *, changed: str | None = None) -> str:
    """The tokens of one step as coloured spans (an HTML value; every piece escaped). ``changed``: highlight
    the tokens equal to this newly merged token.

    >>> html = steps_html(["<b>", " x"], changed=" x")
    >>> "&lt;b&gt;</span>" in html and "<b>" not in html, '<span class="ta-tok ta-split" style="background:#cde8f7"> x' in html
    (True, True)
    """
    from html import escape

    from ..render import PALETTE

    parts = ['<div class="ta-tokens" dir="auto">']
    for n, t in enumerate(tokens):
        cls = "ta-tok ta-split" if changed is not None and t == changed else "ta-tok"
        parts.append(f'<span class="{cls}" style="background:{PALETTE[n % len(PALETTE)]}">{escape(t)}</span>')
    parts.append("</div>")
    return "".join(parts)
