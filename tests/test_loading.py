"""Loading tokenizers that are not in the catalogue: local files and Hugging Face repos (offline).

Every vocabulary here is built by the test itself: a byte-level BPE trained with HF ``tokenizers``,
a ``.tiktoken`` file written by hand, a SentencePiece model trained in memory. The hub tests build a
local hub cache in the exact layout ``huggingface_hub`` uses (``models--ORG--NAME/{refs,blobs,snapshots}``)
and run with ``HF_HUB_OFFLINE=1``: the real ``hf_hub_download`` resolves every file, nothing is faked.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analysis import AssetError, TokenKind, UnknownTokenizerError
from analysis.config import ROOT
from analysis.tokenizers import clear_cache, get_tokenizer, load_file, load_hub

CORPUS_V1 = ["hello world", "hello there", "hello hello world", "say hello to the world"] * 10
CORPUS_V2 = ["goodbye moon", "goodbye sun", "say goodbye to the moon"] * 10
SP_CORPUS = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog", "hello world hello there"] * 5


@pytest.fixture(autouse=True)
def fresh_registry():
    """Loaded-tokenizer cache emptied around each test (tests reuse specs with different files)."""
    clear_cache()
    yield
    clear_cache()


@pytest.fixture(autouse=True)
def no_tiktoken_file_cache(monkeypatch):
    """Keep tiktoken from copying the test's files into its cache in /tmp."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")  # "" = read files directly, cache nothing


# ----------------------------------------------------------------------------- builders


