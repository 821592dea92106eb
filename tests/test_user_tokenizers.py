"""Tokenizers a visitor adds (analysis.user_tokenizers) and their background premiums (analysis.user_counts): every
malformed format refused with its exact message, caps, custom split patterns, storage by content, a hub id against an
offline hub cache laid out here, and premiums equal to a CLI build's for the same file."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analysis.assets import asset_path
from analysis.catalogue import load_catalogue
from analysis.tokenizers.registry import get_tokenizer, load_file
from analysis.user_counts import CountingPool, premiums
from analysis.user_tokenizers import (
    UserTokenizerError,
    add_hub,
    add_upload,
    check_pattern,
    find,
    is_yours,
    kept_root,
    pattern_for,
    resolve,
)

ROOT = Path(__file__).resolve().parent.parent
TEXT = "Every human being is born free. सभी मनुष्य जन्म से स्वतंत्र हैं। 人人生而自由。"


@pytest.fixture(autouse=True)
def own_temp_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """The temporary folder a process makes for tokenizers it does not keep is recorded in os.environ (for its
    workers); restore the environment after each test, so that later tests and the servers they start make their own."""
    monkeypatch.delenv("ATLAS_USER_TOKENIZERS_TMP", raising=False)


def cached(rel: str) -> Path:
    return asset_path(load_catalogue().files[rel])


@pytest.fixture
def kept_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A server that keeps added tokenizers (ATLAS_IMPORT=1), in a folder of this test."""
    folder = tmp_path / "yours"
    monkeypatch.setenv("ATLAS_IMPORT", "1")
    monkeypatch.setenv("ATLAS_USER_TOKENIZERS", str(folder))
    return folder


def message(name: str, data: bytes, **kw) -> str:
    with pytest.raises(UserTokenizerError) as e:
        add_upload(name, data, **kw)
    return e.value.message


# ------------------------------------------------------------------ malformed files, one message each


def test_malformed_tokenizer_json(kept_here: Path) -> None:
    assert message("t.json", b'{"model": {"vocab": {}') == (
        "t.json is not valid JSON: Expecting ',' delimiter at line 1, column 23. Upload the complete tokenizer.json "
        "(as the tokenizers library saves it).")
    assert message("tokenizer_config.json", b'{"model_max_length": 512}') == (
        'tokenizer_config.json is JSON but not a tokenizer.json: it has no "model" object with a "vocab" (a '
        "tokenizer_config.json or config.json describes a tokenizer but is not one). Upload the tokenizer.json file.")
    assert message("t.json", b"\xff\xfe{}") == (
        "t.json is not UTF-8 text (byte 0 is 0xff), so it is not a tokenizer.json. Upload the tokenizer.json file "
        "itself.")
    # Well-formed JSON that the tokenizers library itself refuses: its parser's reason, named for the upload.
    assert message("t.json", b'{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}') == (
        "t.json cannot be loaded by its library: Token `b` out of vocabulary at line 1 column 64. Check that the file "
        "is complete and is the format its name says.")
    assert list(kept_here.iterdir()) == []  # nothing stored, no staging folder left behind


def test_malformed_tiktoken(kept_here: Path) -> None:
    good = b"".join(base64.b64encode(bytes([b])) + b" %d\n" % b for b in range(256))
    assert message("r.tiktoken", good + b"not-base64! 256\n", pattern=r"\s+|\S+") == (
        "r.tiktoken is not a .tiktoken file: line 257 is 'not-base64! 256', not '<base64 token> <rank>'. Upload the "
        "ranks file as tiktoken writes it.")
    assert message("r.tiktoken", good.replace(b"AA== 0\n", b""), pattern=r"\s+|\S+") == (
        "r.tiktoken has no rank for 1 of the 256 single bytes (e.g. 0x00); a byte-level BPE needs all of them to "
        "encode any text. Upload the complete .tiktoken file.")
    assert message("r.tiktoken", good) == (
        "A .tiktoken file holds only ranks: pick its split pattern (cl100k_base, o200k_base, GPT-2, or a custom "
        "regular expression).")


