"""The public backend interface: ``ids_batch`` and its kin, the token classes, and one descriptor per backend.

Every value asserted here was worked out by hand from the vocabularies (ids of byte pieces are 3 + the byte in
Llama 2 and Mistral's SentencePiece layout: <unk>, <s>, </s>, then <0x00> ... <0xFF>).
"""

from __future__ import annotations

import ast
from importlib import metadata
from pathlib import Path
from typing import get_args

import numpy as np
import pytest

from analysis.assets import require_asset
from analysis.catalogue import Backend as CatalogueBackend
from analysis.catalogue import load_catalogue
from analysis.errors import AssetError, InputTextError, UnknownTokenizerError
from analysis.tokenizers import get_tokenizer
from analysis.tokenizers.backends import BACKENDS, backend_for_file, get_backend, library_version
from analysis.tokenizers.base import Tokenizer
from analysis.tokenizers.hf_parts import BYTE_DECODER, byte_level_bytes
from analysis.tokenizers.registry import load_file
from analysis.tokenizers.tables import TokenClass, TokenKind

ROOT = Path(__file__).resolve().parents[1]

#: Text that meets every kind of token somewhere in the catalogue: BERT's [UNK] (Ethiopic), byte fallback (a rare
#: Han character in SentencePiece vocabularies), emoji split over byte-level tokens, special-looking text (plain
#: under the counting policy), a typed U+2581, newlines and runs of spaces (AI21's rules), digits (AI21's numbers),
#: text NFKC changes, and the empty text.
TEXTS = ["All people are free.", "ሰላም ዓለም", "𠜎𠜱 ꧁꧂", "👩\u200d👩\u200d👧 ok", "<|endoftext|> [CLS] <s>",
         "a\u2581b ▁▁", "line one\nline  two\n\n  12345 678", "ﬁ ① Å e\u0301", "", "नमस्ते दुनिया"]


# ------------------------------------------------------------------ ids_batch and its kin


def test_ids_batch_equals_encode_ids_text_by_text(any_tokenizer: Tokenizer) -> None:
    assert any_tokenizer.ids_batch(TEXTS) == [any_tokenizer.encode(t).ids for t in TEXTS]


def test_model_ids_flat_is_model_ids_batch_flattened(any_tokenizer: Tokenizer) -> None:
    if not any_tokenizer.has_vocabulary:
        pytest.skip("the code-point and word baselines have no vocabulary for the checks to encode with")
    per_text = any_tokenizer.model_ids_batch(TEXTS)
    flat, counts = any_tokenizer.model_ids_flat(TEXTS)
    assert flat.dtype == np.int64 and counts.dtype == np.int64
    assert counts.tolist() == [len(x) for x in per_text]
    assert flat.tolist() == [i for x in per_text for i in x]
    empty_flat, empty_counts = any_tokenizer.model_ids_flat([])
    assert empty_flat.tolist() == [] and empty_counts.tolist() == []


def test_model_ids_are_the_counting_ids_but_for_ai21(any_tokenizer: Tokenizer) -> None:
    """Only AI21's backend wraps its model in rules of its own (a dummy-prefix space per line, newline pieces,
    number regrouping); the model's own ids leave them out."""
    model = any_tokenizer.model_ids_batch(TEXTS)
    if any_tokenizer.backend == "ai21":
        assert model == [any_tokenizer.sp.encode(t) for t in TEXTS]
        assert model != any_tokenizer.ids_batch(TEXTS)
    else:
        assert model == any_tokenizer.ids_batch(TEXTS)


def test_token_totals_equal_the_unit_stats_sums(any_tokenizer: Tokenizer) -> None:
    stats = any_tokenizer.unit_stats(TEXTS, [None] * len(TEXTS))
    assert any_tokenizer.token_totals(TEXTS) == (sum(stats.n_tokens), sum(stats.n_unk), sum(stats.n_byte_fallback))


