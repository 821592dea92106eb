"""Conversations through each tokenizer's own chat template: how many tokens a chat costs once it is wrapped.

Three kinds of template, each the model maker's own:

- ``jinja``: the Jinja ``chat_template`` of the vocabulary's ``tokenizer_config.json`` (llama3, gemma, gemma3,
  qwen3, deepseek-v3), rendered in an :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` (no attribute access to
  Python internals, no file or network access; bounded output size and render time).
- ``mistral``: mistral-common's own request encoders (v1, v3, Tekken) for the ``mistral`` backend.
- ``harmony``: the gpt-oss Harmony format from the ``openai-harmony`` package, fed our sha256-checked local
  ``o200k_base.tiktoken`` (it downloads nothing).

A tokenizer with none of these has no known template (:func:`chat_format` returns ``None``); nothing is invented.

Template tokens vs content tokens: every message's content is located in the rendered sequence (as text for
Jinja, as decoded bytes for the id-producing encoders) and a token that overlaps a content span counts as content,
also one that straddles content and template. Template tokens count with the message whose content follows them
(its header); those after the last content (end marker, generation prompt) count as ``closing``.

Example:
    >>> r = render_chat("llama3", [Message("user", "Hi")], add_generation_prompt=True)
    >>> r.ids[:2], r.content_count, r.template_count
    ([128000, 128006], 1, 10)
"""

from __future__ import annotations

import itertools
import json
import os
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from .catalogue import load_catalogue
from .errors import ChatTemplateError, NoChatTemplateError
from .i18n import N_
from .tokenizers import Tokenizer, TokenKind, get_tokenizer
from .tokenizers.backends import get_backend

Role = Literal["system", "user", "assistant"]
ROLES: tuple[Role, ...] = ("system", "user", "assistant")
ChatFormat = Literal["jinja", "mistral", "harmony"]
#: Bounds on a Jinja render: characters of output, seconds, and the longest ``range()`` or repeated string.
MAX_RENDER_CHARS = 1_000_000
MAX_RENDER_SECONDS = 2.0
MAX_RANGE = 10_000
_WIDE_FORMAT = re.compile(r"%[-+ #0]*(\d{5,}|\*)|\{[^{}]*\d{5,}[^{}]*\}")
#: Tokenizers whose chat format is Harmony (the gpt-oss models), by catalogue id.
HARMONY_IDS = frozenset({"gpt-oss"})


@dataclass(frozen=True)
class Message:
    """One message of a conversation."""

    role: Role
    content: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ChatTemplateError(f"Unknown role {self.role!r}. Use one of {', '.join(ROLES)}.")


@dataclass(frozen=True)
class MessageCount:
    """Tokens one message costs: its content's and the template's around it (``role`` is ``closing`` for the
    tokens after the last message's content)."""

    index: int | None
    role: str
    content_tokens: int
    template_tokens: int

    @property
    def total(self) -> int:
        return self.content_tokens + self.template_tokens


@dataclass(frozen=True)
class ChatRender:
    """A conversation rendered and tokenized by one tokenizer's chat template.

    ``message_of[k]`` is the index of the message token k counts with (``None``: closing); ``is_content[k]`` says
    whether it overlaps that message's content.
    """

    tokenizer_id: str
    format: ChatFormat
    template_name: str
    messages: tuple[Message, ...]
    ids: list[int]
    token_bytes: list[bytes]
    pieces: list[str]
    special: list[bool]
    is_content: list[bool]
    message_of: list[int | None]
    text: str | None = None  # the rendered text (Jinja templates), else None
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.ids)

    @property
    def content_count(self) -> int:
        return sum(self.is_content)

    @property
    def template_count(self) -> int:
        return self.total - self.content_count

    def per_message(self) -> list[MessageCount]:
        """Counts per message, then a ``closing`` row (always present, maybe zero)."""
        rows = []
        for i, m in enumerate([*self.messages, None]):
            idx = i if m is not None else None
            content = sum(1 for k, c in enumerate(self.is_content) if c and self.message_of[k] == idx)
            template = sum(1 for k, c in enumerate(self.is_content) if not c and self.message_of[k] == idx)
            rows.append(MessageCount(idx, m.role if m else "closing", content, template))
        return rows


# ------------------------------------------------------------------ which template


