"""Everything the store and the vocabularies say about one token: the data of the token page (``token?tokenizer=ID&id=N``).

- :func:`token_facts`: its bytes, vocabulary entry, kind and script (from the vocabulary itself).
- :func:`same_bytes_in`: whether the same byte string is a single token of another tokenizer, and its id there.
- :func:`frequency_by_language`: how often it occurs per language in the store's corpora (``token_lang_counts``).
- :func:`glitch_evidence`: its glitch categories and verifications (:mod:`analysis.glitch`).
- :func:`example_units`: a few corpus sentences (UDHR by default) where it occurs, with its occurrences marked.

Only catalogue tokenizers have a token page: an id from a URL never names a file to load.

Example:
    >>> facts = token_facts("o200k_base", 290)
    >>> facts.token_bytes, facts.kind, facts.script
    (b' the', 'normal', 'Latn')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

import duckdb
import numpy as np
import pandas as pd

from .catalogue import load_catalogue
from .errors import TokenPageError
from .i18n import N_
from .scripts import script_share
from .store.writer import has_table
from .tokenizers import Tokenizer, get_tokenizer
from .tokenizers.base import TokenTables

_KINDS = {0: "normal", 1: "special", 2: "unknown", 3: "byte_fallback"}


@dataclass(frozen=True)
class TokenFacts:
    """What the vocabulary says about one token."""

    tokenizer_id: str
    token_id: int
    token_bytes: bytes
    entry: str  # the vocabulary entry as stored ("Ġthe", "▁the", "<0xE4>")
    kind: str  # normal, special, unknown, byte_fallback
    script: str  # ISO 15924 code, "mixed", "partial UTF-8" or "bytes/other" (analysis.scripts.script_share)

    @property
    def text(self) -> str:
        """The bytes as text, undecodable bytes shown as \\xNN."""
        return self.token_bytes.decode("utf-8", errors="backslashreplace")


@dataclass(frozen=True)
class Elsewhere:
    """The same byte string in another tokenizer: its id(s) there where it is one ordinary token."""

    tokenizer_id: str
    ids: tuple[int, ...]  # ordinary (non-special) tokens with exactly these bytes; empty: not a single token
    n_tokens: int | None  # how many tokens the bytes take there when they are text on their own (None: not UTF-8)

    @property
    def single(self) -> bool:
        return bool(self.ids)


def _tables(tok: Tokenizer) -> TokenTables:
    tables = tok.token_tables()
    if tables is None:
        raise TokenPageError(N_("{tokenizer} has no vocabulary table (a baseline without a fixed vocabulary); pick a "
                                "vocabulary tokenizer."), tokenizer=tok.id)
    return tables


def check_tokenizer(tokenizer_id: str) -> Tokenizer:
    """The catalogue tokenizer of that id (never a ``file:`` or ``hf:`` spec: a URL names no file)."""
    if tokenizer_id not in load_catalogue().entries:
        raise TokenPageError(N_("{tokenizer!r} is not a catalogue tokenizer. Token pages exist for: {ids}."),
                             tokenizer=tokenizer_id, ids=", ".join(load_catalogue().ids))
    return get_tokenizer(tokenizer_id)


def token_facts(tokenizer_id: str, token_id: int) -> TokenFacts:
    """Bytes, entry, kind and script of one token.

    Raises:
        TokenPageError: not a catalogue tokenizer, or the id is outside its vocabulary.
    """
    tok = check_tokenizer(tokenizer_id)
    tables = _tables(tok)
    n = len(tables.token_bytes)
    if not 0 <= token_id < n:
        raise TokenPageError(N_("{tokenizer} has ids 0 to {last:,}; {token_id} is not one of them. Follow a token's "
                                "link in the Playground, or type an id in that range."),
                             tokenizer=tokenizer_id, last=n - 1, token_id=token_id)
    b = bytes(tables.token_bytes[token_id])
    kind = _KINDS.get(int(tables.classes[token_id]), "normal")
    # A control token's text (<|begin_of_text|>) is a name, not writing: it has no script.
    return TokenFacts(tokenizer_id, token_id, b, tok.piece(token_id), kind,
                      script_share(b) if kind in ("normal", "byte_fallback") else "—")


def ids_with_bytes(tok: Tokenizer, token_bytes: bytes) -> tuple[int, ...]:
    """The ordinary (non-special) ids of ``tok`` whose bytes are exactly ``token_bytes``.

    >>> ids_with_bytes(get_tokenizer("o200k_base"), b" the")
    (290,)
    """
    tables = _tables(tok)
    if not token_bytes:
        return ()
    hits = np.flatnonzero(tables.lengths == len(token_bytes))
    return tuple(int(i) for i in hits if tables.token_bytes[i] == token_bytes and int(tables.classes[i]) != 1)


def same_bytes_in(token_bytes: bytes, tokenizer_ids: Iterable[str]) -> list[Elsewhere]:
    """For each tokenizer: the ids that are exactly these bytes, and how many tokens the bytes take as text."""
    out = []
    try:
        text: str | None = token_bytes.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    for tid in tokenizer_ids:
        tok = get_tokenizer(tid)
        if tok.token_tables() is None:
            continue
        out.append(Elsewhere(tid, ids_with_bytes(tok, token_bytes), tok.count(text) if text else None))
    return out


#: Headers of :func:`frequency_by_language`' columns (msgids, translated where shown).
FREQUENCY_HEADERS = {"corpus": N_("corpus"), "lang": N_("code"), "name": N_("language"), "n": N_("occurrences"),
                     "share": N_("share")}


def frequency_by_language(con: duckdb.DuckDBPyConnection, tokenizer_id: str, token_id: int) -> pd.DataFrame:
    """Occurrences per corpus and language (most first), with the language's name; empty where never counted.

    Columns: corpus, lang, name, n, share (of all its occurrences, 0..1).
    """
    cols = ["corpus", "lang", "name", "n", "share"]
    if not has_table(con, "token_lang_counts"):
        return pd.DataFrame(columns=cols)
    df = con.execute(
        """SELECT t.corpus, t.lang, coalesce(l.name, t.lang) AS name, sum(t.n)::BIGINT AS n
           FROM token_lang_counts t LEFT JOIN languages l ON l.corpus = t.corpus AND l.lang = t.lang
           WHERE t.tokenizer = ? AND t.token_id = ? GROUP BY ALL ORDER BY n DESC, t.corpus, t.lang""",
        [tokenizer_id, token_id]).df()
    df["share"] = df["n"] / df["n"].sum() if len(df) else []
    return df[cols]


@dataclass(frozen=True)
class GlitchEvidence:
    """The glitch checks' categories of a token and who verified it as under-trained (with sources)."""

    categories: list[str]
    verifications: list[str]
    scanned: bool  # False: the store has no token checks for this tokenizer


