"""Hugging Face ``tokenizers`` (``tokenizer.json``) behind the common interface."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from functools import cached_property
from itertools import chain
from pathlib import Path

import numpy as np
from tokenizers import Encoding as HFEncoding
from tokenizers import Tokenizer as HFTokenizer

from ..errors import AssetError
from .base import Encoding, Tokenizer, check_texts, overlap_flags
from .hf_parts import byte_level_bytes, component_state
from .tables import TokenTables, id_classes, kinds_of
from .unit_stats import UnitStats, char_bases, spelled_split, stats_from_flat, stats_spelled_or

#: Texts per ``encode_batch`` call in :meth:`HFTokenizersTokenizer.unit_stats`: big enough that the call's own cost vanishes,
#: small enough that its ``Encoding`` objects (a few KB each) stay a few MB.
UNIT_BATCH = 512

_BYTE_PIECE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


def _component_types(state: object) -> set[str]:
    """All ``type`` names in a serialized component (decoders/normalizers nest in Sequences)."""
    found: set[str] = set()
    if isinstance(state, dict):
        if isinstance(state.get("type"), str):
            found.add(state["type"])
        for v in state.values():
            found |= _component_types(v)
    elif isinstance(state, list):
        for v in state:
            found |= _component_types(v)
    return found


def _only_spaces(state: object) -> bool:
    """Whether a serialized normalizer only turns spaces into ``▁`` or prepends ``▁`` (which the glitch checks'
    comparison ignores).

    >>> _only_spaces({"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}]})
    True
    """
    if not isinstance(state, dict):
        return False
    kind = state.get("type")
    if kind == "Sequence":
        return all(_only_spaces(part) for part in state.get("normalizers", []))
    if kind == "Replace":
        return state.get("pattern") == {"String": " "} and state.get("content") == "\u2581"
    return kind == "Prepend" and state.get("prepend") == "\u2581"


#: A step of a plain normalizer (:func:`plain_normalizer_steps`): ("prepend", prefix, "") or ("replace", old, new).
PlainStep = tuple[str, str, str]


def plain_normalizer_steps(state: object) -> list[PlainStep] | None:
    """A serialized normalizer as plain string steps, when it only prepends strings and replaces fixed, non-empty
    strings (Llama's and Mistral's SentencePiece-style ``tokenizer.json``: ``Prepend("▁")``, ``Replace(" ", "▁")``);
    None for any other normalizer, or for none at all (there is nothing to take off the tokenizer then).

    >>> plain_normalizer_steps({"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
    ...     {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]})
    [('prepend', '▁', ''), ('replace', ' ', '▁')]
    >>> plain_normalizer_steps({"type": "NFC"}), plain_normalizer_steps(None)
    (None, None)
    """
    if not isinstance(state, dict):
        return None
    kind = state.get("type")
    if kind == "Sequence":
        parts = state.get("normalizers")
        if not isinstance(parts, list) or not parts:
            return None
        steps: list[PlainStep] = []
        for part in parts:
            got = plain_normalizer_steps(part)
            if got is None:
                return None
            steps += got
        return steps
    if kind == "Prepend" and isinstance(state.get("prepend"), str):
        return [("prepend", state["prepend"], "")]
    pattern = state.get("pattern")
    if (kind == "Replace" and isinstance(pattern, dict) and list(pattern) == ["String"] and isinstance(pattern["String"], str)
            and pattern["String"] and isinstance(state.get("content"), str)):
        return [("replace", pattern["String"], state["content"])]
    return None


def apply_plain_steps(steps: Sequence[PlainStep], text: str) -> str:
    """What ``tokenizers`` makes of ``text`` with a plain normalizer (:func:`plain_normalizer_steps`), in order: its
    ``Prepend`` adds the prefix to a non-empty string only, its ``Replace`` of a fixed string is ``str.replace``
    (every occurrence, left to right, none overlapping).

    >>> steps = [("prepend", "▁", ""), ("replace", " ", "▁")]
    >>> apply_plain_steps(steps, "a b"), apply_plain_steps(steps, "")
    ('▁a▁b', '')
    >>> apply_plain_steps([("replace", "a", ""), ("prepend", "▁", "")], "aa")  # empty after the replace: no prefix
    ''
    """
    for kind, a, b in steps:
        if kind == "prepend":
            text = a + text if text else text
        else:
            text = text.replace(a, b)
    return text


def _cover_composed(text: str, starts: list[int], ends: list[int]) -> None:
    """Give characters a composing normalizer merged away (e + U+0301 -> é) to the token before them.

    HF maps a composed character back to its first source character only, leaving the marks that
    went into it in no span. Gaps of non-whitespace between spans are such characters.

    >>> s, e = [0], [1]; _cover_composed("e\u0301", s, e); (s, e)
    ([0], [2])
    """
    last = None
    for k in range(len(starts)):
        if starts[k] == ends[k]:
            continue
        if last is not None and starts[k] > ends[last] and not any(c.isspace() for c in text[ends[last]:starts[k]]):
            ends[last] = starts[k]
        if last is None or ends[k] >= ends[last]:
            last = k
    if last is not None and ends[last] < len(text) and not any(c.isspace() for c in text[ends[last]:]):
        ends[last] = len(text)


def load_hf_file(path: Path) -> HFTokenizer:
    """Load a ``tokenizer.json``; an unreadable file gets an error naming it and the fix."""
    try:
        return HFTokenizer.from_file(str(path))
    except Exception as e:  # the Rust side raises plain Exception for parse errors
        raise _unloadable(path, e) from e


def load_hf_file_hashed(path: Path) -> tuple[HFTokenizer, str]:
    """:func:`load_hf_file`, and the sha256 of the very bytes it was made from (read once: a file changed meanwhile
    cannot give a tokenizer another file's hash)."""
    try:
        data = path.read_bytes()
        return HFTokenizer.from_str(data.decode("utf-8")), hashlib.sha256(data).hexdigest()
    except Exception as e:  # the Rust side raises plain Exception for parse errors
        raise _unloadable(path, e) from e


def _unloadable(path: Path, e: Exception) -> AssetError:
    return AssetError(f"{path} is not a loadable tokenizer.json ({e}). If it is a catalogue file, run "
                      "`python -m analysis assets fetch --force`; otherwise check that the file is complete.")


class HFTokenizersTokenizer(Tokenizer):
    """A ``tokenizers.Tokenizer`` with padding and truncation switched off (they would change counts)."""

    backend = "hf"

    def __init__(self, tokenizer_id: str, tok: HFTokenizer, *, name: str | None = None,
                 add_bos: str | None = None, add_eos: str | None = None, file_sha256: str | None = None) -> None:
        tok.no_padding()
        tok.no_truncation()
        # Text typed by a user that looks like a special token stays plain text.
        tok.encode_special_tokens = True
        super().__init__(tokenizer_id, name=name, vocab_size=tok.get_vocab_size(with_added_tokens=True))
        self.hf = tok
        #: The sha256 of the tokenizer.json this was loaded from, as is (None: made otherwise, e.g. trained in the
        #: lab): the key of its tables in the asset cache (:mod:`.tables_cache`).
        self.file_sha256 = file_sha256
        self._decoder_types = _component_types(component_state(tok.decoder))
        self.normalizer_types = _component_types(component_state(tok.normalizer))
        # A normalizer or pre-tokenizer that prepends "▁" can create a first token no input character stands behind.
        self._prepends = bool({"Prepend"} & self.normalizer_types
                              or {"Metaspace"} & _component_types(component_state(tok.pre_tokenizer)))
        # Unicode composition merges or reorders characters; HF then leaves some characters in no span.
        self._composes = bool({"NFC", "NFKC"} & self.normalizer_types)
        self._byte_fallback = bool(getattr(tok.model, "byte_fallback", False))
        unk = getattr(tok.model, "unk_token", None)
        # Unigram models name their unknown token by id (e.g. the lab's character-level Unigram). Only they are asked:
        # the model's state is its whole vocabulary as JSON (0.6 s for a 200k BPE).
        self._unk_id = (tok.token_to_id(unk) if unk else
                        (component_state(tok.model) or {}).get("unk_id") if type(tok.model).__name__ == "Unigram" else None)
        # Extra BOS/EOS for add_special_tokens=True where the file's post-processor lacks them
        # (e.g. Llama 3's first tokenizer.json); ids looked up, never invented.
        self._extra_bos = self._token_id(tok, add_bos)
        self._extra_eos = self._token_id(tok, add_eos)
        added = tok.get_added_tokens_decoder()
        self._special_ids = frozenset(i for i, t in added.items() if t.special)
        #: Whether most texts' tokens spell them byte for byte (see unit_stats); None until first asked.
        self._spells: bool | None = None
        #: The words the model's cache holds (``tokenizers``' default; :meth:`reserve_word_cache` raises it).
        self._word_cache = 10_000

    @staticmethod
    def _token_id(tok: HFTokenizer, token: str | None) -> int | None:
        if token is None:
            return None
        i = tok.token_to_id(token)
        if i is None:
            raise AssetError(f"The tokenizer has no token {token!r}; fix add_bos/add_eos in the catalogue entry.")
        return i

    @cached_property
    def _allow_special_tok(self) -> HFTokenizer:
        """A second instance that matches special-token text, so the shared one is never toggled."""
        other = HFTokenizer.from_str(self.hf.to_str())
        other.no_padding()
        other.no_truncation()
        other.encode_special_tokens = False
        return other

    @cached_property
    def _pieces(self) -> list[str]:
        vocab = self.hf.get_vocab(with_added_tokens=True)
        pieces = [""] * (max(vocab.values()) + 1)
        for p, i in vocab.items():
            pieces[i] = p
        return pieces

    @cached_property
    def byte_fallback_ids(self) -> frozenset[int]:
        if not self._byte_fallback:
            return frozenset()
        return frozenset(i for i, p in enumerate(self._pieces) if _BYTE_PIECE.match(p))

    @cached_property
    def _classes(self) -> np.ndarray:
        return id_classes(len(self._pieces), special=sorted(self._special_ids), unk=self._unk_id,
                          byte_ids=sorted(self.byte_fallback_ids))

    @cached_property
    def _bytes_table(self) -> list[bytes]:
        """Bytes each id stands for when decoded, built once from the vocabulary."""
        byte_level = "ByteLevel" in self._decoder_types
        metaspace = bool({"Metaspace", "Replace"} & self._decoder_types)
        wordpiece = "WordPiece" in self._decoder_types
        prefix = "##"
        if wordpiece:
            prefix = json.loads(self.hf.decoder.__getstate__()).get("prefix", "##")
        table: list[bytes] = []
        byte_ids, special = self.byte_fallback_ids, self._special_ids
        for i, p in enumerate(self._pieces):
            if wordpiece and i not in special and p.startswith(prefix):
                p = p[len(prefix):]  # before the byte mapping: "##" pieces of byte-level WordPiece (the lab's)
            if i in special:
                table.append(p.encode())
            elif i in byte_ids:
                table.append(bytes([int(p[3:5], 16)]))
            else:
                if byte_level:  # every character a byte stand-in: those bytes
                    b = byte_level_bytes(p)
                    if b is not None:
                        table.append(b)
                        continue
                if metaspace:
                    p = p.replace("\u2581", " ")
                table.append(p.encode())
        return table

    @cached_property
    def _tables(self) -> TokenTables:
        """Read from the asset cache when this was loaded from a file as is (:mod:`.tables_cache`), else made from the
        whole vocabulary (~0.17 s for Llama 3's 128,256 entries)."""
        from .tables_cache import cached_tables

        return cached_tables("hf", self.file_sha256, lambda: TokenTables.from_bytes(self._bytes_table, self._classes))

    def token_tables(self) -> TokenTables:
        return self._tables

    def _encode(self, text: str, utf8: bytes, *, add_special_tokens: bool, allow_special: bool) -> Encoding:
        tok = self._allow_special_tok if allow_special else self.hf
        enc = tok.encode(text, add_special_tokens=add_special_tokens)
        ids = enc.ids
        offsets = enc.offsets
        if add_special_tokens and self._extra_bos is not None and ids[:1] != [self._extra_bos]:
            ids, offsets = [self._extra_bos, *ids], [(0, 0), *offsets]
        if add_special_tokens and self._extra_eos is not None and ids[-1:] != [self._extra_eos]:
            ids, offsets = [*ids, self._extra_eos], [*offsets, (0, 0)]
        starts = [o[0] for o in offsets]
        ends = [o[1] for o in offsets]
        tables = self._tables  # one per-id bytes and classes source for encoding and counting alike
        ids_arr = np.array(ids, dtype=np.int64)
        token_bytes = tables.token_bytes[ids_arr].tolist()
        if self._prepends:
            # The dummy prefix "▁" alone as the first real token stands for no character, but HF gives it the
            # offsets of the character after it (SentencePiece gives it an empty range).
            first = next((k for k, i in enumerate(ids) if i not in self._special_ids), None)
            if first is not None and self.hf.id_to_token(ids[first]) == "\u2581":
                starts[first] = ends[first] = 0
        if self._composes:
            _cover_composed(text, starts, ends)
        # Added special tokens (BOS, [SEP]) come back as (0, 0) wherever they sit: anchor them where they stand.
        pos = 0
        for k in range(len(ids)):
            if starts[k] == ends[k]:
                starts[k] = ends[k] = pos
            else:
                pos = ends[k]
        kinds = kinds_of(ids_arr, overlap_flags(starts, ends), tables.classes)
        return Encoding(self, text, ids, starts, ends, token_bytes, kinds)

    def unit_stats(self, texts: Sequence[str], word_spans: Sequence) -> UnitStats:
        """From ids alone (``encode_batch_fast``: no offsets made) where the tokens' bytes spell the text, as for
        tiktoken; from offsets (:meth:`_offset_stats`) for the other texts (normalized, UNK, ...). Both over bounded
        batches of :data:`UNIT_BATCH` texts: each batch's ``Encoding`` objects are read into flat arrays and dropped,
        so no corpus-wide list of them is ever alive (they cost ~20x the ids they hold)."""
        check_texts(texts)
        if self._spells is None and texts:  # decided on the first texts seen: does this vocabulary spell its input?
            sample = list(texts[:64])
            counts, ids = self._counts_and_ids(sample)
            self._spells = len(spelled_split(sample, ids, counts, self._tables)[2]) * 2 <= len(sample)
        if self._spells is False:  # it normalizes (lowercases, ...): ids first would only encode twice
            return self._offset_stats(texts, word_spans)
        pieces = [self._counts_and_ids(texts[lo:lo + UNIT_BATCH]) for lo in range(0, len(texts), UNIT_BATCH)]
        counts = np.concatenate([c for c, _ in pieces]) if pieces else np.empty(0, dtype=np.int64)
        ids = np.concatenate([i for _, i in pieces]) if pieces else np.empty(0, dtype=np.int64)
        return stats_spelled_or(texts, word_spans, ids, counts, self._tables,
                                lambda rest: self._offset_stats([texts[i] for i in rest],
                                                                [word_spans[i] for i in rest]))

    @cached_property
    def _counting_twin(self) -> tuple[HFTokenizer, Callable[[str], str]] | None:
        """A tokenizer for the ids of many texts without ``tokenizers``' normalizer, and the Python function that
        normalizes for it; None where that would not give the same ids.

        A plain normalizer (:func:`plain_normalizer_steps`: Llama's and Mistral's ``Prepend("▁")`` and
        ``Replace(" ", "▁")``) costs ``tokenizers`` about a sixth of a Llama 2 encode (a ``NormalizedString`` keeps an
        alignment per byte, which ids do not need); ``str.replace`` makes the same string in a fraction of that. The
        twin is a ``Tokenizer`` around the same model object (shared, not copied: the same vocabulary, merges and word
        cache) with the same pre-tokenizer and nothing else, so it sees the string the full pipeline would hand its
        pre-tokenizer. That holds only where no added token is ever split out of a text before normalizing: every
        added token is special, and special-token text stays plain text (``encode_special_tokens``, set in
        ``__init__``). tests/test_hf_counting_twin.py checks the ids on the UDHR and on edge cases.
        """
        steps = plain_normalizer_steps(component_state(self.hf.normalizer))
        if steps is None or not self.hf.encode_special_tokens:
            return None
        if any(not t.special for t in self.hf.get_added_tokens_decoder().values()):
            return None
        twin = HFTokenizer(self.hf.model)
        if self.hf.pre_tokenizer is not None:
            twin.pre_tokenizer = self.hf.pre_tokenizer
        return twin, lambda text: apply_plain_steps(steps, text)

    @cached_property
    def _rank_twin(self) -> Callable[[Sequence[str]], tuple[np.ndarray, np.ndarray]] | None:
        """A tiktoken core giving this tokenizer's ids, for counting, where they are provably the same
        (:mod:`.rank_twin`: Llama 3's, gpt-oss's and Qwen 3's ``tokenizer.json``, 2.8-4x faster than ``tokenizers`` on
        the UDHR); None elsewhere, or with ``ATLAS_RANK_TWIN=0``."""
        from .rank_twin import rank_twin, rank_twin_enabled

        return rank_twin(self.hf, self.file_sha256) if rank_twin_enabled() else None

    def reserve_word_cache(self, words: int) -> int | None:
        """The model's word cache (``tokenizers`` keeps the result of each pre-tokenized word under 256 bytes, for
        BPE and Unigram models) raised to hold ``words`` words. ``tokenizers`` caches 10,000 words and then stops adding
        any, so on a corpus it mostly misses: the UDHR holds 229,853 distinct Llama 3 pre-tokens, each met 12 times on
        average. The cache belongs to the model object, which the counting twin shares. A cache hit gives the word's
        tokens as merged the first time (a model with dropout bypasses the cache), so no id changes; it costs memory
        (Llama 3 on the UDHR: about 125 MB more resident). Never lowered here, and not raised where the rank twin counts
        (:attr:`_rank_twin`: it has no use for it); None where the installed ``tokenizers`` cannot resize it."""
        resize = getattr(self.hf.model, "_resize_cache", None)
        if resize is None:
            return None
        if self._rank_twin is not None:  # counting reads the twin's ids: the model's cache would only cost memory
            return self._word_cache
        if words > self._word_cache:
            resize(words)
            self._word_cache = words
        return self._word_cache

    def _counts_and_ids(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(tokens per text, every id) of one batch (through :attr:`_rank_twin` or :attr:`_counting_twin` where there
        is one)."""
        if self._rank_twin is not None:
            ids, counts = self._rank_twin(texts)
            return counts, ids
        twin = self._counting_twin
        if twin is None:
            encodings = self.hf.encode_batch_fast(list(texts), add_special_tokens=False)
        else:
            encodings = twin[0].encode_batch_fast(list(map(twin[1], texts)), add_special_tokens=False)
        id_lists = [e.ids for e in encodings]
        counts = np.fromiter(map(len, id_lists), dtype=np.int64, count=len(id_lists))
        return counts, np.fromiter(chain.from_iterable(id_lists), dtype=np.int64, count=int(counts.sum()))

    def _offset_stats(self, texts: Sequence[str], word_spans: Sequence) -> UnitStats:
        """From ``encode_batch``'s ids and offsets, with the same span fix-ups as ``encode``."""
        pieces = [self._flat_batch(texts[lo:lo + UNIT_BATCH]) for lo in range(0, len(texts), UNIT_BATCH)]
        if pieces:
            counts, ids, starts, ends = (np.concatenate([p[k] for p in pieces]) for k in range(4))
        else:
            counts, ids, starts, ends = (np.empty(0, dtype=np.int64) for _ in range(4))
        token_text = np.repeat(np.arange(len(texts)), counts)
        base = char_bases(texts)[token_text]
        return stats_from_flat(texts, word_spans, token_text, self._tables.classes[ids], starts + base, ends + base,
                               ids)

    def _flat_batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(tokens per text, ids, starts, ends) of one batch; spans in characters within each text."""
        encs = self.hf.encode_batch(list(texts), add_special_tokens=False)
        id_lists = [e.ids for e in encs]  # each property builds a new list: read once
        counts = np.fromiter(map(len, id_lists), dtype=np.int64, count=len(encs))
        total = int(counts.sum())
        ids = np.fromiter(chain.from_iterable(id_lists), dtype=np.int64, count=total)
        offsets = np.fromiter(chain.from_iterable(chain.from_iterable(e.offsets for e in encs)), dtype=np.int64,
                              count=2 * total)
        del encs, id_lists
        starts, ends = offsets[0::2].copy(), offsets[1::2].copy()
        first = np.concatenate([[0], np.cumsum(counts)])[:-1][counts > 0]
        prefix_id = self.hf.token_to_id("\u2581") if self._prepends else None
        if prefix_id is not None:  # a text's first token that is the bare dummy prefix: an empty span
            bare = first[ids[first] == prefix_id]
            starts[bare] = ends[bare] = 0
        if self._composes:
            for i, f in zip(np.flatnonzero(counts), first.tolist(), strict=True):
                s, e = starts[f:f + counts[i]].tolist(), ends[f:f + counts[i]].tolist()
                _cover_composed(texts[i], s, e)
                starts[f:f + counts[i]], ends[f:f + counts[i]] = s, e
        return counts, ids, starts, ends

    def _ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.hf.encode_batch_fast(list(texts), add_special_tokens=False)]

    def _model_ids_flat(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        if not texts:
            return super()._model_ids_flat(texts)
        encs = self.hf.encode_batch_fast(list(texts), add_special_tokens=False)
        counts = np.fromiter(map(len, encs), dtype=np.int64, count=len(encs))
        return np.asarray(HFEncoding.merge(encs, growing_offsets=False).ids, dtype=np.int64), counts

    def token_classes(self) -> np.ndarray:
        if "_tables" in self.__dict__ or self.file_sha256 is not None:  # made, or read from the asset cache
            return self._tables.classes
        return self._classes  # the classes alone: the tables would also build the bytes of every id

    def token_totals(self, texts: Sequence[str]) -> tuple[int, int, int]:
        return self._totals_from_ids(texts)

    def normalizer(self) -> Callable[[str], str] | None:
        norm = self.hf.normalizer
        if norm is None or _only_spaces(component_state(norm)):
            return None
        return norm.normalize_str

    def continuation_prefix(self) -> str | None:
        if type(self.hf.model).__name__ == "WordPiece":
            return self.hf.model.continuing_subword_prefix
        return None

    def _count(self, text: str) -> int:
        return len(self.hf.encode_batch_fast([text], add_special_tokens=False)[0].ids)

    def _count_batch(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self.hf.encode_batch_fast(list(texts), add_special_tokens=False)]

    def decode(self, ids: Sequence[int]) -> str:
        return self.hf.decode(list(ids), skip_special_tokens=False)

    def piece(self, token_id: int) -> str:
        return self._pieces[token_id]