def test_ids_batch_by_hand() -> None:
    assert get_tokenizer("utf8-bytes").ids_batch(["hi", "é", ""]) == [[107, 108], [198, 172], []]  # byte + 3
    assert get_tokenizer("codepoints").ids_batch(["hé"]) == [[0x68, 0xE9]]
    assert get_tokenizer("o200k_base").ids_batch(["hello world", "<|endoftext|>"])[0] == [24912, 2375]
    # Special-looking text is plain text: never the control token 199999.
    assert 199999 not in get_tokenizer("o200k_base").ids_batch(["<|endoftext|>"])[0]
    # Tekken's ids are its tiktoken core's ranks shifted past its 1,000 control ids.
    tekken = get_tokenizer("mistral-tekken")
    ids = tekken.ids_batch(["hello world"])[0]
    assert [tekken.piece(i) for i in ids] == ["hello", " world"] and min(ids) >= 1000


def test_ids_batch_refuses_bad_input_clearly() -> None:
    tok = get_tokenizer("o200k_base")
    with pytest.raises(InputTextError, match="ids_batch takes a list of texts, not one text"):
        tok.ids_batch("hello")
    with pytest.raises(InputTextError, match=r"Text #1 of the batch \(counting from 0\).*U\+D800"):
        tok.ids_batch(["fine", "bad \ud800"])
    with pytest.raises(InputTextError, match=r"Text #0 .*Expected text \(str\), got bytes"):
        tok.model_ids_batch([b"bytes"])  # type: ignore[list-item]


# ------------------------------------------------------------------ token classes


def test_token_class_codes_follow_token_kind() -> None:
    assert [int(c) for c in TokenClass] == [0, 1, 2, 3, 4]
    assert [c.kind for c in TokenClass] == list(TokenKind)
    assert TokenClass.BYTE_FALLBACK.kind is TokenKind.BYTE_FALLBACK


@pytest.mark.parametrize("tid", ["llama2", "mistral-v1", "mistral-v1-hf"])
def test_byte_fallback_piece_e2(tid: str) -> None:
    tok = get_tokenizer(tid)
    classes = tok.token_classes()
    assert tok.piece(229) == "<0xE2>" and classes[229] == TokenClass.BYTE_FALLBACK  # 3 + 0xE2
    assert tok.piece(3) == "<0x00>" and tok.piece(258) == "<0xFF>"
    assert classes[0] == TokenClass.UNKNOWN and classes[1] == TokenClass.SPECIAL and classes[2] == TokenClass.SPECIAL
    assert int(np.count_nonzero(classes == TokenClass.BYTE_FALLBACK)) == 256
    # "⸎" is U+2E0E, UTF-8 E2 B8 8E; none of these vocabularies has it whole, so it falls back to its three bytes.
    ids = tok.ids_batch(["⸎"])[0]
    assert ids[-3:] == [229, 3 + 0xB8, 3 + 0x8E]
    assert [TokenClass(c).kind for c in classes[ids[-3:]]] == [TokenKind.BYTE_FALLBACK] * 3


def test_bert_unknown_and_specials() -> None:
    tok = get_tokenizer("bert-uncased")
    classes = tok.token_classes()
    assert tok.piece(100) == "[UNK]" and classes[100] == TokenClass.UNKNOWN  # also a special token: unknown wins
    assert tok.piece(101) == "[CLS]" and classes[101] == TokenClass.SPECIAL
    assert tok.piece(0) == "[PAD]" and classes[0] == TokenClass.SPECIAL
    assert tok.piece(1996) == "the" and classes[1996] == TokenClass.NORMAL
    assert tok.ids_batch(["ሰላም"]) == [[100]]  # Ethiopic: not in BERT's vocabulary
    assert tok.token_totals(["ሰላም", "the ሰላም"]) == (3, 2, 0)


def test_tiktoken_classes() -> None:
    tok = get_tokenizer("o200k_base")
    classes = tok.token_classes()
    assert classes[199999] == TokenClass.SPECIAL and tok.piece(199999) == "<|endoftext|>"
    assert classes[24912] == TokenClass.NORMAL
    assert int(np.count_nonzero(classes == TokenClass.BYTE_FALLBACK)) == 0


def test_no_vocabulary_for_word_hashes_and_code_points() -> None:
    assert get_tokenizer("words").token_classes() is None
    assert get_tokenizer("words").has_vocabulary is False
    assert get_tokenizer("codepoints").has_vocabulary is False
    assert get_tokenizer("utf8-bytes").has_vocabulary is True
    assert get_tokenizer("utf8-bytes").token_classes().tolist()[:4] == [1, 1, 2, 0]  # <pad>, </s>, <unk>, 0x00