def test_malformed_sentencepiece(kept_here: Path) -> None:
    from sentencepiece import sentencepiece_model_pb2

    assert message("m.model", b"\x0a\xff\xff\xff\xff\xff") == (
        "m.model is not a SentencePiece model: its bytes do not parse as one (a protobuf ModelProto). Upload the "
        ".model file that SentencePiece's trainer wrote.")
    no_pieces = sentencepiece_model_pb2.ModelProto()
    no_pieces.trainer_spec.vocab_size = 8
    assert message("m.model", no_pieces.SerializeToString()) == (
        "m.model is not a SentencePiece model: it holds no pieces (a vocabulary of none). Upload the .model file that "
        "SentencePiece's trainer wrote.")
    assert message("m.model", b"") == "m.model is empty. Upload the complete file."


def test_other_files_and_caps(kept_here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert message("vocab.txt", b"a\nb\n") == (
        "vocab.txt is not a tokenizer file this page reads: upload a tokenizer.json, a SentencePiece .model or a "
        ".tiktoken file (the name must end in .json, .model or .tiktoken).")
    data = cached("minilm/tokenizer.json").read_bytes()
    monkeypatch.setenv("ATLAS_USER_TOKENIZER_MAX_BYTES", "1000")
    assert message("t.json", data) == (
        f"t.json has {len(data):,} bytes, over the limit of 1,000 bytes (ATLAS_USER_TOKENIZER_MAX_BYTES). Make it "
        "smaller, or run Token Atlas on your own server with ATLAS_USER_TOKENIZER_MAX_BYTES set higher (see "
        "docs/deployment.md).")
    monkeypatch.delenv("ATLAS_USER_TOKENIZER_MAX_BYTES")
    monkeypatch.setenv("ATLAS_USER_TOKENIZER_MAX_VOCAB", "30000")
    assert message("t.json", data) == (  # MiniLM's WordPiece: 30,522 entries, 0 added tokens outside them... +5
        "t.json has 30,527 tokens, over the limit of 30,000 tokens in the vocabulary (ATLAS_USER_TOKENIZER_MAX_VOCAB). "
        "Make it smaller, or run Token Atlas on your own server with ATLAS_USER_TOKENIZER_MAX_VOCAB set higher (see "
        "docs/deployment.md).")


# ------------------------------------------------------------------ custom split patterns


@pytest.mark.parametrize(("pattern", "expected"), [
    ("[", "The split pattern is not a valid regular expression: unterminated character set at position 1. Fix it, or "
          "pick one of the listed patterns."),
    (r"(a+)+b|\s+|.", "The split pattern took over 1 s on a 3,001-character text ('aaaaaaaaaaaa'…): it backtracks "
                      "catastrophically (nested repeats such as (a+)+ do). Simplify it, or pick one of the listed "
                      "patterns."),
    (r"\w+", "The split pattern leaves text out: on \"Hello, world! It's 2\"… its matches skip the character ',' at "
             "position 5, and a tokenizer drops what its pattern does not match. Add an alternative that matches "
             "everything else (e.g. end it with |\\s+|.), or pick one of the listed patterns."),
    ("", "The custom split pattern is empty. Type a regular expression, or pick one of the listed patterns."),
], ids=["invalid", "catastrophic", "leaves-text-out", "empty"])
def test_bad_custom_patterns(pattern: str, expected: str) -> None:
    with pytest.raises(UserTokenizerError) as e:
        pattern_for("custom", pattern)
    assert e.value.message == expected and e.value.title == "Bad split pattern"


def test_long_pattern_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_USER_PATTERN_MAX_CHARS", "10")
    with pytest.raises(UserTokenizerError, match=r"^The split pattern has 11 characters, over the limit of 10 "):
        check_pattern(r"\s+|\S+|\w+")


def test_tiktoken_with_a_custom_pattern_counts_like_the_catalogue(kept_here: Path) -> None:
    r50k = get_tokenizer("r50k_base")
    # GPT-2's own pattern typed as a custom one: recognised by name, and the counts are GPT-2's.
    added = add_upload("gpt2.tiktoken", cached("openai/r50k_base.tiktoken").read_bytes(),
                       pattern=pattern_for("custom", r50k.encoding._pat_str))
    assert added.pattern_name == "gpt2 (r50k_base)" and added.vocab_size == 50256
    assert get_tokenizer(added.id).count(TEXT) == r50k.count(TEXT)
    # A plain whitespace pattern: tokens never cross a space, so "born free." cannot be one token as in r50k.
    simple = add_upload("gpt2.tiktoken", cached("openai/r50k_base.tiktoken").read_bytes(),
                        pattern=pattern_for("custom", r"\s+|\S+"))
    assert simple.key != added.key and simple.pattern_name == "custom"
    assert get_tokenizer(simple.id).encode("a b").token_bytes == [b"a", b" ", b"b"]


# ------------------------------------------------------------------ storage by content


def test_stored_by_sha256_atomically_and_reloaded(kept_here: Path) -> None:
    data = cached("mistral/tokenizer.model.v1").read_bytes()
    first = add_upload("llama v1.model", data)
    again = add_upload("llama v1.model", data)
    assert first == again and first.id == f"yours:llama-v1.model:{first.key[:16]}"
    assert first.key == hashlib.sha256(data + b"\0" + b"\0" + b"upload").hexdigest()
    assert first.sha256 == hashlib.sha256(data).hexdigest() and first.vocab_size == 32000
    assert sorted(p.name for p in kept_here.iterdir()) == [first.key]  # one folder, no staging leftovers
    assert sorted(p.name for p in Path(first.folder).iterdir()) == ["meta.json", "tokenizer.model"]
    assert is_yours(first.id) and resolve(first.id) == first and find(first.key[:16]) == first
    assert get_tokenizer(first.id).count(TEXT) == load_file(cached("mistral/tokenizer.model.v1")).count(TEXT)
    with pytest.raises(UserTokenizerError, match="is not a tokenizer this server holds"):
        resolve("yours:other.model:" + "0" * 16)


def test_not_kept_goes_to_a_temporary_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_IMPORT", "0")
    monkeypatch.setenv("ATLAS_USER_TOKENIZERS", str(tmp_path / "kept"))
    added = add_upload("t.json", cached("minilm/tokenizer.json").read_bytes())
    assert not (tmp_path / "kept").exists() and kept_root() == tmp_path / "kept"
    assert Path(added.folder).parent == Path(os.environ["ATLAS_USER_TOKENIZERS_TMP"])


# ------------------------------------------------------------------ a hub id, offline, from a hub cache laid out here


COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept_here: Path) -> Path:
    """The hub cache layout huggingface_hub reads: models--ORG--NAME/refs/main and snapshots/<commit>/<file>."""
    repo = tmp_path / "hub" / "models--atlas-test--minilm"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)
    (repo / "snapshots" / COMMIT).mkdir(parents=True)
    (repo / "snapshots" / COMMIT / "tokenizer.json").write_bytes(cached("minilm/tokenizer.json").read_bytes())
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path / "hub"


