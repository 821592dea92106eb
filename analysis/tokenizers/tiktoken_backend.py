"""tiktoken encodings (OpenAI), loaded from verified local ``.tiktoken`` files."""

from __future__ import annotations

import binascii
import hashlib
import operator
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import tiktoken

from ..errors import AssetError, AssetIntegrityError
from .base import Encoding, Tokenizer, check_texts, encoding_from_tables
from .tables import TokenTables, id_classes
from .unit_stats import FlatIds, UnitStats, stats_from_token_lengths


def read_tiktoken_ranks(path: Path, *, expected_sha256: str | None = None) -> dict[bytes, int]:
    """Parse a ``.tiktoken`` file (``<base64 token> <rank>`` per line), as tiktoken's own loader does.

    Read directly rather than through ``tiktoken.load``, whose cache keys files by path (a changed
    local file would load stale) and copies them into a temp folder. Every single byte must have a
    rank, else tiktoken's core would panic on text that needs a missing byte.

    >>> import base64, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.tiktoken"
    >>> _ = p.write_text("".join(f"{base64.b64encode(bytes([b])).decode()} {b}\\n" for b in range(256)))
    >>> len(read_tiktoken_ranks(p))
    256
    """
    try:
        data = path.read_bytes()
    except OSError as e:
        raise AssetError(f"Cannot read {path}: {e}.") from e
    if expected_sha256 and hashlib.sha256(data).hexdigest() != expected_sha256:
        raise AssetIntegrityError(
            f"{path} does not match its sha256 ({expected_sha256}). "
            "Run `python -m analysis assets fetch --force` to restore a verified copy."
        )
    ranks: dict[bytes, int] = {}
    a2b = binascii.a2b_base64  # strict: the alphabet and padding checked, as b64decode(validate=True), 1.4x faster
    n, line = 0, b""
    try:
        for block in _line_blocks(data):
            for line in block.splitlines():
                n += 1
                if line.strip():
                    token, rank = line.split()
                    # "=" is the empty token: Whisper's multilingual.tiktoken gives it rank 50256 (in place of
                    # GPT-2's <|endoftext|>), and whisper's own loader reads it as b"" and counts it.
                    ranks[b"" if token == b"=" else a2b(token, strict_mode=True)] = int(rank)
    except (ValueError, binascii.Error) as e:
        raise AssetError(
            f"{path} is not a valid .tiktoken file (lines of '<base64> <rank>'): line {n} is {line[:60]!r}."
        ) from e
    missing = [b for b in range(256) if bytes([b]) not in ranks]
    if missing:
        raise AssetError(
            f"{path} has no rank for {len(missing)} of the 256 single bytes (e.g. 0x{missing[0]:02x}); a byte-level "
            "BPE needs all of them or it cannot encode arbitrary text. Check that the file is complete."
        )
    return ranks


def _line_blocks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """``data`` in blocks of about ``size`` bytes, each cut just after a ``\\n``: their ``splitlines()`` are, in
    order, ``data.splitlines()`` (a ``\\r\\n`` is never cut), without a list of every line alive at once (o200k_base:
    200k lines, ~10 MiB, while its ranks and then tiktoken's core are made).

    >>> data = b"a 0\\r\\nb 1\\rc 2\\n\\nd 3"
    >>> [x for b in _line_blocks(data, 2) for x in b.splitlines()] == data.splitlines()
    True
    """
    start = 0
    while start < len(data):
        cut = data.find(b"\n", start + size)
        end = len(data) if cut < 0 else cut + 1
        yield data[start:end]
        start = end


_CONSTRUCTOR_LOCK = threading.Lock()

#: The one special token of a counting twin (:func:`twin_id_arrays`): allowed only as the separator
#: :func:`core_id_arrays` puts between a batch's texts (a batch where a text holds it is encoded text by text, nothing
#: allowed), so no text's own characters ever give it. It starts with a NUL character so that tiktoken's search for it
#: in a text is one byte scan that finds nothing. (Its text keeps the words "never allowed" from before the batches.)
TWIN_SPECIAL = "\x00<|atlas: counting twin, never allowed|>"
_NBYTES = operator.attrgetter("nbytes")