def chat_format(tokenizer_id: str) -> tuple[ChatFormat, str] | None:
    """The chat format of a catalogue tokenizer and its name, or ``None`` where none is known.

    >>> chat_format("mistral-v3"), chat_format("bert-uncased")
    (('mistral', 'mistral-common InstructTokenizerV3'), None)
    """
    catalogue = load_catalogue()
    if tokenizer_id not in catalogue.entries:
        return None
    entry = catalogue.tokenizer(tokenizer_id)
    if tokenizer_id in HARMONY_IDS:
        return "harmony", "Harmony (openai-harmony, HARMONY_GPT_OSS)"
    if get_backend(entry.backend).chat_format == "mistral":  # the backend's own library encodes its conversations
        return "mistral", f"mistral-common {_mistral_version(tokenizer_id)}"
    if "config" in entry.files and _jinja_source(tokenizer_id) is not None:
        return "jinja", f"chat_template of {entry.files['config'].path}"
    return None


def _mistral_version(tokenizer_id: str) -> str:
    tok = get_tokenizer(tokenizer_id)
    return type(tok.mistral.instruct_tokenizer).__name__  # type: ignore[attr-defined]


def _config(tokenizer_id: str) -> dict:
    from .assets import require_asset

    path = require_asset(load_catalogue().tokenizer(tokenizer_id).files["config"])
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ChatTemplateError(f"Cannot read {path}: {e}. Run `python -m analysis assets fetch --force`.") from e


def _jinja_source(tokenizer_id: str) -> str | None:
    template = _config(tokenizer_id).get("chat_template")
    if isinstance(template, list):  # named templates: the default one
        named = {t.get("name"): t.get("template") for t in template if isinstance(t, dict)}
        template = named.get("default")
    return template if isinstance(template, str) and template else None


def render_chat(tokenizer_id: str, messages: Sequence[Message], *, add_generation_prompt: bool = True) -> ChatRender:
    """Render ``messages`` through the tokenizer's own chat template and tokenize them.

    Raises:
        NoChatTemplateError: the tokenizer has no known template.
        ChatTemplateError: the template refuses the conversation (its own message) or exceeds the bounds.
    """
    messages = tuple(messages)
    if not messages:
        raise ChatTemplateError(N_("The conversation is empty. Add at least one message."))
    found = chat_format(tokenizer_id)
    if found is None:
        raise NoChatTemplateError(
            N_("{tokenizer} has no known chat template (no chat_template in its tokenizer_config.json, not a "
               "mistral-common or Harmony tokenizer). Its count is not shown rather than invented; pick another."),
            tokenizer=tokenizer_id)
    fmt, name = found
    if fmt == "jinja":
        return _render_jinja(tokenizer_id, name, messages, add_generation_prompt)
    if fmt == "mistral":
        ids = _mistral_ids(tokenizer_id, messages, add_generation_prompt)
    else:
        ids = _harmony_ids(messages, add_generation_prompt)
    return _from_ids(tokenizer_id, fmt, name, messages, ids)


# ------------------------------------------------------------------ Jinja, sandboxed


def _env():  # type: ignore[no-untyped-def]
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def refuse_wide(fmt: object) -> None:
        if isinstance(fmt, str) and _WIDE_FORMAT.search(fmt):
            raise ChatTemplateError("The template formats a field wider than 9,999 characters; refused.")

    class _Env(ImmutableSandboxedEnvironment):
        """No attribute access to internals (the sandbox), no loader (no files), ``*``, ``**``, ``%`` and
        ``str.format`` bounded so that no single operation builds a huge value before the output bound sees it."""

        intercepted_binops = frozenset({"*", "**", "%"})

        def call_binop(self, context, operator, left, right):  # type: ignore[no-untyped-def]
            if operator == "**" and isinstance(right, int) and right > 64:
                raise ChatTemplateError("The template raises a number to a huge power; refused.")
            if operator == "*":
                seq, n = (left, right) if isinstance(right, int) else (right, left)
                if isinstance(n, int) and isinstance(seq, str | list | tuple) and (
                        n > MAX_RANGE or len(seq) * n > MAX_RENDER_CHARS):
                    raise ChatTemplateError("The template repeats something more than 10,000 times or beyond "
                                            f"{MAX_RENDER_CHARS:,} characters; refused.")
            if operator == "%":
                refuse_wide(left)
            return super().call_binop(context, operator, left, right)

        def wrap_str_format(self, value):  # type: ignore[no-untyped-def]  # str.format / format_map
            wrapped = super().wrap_str_format(value)
            if wrapped is not None:
                refuse_wide(getattr(value, "__self__", None))
            return wrapped

    def bounded(name: str):  # type: ignore[no-untyped-def]
        inner = jinja2.filters.FILTERS[name]

        def f(*args, **kwargs):  # type: ignore[no-untyped-def]
            for v in (*args[1:], *kwargs.values()):
                if isinstance(v, int) and not isinstance(v, bool) and v > MAX_RANGE:
                    raise ChatTemplateError(f"The template asks the {name} filter for {v:,}; at most {MAX_RANGE:,}.")
                refuse_wide(v)
            if name == "format":
                refuse_wide(args[0])
            return inner(*args, **kwargs)

        f.__name__ = name
        return f

    def raise_exception(message: str) -> None:
        raise ChatTemplateError(f"The template says: {message}")

    def strftime_now(fmt: str) -> str:
        return datetime.now().strftime(str(fmt))

    def tojson(value: object, ensure_ascii: bool = False, indent: int | None = None,
               separators: tuple[str, str] | None = None, sort_keys: bool = False) -> str:
        return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = _Env(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"],
               undefined=jinja2.Undefined, autoescape=False)
    env.filters["tojson"] = tojson
    for name in ("center", "indent", "format", "wordwrap", "truncate", "batch", "slice"):
        env.filters[name] = bounded(name)
    env.globals.pop("lipsum", None)  # builds paragraphs of filler in one call
    env.globals.update(raise_exception=raise_exception, strftime_now=strftime_now)
    return env


