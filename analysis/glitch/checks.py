"""Tokenizer checks: what every token id of a vocabulary is, with no model weights (stage 1 of Land & Bartolo).

Per id: the bytes it stands for, a display string, its Unicode script and its categories (special, byte-fallback,
partial UTF-8, unreachable, changed by normalization). The per-id tables come from the tokenizer's own
:class:`~analysis.tokenizers.base.TokenTables`; encoding goes through each backend's fast path, so a 256k
vocabulary takes a few seconds.

*Unreachable*: the token's text, encoded, does not give back that id — neither alone nor after a one-character
prefix (``«`` or ``»``, which stop SentencePiece's dummy-prefix space from attaching to it), nor, for a WordPiece
continuation piece ``##x``, after a letter that is a word piece on its own. Special tokens and tokens whose bytes
are not valid UTF-8 are not tested (they are their own categories).

Example:
    >>> from analysis.tokenizers import get_tokenizer
    >>> scan = scan_vocabulary(get_tokenizer("utf8-bytes"))
    >>> scan.display[3 + 0x41], scan.categories(3 + 0xE4)
    ('A', ['partial-utf8'])
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.i18n import N_

from ..tokenizers.base import Tokenizer
from ..tokenizers.tables import TokenClass, TokenTables
from .categories import Category, GlitchError, names

#: Bumped whenever a check changes meaning; stored with every scan so old scans are redone.
CHECKS_VERSION = "2"  # 2: no frequency bits in the flags (never-seen, rare)
#: One-character prefixes tried before a token's text (as in cohere-ai/magikarp).
PREFIXES = ("«", "»")


def _hex_bytes(err: UnicodeDecodeError) -> tuple[str, int]:
    return "".join(f"<0x{b:02X}>" for b in err.object[err.start:err.end]), err.end


codecs.register_error("atlas-hex", _hex_bytes)


def display(token_bytes: bytes) -> str:
    """The token's bytes as text, with bytes that are not valid UTF-8 written ``<0xNN>``.

    >>> display(b" caf\\xc3\\xa9"), display(b"\\xe4\\xb8"), display(b"a\\xff")
    (' café', '<0xE4><0xB8>', 'a<0xFF>')
    """
    return token_bytes.decode("utf-8", "atlas-hex")


@dataclass(frozen=True)
class VocabularyScan:
    """The checks of one vocabulary, as parallel per-id arrays (index = token id)."""

    tokenizer: str
    token_bytes: np.ndarray  # object: bytes
    display: np.ndarray  # object: str
    script: np.ndarray  # object: ISO 15924 code, "mixed", "partial UTF-8", "bytes/other" or "special"
    flags: np.ndarray  # uint16: Category bits (the tokenizer checks)

    def __len__(self) -> int:
        return len(self.flags)

    def categories(self, token_id: int) -> list[str]:
        return names(int(self.flags[token_id]))

    def counts(self) -> dict[str, int]:
        """How many ids fall in each category (every tokenizer-check category present as a key)."""
        return {names(int(bit))[0]: int(np.count_nonzero(self.flags & bit)) for bit in
                (Category.SPECIAL, Category.BYTE_FALLBACK, Category.PARTIAL_UTF8, Category.UNREACHABLE,
                 Category.NORMALIZATION_CHANGED)}


def token_tables(tok: Tokenizer) -> TokenTables:
    """The tokenizer's per-id bytes and kind classes, as its backend builds them for encoding."""
    tables = tok.token_tables() if tok.has_vocabulary else None
    if tables is None:
        raise GlitchError(
            f"{tok.id!r} has no finite vocabulary of token ids to check (the code-point and word baselines give every "
            "character or word its own id). Scan a model tokenizer instead: `python -m analysis tokenizers` lists them.",
            title=N_("Nothing to scan"),
        )
    return tables


def encode_plain(tok: Tokenizer, texts: Sequence[str]) -> list[list[int]]:
    """Ids of many texts under the counting policy (no BOS/EOS; special-looking text is plain), from the vocabulary's
    own model, through each backend's fast path (:meth:`~analysis.tokenizers.base.Tokenizer.model_ids_batch`)."""
    return tok.model_ids_batch(list(texts))