def ordinary_id_arrays(encoding: tiktoken.Encoding) -> Callable[[Sequence[str]], FlatIds]:
    """A function that gives ``encoding.encode_ordinary`` of many texts as flat arrays: (every id, text after text, as
    int64; each text's number of ids), with no Python int per id.

    tiktoken's core hands out ids without a Python list only through ``encode_to_tiktoken_buffer(text,
    allowed_special)`` (what ``Encoding.encode_to_numpy`` calls), which first searches the text for the encoding's
    special tokens. With none allowed, what it finds is skipped, and the ids are ``encode_ordinary``'s (tiktoken:
    ``encode_ordinary(t) == encode(t, disallowed_special=())``); a batch is one call, cut at a special token
    (:func:`core_id_arrays`). An encoding with no special token at all (a ``.tiktoken`` file, Tekken's core) has none
    to cut at, and would search with an empty pattern, which matches at every position; such an encoding gets a twin
    core, made here once (:func:`twin_id_arrays`: ~10 MB and 0.1 s for a 100k vocabulary). Texts must be valid
    Unicode (:func:`~.base.check_texts`).

    >>> enc = tiktoken.Encoding("bytes", pat_str=".", mergeable_ranks={bytes([b]): b for b in range(256)},
    ...                         special_tokens={})
    >>> [a.tolist() for a in ordinary_id_arrays(enc)(["hi", "", "é"])]
    [[104, 105, 195, 169], [2, 0, 2]]
    """
    if not encoding._special_tokens:
        return twin_id_arrays(encoding._mergeable_ranks, encoding._pat_str)
    separator = max(encoding._special_tokens, key=encoding._special_tokens.__getitem__)
    return core_id_arrays(encoding._core_bpe, separator, encoding._special_tokens[separator])


def twin_id_arrays(ranks: dict[bytes, int], pattern: str) -> Callable[[Sequence[str]], FlatIds]:
    """:func:`core_id_arrays` over a twin core: a tiktoken core of ``ranks`` and ``pattern`` with :data:`TWIN_SPECIAL`
    as its only special token, the batches' separator (see :func:`ordinary_id_arrays`).

    Raises:
        ValueError: tiktoken's, where the ranks and pattern form no encoding (a pattern that does not compile, ...).
    """
    separator_id = max(ranks.values()) + 1
    core = tiktoken._tiktoken.CoreBPE(ranks, {TWIN_SPECIAL: separator_id}, pattern)
    return core_id_arrays(core, TWIN_SPECIAL, separator_id)


def core_id_arrays(core: Any, separator: str, separator_id: int) -> Callable[[Sequence[str]], FlatIds]:
    """:func:`ordinary_id_arrays` over a tiktoken core that has the special token ``separator`` (id ``separator_id``).

    The texts are encoded in one call, joined by ``separator`` with only it allowed: tiktoken cuts the text at each
    allowed special token and encodes the parts between them one by one (its split pattern runs on each part alone),
    so the ids between two separators are exactly ``encode_ordinary`` of that text, and no ordinary text gives a
    special id. One call instead of one per text: the core holds the GIL only on its way in and out, so two counting
    threads encode at the same time, where a call per short text made them wait for each other at every text. A
    batch in which some text holds the separator's own text is encoded text by text, with nothing allowed.
    """
    encode = core.encode_to_tiktoken_buffer
    allowed = {separator}
    nothing: set[str] = set()

    def one_by_one(texts: Sequence[str]) -> FlatIds:
        buffers = [encode(t, nothing) for t in texts]  # uint32 ids each, in a buffer
        counts = np.fromiter(map(_NBYTES, map(memoryview, buffers)), dtype=np.int64, count=len(buffers)) // 4
        return np.frombuffer(b"".join(buffers), dtype=np.uint32).astype(np.int64), counts

    def arrays(texts: Sequence[str]) -> FlatIds:
        if len(texts) < 2 or any(separator in t for t in texts):
            return one_by_one(texts)
        ids = np.frombuffer(encode(separator.join(texts), allowed), dtype=np.uint32)
        cuts = np.flatnonzero(ids == separator_id)
        if len(cuts) != len(texts) - 1:  # a separator made of two texts' ends (none of tiktoken's can be): never count
            return one_by_one(texts)  # across texts
        counts = np.diff(cuts, prepend=-1, append=len(ids)) - 1
        return np.delete(ids, cuts).astype(np.int64), counts

    return arrays


def official_definition(name: str, ranks: dict[bytes, int], ranks_sha256: str) -> dict:
    """tiktoken's own definition of encoding ``name`` (pattern, special tokens, ...) over our verified ranks.

    tiktoken's constructors in ``tiktoken_ext.openai_public`` fetch their ranks with
    ``load_tiktoken_bpe(url, expected_hash=...)``. For the duration of one call the loader is swapped
    for one that hands back ``ranks`` when tiktoken asks for exactly the hash we verified, and defers
    to the original otherwise, so the pattern and special tokens are tiktoken's, unmodified.
    """
    from tiktoken_ext import openai_public

    constructor = openai_public.ENCODING_CONSTRUCTORS.get(name)
    if constructor is None:
        raise AssetError(f"tiktoken {tiktoken.__version__} has no encoding named {name!r}; check the catalogue entry.")
    original = openai_public.load_tiktoken_bpe
    asked: list[str | None] = []

    def verified_loader(blobpath: str, expected_hash: str | None = None) -> dict[bytes, int]:
        asked.append(expected_hash)
        if expected_hash == ranks_sha256:
            return ranks
        return original(blobpath, expected_hash=expected_hash)

    with _CONSTRUCTOR_LOCK:
        openai_public.load_tiktoken_bpe = verified_loader
        try:
            definition = constructor()
        finally:
            openai_public.load_tiktoken_bpe = original
    if ranks_sha256 not in asked:  # never true for the catalogue's four encodings; guards a changed tiktoken
        raise AssetError(f"tiktoken's {name!r} expects ranks with sha256 {asked}, not the catalogue's {ranks_sha256}.")
    return definition