def render_template(source: str, messages: Sequence[Message], *, add_generation_prompt: bool = True,
                    bos_token: str = "", eos_token: str = "", max_chars: int = MAX_RENDER_CHARS,
                    max_seconds: float = MAX_RENDER_SECONDS) -> str:
    """Render a Jinja chat template in the sandbox, bounded in output size and time.

    >>> render_template("{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}", [Message("user", "Hi")])
    '[user]Hi'

    Raises:
        ChatTemplateError: a syntax error, a refused operation, ``raise_exception`` or a bound exceeded (with why).
    """
    import jinja2

    deadline = time.monotonic() + max_seconds

    def bounded_range(*args: int):  # type: ignore[no-untyped-def]
        r = range(*args)
        if len(r) > MAX_RANGE:
            raise ChatTemplateError(f"The template asks for range() of {len(r):,} numbers; at most {MAX_RANGE:,}.")
        for i in r:
            if time.monotonic() > deadline:
                raise ChatTemplateError(f"The template took longer than {max_seconds:g} s; stopped.")
            yield i

    env = _env()
    try:
        template = env.from_string(source)
        context = {"messages": [{"role": m.role, "content": m.content} for m in messages],
                   "add_generation_prompt": add_generation_prompt, "bos_token": bos_token, "eos_token": eos_token,
                   "range": bounded_range}
        out: list[str] = []
        size = 0
        for chunk in template.generate(**context):
            out.append(chunk)
            size += len(chunk)
            if size > max_chars:
                raise ChatTemplateError(f"The rendered conversation is over {max_chars:,} characters; shorten it.")
            if time.monotonic() > deadline:
                raise ChatTemplateError(f"The template took longer than {max_seconds:g} s; stopped.")
        return "".join(out)
    except ChatTemplateError:
        raise
    except jinja2.TemplateError as e:  # SecurityError, syntax, undefined
        raise ChatTemplateError(f"The chat template failed: {type(e).__name__}: {e}. The template, not your "
                                "conversation, may be at fault; try another tokenizer.") from e
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, RecursionError) as e:
        raise ChatTemplateError(f"The chat template failed: {type(e).__name__}: {e}.") from e


def _token_text(value: object) -> str:
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else ""


def _content_spans(haystack: str | bytes, messages: Sequence[Message]) -> list[tuple[int, int] | None]:
    """Where each message's content lies: system messages first (templates move them), then the others in order;
    a content not found as given is looked for stripped (templates ``trim``); ``None`` if absent."""
    spans: list[tuple[int, int] | None] = [None] * len(messages)
    taken: list[tuple[int, int]] = []

    def find(needle: str, start: int) -> tuple[int, int] | None:
        for form in dict.fromkeys((needle, needle.strip())):
            if not form:
                continue
            key = form.encode() if isinstance(haystack, bytes) else form
            pos = start
            while (at := haystack.find(key, pos)) >= 0:  # type: ignore[arg-type]
                span = (at, at + len(key))
                if not any(s < span[1] and span[0] < e for s, e in taken):
                    return span
                pos = at + 1
        return None

    order = [i for i, m in enumerate(messages) if m.role == "system"] + \
            [i for i, m in enumerate(messages) if m.role != "system"]
    cursor = 0
    for i in order:
        system = messages[i].role == "system"
        span = find(messages[i].content, 0 if system else cursor) or (None if system else find(messages[i].content, 0))
        spans[i] = span
        if span is not None:
            taken.append(span)
            if not system:
                cursor = span[1]
    return spans