def test_hub_id_from_an_offline_cache(hub_cache: Path) -> None:
    data = cached("minilm/tokenizer.json").read_bytes()
    added = add_hub("atlas-test/minilm")
    assert added.origin == f"hf:atlas-test/minilm@{COMMIT}" and added.format == "tokenizer.json"
    assert added.id == f"yours:atlas-test/minilm@0123456:{added.key[:16]}"
    assert added.key == hashlib.sha256(data + b"\0\0" + f"hf:atlas-test/minilm@{COMMIT}".encode()).hexdigest()
    assert get_tokenizer(added.id).count(TEXT) == load_file(cached("minilm/tokenizer.json")).count(TEXT)
    assert add_hub("atlas-test/minilm", revision=COMMIT) == added  # the revision resolves to the same commit


@pytest.mark.parametrize(("repo", "revision", "expected"), [
    ("atlas-test/absent", None,
     "atlas-test/absent cannot be fetched: this server works offline (HF_HUB_OFFLINE=1), and its hub cache holds "
     "neither tokenizer.json nor tokenizer.model of it. Upload the tokenizer file instead, or ask whoever runs the "
     "server to put the repo in its hub cache."),
    ("atlas-test/minilm", "v2",
     "atlas-test/minilm at v2 cannot be fetched: this server works offline (HF_HUB_OFFLINE=1), and its hub cache "
     "holds neither tokenizer.json nor tokenizer.model of it. Upload the tokenizer file instead, or ask whoever runs "
     "the server to put the repo in its hub cache."),
    ("not-a-repo-id", None, "'not-a-repo-id' is not a Hugging Face repo id: write ORG/NAME, e.g. openai-community/gpt2."),
    ("atlas-test/minilm", "../../etc", "'../../etc' is not a revision: give a branch, a tag or a commit hash, or leave "
                                       "it empty for main."),
], ids=["absent-offline", "revision-offline", "bad-id", "bad-revision"])
def test_hub_messages(hub_cache: Path, repo: str, revision: str | None, expected: str) -> None:
    with pytest.raises(UserTokenizerError) as e:
        add_hub(repo, revision=revision)
    assert e.value.message == expected