def test_normalizers_and_continuation_prefixes() -> None:
    bert = get_tokenizer("bert-uncased")
    assert bert.continuation_prefix() == "##"
    assert bert.normalizer()("Héllo") == "hello"  # lower-cased, accent stripped
    assert get_tokenizer("llama3").continuation_prefix() is None
    assert get_tokenizer("llama3").normalizer() is None  # byte-level: no normalizer
    assert get_tokenizer("mistral-v1").normalizer()("a b") == "▁a▁b"  # SentencePiece's own: escapes spaces
    assert get_tokenizer("mistral-tekken").normalizer() is None
    assert get_tokenizer("o200k_base").normalizer() is None


def test_byte_level_pieces() -> None:
    assert BYTE_DECODER["Ġ"] == 0x20 and BYTE_DECODER["!"] == 0x21 and len(BYTE_DECODER) == 256
    assert byte_level_bytes("Ġthe") == b" the"
    assert byte_level_bytes("à¤") == b"\xe0\xa4"
    assert byte_level_bytes("▁the") is None and byte_level_bytes("") == b""


# ------------------------------------------------------------------ descriptors


def test_one_descriptor_per_catalogue_backend() -> None:
    assert list(BACKENDS) == list(get_args(CatalogueBackend))
    assert {e.backend for e in load_catalogue().entries.values()} <= set(BACKENDS)
    # The store's start order and per-byte rates, as analysis/store has them today.
    assert {b.name: b.cost for b in BACKENDS.values()} == {"tiktoken": 2, "hf": 0, "mistral": 1, "sentencepiece": 1,
                                                           "ai21": 0, "baseline": 3}
    assert {b.name: b.rate for b in BACKENDS.values()} == {"tiktoken": 1.0, "hf": 1.6, "mistral": 1.2,
                                                           "sentencepiece": 1.3, "ai21": 1.6, "baseline": 0.3}


def test_library_versions() -> None:
    assert library_version("hf") == f"tokenizers {metadata.version('tokenizers')}"
    assert library_version("tiktoken") == f"tiktoken {metadata.version('tiktoken')}"
    assert library_version("mistral") == f"mistral-common {metadata.version('mistral-common')}"
    assert library_version("ai21") == library_version("sentencepiece") == f"sentencepiece {metadata.version('sentencepiece')}"
    assert library_version("baseline") == "built in"


def test_unknown_backend_is_refused_with_the_names() -> None:
    with pytest.raises(UnknownTokenizerError, match="No tokenizer backend named 'nope'; known: tiktoken, hf, mistral"):
        get_backend("nope")


@pytest.mark.parametrize(("name", "backend"), [
    ("tokenizer.json", "hf"), ("o200k_base.tiktoken", "tiktoken"), ("j2-tokenizer.model", "sentencepiece"),
    ("tokenizer.model.v1", "sentencepiece"), ("notes.txt", None), ("tokenizer.json.bak", None), ("x.tiktoken.gz", None),
])
def test_file_names_tell_the_backend(name: str, backend: str | None) -> None:
    found = backend_for_file(name)
    assert (found.name if found else None) == backend


def _cached(path: str) -> Path:
    return require_asset(load_catalogue().files[path])


@pytest.mark.parametrize(("asset", "backend", "pieces"), [
    # o200k's ranks with cl100k's split pattern (the default base encoding): "hello world" is two ranks.
    ("openai/o200k_base.tiktoken", "tiktoken", ["hello", " world"]),
    ("meta/llama2/tokenizer.json", "hf", ["▁hello", "▁world"]),
    ("ai21/j2-tokenizer/j2-tokenizer.model", "sentencepiece", ["hello", "▁world"]),  # no dummy prefix of its own
    ("mistral/tokenizer.model.v1", "sentencepiece", ["▁hell", "o", "▁world"]),  # Mistral has no "▁hello" piece
])
def test_every_file_backend_loads_a_real_file(asset: str, backend: str, pieces: list[str]) -> None:
    src = _cached(asset)
    descriptor = backend_for_file(src.name)
    assert descriptor is not None and descriptor.name == backend
    tok = load_file(src)
    assert tok.backend == backend and tok.id == f"file:{src}" and tok.name == src.name
    ids = tok.ids_batch(["hello world"])[0]
    assert [tok.piece(i) for i in ids] == pieces
    assert tok.decode(ids).strip() == "hello world"
    assert tok.vocab_size == len(tok.token_classes())