def encode_flat(tok: Tokenizer, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`encode_plain` of many texts as one flat id array and the number of ids of each text
    (:meth:`~analysis.tokenizers.base.Tokenizer.model_ids_flat`)."""
    return tok.model_ids_flat(texts)


def _canon(text: str) -> str:
    """Text with whitespace and SentencePiece's ``▁`` dropped: normalizers that only escape or add spaces do not count."""
    return "".join(text.replace("\u2581", " ").split())


def _bare_letter(tok: Tokenizer, pieces: list[str], prefix: str) -> tuple[str, int] | None:
    """A letter that is a word piece of its own and begins no longer word piece, with its id.

    WordPiece matches the longest piece from the start of a word, so after such a letter the rest of the word is
    matched with continuation pieces alone: ``encode(c + x) == [id(c), id(prefix + x)]`` exactly when ``##x`` is
    reachable.
    """
    starts: dict[str, int] = {}
    for p in pieces:
        if p and not p.startswith(prefix):
            starts[p[0]] = starts.get(p[0], 0) + 1
    norm = tok.normalizer()
    for i, p in enumerate(pieces):
        if (len(p) == 1 and p.isalpha() and starts.get(p) == 1 and not (0x2E80 <= ord(p) <= 0x9FFF)
                and (norm is None or norm(p) == p) and encode_plain(tok, [p]) == [[i]]):
            return p, i
    return None


def _reachable(tok: Tokenizer, tables: TokenTables, testable: np.ndarray, texts: Sequence[str | None]) -> np.ndarray:
    """Per id: True if its text encodes back to it (alone, after a prefix, or as a WordPiece continuation)."""
    reach = np.zeros(len(tables.classes), dtype=bool)
    ids = np.flatnonzero(testable)
    reach[ids] = _encodes_to(tok, [texts[i] for i in ids.tolist()], [], ids)
    for prefix in PREFIXES:
        todo = ids[~reach[ids]]
        if not len(todo):
            break
        head = encode_plain(tok, [prefix])[0]
        reach[todo] = _encodes_to(tok, [prefix + texts[i] for i in todo.tolist()], head, todo)
    wp = tok.continuation_prefix()
    if wp:
        pieces = [tok.piece(i) for i in range(len(reach))]
        todo = np.array([i for i in ids[~reach[ids]].tolist() if pieces[i].startswith(wp)], dtype=np.int64)
        letter = _bare_letter(tok, pieces, wp) if len(todo) else None
        if letter is not None:
            c, cid = letter
            reach[todo] = _encodes_to(tok, [c + texts[i] for i in todo.tolist()], [cid], todo)
    return reach


def _encodes_to(tok: Tokenizer, texts: list[str], head: list[int], want: np.ndarray) -> np.ndarray:
    """Per text: whether it encodes to exactly ``head`` followed by the one id ``want[i]``."""
    flat, counts = encode_flat(tok, texts)
    k = len(head)
    ok = counts == k + 1
    if not len(flat):
        return ok
    ends = np.cumsum(counts)  # text i's ids are flat[ends[i] - counts[i]:ends[i]]
    ok &= flat[np.where(ok, ends - 1, 0)] == want
    for j, h in enumerate(head):  # the head's ids, in place, before the last one
        ok &= flat[np.where(ok, ends - 1 - k + j, 0)] == h
    return ok


def _normalization_changed(tok: Tokenizer, texts: Sequence[str | None], ids: np.ndarray) -> np.ndarray:
    """Per id in ``ids``: True where the tokenizer's normalizer changes the text beyond whitespace and ``▁``."""
    norm = tok.normalizer()
    if norm is None:
        return np.zeros(len(ids), dtype=bool)
    out = []
    for i in ids.tolist():
        t = texts[i]
        n = norm(t)
        # Equal strings, or equal after ``▁`` -> space (both cheap), have equal _canon; only the rest are canonized.
        out.append(n != t and n.replace("\u2581", " ") != t.replace("\u2581", " ") and _canon(n) != _canon(t))
    return np.array(out, dtype=bool)


def scan_vocabulary(tok: Tokenizer) -> VocabularyScan:
    """Bytes, display string, script and tokenizer-check categories of every id of ``tok``'s vocabulary.

    Raises:
        GlitchError: the tokenizer has no finite vocabulary (the code-point and word baselines).
    """
    # ICU (~10 MiB) only when a vocabulary is scanned: a build that takes the checks from the cache never loads it.
    from ..scripts import decode_each, script_classes

    tables = token_tables(tok)
    classes = tables.classes
    n = len(classes)
    token_bytes = tables.token_bytes
    flags = np.zeros(n, dtype=np.uint16)
    special = (classes == TokenClass.SPECIAL) | (classes == TokenClass.UNKNOWN)
    flags[special] |= np.uint16(Category.SPECIAL)
    flags[classes == TokenClass.BYTE_FALLBACK] |= np.uint16(Category.BYTE_FALLBACK)
    bytes_list = token_bytes.tolist()
    texts = decode_each(bytes_list)  # None: not valid UTF-8 on its own
    valid = np.fromiter((t is not None for t in texts), dtype=bool, count=n)
    disp = np.array(texts, dtype=object) if n else np.empty(0, dtype=object)
    for i in np.flatnonzero(~valid).tolist():
        disp[i] = display(bytes_list[i])
    script = script_classes(bytes_list, texts)
    for i in np.flatnonzero(special).tolist():
        disp[i] = tok.piece(i)
        script[i] = "special"
    flags[~valid] |= np.uint16(Category.PARTIAL_UTF8)
    testable = valid & ~special & np.fromiter((bool(t) for t in texts), dtype=bool, count=n)
    reach = _reachable(tok, tables, testable, texts)
    flags[testable & ~reach] |= np.uint16(Category.UNREACHABLE)
    tested = np.flatnonzero(testable)
    flags[tested[_normalization_changed(tok, texts, tested)]] |= np.uint16(Category.NORMALIZATION_CHANGED)
    return VocabularyScan(tok.id, token_bytes, disp, script, flags)