def load_encoding(name: str, ranks_path: Path, *, ranks_sha256: str) -> tiktoken.Encoding:
    """The official tiktoken encoding ``name``, built offline from a verified ``.tiktoken`` file.

    ``ranks_sha256`` is the same hash tiktoken itself expects for that file. Whisper's two encodings
    (:data:`~.whisper_encodings.WHISPER_ENCODINGS`) are built as openai-whisper's ``get_encoding`` builds them.
    """
    from .whisper_encodings import WHISPER_ENCODINGS, whisper_definition

    ranks = read_tiktoken_ranks(ranks_path, expected_sha256=ranks_sha256)
    if name in WHISPER_ENCODINGS:  # not in tiktoken's registry: openai-whisper defines them in its own code
        return tiktoken.Encoding(**whisper_definition(name, ranks))
    return tiktoken.Encoding(**official_definition(name, ranks, ranks_sha256))


def rank_table(ranks: Mapping[bytes, int], special: Mapping[str, int], size: int) -> tuple[list[bytes], list[int]]:
    """Per id below ``size``: the bytes of its rank or special token (``b""`` for an id no token has); and those ids,
    the gaps (o200k_base: 199998 and 199999).

    >>> rank_table({b"a": 0, b"": 1}, {"<|x|>": 3}, 4)
    ([b'a', b'', b'', b'<|x|>'], [2])
    """
    table: list[bytes | None] = [None] * size
    for token, rank in ranks.items():
        table[rank] = token
    for text, rank in special.items():
        table[rank] = text.encode()
    return [b"" if b is None else b for b in table], [i for i, b in enumerate(table) if b is None]


class RanksFromTable(Mapping[bytes, int]):
    """A tiktoken encoding's mergeable ranks (bytes -> rank), kept as the per-id tables the tokenizer holds anyway
    and made into a dict again only when something reads them.

    tiktoken's ``Encoding`` keeps the dict it was built from (``_mergeable_ranks``) beside its Rust core, which has
    its own copy: for o200k_base that dict, its ints and its ``bytes`` keys are ~25 MiB that nothing here reads once
    the tables exist (counting goes through the core and the tables' one buffer of bytes).
    :class:`TiktokenTokenizer` puts this mapping in its place; it pickles as the plain dict, so a pickled encoding is
    the same as before.

    ``skip``: the ids that are no rank (special tokens, and gaps: ids no token has). A rank may be the empty bytes
    (openai-whisper's multilingual ranks give ``b""`` rank 50256), so an empty entry is no gap by itself.

    >>> r = RanksFromTable(TokenTables.from_bytes([b"a", b"b", b"", b"<|end|>"], np.zeros(4, np.uint8)), skip=[2, 3])
    >>> dict(r), len(r), r[b"b"], b"<|end|>" in r
    ({b'a': 0, b'b': 1}, 2, 1, False)
    """

    def __init__(self, tables: TokenTables, *, skip: Sequence[int]) -> None:
        self._tables, self._skip = tables, frozenset(skip)

    @cached_property
    def _ranks(self) -> dict[bytes, int]:
        return {b: i for i, b in enumerate(self._tables.token_bytes.tolist()) if i not in self._skip}

    def __getitem__(self, token: bytes) -> int:
        return self._ranks[token]

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._ranks)

    def __len__(self) -> int:
        return len(self._ranks)

    def __reduce__(self) -> tuple:
        return dict, (dict(self._ranks),)


