"""Vocabulary comparison: sizes, token lengths in bytes, script shares, Jaccard overlap, tokens unique to one.

A tokenizer's *vocabulary* here is the set of byte strings its ids stand for when decoded, read from the
same per-id tables the encoders use (tiktoken ranks; HF pieces with GPT-2's byte mapping undone, "▁" as a
space and WordPiece's "##" dropped; SentencePiece pieces with byte-fallback pieces as their one byte). Special
tokens, the UNK token and ids with no token (gaps in the id range) are left out, as ``METRICS.md`` defines
the overlap. Two ids with the same bytes (BERT's ``ing`` and ``##ing``) count once in set operations.

Everything is computed with NumPy over whole vocabularies: 19 catalogue tokenizers, up to 262k ids each
(``codepoints`` has 1,112,064: every Unicode scalar value).

Example:
    >>> r50, p50 = load_vocabulary("r50k_base"), load_vocabulary("p50k_base")
    >>> cmp = Comparison([r50, p50])
    >>> int(cmp.intersections[0, 1]), int(cmp.sizes[1]), cmp.unique_counts()
    (50256, 50280, {'r50k_base': 0, 'p50k_base': 24})
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Literal

import numpy as np
import pandas as pd

from .errors import VocabularyError
from .i18n import N_
from .scripts import BYTES_OTHER, MIXED, PARTIAL_UTF8, script_classes
from .tokenizers import Tokenizer, get_tokenizer

#: Most tokenizers one comparison takes (membership is a 64-bit mask per byte string).
MAX_COMPARED = 64
#: Labels of :func:`script_classes` that are not ISO 15924 codes, in the order charts show them.
NON_SCRIPT_LABELS = (MIXED, PARTIAL_UTF8, BYTES_OTHER)
SortKey = Literal["id", "length", "token"]


# ------------------------------------------------------------------ per-id tables


def _id_tables(tok: Tokenizer) -> tuple[Sequence[bytes], np.ndarray]:
    """Bytes per id and kind class per id (0 normal, 1 special, 2 unknown, 3 byte fallback), from the tokenizer's own
    tables (built once per tokenizer and shared with its encoder)."""
    tables = tok.token_tables()
    if tables is None:
        raise VocabularyError(
            N_("{tokenizer!r} has no fixed vocabulary: its ids are CRC-32 hashes of whatever words it meets. Compare "
               "tokenizers with a vocabulary (every other catalogue entry)."), tokenizer=tok.id)
    return tables.token_bytes, tables.classes


def script_name(code: str) -> str:
    """A script's English name from its ISO 15924 code (labels such as "mixed" are returned as they are).

    >>> script_name("Deva"), script_name("Hani"), script_name("mixed")
    ('Devanagari', 'Han', 'mixed')
    """
    if code in NON_SCRIPT_LABELS:
        return code
    import icu

    found = icu.Script.getCode(code)
    return icu.Script(found[0]).getName() if found else code


# ------------------------------------------------------------------ one vocabulary


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """The compared entries of one tokenizer's vocabulary (parallel arrays, in id order) and its counts.

    ``size`` is the number of ids in its table (special tokens and unused ids included), ``n_special`` its
    special, control and UNK ids, ``n_unused`` ids that stand for no bytes, ``n_byte_fallback`` raw-byte tokens
    such as ``<0xE4>`` (compared, as their one byte). ``ids``/``token_bytes``/``lengths``/``scripts`` hold the
    other ids: the entries every statistic here is computed over.
    """

    tokenizer: str
    name: str
    size: int
    n_special: int
    n_unused: int
    n_byte_fallback: int
    ids: np.ndarray
    token_bytes: np.ndarray
    lengths: np.ndarray
    scripts: np.ndarray
    n_distinct: int = field(default=0)

    @property
    def n_entries(self) -> int:
        return len(self.ids)

    @classmethod
    def from_entries(cls, tokenizer: str, entries: Sequence[bytes], *, name: str | None = None) -> Vocabulary:
        """A vocabulary from a list of byte strings (ids 0, 1, ...; no special tokens), e.g. one a user trained.

        >>> v = Vocabulary.from_entries("mine", [b"a", b" the", b"a"])
        >>> v.n_entries, v.n_distinct, v.scripts.tolist()
        (3, 2, ['Latn', 'Latn', 'Latn'])
        """
        arr = np.empty(len(entries), dtype=object)
        arr[:] = list(entries)
        if any(not isinstance(b, bytes) or not b for b in arr.tolist()):
            raise VocabularyError("Every vocabulary entry must be a non-empty byte string (b'...').")
        return cls(tokenizer=tokenizer, name=name or tokenizer, size=len(arr), n_special=0, n_unused=0,
                   n_byte_fallback=0, ids=np.arange(len(arr), dtype=np.int64), token_bytes=arr,
                   lengths=np.fromiter(map(len, arr.tolist()), dtype=np.int64, count=len(arr)),
                   scripts=script_classes(arr.tolist()), n_distinct=len(set(arr.tolist())))

    def lookup(self, token_id: int) -> tuple[bytes, str]:
        """The bytes and script class of one id.

        Raises:
            VocabularyError: the id is special, unknown or unused (not a compared entry), or out of range.

        >>> load_vocabulary("utf8-bytes").lookup(ord("a") + 3)
        (b'a', 'Latn')
        """
        k = int(np.searchsorted(self.ids, token_id))
        if k >= len(self.ids) or self.ids[k] != token_id:
            raise VocabularyError(f"Id {token_id} of {self.tokenizer!r} is not a compared entry (special, unknown, "
                                  f"unused or out of range 0–{self.size - 1}).")
        return self.token_bytes[k], str(self.scripts[k])


def load_vocabulary(tokenizer: str | Tokenizer) -> Vocabulary:
    """The vocabulary of a tokenizer (a loaded one, or a catalogue id / spec for :func:`get_tokenizer`).

    Raises:
        VocabularyError: the tokenizer has no fixed vocabulary (the whitespace-words baseline).

    >>> v = load_vocabulary("utf8-bytes")
    >>> v.size, v.n_special, v.n_entries, v.lengths.max(), v.token_bytes[0], int(v.ids[0])
    (259, 3, 256, np.int64(1), b'\\x00', 3)
    """
    tok = get_tokenizer(tokenizer) if isinstance(tokenizer, str) else tokenizer
    table, classes = _id_tables(tok)
    arr = table if isinstance(table, np.ndarray) else np.array(table, dtype=object)
    if arr.dtype != object:  # np.array of equal-length bytes would make a fixed-width (NUL-stripping) array
        arr = np.empty(len(table), dtype=object)
        arr[:] = list(table)
    classes = np.asarray(classes)
    lengths = np.fromiter(map(len, arr.tolist()), dtype=np.int64, count=len(arr))
    special = (classes == 1) | (classes == 2)
    unused = ~special & (lengths == 0)
    keep = np.flatnonzero(~special & ~unused)
    token_bytes = arr[keep]
    entries = token_bytes.tolist()
    return Vocabulary(
        tokenizer=tok.id, name=tok.name, size=len(arr), n_special=int(special.sum()), n_unused=int(unused.sum()),
        n_byte_fallback=int((classes[keep] == 3).sum()), ids=keep.astype(np.int64), token_bytes=token_bytes,
        lengths=lengths[keep], scripts=script_classes(entries), n_distinct=len(set(entries)),
    )


def has_vocabulary(tokenizer_id: str) -> bool:
    """Whether a catalogue tokenizer has a fixed vocabulary to compare (all but the whitespace-words baseline)."""
    from .catalogue import load_catalogue

    return load_catalogue().tokenizer(tokenizer_id).vocab_size is not None


# ------------------------------------------------------------------ statistics over several


#: Headers of :func:`size_table`' columns (msgids, translated where shown; the frame keeps these keys).
SIZE_HEADERS = {"tokenizer": N_("tokenizer"), "name": N_("name"), "ids": N_("ids"), "special": N_("special"),
                "unused": N_("unused"), "byte_fallback": N_("byte-fallback"), "entries": N_("entries"),
                "distinct_byte_strings": N_("distinct byte strings"), "mean_bytes": N_("mean bytes"),
                "median_bytes": N_("median bytes"), "max_bytes": N_("most bytes")}
#: Headers of the columns of :meth:`Comparison.unique_tokens`' rows that a page shows (``id`` is shown as it is).
UNIQUE_HEADERS = {"tokenizer": N_("tokenizer"), "token": N_("token"), "bytes_hex": N_("bytes (hex)"),
                  "length": N_("length in bytes"), "script": N_("script")}


def size_table(vocabs: Sequence[Vocabulary]) -> pd.DataFrame:
    """One row per tokenizer: ids, special, unused, byte-fallback, compared entries, distinct byte strings,
    and token length in bytes (mean, median, max) over the compared entries."""
    rows = []
    for v in vocabs:
        lengths = v.lengths if len(v.lengths) else np.zeros(1, dtype=np.int64)
        rows.append({"tokenizer": v.tokenizer, "name": v.name, "ids": v.size, "special": v.n_special,
                     "unused": v.n_unused, "byte_fallback": v.n_byte_fallback, "entries": v.n_entries,
                     "distinct_byte_strings": v.n_distinct, "mean_bytes": round(float(lengths.mean()), 3),
                     "median_bytes": float(np.median(lengths)), "max_bytes": int(lengths.max())})
    return pd.DataFrame(rows)


def length_histogram(vocabs: Sequence[Vocabulary], *, cap: int | None = None) -> pd.DataFrame:
    """Token length distribution in bytes: ``tokenizer, length, label, count, share`` (share of the compared
    entries). With ``cap``, lengths at or above it are one bucket ``length = cap``, labelled ``"16+"``.

    >>> length_histogram([load_vocabulary("utf8-bytes")]).to_dict("records")
    [{'tokenizer': 'utf8-bytes', 'length': 1, 'label': '1', 'count': 256, 'share': 1.0}]
    """
    if cap is not None and cap < 1:
        raise VocabularyError(f"cap must be at least 1 byte, got {cap}.")
    frames = []
    for v in vocabs:
        lengths = np.minimum(v.lengths, cap) if cap is not None else v.lengths
        counts = np.bincount(lengths) if len(lengths) else np.zeros(1, dtype=np.int64)
        present = np.flatnonzero(counts)
        labels = [f"{n}+" if cap is not None and n == cap and (v.lengths > cap).any() else str(n) for n in present]
        frames.append(pd.DataFrame({"tokenizer": v.tokenizer, "length": present.astype(np.int64), "label": labels,
                                    "count": counts[present].astype(np.int64),
                                    "share": counts[present] / max(v.n_entries, 1)}))
    columns = ["tokenizer", "length", "label", "count", "share"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def script_shares(vocabs: Sequence[Vocabulary]) -> pd.DataFrame:
    """Share of each tokenizer's compared entries per script class: ``tokenizer, script, script_name, count,
    share``, largest first within a tokenizer.

    >>> script_shares([load_vocabulary("utf8-bytes")])[["script", "count"]].to_dict("list")
    {'script': ['partial UTF-8', 'bytes/other', 'Latn'], 'count': [128, 76, 52]}
    """
    frames = []
    for v in vocabs:
        counts = pd.Series(v.scripts, dtype=object).value_counts(sort=False)
        frame = pd.DataFrame({"tokenizer": v.tokenizer, "script": counts.index.astype(str),
                              "count": counts.to_numpy(dtype=np.int64)})
        frame["share"] = frame["count"] / max(v.n_entries, 1)
        frames.append(frame.sort_values(["count", "script"], ascending=[False, True]))
    if not frames:
        return pd.DataFrame(columns=["tokenizer", "script", "script_name", "count", "share"])
    out = pd.concat(frames, ignore_index=True)
    out.insert(2, "script_name", out["script"].map(script_name))
    return out


# ------------------------------------------------------------------ comparing several


def visible(text: str) -> str:
    """A token's text with whitespace and control characters made visible (for tables and chips).

    >>> visible(" the\\n"), visible("a\\tb\\x00")
    ('␣the↵', 'a⇥b\\\\x00')
    """
    out = []
    for ch in text:
        if ch in _VISIBLE:
            out.append(_VISIBLE[ch])
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") or ch.isspace():
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


_VISIBLE = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}


@dataclass(frozen=True)
class TokenPage:
    """One page of a token listing: its rows, and how many rows matched in all."""

    rows: pd.DataFrame
    total: int
    offset: int
    limit: int


class Comparison:
    """Several vocabularies compared as sets of byte strings: intersections, Jaccard, tokens unique to one.

    Every byte string gets one integer (a dict pass over all entries), each gets a bitmask of the vocabularies
    holding it, and the pairwise intersections follow from the distinct masks in one small matrix product.
    """

    def __init__(self, vocabs: Sequence[Vocabulary]) -> None:
        vocabs = list(vocabs)
        if not vocabs:
            raise VocabularyError(N_("Choose at least one tokenizer to compare."))
        if len(vocabs) > MAX_COMPARED:
            raise VocabularyError(N_("At most {most} tokenizers can be compared at once; {n} were chosen. Compare "
                                     "them in groups."), most=MAX_COMPARED, n=len(vocabs))
        names = [v.tokenizer for v in vocabs]
        if len(set(names)) != len(names):
            raise VocabularyError(f"A tokenizer was chosen twice: {', '.join(names)}. Choose each once.")
        self.vocabs = vocabs
        self.tokenizers = names
        index: dict[bytes, int] = {}
        setdefault = index.setdefault
        self._gids = []
        for v in vocabs:
            self._gids.append(np.fromiter((setdefault(b, len(index)) for b in v.token_bytes.tolist()),
                                          dtype=np.int64, count=v.n_entries))
        masks = np.zeros(len(index), dtype=np.uint64)
        for t, gids in enumerate(self._gids):
            masks[gids] |= np.uint64(1 << t)
        self.masks = masks
        distinct_masks, counts = np.unique(masks, return_counts=True)
        bits = ((distinct_masks[:, None] >> np.arange(len(vocabs), dtype=np.uint64)) & np.uint64(1)).astype(np.float64)
        inter = bits.T @ (bits * counts[:, None].astype(np.float64))
        #: ``intersections[i, j]``: byte strings in both vocabularies i and j (the diagonal: distinct ones in i).
        self.intersections = np.rint(inter).astype(np.int64)
        self.sizes = np.diag(self.intersections).copy()
        self.union_size = len(index)
        self._frames: dict[str, pd.DataFrame] = {}
        self._lock = threading.Lock()

    def jaccard(self) -> pd.DataFrame:
        """The Jaccard index ``|A ∩ B| / |A ∪ B|`` of every pair, as a square frame labelled by tokenizer."""
        union = self.sizes[:, None] + self.sizes[None, :] - self.intersections
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(union > 0, self.intersections / np.maximum(union, 1), np.nan)
        return pd.DataFrame(values, index=pd.Index(self.tokenizers, name="tokenizer"), columns=self.tokenizers)

    def jaccard_long(self) -> pd.DataFrame:
        """Every ordered pair: ``a, b, intersection, union, jaccard`` (for downloads)."""
        j = self.jaccard().to_numpy()
        rows = [{"a": a, "b": b, "intersection": int(self.intersections[i, k]),
                 "union": int(self.sizes[i] + self.sizes[k] - self.intersections[i, k]), "jaccard": float(j[i, k])}
                for i, a in enumerate(self.tokenizers) for k, b in enumerate(self.tokenizers)]
        return pd.DataFrame(rows)

    def unique_counts(self) -> dict[str, int]:
        """Distinct byte strings found in one tokenizer's vocabulary and in none of the others compared."""
        return {name: int((self.masks == np.uint64(1 << t)).sum()) for t, name in enumerate(self.tokenizers)}

    def _unique_frame(self, tokenizer: str, *, text: bool = False) -> pd.DataFrame:
        """Every entry of ``tokenizer`` whose bytes no other compared vocabulary has (all its ids, id order).

        With ``text``, also the decoded text to search and sort on (made once per tokenizer, on first need);
        display columns are added per page (see :func:`_display`).
        """
        with self._lock:
            frame = self._frames.get(tokenizer)
        if frame is None:
            t = self.tokenizers.index(tokenizer)
            v = self.vocabs[t]
            keep = np.flatnonzero(self.masks[self._gids[t]] == np.uint64(1 << t))
            frame = pd.DataFrame({"tokenizer": tokenizer, "id": v.ids[keep], "raw": v.token_bytes[keep],
                                  "length": v.lengths[keep], "script": v.scripts[keep].astype(str)})
        if text and "text" not in frame.columns:
            frame = frame.assign(text=[b.decode("utf-8", "backslashreplace") for b in frame["raw"]])
        with self._lock:
            self._frames[tokenizer] = frame
        return frame

    def unique_tokens(self, tokenizer: str | None = None, *, search: str = "", script: str | None = None,
                      sort: SortKey = "id", offset: int = 0, limit: int = 100) -> TokenPage:
        """A page of the tokens unique to ``tokenizer`` (None: to any one of the compared tokenizers).

        Args:
            search: keep tokens whose text contains this (case-insensitive; the text as decoded, spaces as spaces).
            script: keep one script class ("Latn", "mixed", "partial UTF-8", ...).
            sort: "id" (vocabulary order), "length" (longest first) or "token" (by text).
            offset, limit: the page (``offset`` counts matching rows, from 0).
        """
        if tokenizer is not None and tokenizer not in self.tokenizers:
            raise VocabularyError(f"{tokenizer!r} is not among the compared tokenizers ({', '.join(self.tokenizers)}).")
        if limit < 1 or offset < 0:
            raise VocabularyError(f"A page needs limit ≥ 1 and offset ≥ 0 (got limit={limit}, offset={offset}).")
        owners = [tokenizer] if tokenizer is not None else self.tokenizers
        need_text = bool(search) or sort == "token"
        frame = pd.concat([self._unique_frame(o, text=need_text) for o in owners], ignore_index=True)
        if search:
            frame = frame[frame["text"].str.contains(search, case=False, regex=False)]
        if script:
            frame = frame[frame["script"] == script]
        if sort == "length":
            frame = frame.sort_values(["length", "tokenizer", "id"], ascending=[False, True, True], kind="stable")
        elif sort == "token":
            frame = frame.sort_values(["text", "tokenizer", "id"], kind="stable")
        elif sort != "id":
            raise VocabularyError(f"Unknown sort {sort!r}: use 'id', 'length' or 'token'.")
        total = len(frame)
        rows = _display(frame.iloc[offset:offset + limit].reset_index(drop=True))
        return TokenPage(rows=rows, total=total, offset=offset, limit=limit)

    def unique_tokens_all(self, tokenizer: str | None = None, *, search: str = "", script: str | None = None,
                          sort: SortKey = "id") -> pd.DataFrame:
        """Every matching row of :meth:`unique_tokens` (for downloads)."""
        return self.unique_tokens(tokenizer, search=search, script=script, sort=sort, limit=1 << 62).rows


