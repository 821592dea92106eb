"""Exact token ids, pieces, character spans and kinds on the real, verified vocabularies.

How the expected values were derived (and are re-derived on every run):

1. The ids were read off an encoding of each fixed string, then each id was looked up by hand in
   the vocabulary *file* (not through the library): a ``.tiktoken`` file's ``<base64> <rank>`` lines
   and its special-token JSON; ``model.vocab`` / ``added_tokens`` of a ``tokenizer.json``, with
   GPT-2's byte-to-unicode table undone for byte-level BPE (``Ġworld`` -> `` world``), ``▁`` read as a
   space and ``<0xE1>`` as the byte 0xE1 for SentencePiece-style BPE, and ``##`` dropped for WordPiece;
   a SentencePiece ``.model`` through ``sentencepiece`` itself; Tekken's JSON, where id = rank + 1000.
   :func:`vocabulary_bytes` does the same lookups, so the test checks them again.
2. The expected piece next to each id is the text that vocabulary entry stands for (``bytes`` where
   the entry is only part of a UTF-8 character, e.g. ``b"\\xe1\\x88"`` of "ሰ"). The pieces of a
   lossless tokenizer concatenate to the text (SentencePiece adds one dummy-prefix space).
3. Spans are character offsets: a token that carries only part of a character covers that whole
   character, so the tokens of a split character share one span (kind ``split``, or ``byte_fallback``
   for ``<0xNN>`` pieces). Worked example, o200k "ሰ" = E1 88 B0 -> [b"\\xe1\\x88", b"\\xb0"], both (0, 1).
"""

from __future__ import annotations

import base64
import functools
import json
import zlib

import pytest
import sentencepiece as spm

from analysis import Encoding, TokenKind, get_tokenizer, load_catalogue
from analysis.assets import asset_path

N, S, B, U, X = TokenKind.NORMAL, TokenKind.SPLIT, TokenKind.BYTE_FALLBACK, TokenKind.UNKNOWN, TokenKind.SPECIAL

EN, HI, ZH, AM, AR = "hello world", "नमस्ते", "你好世界", "ሰላም", "مرحبا"
FAMILY = "👩\u200d👩\u200d👧"  # woman ZWJ woman ZWJ girl: 5 code points, one grapheme
RARE_HAN = "\U00020bb7"  # 𠮷, a CJK Extension B character
EOT = "<|endoftext|>"
NUMBERS = "12345 1234567"
LLAMA = "Hello world!"  # llama-tokenizer-js's README example: [1, 15043, 3186, 29991] with its BOS
NAMES = {EN: "en", "Hello World": "en-caps", HI: "hi", ZH: "zh", AM: "am", AR: "ar", FAMILY: "zwj-family",
         RARE_HAN: "rare-han", EOT: "endoftext", NUMBERS: "numbers", LLAMA: "hello-world"}