def glitch_evidence(con: duckdb.DuckDBPyConnection, tokenizer_id: str, token_id: int) -> GlitchEvidence:
    from .glitch import flags_for, verifications_for

    scanned = has_table(con, "glitch_tokens") and con.execute(
        "SELECT count(*) FROM glitch_tokens WHERE tokenizer = ?", [tokenizer_id]).fetchone()[0] > 0
    cats = flags_for(con, tokenizer_id, [token_id]).get(token_id, [])
    return GlitchEvidence(cats, verifications_for(con, tokenizer_id, [token_id]).get(token_id, []), scanned)


@dataclass(frozen=True)
class Example:
    """One corpus unit where the token occurs: its text and the character spans of each occurrence."""

    corpus: str
    lang: str
    name: str
    unit: str
    text: str
    spans: tuple[tuple[int, int], ...]

    def html(self) -> str:
        """The text with each occurrence in ``<mark>``, everything escaped."""
        out, pos = [], 0
        for s, e in self.spans:
            if s < pos:
                continue
            out.append(escape(self.text[pos:s]))
            out.append(f"<mark>{escape(self.text[s:e])}</mark>")
            pos = e
        out.append(escape(self.text[pos:]))
        return "".join(out)


def example_units(con: duckdb.DuckDBPyConnection, tokenizer_id: str, token_id: int, *, corpus: str = "udhr",
                  limit: int = 3, langs: Sequence[str] | None = None) -> list[Example]:
    """Up to ``limit`` units of ``corpus`` where the token occurs: from the languages it is most frequent in (one
    unit per language), found by encoding their units with the tokenizer (plain text, no BOS)."""
    if langs is None:
        freq = frequency_by_language(con, tokenizer_id, token_id)
        langs = freq[freq.corpus == corpus]["lang"].tolist()
    if not langs or not has_table(con, "units"):
        return []
    tok = check_tokenizer(tokenizer_id)
    out: list[Example] = []
    for lang in langs:
        rows = con.execute(
            """SELECT u.unit, u.text, coalesce(l.name, u.lang) FROM units u
               LEFT JOIN languages l ON l.corpus = u.corpus AND l.lang = u.lang
               WHERE u.corpus = ? AND u.lang = ? ORDER BY u.position""", [corpus, lang]).fetchall()
        for unit, text, name in rows:
            enc = tok.encode(text)
            spans = tuple((s, e) for i, s, e in zip(enc.ids, enc.starts, enc.ends) if i == token_id)
            if spans:
                out.append(Example(corpus, lang, name, unit, text, spans))
                break
        if len(out) >= limit:
            break
    return out