class TiktokenTokenizer(Tokenizer):
    """Any ``tiktoken.Encoding`` behind the common interface."""

    backend = "tiktoken"

    def __init__(self, tokenizer_id: str, encoding: tiktoken.Encoding, *, name: str | None = None) -> None:
        super().__init__(tokenizer_id, name=name, vocab_size=encoding.n_vocab)
        self.encoding = encoding
        self._special_ids = frozenset(encoding.encode_single_token(s) for s in encoding.special_tokens_set)

    @cached_property
    def _tables(self) -> TokenTables:
        """Per id: its bytes, their length, its kind class; built once, on first encode."""
        enc = self.encoding
        table, gaps = rank_table(enc._mergeable_ranks, enc._special_tokens, enc.max_token_value + 1)
        tables = TokenTables.from_bytes(table, id_classes(len(table), special=sorted(self._special_ids)))
        if enc._special_tokens:  # without one, ordinary_id_arrays makes a twin core from the ranks: keep the dict
            enc._mergeable_ranks = RanksFromTable(tables, skip=gaps + sorted(self._special_ids))
        return tables

    def _encode(self, text: str, utf8: bytes, *, add_special_tokens: bool, allow_special: bool) -> Encoding:
        # tiktoken has no BOS/EOS of its own, so add_special_tokens adds nothing.
        enc = self.encoding
        ids = enc.encode(text, allowed_special="all") if allow_special else enc.encode_ordinary(text)
        return encoding_from_tables(self._tables, self, text, utf8, ids)

    @cached_property
    def _id_arrays(self) -> Callable[[Sequence[str]], FlatIds]:
        return ordinary_id_arrays(self.encoding)

    def unit_stats(self, texts: Sequence[str], word_spans: Sequence) -> UnitStats:
        check_texts(texts)
        tables = self._tables
        # One call per text: tiktoken's batch call queues a thread-pool future per text, which costs more than
        # encoding a short unit (corpus builds already run one process per core). Straight into numpy.
        return stats_from_token_lengths(texts, word_spans, self._id_arrays(texts), tables.lengths, tables.classes)

    def _ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        # A plain loop, as in unit_stats: the batch call's thread pool costs more than it saves on short texts.
        encode = self.encoding.encode_ordinary
        return [encode(t) for t in texts]

    def token_totals(self, texts: Sequence[str]) -> tuple[int, int, int]:
        return self._totals_from_ids(texts)

    @property
    def split_pattern(self) -> str:
        """The regex that cuts text into pieces before the byte-pair merges."""
        return self.encoding._pat_str

    def _count(self, text: str) -> int:
        return len(self.encoding.encode_ordinary(text))

    def _count_batch(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self.encoding.encode_ordinary_batch(list(texts))]

    def decode(self, ids: Sequence[int]) -> str:
        return self.encoding.decode(list(ids))

    def piece(self, token_id: int) -> str:
        return self.encoding.decode_single_token_bytes(token_id).decode("utf-8", "backslashreplace")

    def token_tables(self) -> TokenTables:
        return self._tables


class TiktokenFileTokenizer(TiktokenTokenizer):
    """A ``.tiktoken`` ranks file with a split pattern and no special tokens (a visitor's upload, a ``file:`` spec),
    whose ``tiktoken.Encoding`` is made on first use.

    A counting job never uses it: it counts through a core of its own (:func:`twin_id_arrays`, which the file's encoding,
    having no special token, needs for :func:`ordinary_id_arrays`) and the per-id tables, made from the ranks. Making
    tiktoken's core costs about 0.1 s of CPU for a 100k vocabulary, a tenth of counting the UDHR with it. The
    vocabulary size is what tiktoken's would be (the highest rank + 1), and a file that forms no encoding gets the same
    error on first use as it got on loading (``add_upload`` encodes a probe text in its loading process, so a visitor's
    file is refused there, as before).

    >>> import base64
    >>> ranks = {bytes([b]): b for b in range(256)} | {b"ab": 256}
    >>> tok = TiktokenFileTokenizer("file:t.tiktoken", ranks, r"\\w+|\\s+|.", path=Path("t.tiktoken"))
    >>> tok.vocab_size, "encoding" in vars(tok), tok.count("abc"), "encoding" in vars(tok)
    (257, False, 2, True)
    """

    def __init__(self, tokenizer_id: str, ranks: dict[bytes, int], pattern: str, *, path: Path,
                 name: str | None = None) -> None:
        Tokenizer.__init__(self, tokenizer_id, name=name, vocab_size=max(ranks.values()) + 1)
        self._ranks, self._pattern, self._path = ranks, pattern, path
        self._special_ids = frozenset()

    def _formed(self, make: Callable[[], Any]) -> Any:
        try:
            return make()
        except ValueError as e:
            raise AssetError(f"{self._path} does not form a tiktoken encoding: {e}.") from e

    @cached_property
    def encoding(self) -> tiktoken.Encoding:  # type: ignore[override]
        return self._formed(lambda: tiktoken.Encoding(name=self.id, pat_str=self._pattern, mergeable_ranks=self._ranks,
                                                      special_tokens={}))

    @cached_property
    def _tables(self) -> TokenTables:
        table, _ = rank_table(self._ranks, {}, max(self._ranks.values()) + 1)  # as TiktokenTokenizer's, no special
        return TokenTables.from_bytes(table, id_classes(len(table), special=[]))

    @cached_property
    def _id_arrays(self) -> Callable[[Sequence[str]], FlatIds]:
        return self._formed(lambda: twin_id_arrays(self._ranks, self._pattern))

    @property
    def split_pattern(self) -> str:
        return self._pattern