# (tokenizer, text) -> [(id, piece, start, end, kind), ...]
TOKENS = {
    ("o200k_base", EN): [(24912, "hello", 0, 5, N), (2375, " world", 5, 11, N)],
    ("o200k_base", HI): [(998, "न", 0, 1, N), (1637, "म", 1, 2, N), (14681, "स्त", 2, 5, N), (628, "े", 5, 6, N)],
    ("o200k_base", ZH): [(177519, "你好", 0, 2, N), (28428, "世界", 2, 4, N)],
    ("o200k_base", AM): [(57048, b"\xe1\x88", 0, 1, S), (108, b"\xb0", 0, 1, S),  # ሰ = E1 88 B0
                         (57048, b"\xe1\x88", 1, 2, S), (233, b"\x8b", 1, 2, S),  # ላ = E1 88 8B
                         (57048, b"\xe1\x88", 2, 3, S), (251, b"\x9d", 2, 3, S)],  # ም = E1 88 9D
    ("o200k_base", AR): [(158894, "مرح", 0, 3, N), (26537, "با", 3, 5, N)],
    ("o200k_base", FAMILY): [(28823, b"\xf0\x9f\x91", 0, 1, S), (102, b"\xa9", 0, 1, S), (2524, "\u200d", 1, 2, N),
                             (28823, b"\xf0\x9f\x91", 2, 3, S), (102, b"\xa9", 2, 3, S), (2524, "\u200d", 3, 4, N),
                             (28823, b"\xf0\x9f\x91", 4, 5, S), (100, b"\xa7", 4, 5, S)],
    ("cl100k_base", EN): [(15339, "hello", 0, 5, N), (1917, " world", 5, 11, N)],
    # One token (31584) holds the virama and the first two bytes of "त"; the third byte follows alone.
    ("cl100k_base", HI): [(61196, "न", 0, 1, N), (88344, "म", 1, 2, N), (79468, "स", 2, 3, N),
                          (31584, b"\xe0\xa5\x8d\xe0\xa4", 3, 5, S), (97, b"\xa4", 4, 5, S), (35470, "े", 5, 6, N)],
    ("cl100k_base", ZH): [(57668, "你", 0, 1, N), (53901, "好", 1, 2, N), (3574, b"\xe4\xb8", 2, 3, S),
                          (244, b"\x96", 2, 3, S), (98220, "界", 3, 4, N)],
    ("cl100k_base", EOT): [(27, "<", 0, 1, N), (91, "|", 1, 2, N), (8862, "endo", 2, 6, N), (728, "ft", 6, 8, N),
                           (428, "ext", 8, 11, N), (91, "|", 11, 12, N), (29, ">", 12, 13, N)],
    # Llama 3's first 100,256 ids are cl100k's, so English matches cl100k; its extra ids merge more.
    ("llama3", EN): [(15339, "hello", 0, 5, N), (1917, " world", 5, 11, N)],
    ("llama3", HI): [(61196, "न", 0, 1, N), (88344, "म", 1, 2, N), (79468, "स", 2, 3, N), (100365, "्त", 3, 5, N),
                     (35470, "े", 5, 6, N)],
    ("llama3", AR): [(101244, "مر", 0, 2, N), (30925, "ح", 2, 3, N), (103645, "با", 3, 5, N)],
    ("llama3", FAMILY): [(9468, b"\xf0\x9f", 0, 1, S), (239, b"\x91", 0, 1, S), (102, b"\xa9", 0, 1, S),
                         (102470, "\u200d", 1, 2, N),
                         (9468, b"\xf0\x9f", 2, 3, S), (239, b"\x91", 2, 3, S), (102, b"\xa9", 2, 3, S),
                         (102470, "\u200d", 3, 4, N),
                         (9468, b"\xf0\x9f", 4, 5, S), (239, b"\x91", 4, 5, S), (100, b"\xa7", 4, 5, S)],
    ("gemma3", EN): [(23391, "hello", 0, 5, N), (1902, " world", 5, 11, N)],
    ("gemma3", HI): [(226767, "नमस्ते", 0, 6, N)],
    ("gemma3", AM): [(238858, "ሰ", 0, 1, N), (238168, "ላ", 1, 2, N), (237820, "ም", 2, 3, N)],
    ("gemma3", FAMILY): [(243767, "👩", 0, 1, N), (237243, "\u200d", 1, 2, N), (243767, "👩", 2, 3, N),
                         (237243, "\u200d", 3, 4, N), (244814, "👧", 4, 5, N)],
    ("gemma3", RARE_HAN): [(478, b"\xf0", 0, 1, B), (398, b"\xa0", 0, 1, B), (412, b"\xae", 0, 1, B),
                           (421, b"\xb7", 0, 1, B)],
    # Whisper's multilingual vocabulary is its own (English merges less than GPT-2's: "he" + "llo").
    ("whisper-multilingual", EN): [(675, "he", 0, 2, N), (1913, "llo", 2, 5, N), (1002, " world", 5, 11, N)],
    ("whisper-multilingual", ZH): [(26410, "你好", 0, 2, N), (24486, "世界", 2, 4, N)],
    ("whisper-multilingual", HI): [(35082, "न", 0, 1, N), (48521, "म", 1, 2, N), (45938, "स", 2, 3, N),
                                   (27099, "्", 3, 4, N), (36158, "त", 4, 5, N), (21981, "े", 5, 6, N)],
    ("whisper-multilingual", AR): [(29973, "مر", 0, 2, N), (5016, "ح", 2, 3, N), (3555, "ب", 3, 4, N),
                                   (995, "ا", 4, 5, N)],
    # Whisper's English-only models use GPT-2's ranks (r50k_base's file, byte for byte).
    ("whisper-gpt2", EN): [(31373, "hello", 0, 5, N), (995, " world", 5, 11, N)],
    ("whisper-gpt2", AR): [(25405, "م", 0, 1, N), (26897, "ر", 1, 2, N), (148, b"\xd8", 2, 3, S), (255, b"\xad", 2, 3, S),
                           (39848, "ب", 3, 4, N), (12919, "ا", 4, 5, N)],
    ("whisper-gpt2", NUMBERS): [(10163, "123", 0, 3, N), (2231, "45", 3, 5, N), (17031, " 123", 5, 9, N),
                                (2231, "45", 9, 11, N), (3134, "67", 11, 13, N)],
    # Llama 1/2: "▁" is 29871 (Mistral v1's is 28705); digits are single pieces; Ge'ez and emoji fall back to bytes.
    ("llama2", EN): [(22172, " hello", 0, 5, N), (3186, " world", 5, 11, N)],
    ("llama2", LLAMA): [(15043, " Hello", 0, 5, N), (3186, " world", 5, 11, N), (29991, "!", 11, 12, N)],
    ("llama2", ZH): [(29871, " ", 0, 0, N), (30919, "你", 0, 1, N), (31076, "好", 1, 2, N), (30793, "世", 2, 3, N),
                     (30967, "界", 3, 4, N)],
    ("llama2", AM): [(29871, " ", 0, 0, N), (228, b"\xe1", 0, 1, B), (139, b"\x88", 0, 1, B), (179, b"\xb0", 0, 1, B),
                     (228, b"\xe1", 1, 2, B), (139, b"\x88", 1, 2, B), (142, b"\x8b", 1, 2, B),
                     (228, b"\xe1", 2, 3, B), (139, b"\x88", 2, 3, B), (160, b"\x9d", 2, 3, B)],
    ("llama2", RARE_HAN): [(29871, " ", 0, 0, N), (243, b"\xf0", 0, 1, B), (163, b"\xa0", 0, 1, B),
                           (177, b"\xae", 0, 1, B), (186, b"\xb7", 0, 1, B)],
    # Jurassic-2: AI21's dummy prefix; whole Ge'ez syllables; numbers whole if in the vocabulary, else in threes
    # from the right (1234567 -> 1 234 567; SentencePiece alone gives other pieces).
    ("jurassic2", EN): [(30671, " hello", 0, 5, N), (1754, " world", 5, 11, N)],
    ("jurassic2", AM): [(1264, " ", 0, 0, N), (252362, "ሰ", 0, 1, N), (251905, "ላ", 1, 2, N), (251430, "ም", 2, 3, N)],
    ("jurassic2", AR): [(41704, " م", 0, 1, N), (16843, "ر", 1, 2, N), (27323, "ح", 2, 3, N), (219265, "با", 3, 5, N)],
    ("jurassic2", NUMBERS): [(1264, " ", 0, 0, N), (141055, "12345", 0, 5, N), (1264, " ", 5, 6, N), (1333, "1", 6, 7, N),
                             (37959, "234", 7, 10, N), (43008, "567", 10, 13, N)],
    ("jurassic2", RARE_HAN): [(1264, " ", 0, 0, N), (1248, b"\xf0", 0, 1, B), (1168, b"\xa0", 0, 1, B),
                              (1182, b"\xae", 0, 1, B), (1191, b"\xb7", 0, 1, B)],
    ("qwen3", EN): [(14990, "hello", 0, 5, N), (1879, " world", 5, 11, N)],
    ("qwen3", ZH): [(108386, "你好", 0, 2, N), (99489, "世界", 2, 4, N)],
    ("qwen3", AM): [(148990, "ሰ", 0, 1, N), (147966, "ላ", 1, 2, N), (148295, "ም", 2, 3, N)],
    ("qwen3", FAMILY): [(145233, "👩", 0, 1, N), (378, b"\xe2\x80", 1, 2, S), (235, b"\x8d", 1, 2, S),
                        (145233, "👩", 2, 3, N), (378, b"\xe2\x80", 3, 4, S), (235, b"\x8d", 3, 4, S),
                        (145665, "👧", 4, 5, N)],
    # SentencePiece: a dummy-prefix "▁" (empty span when it stands alone); <0xNN> byte fallback for "ሰ", "ላ".
    ("mistral-v3", EN): [(7080, " hell", 0, 4, N), (29477, "o", 4, 5, N), (2294, " world", 5, 11, N)],
    ("mistral-v3", ZH): [(29473, " ", 0, 0, N), (30151, "你", 0, 1, N), (30298, "好", 1, 2, N),
                         (30818, "世", 2, 3, N), (30590, "界", 3, 4, N)],
    ("mistral-v3", AM): [(29473, " ", 0, 0, N), (996, b"\xe1", 0, 1, B), (907, b"\x88", 0, 1, B),
                         (947, b"\xb0", 0, 1, B), (996, b"\xe1", 1, 2, B), (907, b"\x88", 1, 2, B),
                         (910, b"\x8b", 1, 2, B), (32566, "ም", 2, 3, N)],
    ("mistral-v3", AR): [(28848, " م", 0, 1, N), (29715, "ر", 1, 2, N), (29868, "ح", 2, 3, N),
                         (29751, "ب", 3, 4, N), (29683, "ا", 4, 5, N)],
    ("mistral-tekken", EN): [(29706, "hello", 0, 5, N), (4304, " world", 5, 11, N)],
    ("mistral-tekken", ZH): [(124108, "你好", 0, 2, N), (29659, "世界", 2, 4, N)],
    # WordPiece lowercases, drops the space, strips combining marks (् and े) and gives whole words [UNK].
    ("bert-uncased", "Hello World"): [(7592, "hello", 0, 5, N), (2088, "world", 6, 11, N)],
    ("bert-uncased", HI): [(1327, "न", 0, 1, N), (29867, "म", 1, 2, N), (29874, "स", 2, 3, N), (29859, "त", 4, 5, N)],
    ("bert-uncased", ZH): [(100, "[UNK]", 0, 1, U), (100, "[UNK]", 1, 2, U), (1745, "世", 2, 3, N),
                           (100, "[UNK]", 3, 4, U)],
    ("bert-uncased", AM): [(100, "[UNK]", 0, 3, U)],
}
DUMMY_PREFIX = {"mistral-v3", "llama2", "jurassic2"}  # pieces spell " " + text
NOT_SPELLING = {"bert-uncased"}  # normalizes the text (lowercase, marks stripped, [UNK])

