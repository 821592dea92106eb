"""OpenAI Whisper's two tiktoken encodings, defined as ``whisper/tokenizer.py`` (openai-whisper 20250625) builds them.

Whisper's ``get_encoding(name, num_languages=99)`` reads ``assets/<name>.tiktoken`` and adds, after the ranks,
``<|endoftext|>``, ``<|startoftranscript|>``, one ``<|xx|>`` per language, the task tokens, ``<|notimestamps|>``
and 1,501 timestamps ``<|0.00|>`` ... ``<|30.00|>``. Its pattern is GPT-2's. tests/test_whisper_llama_j2.py loads
the package's own ``tokenizer.py`` from the verified cache and checks that these definitions equal its output.

>>> specials = whisper_special_tokens(50257)
>>> specials["<|endoftext|>"], specials["<|startoftranscript|>"], specials["<|en|>"], specials["<|30.00|>"]
(50257, 50258, 50259, 51864)
"""

from __future__ import annotations

#: Whisper's split pattern (GPT-2's), as ``get_encoding`` passes it.
WHISPER_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

#: Whisper's language codes in its token order (``LANGUAGES`` of tokenizer.py); models use the first 99 or 100.
WHISPER_LANGUAGES = (
    "en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th ur hr bg lt la mi ml "
    "cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr pa si km sn yo so af oc ka be tg sd gu am "
    "yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt haw ln ha ba jw su yue"
).split()

#: Catalogue id -> the ``whisper/assets`` file its ranks come from. Both use get_encoding's default of 99
#: languages (tiny ... large-v2); large-v3 and turbo pass 100, adding <|yue|> before the task tokens.
WHISPER_ENCODINGS = {"whisper-multilingual": "multilingual", "whisper-gpt2": "gpt2"}
NUM_LANGUAGES = 99


def whisper_special_tokens(n_ranks: int, *, num_languages: int = NUM_LANGUAGES) -> dict[str, int]:
    """Whisper's special tokens and their ids, numbered from ``n_ranks`` (the size of the ranks file)."""
    names = [
        "<|endoftext|>",
        "<|startoftranscript|>",
        *[f"<|{lang}|>" for lang in WHISPER_LANGUAGES[:num_languages]],
        "<|translate|>",
        "<|transcribe|>",
        "<|startoflm|>",
        "<|startofprev|>",
        "<|nospeech|>",
        "<|notimestamps|>",
        *[f"<|{i * 0.02:.2f}|>" for i in range(1501)],
    ]
    return {name: n_ranks + k for k, name in enumerate(names)}


def whisper_definition(tokenizer_id: str, ranks: dict[bytes, int]) -> dict:
    """Keyword arguments of ``tiktoken.Encoding`` for Whisper's encoding over ``ranks`` (verified by the caller)."""
    specials = whisper_special_tokens(len(ranks))
    return {"name": tokenizer_id, "explicit_n_vocab": len(ranks) + len(specials), "pat_str": WHISPER_PATTERN,
            "mergeable_ranks": ranks, "special_tokens": specials}