def _assign(starts: Sequence[int], ends: Sequence[int], spans: Sequence[tuple[int, int] | None]
            ) -> tuple[list[bool], list[int | None]]:
    """Per token: does it overlap a content span (a zero-width token inside one counts too), and which message it
    counts with (the next content's message for template tokens)."""
    located = sorted((s, e, i) for i, s_e in enumerate(spans) if s_e is not None for s, e in [s_e])
    is_content, message_of = [], []
    for s, e in zip(starts, ends):
        hit = next((i for cs, ce, i in located if (s < ce and cs < e) or (s == e and cs < s < ce)), None)
        if hit is not None:
            is_content.append(True)
            message_of.append(hit)
        else:
            is_content.append(False)
            message_of.append(next((i for cs, _, i in located if cs >= e), None))
    return is_content, message_of


def _render_jinja(tokenizer_id: str, name: str, messages: tuple[Message, ...], add_generation_prompt: bool
                  ) -> ChatRender:
    config = _config(tokenizer_id)
    source = _jinja_source(tokenizer_id) or ""
    text = render_template(source, messages, add_generation_prompt=add_generation_prompt,
                           bos_token=_token_text(config.get("bos_token")),
                           eos_token=_token_text(config.get("eos_token")))
    tok = get_tokenizer(tokenizer_id)
    spans = _content_spans(text, messages)
    enc = tok.encode(text, allow_special=True)
    notes = []
    typed_special = any(kind == TokenKind.SPECIAL and any(sp and sp[0] <= s and e <= sp[1] and s < e for sp in spans)
                        for s, e, kind in zip(enc.starts, enc.ends, enc.kinds))
    ids, starts, ends, token_bytes, special = list(enc.ids), list(enc.starts), list(enc.ends), \
        list(enc.token_bytes), [k == TokenKind.SPECIAL for k in enc.kinds]
    if typed_special:
        # Special-token text typed in a message is plain text (never a control token): encode piecewise.
        notes.append("A message contains special-token text; it is encoded as plain text, so the template and the "
                     "contents were tokenized piece by piece.")
        ids, starts, ends, token_bytes, special = [], [], [], [], []
        cuts = sorted({0, len(text), *(p for sp in spans if sp for p in sp)})
        inside = {sp for sp in spans if sp}
        for a, b in itertools.pairwise(cuts):
            part = tok.encode(text[a:b], allow_special=(a, b) not in inside)
            ids += part.ids
            starts += [a + s for s in part.starts]
            ends += [a + e for e in part.ends]
            token_bytes += part.token_bytes
            special += [k == TokenKind.SPECIAL for k in part.kinds]
    missing = [i for i, sp in enumerate(spans) if sp is None and messages[i].content.strip()]
    if missing:
        notes.append("The template left out or changed the content of message(s) "
                     f"{', '.join(str(i + 1) for i in missing)}; their tokens count as template.")
    is_content, message_of = _assign(starts, ends, spans)
    return ChatRender(tokenizer_id, "jinja", name, messages, ids, token_bytes, [tok.piece(i) for i in ids], special,
                      is_content, message_of, text=text, notes=notes)


# ------------------------------------------------------------------ id-producing encoders


def _from_ids(tokenizer_id: str, fmt: ChatFormat, name: str, messages: tuple[Message, ...], ids: list[int]
              ) -> ChatRender:
    """Locate contents in the decoded bytes (control tokens count as zero bytes, so no content matches inside one)."""
    tok = _vocab_of(tokenizer_id)
    tables = tok.token_tables()
    assert tables is not None
    special = [int(tables.classes[i]) == 1 for i in ids]
    token_bytes = [b"" if sp else bytes(tables.token_bytes[i]) for i, sp in zip(ids, special)]
    starts, ends, pos = [], [], 0
    for b in token_bytes:
        starts.append(pos)
        pos += len(b)
        ends.append(pos)
    joined = b"".join(token_bytes)
    spans = _content_spans(joined, messages)
    notes = []
    if any(sp is None and messages[i].content.strip() for i, sp in enumerate(spans)):
        notes.append("Some message content was not found in the encoder's tokens; it counts as template.")
    is_content, message_of = _assign(starts, ends, spans)
    shown = [bytes(tables.token_bytes[i]) for i in ids]
    return ChatRender(tokenizer_id, fmt, name, messages, ids, shown, [tok.piece(i) for i in ids], special,
                      is_content, message_of, notes=notes)