SCRIPTS = (EN, HI, ZH, AM, AR, FAMILY)
COUNTS = {  # tokens for   en  hi  zh  am  ar  zwj-family
    "o200k_base":     (2,  4,  2,  6,  2,  8),
    "whisper-multilingual": (3, 6, 2, 9, 4, 10),  # ሰላም: 9 single bytes; the family: 4+1 bytes per emoji, 2+1 per ZWJ
    "whisper-gpt2":   (2, 12,  8,  9,  6, 10),  # r50k_base's counts: Devanagari 2 tokens per letter
    "llama2":         (2,  7,  5, 10,  6, 15),  # "▁" + one piece per letter, or "▁" + 9 (ሰላም) / 4+1+4+1+4 bytes
    "jurassic2":      (2,  7,  5,  4,  4,  6),  # NFKC turns each ZWJ into "▁": 👩 ▁ 👩 ▁ 👧 after the prefix
    "cl100k_base":    (2,  6,  5,  9,  5, 13),
    "llama3":         (2,  5,  3,  9,  3, 11),
    "gemma3":         (2,  1,  2,  3,  2,  5),
    "qwen3":          (2,  6,  2,  3,  3,  7),
    "mistral-v3":     (3,  7,  5,  8,  5, 15),
    "mistral-tekken": (2,  4,  2,  9,  3, 14),
    "bert-uncased":   (2,  4,  4,  1,  5,  1),
    "utf8-bytes":     (11, 18, 12, 9, 10, 18),  # UTF-8 lengths: Devanagari/Han/Ethiopic 3 bytes, emoji 4, ZWJ 3
    "codepoints":     (11, 6,  4,  3,  5,  5),
    "words":          (2,  1,  1,  1,  1,  1),
}


