"""Tokenizers a visitor adds: an upload (``tokenizer.json``, SentencePiece ``.model``, ``.tiktoken``) or a Hugging
Face repo's tokenizer file, checked, capped and stored by content.

Nothing from an upload is executed: a ``tokenizer.json`` is read by the ``tokenizers`` library's parser, a ``.model``
by SentencePiece's (a protobuf), a ``.tiktoken`` file line by line; a hub repo's code is never run
(``trust_remote_code`` does not exist here). Every file is first checked in this process (its size, its format,
its vocabulary's size: messages that name what is wrong), then loaded for real in a separate process that is
stopped after ``ATLAS_USER_TOKENIZER_LOAD_SECONDS``.

A stored tokenizer lives in ``<folder>/<key>/`` where ``key`` is the sha256 of the file's bytes, its split pattern
and (hub files) its repo at the resolved commit; the folder is ``$ATLAS_CACHE/user-tokenizers`` where the server
keeps what visitors add (``ATLAS_IMPORT=1``), else a temporary folder of this server process that is deleted when
it exits. Its id, ``yours:<name>:<first 16 hex digits of key>``, is what pages list and permalinks carry; the
registry loads it like a ``file:`` spec.

Example:
    >>> added = add_upload("my.tiktoken", data, pattern="cl100k_base")     # doctest: +SKIP
    >>> get_tokenizer(added.id).count("hello")                              # doctest: +SKIP
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from .config import (
    USER_PATTERN_MAX_CHARS,
    USER_TOKENIZER_LOAD_SECONDS,
    USER_TOKENIZER_MAX_BYTES,
    USER_TOKENIZER_MAX_VOCAB,
    env_bool,
)
from .errors import AnalysisError
from .i18n import N_
from .user_tokenizer_store import (  # where they are kept and how an id finds one; re-exported for callers
    PREFIX,
    STORED_NAME,
    Added,
    Format,
    UserTokenizerError,
    find,
    read_meta,
    root,
)
from .user_tokenizer_store import is_yours as is_yours
from .user_tokenizer_store import kept as kept
from .user_tokenizer_store import kept_root as kept_root
from .user_tokenizer_store import resolve as resolve
from .user_tokenizer_store import temp_root as temp_root

#: Split patterns a ``.tiktoken`` upload may use, by name: the catalogue encodings' own patterns.
PATTERNS = {"cl100k_base": "cl100k_base", "o200k_base": "o200k_base", "gpt2 (r50k_base)": "r50k_base"}
CUSTOM = "custom"
META_VERSION = 1
_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}")
_REVISION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]{0,127}")
#: Texts a custom pattern must split quickly and whole: several scripts, digits, spaces, and long runs that make a
#: catastrophically backtracking pattern take exponential time.
_PROBES = ("Hello, world! It's 2026: 12.5% of 3,000 tokens.\n\tTabs  and   spaces\r\n",
           "नमस्ते दुनिया · 你好，世界 · ሰላም ዓለም · Здравствуй, мир · مرحبا بالعالم · 😀👍🏽",
           "a" * 3000 + "!", " " * 3000 + "x", "1" * 3000 + "a", "ab" * 1500 + "\n")
_PATTERN_SECONDS = 1.0


# ------------------------------------------------------------------ checks


def format_of(filename: str) -> Format:
    """The format a file name announces.

    >>> format_of("tokenizer.json"), format_of("spm.model"), format_of("cl100k_base.tiktoken")
    ('tokenizer.json', 'sentencepiece', 'tiktoken')
    """
    low = filename.lower()
    if low.endswith(".json"):
        return "tokenizer.json"
    if low.endswith(".model"):
        return "sentencepiece"
    if low.endswith(".tiktoken"):
        return "tiktoken"
    raise UserTokenizerError(N_("{filename} is not a tokenizer file this page reads: upload a tokenizer.json, a "
                                "SentencePiece .model or a .tiktoken file (the name must end in .json, .model or "
                                ".tiktoken)."), filename=filename)


def _cap_vocab(name: str, n: int) -> None:
    if n > USER_TOKENIZER_MAX_VOCAB.value():
        raise UserTokenizerError(USER_TOKENIZER_MAX_VOCAB.exceeded(f"{name} has {n:,} tokens"),
                                 title=N_("Vocabulary too large"))


def check_pattern(pattern: str) -> str:
    """A custom split pattern, checked: its length, its syntax (the ``regex`` module), its speed on long runs (each
    probe under a second, or it backtracks catastrophically) and that its matches cover every character (a pattern
    that skips text would count fewer tokens than the text has). Returns the pattern.

    >>> check_pattern(r"\\s+|\\S+")
    '\\\\s+|\\\\S+'
    """
    import regex

    if not pattern:
        raise UserTokenizerError(N_("The custom split pattern is empty. Type a regular expression, or pick one of "
                                    "the listed patterns."), title=N_("Bad split pattern"))
    if len(pattern) > USER_PATTERN_MAX_CHARS.value():
        raise UserTokenizerError(USER_PATTERN_MAX_CHARS.exceeded(f"The split pattern has {len(pattern):,} characters"),
                                 title=N_("Bad split pattern"))
    try:
        compiled = regex.compile(pattern)
    except (regex.error, OverflowError, RecursionError) as e:
        raise UserTokenizerError(N_("The split pattern is not a valid regular expression: {why}. Fix it, or pick one "
                                    "of the listed patterns."), title=N_("Bad split pattern"), why=str(e)) from None
    for probe in _PROBES:
        try:
            pieces = [m.group() for m in compiled.finditer(probe, timeout=_PATTERN_SECONDS)]
        except TimeoutError:
            raise UserTokenizerError(
                f"The split pattern took over {_PATTERN_SECONDS:g} s on a {len(probe):,}-character text "
                f"({probe[:12]!r}…): it backtracks catastrophically (nested repeats such as (a+)+ do). Simplify it, "
                "or pick one of the listed patterns.", title=N_("Bad split pattern")) from None
        if "".join(pieces) != probe:
            missed = next((i for i, (a, b) in enumerate(zip("".join(pieces), probe, strict=False)) if a != b),
                          len("".join(pieces)))
            raise UserTokenizerError(
                f"The split pattern leaves text out: on {probe[:20]!r}… its matches skip the character "
                f"{probe[missed]!r} at position {missed}, and a tokenizer drops what its pattern does not match. "
                "Add an alternative that matches everything else (e.g. end it with |\\s+|.), or pick one of the "
                "listed patterns.", title=N_("Bad split pattern"))
    return pattern


def pattern_for(name: str, custom: str | None = None) -> str:
    """The regex of a listed pattern name (a :data:`PATTERNS` key), or the checked ``custom`` one."""
    if name == CUSTOM:
        return check_pattern(custom or "")
    if name not in PATTERNS:
        raise UserTokenizerError(f"No split pattern named {name!r}; pick one of {', '.join(PATTERNS)} or '{CUSTOM}'.",
                                 title=N_("Bad split pattern"))
    from .tokenizers.registry import get_tokenizer

    return get_tokenizer(PATTERNS[name]).split_pattern  # type: ignore[attr-defined]


def check_bytes(name: str, data: bytes, fmt: Format) -> int:
    """Check an upload's size and format here, before anything loads it; returns the vocabulary size it declares.

    Raises:
        UserTokenizerError: over the size cap, or not a file of ``fmt`` (the message names the fault).
    """
    if len(data) > USER_TOKENIZER_MAX_BYTES.value():
        raise UserTokenizerError(USER_TOKENIZER_MAX_BYTES.exceeded(f"{name} has {len(data):,} bytes"),
                                 title=N_("File too large"))
    if not data:
        raise UserTokenizerError(N_("{name} is empty. Upload the complete file."), name=name)
    if fmt == "tokenizer.json":
        return _check_json(name, data)
    if fmt == "tiktoken":
        return _check_tiktoken(name, data)
    return _check_sentencepiece(name, data)


def _check_json(name: str, data: bytes) -> int:
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise UserTokenizerError(N_("{name} is not UTF-8 text (byte {at} is 0x{byte}), so it is not a tokenizer.json. "
                                    "Upload the tokenizer.json file itself."), name=name, at=e.start,
                                 byte=f"{data[e.start]:02x}") from None
    except json.JSONDecodeError as e:
        raise UserTokenizerError(N_("{name} is not valid JSON: {why} at line {line}, column {column}. Upload the "
                                    "complete tokenizer.json (as the tokenizers library saves it)."), name=name,
                                 why=e.msg, line=e.lineno, column=e.colno) from None
    except RecursionError:
        raise UserTokenizerError(f"{name} is nested too deeply to be a tokenizer.json. Upload the tokenizer.json "
                                 "file itself.") from None
    model = doc.get("model") if isinstance(doc, dict) else None
    if not isinstance(model, dict) or "vocab" not in model:
        raise UserTokenizerError(
            N_("{name} is JSON but not a tokenizer.json: it has no \"model\" object with a \"vocab\" (a "
               "tokenizer_config.json or config.json describes a tokenizer but is not one). Upload the tokenizer.json "
               "file."), name=name)
    vocab = model["vocab"]
    n = len(vocab) if isinstance(vocab, dict | list) else 0
    _cap_vocab(name, n + len(doc.get("added_tokens") or []))
    return n


def _check_tiktoken(name: str, data: bytes) -> int:
    ranks: set[bytes] = set()
    for n, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        try:
            if len(parts) != 2:
                raise ValueError
            token = b"" if parts[0] == b"=" else base64.b64decode(parts[0], validate=True)
            int(parts[1])
        except (ValueError, binascii.Error):
            raise UserTokenizerError(
                f"{name} is not a .tiktoken file: line {n} is {line[:60].decode('utf-8', 'replace')!r}, not "
                "'<base64 token> <rank>'. Upload the ranks file as tiktoken writes it.") from None
        ranks.add(token)
        if len(ranks) > USER_TOKENIZER_MAX_VOCAB.value():
            _cap_vocab(name, len(ranks))
    missing = [b for b in range(256) if bytes([b]) not in ranks]
    if missing:
        raise UserTokenizerError(
            f"{name} has no rank for {len(missing)} of the 256 single bytes (e.g. 0x{missing[0]:02x}); a byte-level "
            "BPE needs all of them to encode any text. Upload the complete .tiktoken file.")
    return len(ranks)


def _check_sentencepiece(name: str, data: bytes) -> int:
    from google.protobuf.message import DecodeError
    from sentencepiece import sentencepiece_model_pb2

    proto = sentencepiece_model_pb2.ModelProto()
    try:
        proto.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError):
        raise UserTokenizerError(
            N_("{name} is not a SentencePiece model: its bytes do not parse as one (a protobuf ModelProto). Upload "
               "the .model file that SentencePiece's trainer wrote."), name=name) from None
    if not len(proto.pieces):
        raise UserTokenizerError(
            f"{name} is not a SentencePiece model: it holds no pieces (a vocabulary of none). Upload the .model file "
            "that SentencePiece's trainer wrote.")
    _cap_vocab(name, len(proto.pieces))
    return len(proto.pieces)


# ------------------------------------------------------------------ loading in a separate process, with a deadline


def _probe(path: str, pattern: str | None, conn) -> None:  # runs in a child process
    from .tokenizers.registry import load_file

    try:
        tok = load_file(path, tokenizer_id="probe", pattern=pattern)
        tok.count("Probe: Hello, world! नमस्ते 你好 😀")
        conn.send(("ok", int(tok.vocab_size or 0)))
    except AnalysisError as e:  # the backend's own reason where there is one (the wrapper's advice is for catalogue files)
        conn.send(("error", str(e.__cause__) if e.__cause__ is not None else e.message))
    except Exception as e:  # the backends' own parse errors: reported, never raised in the server
        conn.send(("error", f"{type(e).__name__}: {e}"))
    finally:
        conn.close()


def load_checked(name: str, path: Path, pattern: str | None) -> int:
    """Load ``path`` with the real backend in a separate process, stopped after the load-time cap; its vocabulary
    size. Error messages name ``name`` (the visitor's file), not the server's paths."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_probe, args=(str(path), pattern, child), daemon=True)
    proc.start()
    child.close()
    seconds = USER_TOKENIZER_LOAD_SECONDS.value()
    try:
        if not parent.poll(seconds):
            raise UserTokenizerError(USER_TOKENIZER_LOAD_SECONDS.exceeded(f"Loading {name} took more than {seconds} s"),
                                     title=N_("Tokenizer too slow to load"))
        try:
            status, value = parent.recv()
        except EOFError:
            raise UserTokenizerError(f"Loading {name} stopped the loading process (exit code {proc.exitcode}); the "
                                     "file is not a tokenizer this server can load. Check that it is complete.") from None
    finally:
        parent.close()
        if proc.is_alive():
            proc.kill()
        proc.join(5)
    if status == "error":
        text = str(value).replace(str(path), name).replace(str(path.parent) + os.sep, "")
        raise UserTokenizerError(N_("{name} cannot be loaded by its library: {why}. Check that the file is complete "
                                    "and is the format its name says."), name=name, why=text.rstrip("."))
    _cap_vocab(name, int(value))
    return int(value)


# ------------------------------------------------------------------ adding


def _safe_name(name: str) -> str:
    """A name fit for an id and a comma-separated permalink.

    >>> _safe_name("my vocab, v2:final.tiktoken")
    'my-vocab-v2-final.tiktoken'
    """
    return re.sub(r"[^A-Za-z0-9._/@-]+", "-", name).strip("-./")[:64] or "tokenizer"


def add_upload(name: str, data: bytes, *, pattern: str | None = None, origin: str = "upload") -> Added:
    """Check, load (in a separate process, with a deadline) and store an uploaded tokenizer file.

    Args:
        name: the file's name as uploaded (its suffix gives the format).
        data: its bytes.
        pattern: the split pattern (a regex) of a ``.tiktoken`` file; required for that format, refused for others.
        origin: ``"upload"``, or the hub repo at its commit.

    Raises:
        UserTokenizerError: what is wrong, and what to do.
    """
    fmt = format_of(name)
    if fmt == "tiktoken" and not pattern:
        raise UserTokenizerError(N_("A .tiktoken file holds only ranks: pick its split pattern (cl100k_base, "
                                    "o200k_base, GPT-2, or a custom regular expression)."),
                                 title=N_("Split pattern needed"))
    if fmt != "tiktoken":
        pattern = None
    check_bytes(name, data, fmt)
    key = hashlib.sha256(b"\0".join([data, (pattern or "").encode(), origin.encode()])).hexdigest()
    known = find(key)
    if known is not None:
        return known
    base = root()
    base.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key[:16]}.", dir=base))
    try:
        (staging / STORED_NAME[fmt]).write_bytes(data)
        if pattern is not None:
            (staging / "pattern.txt").write_text(pattern, encoding="utf-8")
        vocab_size = load_checked(name, staging / STORED_NAME[fmt], pattern)
        pattern_name = None if pattern is None else next(
            (n for n in PATTERNS if _known_pattern(n) == pattern), CUSTOM)
        repo, _, commit = origin[len("hf:"):].rpartition("@")
        shown = _safe_name(Path(name).name if origin == "upload" else f"{repo}@{commit[:7]}")
        final = base / key
        added = Added(id=f"{PREFIX}{shown}:{key[:16]}", name=shown, key=key, format=fmt,
                      sha256=hashlib.sha256(data).hexdigest(), vocab_size=vocab_size, pattern=pattern,
                      pattern_name=pattern_name, origin=origin,
                      added_at=datetime.now(UTC).isoformat(timespec="seconds"), folder=str(final))
        meta = {"version": META_VERSION, **{k: v for k, v in asdict(added).items() if k != "folder"}}
        (staging / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        os.chmod(staging, 0o755)
        try:
            os.replace(staging, final)  # the whole folder appears at once, or not at all
        except OSError:
            if not (final / "meta.json").is_file():  # not a twin added at the same moment: a real failure
                raise
        return read_meta(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _known_pattern(name: str) -> str | None:
    try:
        return pattern_for(name)
    except AnalysisError:
        return None


def add_hub(repo: str, *, revision: str | None = None) -> Added:
    """Fetch ``tokenizer.json`` (else ``tokenizer.model``) of a Hugging Face repo with ``huggingface_hub`` (its
    cache, ``HF_TOKEN`` for gated repos, ``HF_HUB_OFFLINE``) and add it like an upload; keyed with the commit the
    revision resolved to. No repository code is run.

    Raises:
        UserTokenizerError: a malformed id, or a repo that is offline, gated, missing or holds no tokenizer file.
    """
    repo, revision = repo.strip(), (revision or "").strip() or None
    if not _REPO.fullmatch(repo) or ".." in repo:
        raise UserTokenizerError(N_("{repo!r} is not a Hugging Face repo id: write ORG/NAME, e.g. "
                                    "openai-community/gpt2."), title=N_("Bad repo id"), repo=repo[:100])
    if revision is not None and (not _REVISION.fullmatch(revision) or ".." in revision):
        raise UserTokenizerError(N_("{revision!r} is not a revision: give a branch, a tag or a commit hash, or leave "
                                    "it empty for main."), title=N_("Bad revision"), revision=revision[:100])
    path = _download(repo, revision)
    commit = path.parent.name  # hf_hub_download returns <cache>/snapshots/<commit>/<file>
    size = path.stat().st_size
    if size > USER_TOKENIZER_MAX_BYTES.value():
        raise UserTokenizerError(USER_TOKENIZER_MAX_BYTES.exceeded(f"{repo}'s {path.name} has {size:,} bytes"),
                                 title=N_("File too large"))
    return add_upload(f"{repo}/{path.name}", path.read_bytes(), origin=f"hf:{repo}@{commit}")


def _download(repo: str, revision: str | None) -> Path:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    at = f" at {revision}" if revision else ""
    token = os.environ.get("HF_TOKEN") or None
    offline = env_bool("HF_HUB_OFFLINE", False)
    local_only = False
    for filename in ("tokenizer.json", "tokenizer.model"):
        try:
            return Path(hf_hub_download(repo, filename, revision=revision, token=token,
                                        cache_dir=os.environ.get("HF_HUB_CACHE") or None,
                                        local_files_only=offline))
        except GatedRepoError:
            raise UserTokenizerError(
                N_("{repo} is a gated repository: its files need an account that accepted its terms. Accept them on "
                   "the repository's page, then start the server with HF_TOKEN set to a token of that account; or "
                   "upload the tokenizer file."), title=N_("Gated repository"), repo=repo) from None
        except RepositoryNotFoundError:
            raise UserTokenizerError(
                N_("There is no repository {repo!r} on the Hugging Face hub (or it is private). Check the id, ORG/NAME "
                   "as in the repository's address; for a private one, start the server with HF_TOKEN."),
                title=N_("No such repository"), repo=repo) from None
        except RevisionNotFoundError:
            raise UserTokenizerError(N_("{repo} has no revision {revision!r}. Give a branch, a tag or a commit hash of "
                                        "the repository, or leave the revision empty for main."),
                                     title=N_("No such revision"), repo=repo, revision=revision) from None
        except LocalEntryNotFoundError:
            local_only = True  # not in the local cache, and the hub not asked or not reachable
        except EntryNotFoundError:
            continue
        except (HfHubHTTPError, OSError, ValueError) as e:
            raise UserTokenizerError(f"The Hugging Face hub could not give {filename} of {repo}{at}: "
                                     f"{str(e).splitlines()[0][:200]}. Try again later, or upload the tokenizer file.",
                                     title=N_("Hub unavailable")) from None
    if local_only:
        why = ("this server works offline (HF_HUB_OFFLINE=1)" if offline else
               "this server cannot reach the Hugging Face hub")
        raise UserTokenizerError(
            f"{repo}{at} cannot be fetched: {why}, and its hub cache holds neither tokenizer.json nor tokenizer.model "
            "of it. Upload the tokenizer file instead, or ask whoever runs the server to put the repo in its hub "
            "cache.", title=N_("Hub unavailable"))
    raise UserTokenizerError(
        N_("{repo}{at} holds no tokenizer file: neither tokenizer.json nor tokenizer.model. Pick the repository that "
           "holds the tokenizer (often the base model's), or upload the file."), title=N_("No tokenizer file"),
        repo=repo, at=at)