def _vocab_of(tokenizer_id: str) -> Tokenizer:
    return get_tokenizer(tokenizer_id)


def _mistral_ids(tokenizer_id: str, messages: tuple[Message, ...], add_generation_prompt: bool) -> list[int]:
    from mistral_common.exceptions import MistralCommonException
    from mistral_common.protocol.instruct.messages import AssistantMessage, SystemMessage, UserMessage
    from mistral_common.protocol.instruct.request import ChatCompletionRequest

    kinds = {"system": SystemMessage, "user": UserMessage, "assistant": AssistantMessage}
    tok = get_tokenizer(tokenizer_id)
    try:
        request = ChatCompletionRequest(messages=[kinds[m.role](content=m.content) for m in messages])
        return list(tok.mistral.encode_chat_completion(request).tokens)  # type: ignore[attr-defined]
    except (MistralCommonException, ValueError, TypeError) as e:
        raise ChatTemplateError(f"mistral-common refuses this conversation: {e}. Mistral's format wants user and "
                                "assistant turns alternating, starting and ending with a user message.") from e


_harmony_lock = threading.Lock()
_harmony: list[object] = []


def harmony_encoding() -> object:
    """The ``openai-harmony`` gpt-oss encoding, loaded from our verified ``o200k_base.tiktoken`` (never downloaded):
    ``TIKTOKEN_ENCODINGS_BASE`` points, during the load only, at a private folder holding a link to that file."""
    with _harmony_lock:
        if _harmony:
            return _harmony[0]
        import openai_harmony as h

        from .assets import require_asset
        from .config import cache_dir

        ranks = require_asset(load_catalogue().files["openai/o200k_base.tiktoken"])
        base = cache_dir() / "harmony"
        base.mkdir(parents=True, exist_ok=True)
        link = base / "o200k_base.tiktoken"
        if not (link.is_symlink() and link.resolve() == ranks.resolve()):
            tmp = base / f".o200k_base.{os.getpid()}.link"
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(ranks.resolve())
            os.replace(tmp, link)
        saved = os.environ.get("TIKTOKEN_ENCODINGS_BASE")
        os.environ["TIKTOKEN_ENCODINGS_BASE"] = str(base)
        try:
            enc = h.load_harmony_encoding(h.HarmonyEncodingName.HARMONY_GPT_OSS)
        except Exception as e:  # the Rust extension raises its own types
            raise ChatTemplateError(f"openai-harmony could not load o200k_base from {base}: {e}. Run "
                                    "`python -m analysis assets fetch`.") from e
        finally:
            if saved is None:
                os.environ.pop("TIKTOKEN_ENCODINGS_BASE", None)
            else:
                os.environ["TIKTOKEN_ENCODINGS_BASE"] = saved
        _harmony.append(enc)
        return enc


def _harmony_ids(messages: tuple[Message, ...], add_generation_prompt: bool) -> list[int]:
    """Harmony: the default system header (identity, knowledge cutoff, reasoning, channels; no date, so counts do not
    change by the day), a system message's text as developer instructions, assistant turns on the final channel."""
    import openai_harmony as h

    enc = harmony_encoding()
    out = [h.Message.from_role_and_content(h.Role.SYSTEM, h.SystemContent.new())]
    for m in messages:
        if m.role == "system":
            out.append(h.Message.from_role_and_content(h.Role.DEVELOPER,
                                                       h.DeveloperContent.new().with_instructions(m.content)))
        elif m.role == "user":
            out.append(h.Message.from_role_and_content(h.Role.USER, m.content))
        else:
            out.append(h.Message.from_role_and_content(h.Role.ASSISTANT, m.content).with_channel("final"))
    conversation = h.Conversation.from_messages(out)
    try:
        if add_generation_prompt and messages[-1].role != "assistant":
            return list(enc.render_conversation_for_completion(conversation, h.Role.ASSISTANT))  # type: ignore
        return list(enc.render_conversation(conversation))  # type: ignore[attr-defined]
    except Exception as e:  # the Rust extension raises its own types
        raise ChatTemplateError(f"openai-harmony refuses this conversation: {e}.") from e
