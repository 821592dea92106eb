"""Conversations through chat templates: hand-checked token sequences, the sandbox, the content/template split.

Expected ids were read by hand from the vocabulary files (tokenizer.json ``model.vocab`` / ``added_tokens``, and
the SentencePiece model's ``piece_to_id``), not from the code under test:
llama3 <|begin_of_text|> 128000, <|start_header_id|> 128006, <|end_header_id|> 128007, <|eot_id|> 128009,
"system" 9125, "user" 882, "assistant" 78191, "ĊĊ" 271, "Be" 3513, "Ġbrief" 10015, "." 13, "Hi" 13347;
mistral-v3 <s> 1, </s> 2, [INST] 3, [/INST] 4, "▁Hi" 16127, "▁there" 1504, "▁Hello" 23325;
gpt-oss <|start|> 200006, <|end|> 200007, <|message|> 200008, <|channel|> 200005, "system" 17360, "user" 1428,
"assistant" 173781, "final" 17196, "Hi" 12194, "Hello" 13225.
"""

from __future__ import annotations

import pytest

from analysis.chat import (
    ChatTemplateError,
    Message,
    NoChatTemplateError,
    chat_format,
    harmony_encoding,
    render_chat,
    render_template,
)
from analysis.tokenizers import get_tokenizer

BOT, SH, EH, EOT = 128000, 128006, 128007, 128009


def counts(r):
    return [(c.role, c.content_tokens, c.template_tokens) for c in r.per_message()]


def test_llama3_system_and_user_hand_checked():
    r = render_chat("llama3", [Message("system", "Be brief."), Message("user", "Hi")])
    assert r.format == "jinja"
    assert r.ids == [BOT, SH, 9125, EH, 271, 3513, 10015, 13, EOT,
                     SH, 882, EH, 271, 13347, EOT,
                     SH, 78191, EH, 271]
    assert r.text == ("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                      "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                      "<|start_header_id|>assistant<|end_header_id|>\n\n")
    assert (r.total, r.content_count, r.template_count) == (19, 4, 15)
    # The header before a content counts with that message; the end marker and the generation prompt close.
    assert counts(r) == [("system", 3, 5), ("user", 1, 5), ("closing", 0, 5)]


def test_llama3_template_trims_content_and_it_is_still_found():
    r = render_chat("llama3", [Message("user", "  Hi\n")])
    assert r.ids[4:6] == [271, 13347] and counts(r)[0] == ("user", 1, 5)
    assert r.notes == []


def test_llama3_typed_special_text_stays_plain_text():
    r = render_chat("llama3", [Message("user", "<|eot_id|>")])
    assert r.ids.count(EOT) == 1  # the template's own end marker only
    assert counts(r)[0][1] > 1 and any("plain text" in n for n in r.notes)


def test_mistral_v3_hand_checked_with_a_repeated_content():
    r = render_chat("mistral-v3", [Message("user", "Hi there"), Message("assistant", "Hello"),
                                   Message("user", "Hi there")])
    assert r.format == "mistral" and r.template_name == "mistral-common InstructTokenizerV3"
    assert r.ids == [1, 3, 16127, 1504, 4, 23325, 2, 3, 16127, 1504, 4]
    assert counts(r) == [("user", 2, 2), ("assistant", 1, 1), ("user", 2, 2), ("closing", 0, 1)]


def test_mistral_v3_puts_the_system_prompt_in_the_last_instruction():
    r = render_chat("mistral-v3", [Message("system", "Hi"), Message("user", "Hello"), Message("assistant", "Hello"),
                                   Message("user", "there")])
    # <s> [INST] ▁Hello [/INST] ▁Hello </s> [INST] then the last instruction "Hi\n\nthere": the system text first
    assert r.ids[:6] == [1, 3, 23325, 4, 23325, 2]
    assert r.pieces[6:8] == ["[INST]", "▁Hi"]
    assert [c[0] for c in counts(r)] == ["system", "user", "assistant", "user", "closing"]
    assert counts(r)[0][1] == 1  # "▁Hi" found where mistral-common moved it


def test_gpt_oss_harmony_hand_checked():
    r = render_chat("gpt-oss", [Message("user", "Hi"), Message("assistant", "Hello")])
    assert r.format == "harmony"
    header_end = r.ids.index(200007) + 1
    assert r.ids[:3] == [200006, 17360, 200008]
    assert r.ids[header_end:] == [200006, 1428, 200008, 12194, 200007,
                                  200006, 173781, 200005, 17196, 200008, 13225, 200007]
    tok = get_tokenizer("gpt-oss")
    assert tok.decode(r.ids[:header_end]).startswith("<|start|>system<|message|>You are ChatGPT")
    assert r.content_count == 2 and r.template_count == len(r.ids) - 2
    assert counts(r)[1:] == [("assistant", 1, 6), ("closing", 0, 1)]


def test_gpt_oss_generation_prompt_and_developer_instructions():
    r = render_chat("gpt-oss", [Message("system", "Be brief."), Message("user", "Hi")])
    assert r.ids[-7:] == [200006, 1428, 200008, 12194, 200007, 200006, 173781]
    assert "# Instructions\n\nBe brief." in get_tokenizer("gpt-oss").decode(r.ids)
    assert counts(r)[0][:2] == ("system", 3)


def test_harmony_loads_our_verified_o200k_base():
    import os

    from analysis.assets import require_asset
    from analysis.catalogue import load_catalogue
    from analysis.config import cache_dir

    before = os.environ.get("TIKTOKEN_ENCODINGS_BASE")
    enc = harmony_encoding()
    ranks = require_asset(load_catalogue().files["openai/o200k_base.tiktoken"])
    assert os.environ.get("TIKTOKEN_ENCODINGS_BASE") == before  # set for the load only
    assert enc.decode([200006]) == "<|start|>"  # type: ignore[attr-defined]
    assert (cache_dir() / "harmony" / "o200k_base.tiktoken").resolve() == ranks.resolve()