def _display(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of a token listing as shown: ``tokenizer, id, token`` (whitespace visible), ``text`` (as decoded),
    ``bytes_hex, length, script``."""
    text = frame["text"] if "text" in frame.columns else [b.decode("utf-8", "backslashreplace") for b in frame["raw"]]
    return pd.DataFrame({
        "tokenizer": frame["tokenizer"], "id": frame["id"], "token": [visible(s) for s in text], "text": text,
        "bytes_hex": [b.hex(" ") for b in frame["raw"]], "length": frame["length"], "script": frame["script"],
    }, index=frame.index)


#: Styles of :func:`token_chips_html`.
CHIPS_CSS = """
.ta-vchips{font-family:ui-monospace,Menlo,Consolas,monospace;line-height:2.1}
.ta-vchip{border:1px solid #888;border-radius:3px;padding:1px 4px;margin:0 4px 0 0;white-space:pre}
"""


def token_chips_html(rows: pd.DataFrame) -> str:
    """Tokens of a :class:`TokenPage` as escaped HTML chips; hover shows tokenizer, id, bytes and script.

    >>> token_chips_html(pd.DataFrame({"tokenizer": ["t"], "id": [7], "token": ["<b>"], "bytes_hex": ["3c 62 3e"],
    ...                                "script": ["Latn"]}))
    '<div class="ta-vchips" dir="auto"><span class="ta-vchip" title="t · id 7 · bytes 3c 62 3e · Latn">&lt;b&gt;</span></div>'
    """
    parts = ['<div class="ta-vchips" dir="auto">']
    for tok, i, token, hx, script in zip(rows["tokenizer"], rows["id"], rows["token"], rows["bytes_hex"],
                                         rows["script"]):
        title = f"{tok} · id {i} · bytes {hx} · {script}"
        parts.append(f'<span class="ta-vchip" title="{escape(title)}">{escape(token)}</span>')
    parts.append("</div>")
    return "".join(parts)
