"""Side-by-side evaluation of lab tokenizers on the held-out units.

For each tokenizer and language: tokens on the held-out units, the premium against the reference language with its
95% bootstrap CI (:func:`analysis.metrics.premium`, :func:`analysis.metrics.bootstrap_ci`; units present in both
languages, B = 1000, seed 0, as the store), bytes per token, and the share of unknown tokens (above 10% the
premium is flagged as not meaningful, as in the store). For each tokenizer: global bytes per token (all
held-out bytes of all languages / all their tokens), the fairness summary over the chosen languages (worst premium
and Gini, reference included at 1.0, as the store's fairness table), and the vocabulary's share per script
(:func:`analysis.scripts.script_share` of each entry's bytes; special tokens excluded).

Example:
    >>> cmp = compare_specs({"parity": "file:/t/p.json", "bpe": "file:/t/b.json"}, data)   # doctest: +SKIP
    >>> print(format_comparison(cmp))                                                      # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..i18n import N_
from ..metrics import (
    BOOTSTRAP_B,
    BOOTSTRAP_SEED,
    DEFAULT_REFERENCE,
    FairnessSummary,
    bootstrap_ci,
    bytes_per_token,
    fairness_summary,
    premium,
    unk_flag,
    unk_rate,
)
from ..scripts import script_share
from ..tokenizers import Tokenizer, get_tokenizer
from ..tokenizers.hf_parts import byte_level_bytes
from ..tokenizers.registry import load_file
from .data import LabData, LabError

#: The languages a comparison's fairness summary is over (``Comparison.language_set``), a template to translate.
LANGUAGE_SET = N_("the {n} chosen {corpus} languages, reference included")


@dataclass(frozen=True)
class LangResult:
    lang: str
    name: str
    script: str | None
    units: int  # held-out units shared with the reference
    tokens: int  # over all of the language's held-out units
    bytes: int
    premium: float
    ci_low: float
    ci_high: float
    unk: int = 0  # unknown tokens among ``tokens``

    @property
    def bytes_per_token(self) -> float | None:
        return bytes_per_token(self.bytes, self.tokens)

    @property
    def unk_rate(self) -> float | None:
        return unk_rate(self.unk, self.tokens)

    @property
    def flagged(self) -> bool:
        """More than 10% UNK: the premium is not meaningful (unknown characters cost one token each)."""
        return unk_flag(self.unk_rate)


@dataclass
class TokenizerReport:
    label: str
    spec: str
    vocab_size: int
    langs: list[LangResult]
    bytes_per_token: float | None
    fairness: FairnessSummary
    script_share: dict[str, float] = field(default_factory=dict)

    def premium_of(self, lang: str) -> float:
        return next(r.premium for r in self.langs if r.lang == lang)


@dataclass
class Comparison:
    reference: str
    held_out_units: tuple[str, ...]
    language_set: str
    reports: list[TokenizerReport]


@lru_cache(maxsize=16)
def _file_tokenizer(path: str, mtime_ns: int, size: int) -> Tokenizer:
    return load_file(path, tokenizer_id=f"file:{path}")


def load_tokenizer(spec: str) -> Tokenizer:
    """A tokenizer for ``spec``; ``file:`` specs through a small cache keyed by the file's path, mtime and size.

    The process-wide registry (:func:`analysis.get_tokenizer`) keeps every tokenizer it loads for good, and it
    would hand back a stale one for a file trained again at the same path; a lab session trains many files.
    """
    if not spec.startswith("file:"):
        return get_tokenizer(spec)
    path = Path(spec[len("file:"):]).expanduser()
    try:
        st = path.stat()
    except OSError:
        return load_file(path, tokenizer_id=spec)  # raises AssetError naming the file and the fix
    return _file_tokenizer(str(path), st.st_mtime_ns, st.st_size)


def default_reference(data: LabData) -> str:
    """English where chosen, else the first chosen language."""
    return DEFAULT_REFERENCE if DEFAULT_REFERENCE in data.langs else data.langs[0]


def vocab_bytes(tok: Tokenizer) -> list[bytes]:
    """The bytes each (non-special) vocabulary entry stands for, from the tokenizer's own pieces.

    Byte-level pieces map back through GPT-2's byte table, ``▁`` is a space, and WordPiece's ``##`` continuation
    prefix is dropped (what :meth:`Tokenizer.encode` reports as each token's bytes).
    """
    hf = getattr(tok, "hf", None)
    if hf is None:
        raise LabError(f"{tok.id} is not a tokenizer.json tokenizer; the lab compares its own trained files.")
    state = json.loads(hf.to_str())
    byte_level = "ByteLevel" in json.dumps(state.get("decoder"))
    prefix = state["model"].get("continuing_subword_prefix") if state["model"]["type"] == "WordPiece" else None
    special = {t["content"] for t in state.get("added_tokens", []) if t.get("special")}
    out = []
    for piece in hf.get_vocab(with_added_tokens=False):
        if piece in special:
            continue
        p = piece[len(prefix):] if prefix and piece.startswith(prefix) else piece
        raw = byte_level_bytes(p) if byte_level else None
        if raw is not None:
            out.append(raw)
        else:
            out.append(p.replace("\u2581", " ").encode())
    return out


def script_shares(tok: Tokenizer) -> dict[str, float]:
    """Share of the vocabulary per script class (ISO 15924 code, "mixed", "partial UTF-8", "bytes/other")."""
    counts = Counter(script_share(b) for b in vocab_bytes(tok))
    total = sum(counts.values())
    return {k: n / total for k, n in counts.most_common()} if total else {}


def evaluate(tok: Tokenizer, data: LabData, *, label: str, reference: str | None = None) -> TokenizerReport:
    """Held-out premiums (with CIs), compression, fairness and script shares of one tokenizer."""
    ref = reference or default_reference(data)
    if ref not in data.langs:
        raise LabError(N_("The reference language {ref!r} is not among the chosen languages ({langs}); add it or "
                          "choose one of them as the reference."), ref=ref, langs=", ".join(data.langs))
    held = {lang: data.held_out_texts(lang) for lang in data.langs}
    counts: dict[str, dict[str, int]] = {}
    unks: dict[str, int] = {}
    for lang, texts in held.items():
        units = list(texts)
        encs = [tok.encode(texts[u]) for u in units]
        counts[lang] = {u: e.count for u, e in zip(units, encs)}
        unks[lang] = sum(e.kind_counts()["unknown"] for e in encs)
    ref_counts = counts[ref]
    rows = []
    for language in data.languages:
        lang = language.code
        shared = [u for u in data.held_out_units if u in counts[lang] and ref_counts.get(u)]
        if not shared:
            raise LabError(N_("{lang!r} shares no held-out unit with the reference {ref!r}; choose another seed or a "
                              "larger held-out share."), lang=lang, ref=ref)
        n_l = [counts[lang][u] for u in shared]
        n_r = [ref_counts[u] for u in shared]
        lo, hi = bootstrap_ci(n_l, n_r, b=BOOTSTRAP_B, seed=BOOTSTRAP_SEED)
        rows.append(LangResult(lang, language.name, language.script, len(shared), sum(counts[lang].values()),
                               sum(len(t.encode("utf-8")) for t in held[lang].values()), premium(n_l, n_r), lo, hi,
                               unks[lang]))
    total_bytes = sum(r.bytes for r in rows)
    total_tokens = sum(r.tokens for r in rows)
    return TokenizerReport(label=label, spec=tok.id, vocab_size=tok.vocab_size or 0, langs=rows,
                           bytes_per_token=bytes_per_token(total_bytes, total_tokens),
                           fairness=fairness_summary({r.lang: r.premium for r in rows}),
                           script_share=script_shares(tok) if hasattr(tok, "hf") else {})


def compare_specs(specs: Mapping[str, str], data: LabData, *, reference: str | None = None) -> Comparison:
    """Evaluate ``{label: tokenizer spec}`` (e.g. ``file:/…/tokenizer.json``) on the held-out units of ``data``."""
    ref = reference or default_reference(data)
    reports = [evaluate(load_tokenizer(spec), data, label=label, reference=ref) for label, spec in specs.items()]
    return Comparison(reference=ref, held_out_units=data.held_out_units, reports=reports,
                      language_set=LANGUAGE_SET.format(n=len(data.langs), corpus=data.corpus))


#: Headers of the columns per tokenizer of :func:`comparison_rows` (``"premium BPE"``): key prefix -> template msgid.
_PER_TOKENIZER_HEADERS = {"premium": N_("premium {tokenizer}"), "CI": N_("95% CI {tokenizer}"),
                          "bytes/token": N_("bytes/token {tokenizer}"), "UNK %": N_("UNK % {tokenizer}")}


def comparison_headers(cmp: Comparison) -> dict[str, str | tuple[str, dict[str, str]]]:
    """The header of each column of :func:`comparison_rows`: a msgid, or (template msgid, values) for a column
    named after a tokenizer; a page shows them translated (``app.language.headers``), the rows keep their keys.

    >>> rep = TokenizerReport(label="BPE", spec="file:/b.json", vocab_size=600, langs=[], bytes_per_token=3.0,
    ...                       fairness=None)
    >>> comparison_headers(Comparison(reference="eng", language_set="x", held_out_units=[], reports=[rep]))["CI BPE"]
    ('95% CI {tokenizer}', {'tokenizer': 'BPE'})
    """
    out: dict[str, str | tuple[str, dict[str, str]]] = {
        "lang": N_("code"), "name": N_("language"), "script": N_("script"), "units": N_("units")}
    for rep in cmp.reports:
        for prefix, template in _PER_TOKENIZER_HEADERS.items():
            out[f"{prefix} {rep.label}"] = (template, {"tokenizer": rep.label})
    return out


def comparison_rows(cmp: Comparison) -> list[dict[str, object]]:
    """One row per language: each tokenizer's premium, CI and bytes per token side by side (and its UNK share
    where it produced any unknown token; above 10% the premium is flagged as not meaningful)."""
    out = []
    for k, first in enumerate(cmp.reports[0].langs):
        row: dict[str, object] = {"lang": first.lang, "name": first.name, "script": first.script, "units": first.units}
        for rep in cmp.reports:
            r = rep.langs[k]
            row[f"premium {rep.label}"] = r.premium
            row[f"CI {rep.label}"] = f"{r.ci_low:.2f}–{r.ci_high:.2f}"
            row[f"bytes/token {rep.label}"] = r.bytes_per_token
            if any(x.unk for x in rep.langs):
                row[f"UNK % {rep.label}"] = f"{100 * (r.unk_rate or 0):.1f}{' (flagged)' if r.flagged else ''}"
        out.append(row)
    return out


#: The headers of :func:`summary_rows`' columns (msgids: a page shows them translated; the rows keep these keys).
SUMMARY_HEADERS = {"tokenizer": N_("tokenizer"), "vocab size": N_("vocab size"), "bytes/token": N_("bytes/token"),
                   "mean premium": N_("mean premium"), "worst premium": N_("worst premium"),
                   "worst language": N_("worst language"), "Gini": N_("Gini")}
#: The header of :func:`script_rows`' first column; the others are the tokenizers' labels (names, kept as they are).
SCRIPT_HEADERS = {"script": N_("script")}


def summary_rows(cmp: Comparison) -> list[dict[str, object]]:
    """One row per tokenizer: vocabulary, global bytes/token, mean and worst premium (and where), Gini."""
    return [{"tokenizer": rep.label, "vocab size": rep.vocab_size, "bytes/token": rep.bytes_per_token,
             "mean premium": rep.fairness.mean, "worst premium": rep.fairness.max,
             "worst language": rep.fairness.argmax, "Gini": rep.fairness.gini} for rep in cmp.reports]


def script_rows(cmp: Comparison, *, top: int = 8) -> list[dict[str, object]]:
    """Vocabulary share per script, one row per script class (the ``top`` largest over all tokenizers).

    None for a tokenizer that is not a ``tokenizer.json`` (its vocabulary is not read here)."""
    total: Counter[str] = Counter()
    for rep in cmp.reports:
        total.update(rep.script_share)
    return [{"script": s, **{rep.label: rep.script_share.get(s, 0.0) if rep.script_share else None
                             for rep in cmp.reports}} for s, _ in total.most_common(top)]


def _table(rows: list[dict[str, object]]) -> str:
    if not rows:
        return ""
    cols = list(rows[0])

    def cell(v: object) -> str:
        return f"{v:.3f}" if isinstance(v, float) else "—" if v is None else str(v)

    widths = {c: max(len(c), *(len(cell(r[c])) for r in rows)) for c in cols}
    lines = ["  ".join(c.ljust(widths[c]) for c in cols)]
    lines += ["  ".join(cell(r[c]).ljust(widths[c]) for c in cols) for r in rows]
    return "\n".join(lines)


def format_comparison(cmp: Comparison) -> str:
    """The side-by-side table, the summary and the script shares as plain text (for the CLI)."""
    return "\n".join([
        f"# held-out units: {', '.join(cmp.held_out_units)}; premium vs {cmp.reference} (ratio of sums, 95% bootstrap "
        f"CI, B={BOOTSTRAP_B}, seed {BOOTSTRAP_SEED})",
        _table(comparison_rows(cmp)), "",
        f"# fairness over {cmp.language_set}; bytes/token over all held-out text",
        _table(summary_rows(cmp)), "",
        "# vocabulary share per script (special tokens excluded)",
        _table(script_rows(cmp)),
    ])