# ------------------------------------------------------------------ background premiums == a CLI build's


def wait(job, pool: CountingPool, seconds: float = 900) -> None:
    deadline = time.monotonic() + seconds  # a guard against a hang, not a timing assertion
    while job.state in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert job.state == "done", job.error


@pytest.mark.parametrize(("rel", "name", "pattern"), [
    ("minilm/tokenizer.json", "tokenizer.json", None),
    ("openai/cl100k_base.tiktoken", "cl100k.tiktoken", "cl100k_base"),  # a CLI `file:` .tiktoken uses cl100k's pattern
], ids=["tokenizer.json", "tiktoken"])
def test_background_premiums_equal_a_cli_build(app_db: Path, kept_here: Path, tmp_path: Path, rel: str, name: str,
                                               pattern: str | None) -> None:
    added = add_upload(name, cached(rel).read_bytes(), pattern=pattern_for(pattern) if pattern else None)
    pool = CountingPool(workers=1)
    try:
        job = pool.submit(added.id, app_db)
        wait(job, pool)
        assert pool.submit(added.id, app_db) is job  # one job per tokenizer and corpus version
    finally:
        pool.close()
    cli_db = tmp_path / "cli.duckdb"
    subprocess.run([sys.executable, "-m", "analysis", "build", "--db", str(cli_db), "--corpus", "udhr", "--tokenizers",
                    f"file:{added.path}", "--workers", "1", "--no-token-checks"], cwd=ROOT, check=True,
                   capture_output=True)
    ours, cli = duckdb.connect(str(job.out), read_only=True), duckdb.connect(str(cli_db), read_only=True)
    try:
        for sql in ("SELECT lang, unit, n_tokens, n_unk, n_byte_fallback, n_continued FROM counts ORDER BY lang, unit",
                    "SELECT lang, reference, premium, ci_low, ci_high, units, b, seed FROM premium_ci ORDER BY lang",
                    "SELECT * EXCLUDE (tokenizer) FROM lang_stats ORDER BY lang"):
            a, b = ours.execute(sql).fetchall(), cli.execute(sql).fetchall()
            assert len(a) > 500 and a == b  # exact equality, every row
        hindi = ours.execute("SELECT premium FROM premium_ci WHERE lang = 'hin'").fetchone()[0]
        n_hin, n_eng = (ours.execute("SELECT sum(n_tokens) FROM counts c WHERE lang = ? AND unit IN (SELECT unit FROM "
                                     "counts WHERE lang = 'eng')", [lang]).fetchone()[0] for lang in ("hin", "eng"))
        assert hindi == n_hin / n_eng  # a ratio of totals over shared units
    finally:
        ours.close()
        cli.close()
    # Another reference language, computed on read the same way on both sides.
    from analysis.store import read

    mine = premiums(job.out, added.id, reference="hin")
    with duckdb.connect(str(cli_db), read_only=True) as con:
        theirs = read.premiums(con, "udhr", "hin", [f"file:{added.path}"])
    cols = ["lang", "premium", "ci_low", "ci_high", "units", "unk_flag"]
    assert len(mine) > 500
    pd.testing.assert_frame_equal(mine[cols].sort_values("lang").reset_index(drop=True),  # NaN (no CI) equals NaN
                                  theirs[cols].sort_values("lang").reset_index(drop=True), check_exact=True)
    # A new pool (a restarted server) finds the result on disk: done at once, nothing counted.
    again = CountingPool(workers=1)
    assert again.submit(added.id, app_db).state == "done" and again._executor is None


def test_queue_positions(app_db: Path, kept_here: Path) -> None:
    first = add_upload("a.json", cached("minilm/tokenizer.json").read_bytes())
    second = add_upload("b.model", cached("mistral/tokenizer.model.v1").read_bytes())
    pool = CountingPool(workers=1)
    try:
        j1, j2 = pool.submit(first.id, app_db), pool.submit(second.id, app_db)
        p1, p2 = pool.position(j1), pool.position(j2)
        assert p2 == (p1 or 0) + 1  # one worker: the second waits behind the first
        wait(j1, pool)
        wait(j2, pool)
        assert pool.position(j1) is None and pool.position(j2) is None
    finally:
        pool.close()