def _file(path: str):
    return asset_path(load_catalogue().files[path])


def _gpt2_unicode_to_byte() -> dict[str, int]:
    """GPT-2's ``bytes_to_unicode`` (openai/gpt-2 encoder.py), inverted."""
    bs = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs, strict=True)}


def _metaspace(piece: str) -> bytes:
    if len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
        return bytes([int(piece[3:5], 16)])
    return piece.replace("\u2581", " ").encode()


@functools.cache
def vocabulary_bytes(tid: str) -> dict[int, bytes]:
    """id -> the bytes the vocabulary *file* says it stands for, read without the library's backends."""
    if tid in ("o200k_base", "cl100k_base"):
        out = {int(rank): base64.b64decode(b64) for b64, rank in
               (line.split() for line in _file(f"openai/{tid}.tiktoken").read_bytes().splitlines())}
        # tiktoken's published special tokens (tiktoken_ext/openai_public.py)
        specials = {"cl100k_base": {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
                                    "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276},
                    "o200k_base": {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}}[tid]
        return out | {i: s.encode() for s, i in specials.items()}
    if tid == "mistral-tekken":
        data = json.loads(_file("mistral/tekken_240718.json").read_text(encoding="utf-8"))
        first = data["config"]["default_num_special_tokens"]  # 1000 control ids come first
        return {first + v["rank"]: base64.b64decode(v["token_bytes"]) for v in data["vocab"]}
    if tid in ("whisper-multilingual", "whisper-gpt2"):  # "=" is Whisper's empty token (rank 50256)
        name = "multilingual" if tid == "whisper-multilingual" else "gpt2"
        return {int(rank): b"" if b64 == b"=" else base64.b64decode(b64) for b64, rank in
                (line.split() for line in _file(f"openai/whisper/assets/{name}.tiktoken").read_bytes().splitlines())}
    if tid in ("mistral-v3", "jurassic2"):
        path = {"mistral-v3": "mistral/mistral_instruct_tokenizer_240323.model.v3",
                "jurassic2": "ai21/j2-tokenizer/j2-tokenizer.model"}[tid]
        sp = spm.SentencePieceProcessor(model_file=str(_file(path)))
        return {i: _metaspace(sp.id_to_piece(i)) for i in range(sp.get_piece_size())}
    data = json.loads(_file(load_catalogue().tokenizer(tid).files["tokenizer"].path).read_text(encoding="utf-8"))
    if tid in ("llama3", "qwen3"):
        table = _gpt2_unicode_to_byte()
        decode = lambda p: bytes(table[c] for c in p)  # noqa: E731
    elif tid == "bert-uncased":
        decode = lambda p: p.removeprefix("##").encode()  # noqa: E731
    else:
        decode = _metaspace
    added = {t["id"]: t["content"].encode() for t in data["added_tokens"]}
    return {i: decode(p) for p, i in data["model"]["vocab"].items()} | added


def spans(enc: Encoding) -> list[tuple[int, int]]:
    return list(zip(enc.starts, enc.ends, strict=True))


def _raw(piece: str | bytes) -> bytes:
    return piece if isinstance(piece, bytes) else piece.encode()


@pytest.mark.parametrize(("tid", "text"), list(TOKENS), ids=[f"{t}-{NAMES[x]}" for t, x in TOKENS])
def test_exact_tokens(tid: str, text: str) -> None:
    expected = TOKENS[(tid, text)]
    ids, pieces = [e[0] for e in expected], [_raw(e[1]) for e in expected]
    vocab = vocabulary_bytes(tid)
    assert [vocab[i] for i in ids] == pieces, "an expected piece is not what the vocabulary file says"
    if tid not in NOT_SPELLING:
        assert b"".join(pieces) == ((" " if tid in DUMMY_PREFIX else "") + text).encode()
    tok = get_tokenizer(tid)
    enc = tok.encode(text)
    assert enc.ids == ids
    assert enc.token_bytes == pieces
    assert spans(enc) == [(e[2], e[3]) for e in expected]
    assert enc.kinds == [e[4] for e in expected]
    assert enc.count == tok.count(text) == len(expected)


@pytest.mark.parametrize("tid", list(COUNTS))
def test_counts_of_fixed_strings(tid: str) -> None:
    tok = get_tokenizer(tid)
    assert tuple(tok.count(t) for t in SCRIPTS) == COUNTS[tid]
    assert tuple(tok.count_batch(list(SCRIPTS))) == COUNTS[tid]


def test_count_table_agrees_with_token_table() -> None:
    for (tid, text), tokens in TOKENS.items():
        if text in SCRIPTS:
            assert COUNTS[tid][SCRIPTS.index(text)] == len(tokens), (tid, NAMES[text])


def test_bert_wordpiece_pieces_and_lowercasing() -> None:
    tok = get_tokenizer("bert-uncased")
    assert [tok.piece(i) for i in tok.encode(HI).ids] == ["न", "##म", "##स", "##त"]
    assert tok.encode("Hello World").ids == tok.encode("hello world").ids == [7592, 2088]
    assert tok.decode([7592, 2088]) == "hello world"
    assert tok.lossless[0] is False
    assert tok.encode(AM).kind_counts()["unknown"] == 1


@pytest.mark.parametrize(("tid", "eot_id"), [("cl100k_base", 100257), ("o200k_base", 199999)])
def test_special_looking_text_is_plain_unless_allowed(tid: str, eot_id: int) -> None:
    tok = get_tokenizer(tid)
    plain = tok.encode(EOT)
    assert eot_id not in plain.ids and set(plain.kinds) == {N}
    assert tok.count(EOT) == plain.count == 7
    allowed = tok.encode(EOT, allow_special=True)
    assert vocabulary_bytes(tid)[eot_id] == EOT.encode()
    assert (allowed.ids, allowed.token_bytes, allowed.starts, allowed.ends, allowed.kinds) == (
        [eot_id], [EOT.encode()], [0], [13], [X])


# tokenizer -> (ids added before, ids added after) with add_special_tokens=True
ADDED = {
    "cl100k_base": ([], []),  # tiktoken has no BOS/EOS of its own
    "o200k_base": ([], []),
    "llama3": ([128000], []),  # <|begin_of_text|>, from the catalogue's add_bos (this file's post-processor lacks it)
    "llama2": ([1], []),  # <s>, from the rebuilt tokenizer.json's post-processor (Llama's add_bos_token = true)
    "whisper-multilingual": ([], []),  # tiktoken: Whisper's prompt tokens are the model's business, not the text's
    "jurassic2": ([], []),  # AI21's encoder adds no <|startoftext|>
    "gemma3": ([2], []),  # <bos>
    "mistral-v3": ([1], []),  # <s>: mistral-common's encode(text, bos=True, eos=False), as prompts start
    "mistral-tekken": ([1], []),
    "bert-uncased": ([101], [102]),  # [CLS] ... [SEP]
    "utf8-bytes": ([], [1]),  # ByT5 appends </s>
}
@pytest.mark.parametrize("tid", list(ADDED))
def test_add_special_tokens(tid: str) -> None:
    tok = get_tokenizer(tid)
    text = "hi ሰላም"
    before, after = ADDED[tid]
    plain, full = tok.encode(text), tok.encode(text, add_special_tokens=True)
    assert full.ids == before + plain.ids + after
    n = len(text)
    assert spans(full) == [(0, 0)] * len(before) + spans(plain) + [(n, n)] * len(after)
    assert full.kinds == [X] * len(before) + plain.kinds + [X] * len(after)
    assert tok.count(text) == plain.count  # the counting policy never adds them


def test_utf8_bytes_ids_are_byte_plus_3() -> None:
    tok = get_tokenizer("utf8-bytes")
    enc = tok.encode("hé ሰ")  # 68 | C3 A9 | 20 | E1 88 B0
    assert enc.ids == [0x68 + 3, 0xC3 + 3, 0xA9 + 3, 0x20 + 3, 0xE1 + 3, 0x88 + 3, 0xB0 + 3]
    assert enc.ids == [107, 198, 172, 35, 228, 139, 179]
    assert [tok.piece(i) for i in enc.ids] == ["<0x68>", "<0xC3>", "<0xA9>", "<0x20>", "<0xE1>", "<0x88>", "<0xB0>"]
    assert spans(enc) == [(0, 1), (1, 2), (1, 2), (2, 3), (3, 4), (3, 4), (3, 4)]
    assert enc.kinds == [N, S, S, N, S, S, S]
    assert tok.decode(enc.ids) == "hé ሰ"


def test_codepoint_ids_are_code_points() -> None:
    tok = get_tokenizer("codepoints")
    assert tok.encode(AM).ids == [0x1230, 0x120B, 0x121D]
    enc = tok.encode(FAMILY)
    assert enc.ids == [0x1F469, 0x200D, 0x1F469, 0x200D, 0x1F467]
    assert spans(enc) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    assert tok.decode(enc.ids) == FAMILY


def test_words_are_whitespace_runs() -> None:
    tok = get_tokenizer("words")
    text = "hello  wide\tworld\n你好世界"
    enc = tok.encode(text)
    assert enc.ids == [zlib.crc32(w.encode()) for w in ("hello", "wide", "world", "你好世界")]
    assert spans(enc) == [(0, 5), (7, 11), (12, 17), (18, 22)]
    assert tok.count(text) == 4
