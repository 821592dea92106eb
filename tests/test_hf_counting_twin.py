"""The counting twin of a Hugging Face tokenizer (analysis/tokenizers/hf_backend.py ``_counting_twin``): the ids of many
texts with a plain normalizer (``Prepend``, ``Replace`` of a fixed string) applied in Python instead of by
``tokenizers``, which must be exactly the full pipeline's ids, for the catalogue's Llama 2 and Mistral v1 files (on
hand-picked texts and on every UDHR unit) and for a small tokenizer built here whose normalizer empties a text before
its prefix would be added. Tokenizers the twin would not give the same ids for get none.
"""

from __future__ import annotations

import numpy as np
import pytest
from tokenizers import AddedToken, Tokenizer, normalizers
from tokenizers.models import BPE

from analysis.tokenizers import get_tokenizer
from analysis.tokenizers.hf_backend import HFTokenizersTokenizer, apply_plain_steps, plain_normalizer_steps

LLAMA_NORMALIZER = {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
                                                         {"type": "Replace", "pattern": {"String": " "},
                                                          "content": "\u2581"}]}
#: Texts where a normalizer, an added token or the dummy prefix could make a difference.
EDGE_TEXTS = ["", " ", "  ", "a  b", " lead", "trail ", "\u2581x", "<s>x</s> <unk>", "tab\tnew\nline\r\n",
              "e\u0301", "\U0001F600 \u65e5\u672c\u8a9e", "\u00a0nbsp\u3000", "Hello world"]


def test_plain_steps_of_llamas_normalizer() -> None:
    assert plain_normalizer_steps(LLAMA_NORMALIZER) == [("prepend", "\u2581", ""), ("replace", " ", "\u2581")]
    assert plain_normalizer_steps({"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}) == [
        ("replace", " ", "\u2581")]


@pytest.mark.parametrize("state", [
    None,
    {"type": "NFC"},
    {"type": "Sequence", "normalizers": []},
    {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"}, {"type": "Lowercase"}]},
    {"type": "Replace", "pattern": {"Regex": " +"}, "content": "\u2581"},
    {"type": "Replace", "pattern": {"String": ""}, "content": "\u2581"},
    {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True, "strip_accents": None,
     "lowercase": True},
], ids=["none", "nfc", "empty-sequence", "with-lowercase", "regex-replace", "empty-pattern", "bert"])
def test_other_normalizers_are_not_plain(state: object) -> None:
    assert plain_normalizer_steps(state) is None


def test_plain_steps_by_hand() -> None:
    steps = plain_normalizer_steps(LLAMA_NORMALIZER)
    assert steps is not None
    assert [apply_plain_steps(steps, t) for t in ["a  b", "", " ", "\u2581x"]] == [
        "\u2581a\u2581\u2581b", "", "\u2581\u2581", "\u2581\u2581x"]
    # Replace first: a text the replace empties gets no prefix ("aa" -> "" -> ""), one it does not does ("ba").
    later = [("replace", "a", ""), ("prepend", "\u2581", "")]
    assert [apply_plain_steps(later, t) for t in ["aa", "ba", ""]] == ["", "\u2581b", ""]


@pytest.mark.parametrize("tokenizer_id", ["llama2", "mistral-v1-hf"])
def test_twin_ids_equal_the_pipelines_on_edge_texts(tokenizer_id: str) -> None:
    tok = get_tokenizer(tokenizer_id)
    assert tok._counting_twin is not None
    full = [e.ids for e in tok.hf.encode_batch_fast(EDGE_TEXTS, add_special_tokens=False)]
    counts, ids = tok._counts_and_ids(EDGE_TEXTS)
    assert counts.tolist() == [len(x) for x in full]
    assert ids.tolist() == [i for x in full for i in x]
    assert ids.dtype == np.int64


def test_llama2_twin_ids_by_hand() -> None:
    # Llama 2's vocabulary: "▁Hello" 15043, "▁world" 3186, "▁▁" 259; "a  b" is "▁a", "▁", "▁b" (263, 29871, 289);
    # typed "<s>" is plain text ("▁<" 529, "s" 29879, ">" 29958), never the control token 1.
    counts, ids = get_tokenizer("llama2")._counts_and_ids(["Hello world", "", " ", "a  b", "<s>"])
    assert counts.tolist() == [2, 0, 1, 3, 3]
    assert ids.tolist() == [15043, 3186, 259, 263, 29871, 289, 529, 29879, 29958]


@pytest.mark.parametrize("tokenizer_id", ["llama3", "bert-uncased", "gemma"])
def test_no_twin_where_it_could_differ(tokenizer_id: str) -> None:
    # Llama 3: no normalizer to take off; BERT: it lowercases and strips; Gemma: non-special added tokens (<unused0>,
    # ...), which tokenizers splits out of a text before normalizing.
    assert get_tokenizer(tokenizer_id)._counting_twin is None


def _tiny(normalizer: normalizers.Normalizer) -> Tokenizer:
    vocab = {"<unk>": 0, "\u2581": 1, "b": 2, " ": 3, "\u2581b": 4, "a": 5}
    tok = Tokenizer(BPE(vocab, [("\u2581", "b")], unk_token="<unk>"))
    tok.normalizer = normalizer
    return tok


def test_a_text_the_normalizer_empties_gets_no_prefix() -> None:
    hf = _tiny(normalizers.Sequence([normalizers.Replace("a", ""), normalizers.Prepend("\u2581")]))
    tok = HFTokenizersTokenizer("tiny", hf)
    assert tok._counting_twin is not None
    texts = ["aaa", "", "ba", "b a", "xb"]
    counts, ids = tok._counts_and_ids(texts)
    # "aaa" -> "" (no tokens); "ba" -> "▁b" (4); "b a" -> "▁b " (4, 3); "xb" -> "▁xb": "▁" (1), "x" unknown (0), "b" (2).
    assert counts.tolist() == [0, 0, 1, 2, 3]
    assert ids.tolist() == [4, 4, 3, 1, 0, 2]
    assert ids.tolist() == [i for e in hf.encode_batch_fast(texts, add_special_tokens=False) for i in e.ids]


def test_a_non_special_added_token_means_no_twin() -> None:
    hf = _tiny(normalizers.Prepend("\u2581"))
    hf.add_tokens([AddedToken("ab", special=False)])
    assert HFTokenizersTokenizer("tiny", hf)._counting_twin is None
    hf = _tiny(normalizers.Prepend("\u2581"))
    hf.add_special_tokens([AddedToken("ab", special=True)])  # plain text when typed: the twin still applies
    tok = HFTokenizersTokenizer("tiny", hf)
    assert tok._counting_twin is not None
    assert tok._counts_and_ids(["ab b"])[1].tolist() == [
        i for e in hf.encode_batch_fast(["ab b"], add_special_tokens=False) for i in e.ids]


@pytest.mark.slow
@pytest.mark.parametrize("tokenizer_id", ["llama2", "mistral-v1-hf"])
def test_twin_ids_equal_the_pipelines_on_the_udhr(udhr_texts: list[str], tokenizer_id: str) -> None:
    texts = udhr_texts
    tok = get_tokenizer(tokenizer_id)
    full = [e.ids for e in tok.hf.encode_batch_fast(texts, add_special_tokens=False)]
    counts, ids = tok._counts_and_ids(texts)
    assert len(texts) == 16_235
    assert counts.tolist() == [len(x) for x in full]
    assert np.array_equal(ids, np.fromiter((i for x in full for i in x), dtype=np.int64))