def train_bpe(path: Path, corpus: list[str]) -> dict[str, int]:
    """Train a tiny byte-level BPE (256 byte symbols + a few merges), save it, return the saved vocab."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=280, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=["<|endoftext|>"], show_progress=False)
    tok.train_from_iterator(corpus, trainer)
    path.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(path))
    return json.loads(path.read_text(encoding="utf-8"))["model"]["vocab"]


def train_sentencepiece() -> bytes:
    """A tiny SentencePiece BPE model with byte fallback, trained in memory."""
    import sentencepiece as spm

    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(SP_CORPUS), model_writer=buf, vocab_size=280,
                                   hard_vocab_limit=False, byte_fallback=True, model_type="bpe", minloglevel=2)
    return buf.getvalue()


def write_tiktoken(path: Path, merges: list[bytes]) -> None:
    """Ranks 0..255 are the single bytes (rank == byte value); merges follow from 256 in order."""
    lines = [f"{base64.b64encode(bytes([b])).decode()} {b}" for b in range(256)]
    lines += [f"{base64.b64encode(m).decode()} {256 + i}" for i, m in enumerate(merges)]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")


def spans(enc) -> list[tuple[int, int]]:
    return list(zip(enc.starts, enc.ends, strict=True))


# ----------------------------------------------------------------------------- local tokenizer.json


def test_local_tokenizer_json(tmp_path):
    path = tmp_path / "tokenizer.json"
    vocab = train_bpe(path, CORPUS_V1)
    # The training text makes whole-word pieces; the ids below are read from the saved vocab.
    assert {"hello", "Ġworld", "Ã", "©"} <= set(vocab)
    assert "Ã©" not in vocab  # é never occurs in training, so its two bytes stay apart

    tok = get_tokenizer(f"file:{path}")
    assert (tok.id, tok.backend, tok.name, tok.vocab_size) == (f"file:{path}", "hf", "tokenizer.json", len(vocab))
    assert get_tokenizer(f"file:{path}") is tok  # loaded once, shared

    enc = tok.encode("hello world")
    assert enc.ids == [vocab["hello"], vocab["Ġworld"]]
    assert spans(enc) == [(0, 5), (5, 11)]
    assert enc.token_bytes == [b"hello", b" world"]
    assert enc.kinds == [TokenKind.NORMAL, TokenKind.NORMAL]
    assert [t.piece for t in enc.tokens] == ["hello", "Ġworld"]

    # é is bytes C3 A9, which byte-level BPE writes as the stand-ins "Ã" and "©": two tokens sharing é.
    enc = tok.encode("helloé")
    assert enc.ids == [vocab["hello"], vocab["Ã"], vocab["©"]]
    assert spans(enc) == [(0, 5), (5, 6), (5, 6)]
    assert enc.token_bytes == [b"hello", b"\xc3", b"\xa9"]
    assert enc.kinds == [TokenKind.NORMAL, TokenKind.SPLIT, TokenKind.SPLIT]
    assert tok.decode(enc.ids) == "helloé"

    # Typed special-token text is plain text unless asked for.
    assert TokenKind.SPECIAL not in tok.encode("<|endoftext|>").kinds
    special = tok.encode("<|endoftext|>", allow_special=True)
    assert (special.ids, special.kinds) == ([vocab["<|endoftext|>"]], [TokenKind.SPECIAL])


# ----------------------------------------------------------------------------- local .tiktoken


def test_local_tiktoken_file(tmp_path):
    path = tmp_path / "tiny.tiktoken"
    write_tiktoken(path, [b"he", b"ll", b"hell"])  # ranks 256, 257, 258
    tok = load_file(path)
    assert (tok.backend, tok.id, tok.name, tok.vocab_size) == ("tiktoken", f"file:{path}", "tiny.tiktoken", 259)
    # cl100k's pattern splits "hello hello" into "hello", " hello". BPE merges the lowest rank first:
    # h e l l o -> he l l o (256) -> he ll o (257) -> hell o (258); " hello" -> " " hell o.
    enc = tok.encode("hello hello")
    assert enc.ids == [258, ord("o"), ord(" "), 258, ord("o")]
    assert spans(enc) == [(0, 4), (4, 5), (5, 6), (6, 10), (10, 11)]
    assert enc.token_bytes == [b"hell", b"o", b" ", b"hell", b"o"]
    # é (C3 A9) has no merge: two single-byte tokens that split one character.
    enc = tok.encode("é")
    assert (enc.ids, spans(enc), enc.kinds) == ([0xC3, 0xA9], [(0, 1), (0, 1)], [TokenKind.SPLIT, TokenKind.SPLIT])
    # Through the registry as well.
    assert get_tokenizer(f"file:{path}").encode("hello").ids == [258, ord("o")]


def test_a_changed_local_tiktoken_file_is_reloaded(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "tiktoken-cache"))  # tiktoken's default behaviour
    path = tmp_path / "tiny.tiktoken"
    write_tiktoken(path, [b"he", b"ll", b"hell"])
    assert load_file(path).encode("hello").ids == [258, ord("o")]
    write_tiktoken(path, [b"lo"])  # now only "lo" (256) is merged: h e l lo
    tok = load_file(path)
    assert tok.vocab_size == 257
    assert tok.encode("hello").ids == [ord("h"), ord("e"), ord("l"), 256]


# ----------------------------------------------------------------------------- local SentencePiece .model


def test_local_sentencepiece_model_with_byte_fallback(tmp_path):
    import sentencepiece as spm

    path = tmp_path / "tiny.model"
    path.write_bytes(train_sentencepiece())
    sp = spm.SentencePieceProcessor(model_file=str(path))
    tok = get_tokenizer(f"file:{path}")
    assert (tok.backend, tok.vocab_size) == ("sentencepiece", sp.get_piece_size())

    # "€" (E2 82 AC) never occurs in training: it falls back to its three bytes. With byte_fallback the
    # trainer puts <unk> <s> </s> at 0-2 and <0x00>..<0xFF> at 3-258, so byte b has id 3 + b.
    enc = tok.encode("cat€")
    assert enc.ids == sp.encode("cat€")  # the interface's ids are the backend's own
    tail = enc.tokens[-3:]
    assert [t.id for t in tail] == [3 + 0xE2, 3 + 0x82, 3 + 0xAC]
    assert [t.piece for t in tail] == ["<0xE2>", "<0x82>", "<0xAC>"]
    assert [t.bytes for t in tail] == [b"\xe2", b"\x82", b"\xac"]
    assert [(t.start, t.end) for t in tail] == [(3, 4)] * 3  # all three share the one character
    assert [t.kind for t in tail] == [TokenKind.BYTE_FALLBACK] * 3
    assert enc.kind_counts()["byte_fallback"] == 3
    assert all(k is TokenKind.NORMAL for k in enc.kinds[:-3])  # ▁, c, at: seen in training
    assert enc.ends[-4] == 3  # the pieces before € cover "cat" and stop there
    assert tok.decode(enc.ids) == "cat€"


# ----------------------------------------------------------------------------- bad local files


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("vocab.txt", b"hello\n", r"Cannot tell the format of .*vocab\.txt: expected a name ending in \.json, "
                                  r"\.tiktoken or \.model"),
        ("tokenizer.json", b'{"version": "1.0", "model": ', r"tokenizer\.json is not a loadable tokenizer\.json"),
        ("tokenizer.json", b"\x00\xff\xfe garbage", r"tokenizer\.json is not a loadable tokenizer\.json"),
        ("bad.tiktoken", b"hello 1\n", r"bad\.tiktoken is not a valid \.tiktoken file \(lines of '<base64> <rank>'\)"),
        ("bad.tiktoken", b"YQ== 0 extra\n", r"bad\.tiktoken is not a valid \.tiktoken file"),
        ("bad.model", b"garbage\x00\xff" * 10, r"bad\.model is not a loadable SentencePiece model"),
    ],
    ids=["unknown-extension", "truncated-json", "binary-json", "tiktoken-not-base64", "tiktoken-extra-field",
         "model-garbage"],
)
def test_bad_local_files_are_asset_errors_naming_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(AssetError, match=message) as err:
        get_tokenizer(f"file:{path}")
    assert str(path) in str(err.value)


@pytest.mark.parametrize("name", ["missing.json", "missing.tiktoken", "missing.model", "."])
def test_a_missing_file_is_an_asset_error(tmp_path, name):
    path = tmp_path / name
    with pytest.raises(AssetError, match=r"No such file: .* Give the path of a tokenizer\.json, \.tiktoken or "
                                         r"SentencePiece \.model file\."):
        get_tokenizer(f"file:{path}")


def test_an_empty_tiktoken_file_is_an_asset_error(tmp_path):
    path = tmp_path / "empty.tiktoken"
    path.write_bytes(b"")
    with pytest.raises(AssetError, match=r"empty\.tiktoken"):
        load_file(path)


def test_a_tiktoken_file_without_every_byte_is_an_asset_error(tmp_path):
    path = tmp_path / "partial.tiktoken"
    path.write_bytes(b"YQ== 0\nYg== 1\n")  # only "a" and "b"
    with pytest.raises(AssetError, match=r"partial\.tiktoken"):
        load_file(path).encode("abz")


# ----------------------------------------------------------------------------- offline hub


COMMIT_V1 = "1" * 40
COMMIT_V2 = "2" * 40
COMMIT_SP = "3" * 40


def put_repo(hub: Path, repo: str, commit: str, files: dict[str, bytes], refs: tuple[str, ...] = ("main",)) -> None:
    """Add one commit of a model repo to a hub cache, as huggingface_hub lays it out.

    models--ORG--NAME/blobs/<sha256>, snapshots/<commit>/<file> -> ../../blobs/<sha256>, refs/<ref> = commit.
    """
    root = hub / ("models--" + repo.replace("/", "--"))
    (root / "blobs").mkdir(parents=True, exist_ok=True)
    (root / "refs").mkdir(exist_ok=True)
    snapshot = root / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        blob = hashlib.sha256(data).hexdigest()
        (root / "blobs" / blob).write_bytes(data)
        (snapshot / name).symlink_to(Path("..") / ".." / "blobs" / blob)
    for ref in refs:
        (root / "refs" / ref).write_text(commit)


@pytest.fixture
def hub(tmp_path, monkeypatch) -> Path:
    """An offline hub cache with three repos.

    org/bpe: commit 1 (tag v1) holds a BPE where "hello" is one token; main = commit 2, a BPE trained
    without "hello". org/sp: only tokenizer.model (SentencePiece), at main.
    """
    home = tmp_path / "hf"
    cache = home / "hub"
    v1 = tmp_path / "v1" / "tokenizer.json"
    v2 = tmp_path / "v2" / "tokenizer.json"
    train_bpe(v1, CORPUS_V1)
    train_bpe(v2, CORPUS_V2)
    put_repo(cache, "org/bpe", COMMIT_V1, {"tokenizer.json": v1.read_bytes()}, refs=("v1",))
    put_repo(cache, "org/bpe", COMMIT_V2, {"tokenizer.json": v2.read_bytes()}, refs=("main",))
    put_repo(cache, "org/sp", COMMIT_SP, {"tokenizer.model": train_sentencepiece()})

    import huggingface_hub.constants as hf_constants

    # huggingface_hub reads these once, at import; the env is set too for anything that reads it later.
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(hf_constants, "HF_HOME", str(home))
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    return cache


def test_hub_repo_loads_tokenizer_json_at_main(hub):
    tok = get_tokenizer("hf:org/bpe")
    assert (tok.id, tok.backend) == ("hf:org/bpe", "hf")
    # main is commit 2, trained on "goodbye ..." text: "goodbye" is one token, "hello" is not in its vocab.
    assert tok.encode("goodbye").ids == [tok.hf.token_to_id("goodbye")]
    assert tok.hf.token_to_id("hello") is None
    assert tok.encode("hello").count > 1


def test_hub_revision_pins_a_commit_or_a_tag(hub):
    by_commit = get_tokenizer(f"hf:org/bpe@{COMMIT_V1}")
    by_tag = get_tokenizer("hf:org/bpe@v1")
    assert by_commit.id == f"hf:org/bpe@{COMMIT_V1}"
    for tok in (by_commit, by_tag):
        assert tok.encode("hello").ids == [tok.hf.token_to_id("hello")]  # commit 1 has "hello" whole
        assert tok.hf.token_to_id("goodbye") is None
    assert load_hub("org/bpe", revision=COMMIT_V2).encode("goodbye").count == 1


def test_hub_repo_with_only_a_sentencepiece_model(hub):
    tok = get_tokenizer("hf:org/sp")
    assert (tok.id, tok.backend) == ("hf:org/sp", "sentencepiece")
    enc = tok.encode("cat€")
    assert [t.piece for t in enc.tokens[-3:]] == ["<0xE2>", "<0x82>", "<0xAC>"]
    assert enc.kinds[-3:] == [TokenKind.BYTE_FALLBACK] * 3


@pytest.mark.parametrize(
    ("spec", "named"),
    [("hf:org/missing", "'org/missing'"), (f"hf:org/bpe@{'c' * 40}", f"'org/bpe' at {'c' * 40}"),
     ("hf:org/bpe@no-such-tag", "'org/bpe' at no-such-tag")],
    ids=["repo-not-cached", "commit-not-cached", "tag-not-cached"],
)
def test_hub_repo_not_in_the_offline_cache_is_an_asset_error(hub, spec, named):
    with pytest.raises(AssetError) as err:
        get_tokenizer(spec)
    msg = str(err.value)
    assert msg.startswith(named)
    assert "tokenizer.json" in msg and "tokenizer.model" in msg and "local hub cache" in msg


@pytest.mark.parametrize("spec", ["hf:", "hf:bpe", "hf:@main"])
def test_malformed_hub_spec(spec):
    with pytest.raises(UnknownTokenizerError, match=r"looks like 'hf:ORG/NAME' or 'hf:ORG/NAME@REVISION'"):
        get_tokenizer(spec)


def test_hf_token_is_passed_and_remote_code_never_is(hub, monkeypatch):
    """The one spy in this file: it records the arguments and calls the real hf_hub_download."""
    import huggingface_hub

    real = huggingface_hub.hf_hub_download
    calls: list[tuple[tuple, dict]] = []

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", spy)
    monkeypatch.setenv("HF_TOKEN", "hf_gated_test_token")
    assert get_tokenizer(f"hf:org/sp@{COMMIT_SP}").backend == "sentencepiece"
    assert [(a, k) for a, k in calls] == [
        (("org/sp", "tokenizer.json"), {"revision": COMMIT_SP, "token": "hf_gated_test_token"}),
        (("org/sp", "tokenizer.model"), {"revision": COMMIT_SP, "token": "hf_gated_test_token"}),
    ]
    calls.clear()
    monkeypatch.delenv("HF_TOKEN")
    load_hub("org/bpe")
    assert calls == [(("org/bpe", "tokenizer.json"), {"revision": None, "token": None})]


def test_no_code_in_the_project_passes_trust_remote_code():
    offenders = []
    for folder in ("analysis", "app"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.keyword) and node.arg == "trust_remote_code":
                    offenders.append(f"{path.relative_to(ROOT)}:{node.value.lineno}")
    assert offenders == []


def test_hub_settings_from_the_environment_alone(hub):
    """A fresh interpreter configured only by HF_HOME / HF_HUB_CACHE / HF_HUB_OFFLINE, as a user would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE"))}
    env.update(HF_HOME=str(hub.parent), HF_HUB_CACHE=str(hub), HF_HUB_OFFLINE="1", TIKTOKEN_CACHE_DIR="")
    code = (
        "import json; from analysis.tokenizers import get_tokenizer;"
        "print(json.dumps([get_tokenizer(s).encode('goodbye').count for s in "
        f"('hf:org/bpe', 'hf:org/bpe@v1', 'hf:org/sp@{COMMIT_SP}')]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    v1_count = load_hub("org/bpe", revision="v1").encode("goodbye").count
    sp_count = load_hub("org/sp").encode("goodbye").count
    assert json.loads(out.stdout) == [1, v1_count, sp_count]
