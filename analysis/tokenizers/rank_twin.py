"""The rank twin of a Hugging Face byte-level BPE tokenizer: a tiktoken core that gives exactly its ids, for counting.

Many ``tokenizer.json`` files are tiktoken vocabularies written for ``tokenizers``: a regex split, byte-level pieces
with the ids of their ranks, and merges ordered by the id of the piece they make, either every way of joining two
pieces into a third (Llama 3's, gpt-oss's o200k, with ``ignore_merges``) or one merge per piece (Qwen's, without it).
``tokenizers`` encodes the UDHR with Llama 3's in ~1.3-1.5 s; tiktoken's core, given the same pieces as ranks
(bytes -> id) and the same regex, in ~0.3 s, with the same ids. :func:`rank_twin` makes such a core only where the ids
are the same for every text, by the argument below, and counting (:meth:`~.hf_backend.HFTokenizersTokenizer.unit_stats`)
then reads its ids instead of ``tokenizers``'.

**Why the ids are the same.** Both libraries cut a text into pieces with a regex and encode each piece alone: a piece
that is itself a vocabulary entry is that entry (tiktoken always; ``tokenizers`` with ``ignore_merges``); otherwise
both start from the piece's bytes and merge two neighbouring symbols at a time until no pair can be merged.
``tokenizers`` merges the pair with the lowest merge index (leftmost on a tie); tiktoken the pair whose join has the
lowest rank (leftmost on a tie), and a pair can be merged there when its join is in the vocabulary. Let V be the
byte-level entries, with the ids 0..n-1 as ranks, and the merges in the order of their joins' ids, none twice
(:func:`merges_reason`). Then one of:

1. complete (``ignore_merges`` on): every way of writing an entry of V as two entries of V is a merge. The two
   libraries can then merge the same pairs (a merge's join is always in V: ``tokenizers`` refuses a file where it is
   not), and the lowest merge index is a pair whose join has the lowest id, so at every step both pick a pair with the
   same join t. If several pairs in a piece join to t, they are all split the same way: the symbols inside the bytes
   of one such pair were only ever merged with each other (a symbol never shrinks), each time as the lowest pair among
   them, so they went through the states of the one process "merge the lowest pair of t's bytes", which has a single
   state of two symbols. Same split, same merge index: ``tokenizers`` also takes the leftmost.
2. one merge per piece (``ignore_merges`` off): no two merges make the same piece, and ``tokenizers``' own merges make
   every piece t from its bytes (checked by running them). By induction on length, whenever tiktoken makes t it joins
   t's merge: the symbols inside t's bytes went through tiktoken's own process on those bytes, whose joins before the
   last are shorter pieces, each made by its merge, so ``tokenizers`` (the lowest merge index is then tiktoken's
   lowest join) went through the same states, and it makes t from them only by t's merge. So tiktoken only ever joins
   merges, the lowest of which both pick; and a piece that is an entry is that entry in both.

Either way both take the same pair, step after step, and give the same ids.

The rest of the pipeline must be the same too (:func:`structure_reason`, :func:`rank_twin`): a normalizer is
``tokenizers``' own, run text by text before the core; a text in which an added token that is not special could be found
(``tokenizers`` cuts those out) is encoded by ``tokenizers``; special-token text stays plain text (as
:class:`~.hf_backend.HFTokenizersTokenizer` sets); the 256 byte stand-ins are in the vocabulary; no dropout, subword
prefix or suffix, or byte fallback; and the pre-tokenizer is the regex split (``Isolated``) then ``ByteLevel`` without
its own regex, with a regex of :data:`VERIFIED_PATTERNS`: the two regex engines (``tokenizers``' Oniguruma,
tiktoken's fancy-regex) are not the same program, so a regex is trusted only once tests/test_rank_twin.py has found
both splitting every Unicode code point alike in a set of contexts.

Checking the merges takes ~0.6 s for Llama 3's 280,147 (its ``tokenizers`` state read back as JSON, then every split
of every entry looked up; ~1.0 s for gpt-oss's 446,189; for Qwen 3's 151,387 one merges run per piece, ~0.5 s more);
the verdict is kept in the asset cache by the ``tokenizer.json``'s sha256 (beside its tables, :mod:`.tables_cache`),
so a file is checked once. Making the core then takes ~0.15 s (the ranks id by id 0.09 s, tiktoken's core 0.06 s).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer as HFTokenizer

from ..config import env_bool
from ..fsio import atomic_write
from .hf_parts import BYTE_DECODER, byte_level_bytes, component_state
from .tables_cache import cache_root
from .tiktoken_backend import twin_id_arrays
from .unit_stats import FlatIds

#: Split regexes (exactly as a ``tokenizer.json`` writes them) that tests/test_rank_twin.py checks ``tokenizers`` and
#: tiktoken split alike on every code point: name -> regex.
VERIFIED_PATTERNS: dict[str, str] = {
    # Llama 3's (cl100k_base's split with digits in threes), as its tokenizer.json writes it.
    "llama3": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
              r"|\s+(?!\S)|\s+",
    # Qwen 2-3's (Llama 3's with one digit a piece), as Qwen 3's tokenizer.json writes it.
    "qwen": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
            r"|\s+(?!\S)|\s+",
    # o200k_base's, as gpt-oss's tokenizer.json writes it.
    "o200k": r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
             r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
             r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+",
}

#: The most added tokens that are not special a tokenizer with a twin may have: every text is searched for each
#: (Qwen 3 has 12, DeepSeek V3 14).
MAX_CUT_OUT = 64

#: Bumped whenever :func:`merges_reason` changes, so that no verdict of other code is read.
VERDICT_VERSION = "3"

def structure_reason(hf: HFTokenizer) -> str | None:
    """Why ``hf``'s pipeline is not one a tiktoken core can stand in for, or None if it is (its merges aside:
    :func:`merges_reason`). Reads only small parts of the tokenizer: no vocabulary.

    >>> from tokenizers.models import WordPiece
    >>> structure_reason(HFTokenizer(WordPiece({"[UNK]": 0}, unk_token="[UNK]")))
    'the model is WordPiece, not BPE'
    """
    model = hf.model
    if type(model).__name__ != "BPE":
        return f"the model is {type(model).__name__}, not BPE"
    if model.dropout or model.continuing_subword_prefix or model.end_of_word_suffix or model.byte_fallback:
        return "the BPE has dropout, a subword prefix or suffix, or byte fallback"
    added = hf.get_added_tokens_decoder().values()
    if any(t.special for t in added) and not hf.encode_special_tokens:
        return "it cuts special-token text out of a text (encode_special_tokens is off)"
    if sum(not t.special for t in added) > MAX_CUT_OUT:
        return f"it has more than {MAX_CUT_OUT} added tokens that are not special (each text is searched for every one)"
    pre = component_state(hf.pre_tokenizer)
    parts = pre.get("pretokenizers") if isinstance(pre, dict) and pre.get("type") == "Sequence" else None
    if not (isinstance(parts, list) and len(parts) == 2 and isinstance(parts[0], dict) and isinstance(parts[1], dict)):
        return "its pre-tokenizer is not a regex split followed by ByteLevel"
    split, byte_level = parts
    if (split.get("type") != "Split" or split.get("behavior") != "Isolated" or split.get("invert")
            or byte_level.get("type") != "ByteLevel" or byte_level.get("add_prefix_space")
            or byte_level.get("use_regex")):
        return "its pre-tokenizer is not a regex split (Isolated) followed by ByteLevel without its own regex"
    pattern = split.get("pattern")
    if not (isinstance(pattern, dict) and pattern.get("Regex") in VERIFIED_PATTERNS.values()):
        return "its split regex is not one tiktoken is known to split alike (VERIFIED_PATTERNS)"
    return None


def merges_reason(vocab: dict[str, int], merges: Sequence[Any], *, ignore_merges: bool = True,
                  own_runs: Callable[[list[str]], list[list[int]]] | None = None) -> str | None:
    """Why this BPE's merges are not a tiktoken vocabulary's (the conditions of the module's argument), or None.

    ``vocab``: piece -> id; ``merges``: pairs of pieces, as ``[a, b]`` or ``"a b"`` (both ways ``tokenizers`` writes
    them); ``ignore_merges``: the model's setting. Every piece must be byte-level text, with the ids 0 to n-1 (as in
    every tiktoken-born file), so that :func:`rank_twin` can make the ranks id by id; the merges must be merges of two
    pieces into a third, none twice, in the order of the ids they make; and then either

    * (complete, ``ignore_merges`` on) every split of a piece into two pieces is a merge, or
    * (one merge per piece, ``ignore_merges`` off) no two merges make the same piece, and ``tokenizers``' own merges
      turn every piece's bytes into that piece: ``own_runs(pieces)`` gives the ids the model makes of each piece
      taken as one word, with no shortcut (None: not asked, a reason).

    >>> v = {c: i for i, c in enumerate(BYTE_DECODER)}
    >>> v |= {"ab": 256, "bc": 257, "abc": 258}
    >>> merges_reason(v, [["a", "b"], ["b", "c"], ["ab", "c"], ["a", "bc"]])  # every split, by the join's id
    >>> merges_reason(v, [["a", "b"], ["b", "c"], ["ab", "c"]])  # "a" + "bc" is no merge: tiktoken could join them
    'not every split of a piece into two pieces is a merge (3 merges, 4 splits)'
    >>> merges_reason(v, [["a", "b"], ["ab", "c"], ["b", "c"], ["a", "bc"]])
    'the merges are not in the order of the ids they make'
    """
    byte_level = {p: i for p, i in vocab.items() if byte_level_bytes(p) is not None}
    if any(c not in byte_level for c in BYTE_DECODER):
        return "the vocabulary lacks some of the 256 byte pieces"
    if len(byte_level) != len(vocab) or set(vocab.values()) != set(range(len(vocab))):
        return "not every piece is byte-level text with an id below the vocabulary's size"
    pairs: set[tuple[str, str]] = set()
    joins: set[int] = set()
    last = -1
    for m in merges:
        a, b = m.split(" ", 1) if isinstance(m, str) else m
        joined = byte_level.get(a + b)
        if joined is None or a not in byte_level or b not in byte_level:  # tokenizers refuses such a file
            return f"the merge {a!r} + {b!r} is not of two pieces of the vocabulary into a third"
        if joined < last:
            return "the merges are not in the order of the ids they make"
        last = joined
        if (a, b) in pairs:
            return f"the merge {a!r} + {b!r} is listed twice"
        pairs.add((a, b))
        joins.add(joined)
    if ignore_merges:
        # Every merge (its join in V) is a split of a piece into two pieces, so the same number means the same.
        splits = sum(1 for p in byte_level for k in range(1, len(p)) if p[:k] in byte_level and p[k:] in byte_level)
        if splits != len(pairs):
            return f"not every split of a piece into two pieces is a merge ({len(pairs)} merges, {splits} splits)"
        return None
    if len(joins) != len(pairs):
        return "two merges make the same piece (with ignore_merges off)"
    if own_runs is None:
        return "with ignore_merges off, the merges' own runs were not checked"
    longer = [p for p in byte_level if len(p) > 1]
    wrong = sum(run != [byte_level[p]] for p, run in zip(longer, own_runs(longer), strict=True))
    if wrong:
        return f"the BPE's own merges do not make {wrong} of its pieces from their bytes (ignore_merges is off)"
    return None


def _verdict_path(sha256: str) -> Path:
    return cache_root() / f"hf-{sha256}.rank-twin-v{VERDICT_VERSION}.json"


def _verdict_key(sha256: str) -> list[str]:
    return [sha256, VERDICT_VERSION, f"tokenizers {version('tokenizers')}"]


def _own_runs(hf: HFTokenizer, words: list[str]) -> list[list[int]]:
    """The ids ``hf``'s model makes of each word taken alone (no normalizer, no pre-tokenizer, no added token): a
    ``Tokenizer`` around the same model object (its word cache shared: it only ever holds the model's own results)."""
    bare = HFTokenizer(hf.model)
    out: list[list[int]] = []
    for lo in range(0, len(words), 8192):
        out += [e.ids for e in bare.encode_batch([[w] for w in words[lo:lo + 8192]], is_pretokenized=True,
                                                 add_special_tokens=False)]
    return out


def cached_merges_reason(hf: HFTokenizer, sha256: str | None) -> str | None:
    """:func:`merges_reason` of ``hf``'s model, kept in the asset cache by the sha256 of its ``tokenizer.json`` (None:
    not kept). A file that cannot be read or holds another key is a miss; one that cannot be written costs the next
    load the check again."""
    path = _verdict_path(sha256) if sha256 else None
    if path is not None:
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            if stored.get("key") == _verdict_key(sha256) and (stored.get("reason") is None
                                                              or isinstance(stored.get("reason"), str)):
                return stored["reason"]
        except (OSError, ValueError, AttributeError):
            pass
    state = component_state(hf.model)
    reason = merges_reason(state["vocab"], state["merges"], ignore_merges=bool(hf.model.ignore_merges),
                           own_runs=lambda words: _own_runs(hf, words))
    if path is not None:
        try:
            atomic_write(path, json.dumps({"key": _verdict_key(sha256), "reason": reason}))
        except OSError:
            pass
    return reason


def rank_twin(hf: HFTokenizer, sha256: str | None = None) -> Callable[[Sequence[str]], FlatIds] | None:
    """A function giving ``hf``'s ids (``encode_batch_fast(texts, add_special_tokens=False)``, with special-token
    text kept as plain text) of many texts as flat arrays (every id, text after text, as int64; each text's number of
    ids) from a tiktoken core, or None where its ids could differ (see the module's argument). ``sha256``: the file
    ``hf`` was loaded from, to keep the merges' verdict by. Texts must be valid Unicode.

    A normalizer is ``tokenizers``' own (``normalize_str``, text by text) before the core. A text in which an added
    token that is not special could be found (its text in the text, or in the normalized text: ``tokenizers`` would cut
    it out) is encoded by ``hf`` itself."""
    if structure_reason(hf) is not None or cached_merges_reason(hf, sha256) is not None:
        return None
    # Id by id (the model's ids are 0..n-1, every piece byte-level: merges_reason): no dict of all pieces as strings
    # beside the ranks, which would add ~12 MB to a counting process's peak for Llama 3.
    model, size = hf.model, hf.get_vocab_size(with_added_tokens=False)
    ranks = {byte_level_bytes(model.id_to_token(i)): i for i in range(size)}
    if len(ranks) != size or None in ranks:
        return None
    pattern = component_state(hf.pre_tokenizer)["pretokenizers"][0]["pattern"]["Regex"]
    core = twin_id_arrays(ranks, pattern)
    normalize = None if hf.normalizer is None else hf.normalizer.normalize_str
    cut_out = [t.content for t in hf.get_added_tokens_decoder().values() if not t.special and t.content]
    if normalize is None and not cut_out:
        return core

    def arrays(texts: Sequence[str]) -> FlatIds:
        normalized = list(texts) if normalize is None else [normalize(t) for t in texts]
        own = [i for i, (t, n) in enumerate(zip(texts, normalized, strict=True))
               if any(c in t or c in n for c in cut_out)]
        if not own:
            return core(normalized)
        return _interleaved(texts, normalized, own, core, hf)

    return arrays


def _interleaved(texts: Sequence[str], normalized: list[str], own: list[int], core: Callable[[Sequence[str]], FlatIds],
                 hf: HFTokenizer) -> FlatIds:
    """The ids of ``texts``: those at the indices ``own`` from ``hf`` itself, the others from ``core`` (given their
    normalized texts), in the texts' order."""
    mine = set(own)
    rest = [i for i in range(len(texts)) if i not in mine]
    core_ids, core_counts = core([normalized[i] for i in rest])
    per_text = dict(zip(rest, np.split(core_ids, np.cumsum(core_counts)[:-1]), strict=True)) if rest else {}
    for i, enc in zip(own, hf.encode_batch_fast([texts[i] for i in own], add_special_tokens=False), strict=True):
        per_text[i] = np.asarray(enc.ids, dtype=np.int64)
    parts = [per_text[i] for i in range(len(texts))]
    counts = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
    return np.concatenate(parts).astype(np.int64, copy=False), counts


def rank_twin_enabled() -> bool:
    """Whether counting may use rank twins: yes unless ``ATLAS_RANK_TWIN`` is off (to time or check ``tokenizers``'
    own counting)."""
    return env_bool("ATLAS_RANK_TWIN", True)