THREE = [Message("user", "Hi"), Message("assistant", "Hello"), Message("user", "Bye")]


@pytest.mark.parametrize("tid, text, markers", [
    # The formats as their model cards document them; marker ids from each tokenizer.json's added_tokens.
    ("qwen3", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n<|im_start|>user\nBye"
              "<|im_end|>\n<|im_start|>assistant\n", {151644: 4, 151645: 3}),
    ("deepseek-v3", "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>Hello<｜end▁of▁sentence｜><｜User｜>Bye"
                    "<｜Assistant｜>", {0: 1, 128803: 2, 128804: 2, 1: 1}),
    ("gemma", "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nHello<end_of_turn>\n"
              "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n", {2: 1, 106: 4, 107: 3}),
    ("gemma3", "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nHello<end_of_turn>\n"
               "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n", {2: 1, 105: 4, 106: 3}),
])
def test_other_jinja_templates_render_their_documented_format(tid, text, markers):
    r = render_chat(tid, THREE)
    assert r.text == text
    assert {i: r.ids.count(i) for i in markers} == markers  # each marker one control token
    assert [c.role for c in r.per_message()] == ["user", "assistant", "user", "closing"]
    assert r.notes == [] and all(c.content_tokens >= 1 for c in r.per_message()[:3])


@pytest.mark.parametrize("tid", ["o200k_base", "bert-uncased", "utf8-bytes", "claude-legacy"])
def test_no_known_template_is_said_not_invented(tid):
    assert chat_format(tid) is None
    with pytest.raises(NoChatTemplateError, match="no known chat template"):
        render_chat(tid, [Message("user", "Hi")])


def test_formats_of_the_catalogue():
    assert {t: chat_format(t)[0] for t in ["llama3", "gemma", "gemma3", "qwen3", "deepseek-v3", "mistral-v1",
                                           "mistral-tekken", "gpt-oss"]} == {
        "llama3": "jinja", "gemma": "jinja", "gemma3": "jinja", "qwen3": "jinja", "deepseek-v3": "jinja",
        "mistral-v1": "mistral", "mistral-tekken": "mistral", "gpt-oss": "harmony"}


def test_a_template_that_raises_says_so():
    with pytest.raises(ChatTemplateError, match="System role not supported"):
        render_chat("gemma", [Message("system", "x"), Message("user", "Hi")])


def test_mistral_refusal_is_an_analysis_error():
    with pytest.raises(ChatTemplateError, match="mistral-common refuses"):
        render_chat("mistral-v3", [Message("assistant", "Hi"), Message("assistant", "Hi")])


@pytest.mark.parametrize("source", [
    "{{ messages.__class__.__mro__ }}",
    "{{ ''.__class__.__subclasses__() }}",
    "{{ messages.append(1) }}",  # immutable sandbox: no mutation of the caller's data
    "{{ cycler.__init__.__globals__ }}",
])
def test_sandbox_refuses_internals(source):
    with pytest.raises(ChatTemplateError, match="failed"):
        render_template(source, [Message("user", "Hi")])


def test_sandbox_bounds_size_and_loops():
    with pytest.raises(ChatTemplateError, match="range"):
        render_template("{% for i in range(100000000) %}{% endfor %}", [])
    with pytest.raises(ChatTemplateError, match="10,000 times"):
        render_template("{{ 'x' * 100000000 }}", [])
    with pytest.raises(ChatTemplateError, match="over 50 characters"):
        render_template("{% for i in range(100) %}xx{% endfor %}", [], max_chars=50)
    with pytest.raises(ChatTemplateError, match="longer than"):
        render_template("{% for i in range(9000) %}{% for j in range(9000) %}{% endfor %}{% endfor %}", [],
                        max_seconds=0.01)


@pytest.mark.parametrize("source, match", [
    ("{{ 'x' | center(1000000000) }}", "center filter"),
    ("{{ 'x' | indent(1000000000) }}", "indent filter"),
    ("{{ '%1000000000s' % 'x' }}", "wider than 9,999"),
    ("{{ '%*s' % (1000000000, 'x') }}", "wider than 9,999"),
    ("{{ '%1000000000s' | format('x') }}", "wider than 9,999"),
    ("{{ '{:>1000000000}'.format('x') }}", "wider than 9,999"),
    ("{{ ('x' * 9999) * 9999 }}", "beyond 1,000,000 characters"),
    ("{{ lipsum(100000) }}", "failed"),
])
def test_sandbox_refuses_huge_single_operations(source, match):
    with pytest.raises(ChatTemplateError, match=match):
        render_template(source, [])


def test_sandbox_keeps_ordinary_formatting():
    assert render_template("{{ '%5s|%-3d' % ('ab', 7) }}{{ '{:>4}'.format('x') }}{{ 'ab' * 3 }}{{ 'x' | center(5) }}",
                           []) == "   ab|7     xababab  x  "


def test_sandbox_renders_without_escaping_and_with_tojson():
    out = render_template("{{ messages[0].content }}|{{ messages | tojson }}", [Message("user", "<é>")])
    assert out == '<é>|[{"role": "user", "content": "<é>"}]'
    with pytest.raises(ChatTemplateError, match="The template says: nope"):
        render_template("{{ raise_exception('nope') }}", [])


def test_empty_conversation_and_bad_role():
    with pytest.raises(ChatTemplateError, match="empty"):
        render_chat("llama3", [])
    with pytest.raises(ChatTemplateError, match="Unknown role"):
        Message("tool", "x")  # type: ignore[arg-type]