def test_file_backends_are_all_tested() -> None:
    readers = {b.name for b in BACKENDS.values() if b.load_file is not None}
    assert readers == {"tiktoken", "hf", "sentencepiece"}


def test_a_file_of_no_known_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vocab.txt"
    path.write_text("a\nb\n")
    with pytest.raises(AssetError, match=r"Cannot tell the format of .*vocab\.txt: expected a name ending in \.json"):
        load_file(path)


@pytest.mark.parametrize("tid", ["o200k_base", "llama3", "mistral-v1", "mistral-tekken", "jurassic2", "utf8-bytes"])
def test_every_backend_loads_its_catalogue_entry(tid: str) -> None:
    entry = load_catalogue().tokenizer(tid)
    files = {role: require_asset(f) for role, f in entry.files.items()}
    tok = get_backend(entry.backend).load_entry(entry, files)
    assert tok.backend == entry.backend and tok.id == tid
    assert tok.ids_batch(["hello world"]) == get_tokenizer(tid).ids_batch(["hello world"])


def test_the_catalogue_describes_a_local_file_by_its_backend() -> None:
    catalogue = load_catalogue()
    assert catalogue.describe(f"file:{_cached('meta/llama2/tokenizer.json')}").backend == "hf"
    assert catalogue.describe(f"file:{_cached('openai/r50k_base.tiktoken')}").backend == "tiktoken"
    assert catalogue.describe(f"file:{_cached('mistral/tokenizer.model.v1')}").backend == "sentencepiece"


# ------------------------------------------------------------------ the layering of this area


AREA = ("analysis.tokenizers", "analysis.catalogue", "analysis.assets", "analysis.checksums",
        "analysis.user_tokenizers", "analysis.user_tokenizer_store", "analysis.corpus", "analysis.glitch.checks",
        "analysis.lab.compare", "analysis.lab.steps")


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for p in (ROOT / "analysis").rglob("*.py"):
        parts = list(p.relative_to(ROOT).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_pkg else parts)] = (p, is_pkg)
    return found


def _imports(modules: dict[str, tuple[Path, bool]]) -> dict[str, list[tuple[str, list[str]]]]:
    """Per module: every (imported module, names) it imports, at any depth (inside functions and TYPE_CHECKING too)."""
    out: dict[str, list[tuple[str, list[str]]]] = {}
    for name, (path, is_pkg) in modules.items():
        here = name.split(".") if is_pkg else name.split(".")[:-1]
        found = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(a.name, []) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = here[:len(here) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                found.append((target, [a.name for a in node.names]))
                found += [(f"{target}.{a.name}", []) for a in node.names if f"{target}.{a.name}" in modules]
        out[name] = found
    return out


def _in_area(module: str) -> bool:
    return any(module == a or module.startswith(a + ".") for a in AREA)


def test_no_import_cycle_through_this_area() -> None:
    modules = _modules()
    edges = {m: {t for t, _ in imps if t in modules and t != m} for m, imps in _imports(modules).items()}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            m = todo.pop()
            for t in edges[m]:
                if t == goal:
                    return True
                if t not in seen:
                    seen.add(t)
                    todo.append(t)
        return False

    cycles = sorted(f"{m} -> {t}" for m in modules if _in_area(m) for t in edges[m] if reaches(t, m))
    assert cycles == []


def test_no_private_name_imported_across_modules_in_this_area() -> None:
    modules = _modules()
    bad = sorted(f"{m}: from {t} import {n}" for m, imps in _imports(modules).items() if _in_area(m)
                 for t, names in imps if t.startswith("analysis") and t != m
                 for n in names if n.startswith("_") and not n.startswith("__"))
    assert bad == []
