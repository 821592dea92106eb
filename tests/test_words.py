"""ICU word segmentation, where it is withheld, and continued words, on hand-checked examples.

Segmentations are ICU 77's (pinned through pyicu-wheels); a change here means ICU's rules or dictionaries moved.
"""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.errors import InputTextError
from analysis.words import continued_words, count_words, segmenter_coverage, words


def _segments(text: str) -> list[str]:
    return [text[s:e] for s, e in words(text)]


def test_english_words_skip_spaces_and_punctuation_and_keep_numbers_whole() -> None:
    assert words("It's 3.5 km.") == [(0, 4), (5, 8), (9, 11)]
    assert _segments("It's 3.5 km.") == ["It's", "3.5", "km"]
    assert count_words("Everyone has the right to life, liberty and security of person.") == 11


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("人人生而自由", ["人", "人生", "而", "自由"]),
        ("มนุษย์ทั้งหลายเกิดมามีอิสระ", ["มนุษย์", "ทั้ง", "หลาย", "เกิด", "มา", "มี", "อิสระ"]),
        ("私は学生です。", ["私", "は", "学生", "です"]),
        ("東京に行きます", ["東京", "に", "行き", "ます"]),
        ("ລັດຖະບານລາວ", ["ລັດຖະບານ", "ລາວ"]),
        ("ព្រះរាជាណាចក្រកម្ពុជា", ["ព្រះរាជាណាចក្រ", "កម្ពុជា"]),
    ],
    ids=["chinese", "thai", "japanese", "japanese-2", "lao", "khmer"],
)
def test_unspaced_scripts_with_icu_dictionaries_are_segmented_into_words(text, expected) -> None:
    assert _segments(text) == expected


def test_offsets_are_str_indices_after_emoji_and_astral_han() -> None:
    # 😀 (U+1F600) and 𠀀 𠀁 (CJK Extension B, U+20000/U+20001) are two UTF-16 units each but one str character.
    text = "a😀b 𠀀𠀁 x"
    assert words(text) == [(0, 1), (2, 3), (4, 5), (5, 6), (7, 8)]
    assert _segments(text) == ["a", "b", "𠀀", "𠀁", "x"]  # the emoji is not a word


def test_empty_and_wordless_text() -> None:
    assert words("") == []
    assert words(" .,;!? 😀 ") == []
    assert count_words("") == 0


def test_words_rejects_bytes() -> None:
    with pytest.raises(InputTextError, match="Decode bytes first"):
        words(b"hello")  # type: ignore[arg-type]


@given(st.text(max_size=40))
def test_word_spans_are_ordered_disjoint_and_non_empty(text) -> None:
    spans = words(text)
    assert all(0 <= s < e <= len(text) for s, e in spans)
    assert all(e0 <= s1 for (_, e0), (s1, _) in pairwise(spans))
    assert all(not text[s:e].isspace() for s, e in spans)


# ------------------------------------------------------------------------------------------------ coverage


def test_tibetan_is_withheld_with_the_reason() -> None:
    ok, reason = segmenter_coverage("འགྲོ་བ་མིའི་རིགས་རྒྱུད་ཡོངས་ལ་སྐྱེས་ཙམ་ཉིད་ནས་ཆེ་མཐོངས་དང༌། ཐོབ་ཐང་གི་", "Tibt")
    assert ok is False
    assert reason.startswith("no word segmenter for Tibetan script: ICU has no dictionary for it")
    assert "syllables" in reason


@pytest.mark.parametrize(("script", "name"), [("Java", "Javanese"), ("Bali", "Balinese"), ("Yiii", "Yi"),
                                               ("Lana", "Tai Tham")])
def test_other_unspaced_scripts_without_a_dictionary_are_withheld(script, name) -> None:
    ok, reason = segmenter_coverage("ꦱꦧꦼꦤ꧀ꦮꦺꦴꦁꦏꦭꦲꦶꦂꦫꦏꦺ", script)
    assert ok is False
    assert f"for {name} script" in reason


@pytest.mark.parametrize("script", ["Hani", "Hans", "Jpan", "Hira", "Thai", "Laoo", "Khmr", "Mymr"])
def test_dictionary_scripts_are_covered(script) -> None:
    text = "人人生而自由，在尊严和权利上一律平等。他们赋有理性和良心，并应以兄弟关系的精神相对待。"
    ok, reason = segmenter_coverage(text, script)
    assert ok is True
    assert "dictionary" in reason


def test_a_dictionary_for_another_language_is_withheld_when_the_language_is_known() -> None:
    ok, reason = segmenter_coverage("text", "Mymr", lang="mnw")
    assert ok is False
    assert "Burmese word list" in reason
    assert segmenter_coverage("text", "Mymr", lang="my-MM")[0] is True
    assert segmenter_coverage("text", "Thai", lang="tha")[0] is True


def test_spaced_scripts_are_covered() -> None:
    assert segmenter_coverage("Everyone has the right to life, liberty and security of person.", "Latn") == (
        True, "Latin script: words are separated by spaces")
    assert segmenter_coverage("सभी मनुष्यों को गौरव और अधिकारों के मामले में जन्मजात स्वतन्त्रता", "Deva")[0] is True
    # Vai is a syllabary, but its UDHR text puts spaces between words.
    assert segmenter_coverage("ꕉꕜꕮ ꔔꘋ ꖸ ꔰ ꗋꘋ ꕮꕨ ꔔꘋ ꖸ ꕎ ꕉꖸꕊ ꕴꖃ ꕃꔤꘂ ꗱ, ꕉꖷ ꗪꗡ ꔻꔤ ꗏꗒꗡ ꕎ ꗪ ꕉꖸꕊ", "Vaii")[0] is True


def test_the_space_heuristic_catches_an_unlisted_unspaced_script() -> None:
    text = "ꨀꨇꨘꨓꨚꨣꨆꨗꨧꨫꨮ" * 5  # 55 Cham characters, no space
    ok, reason = segmenter_coverage(text, "Cham")
    assert ok is False
    assert reason == (
        "no word segmenter for Cham script: ICU has no dictionary for it and the text has no spaces between words "
        "(0 spaces in 55 characters)"
    )
    assert segmenter_coverage("ꨀꨇꨘꨓꨚ", "Cham")[0] is True  # too short to judge
    # Amharic texts may separate words with the Ethiopic wordspace ፡ instead of a space.
    assert segmenter_coverage("የሰው፡ልጅ፡ሁሉ፡ሲወለድ፡ነጻና፡በክብርና፡በመብትም፡እኩልነት፡ያለው፡ነው።፡የተፈጥሮ፡ማስተዋልና፡ሕሊና", "Ethi")[0] is True


# ------------------------------------------------------------------------------------------------ continued words


def test_continued_words_on_a_hand_example() -> None:
    # text = "人 unbelievable, ok"; words 人 [0,1), unbelievable [2,14), ok [16,18).
    word_spans = [(0, 1), (2, 14), (16, 18)]
    # Tokens: an empty BOS at 0 (ignored), three byte-fallback pieces of 人 sharing its span, " un", "believ",
    # "able", ",", " ok".
    starts = [0, 0, 0, 0, 1, 4, 10, 14, 15]
    ends = [0, 1, 1, 1, 4, 10, 14, 15, 18]
    assert continued_words(word_spans, starts, ends) == 2  # 人 (3 pieces) and unbelievable (3 tokens); not "ok"


def test_one_token_over_several_words_continues_none_of_them() -> None:
    # "New York" as one token covering both words: each word is covered by exactly one token.
    assert continued_words([(0, 3), (4, 8)], [0], [8]) == 0
    # A token reaching into the next word makes that word continued: "ab cd" tokens "ab c" + "d".
    assert continued_words([(0, 2), (3, 5)], [0, 4], [4, 5]) == 1


def test_continued_words_rejects_out_of_order_input() -> None:
    with pytest.raises(ValueError, match="text order"):
        continued_words([(0, 2)], [2, 0], [3, 1])
    with pytest.raises(ValueError, match="sorted and disjoint"):
        continued_words([(3, 5), (0, 2)], [0], [5])
    with pytest.raises(ValueError, match="both columns"):
        continued_words([(0, 2)], [0, 1], [1])


def _brute_force(word_spans, starts, ends) -> int:
    return sum(
        1 for ws, we in word_spans
        if sum(1 for s, e in zip(starts, ends, strict=True) if e > s and s < we and ws < e) > 1
    )


@given(st.lists(st.integers(0, 3), max_size=30), st.lists(st.integers(0, 4), max_size=30),
       st.lists(st.booleans(), max_size=30))
def test_continued_words_equals_the_brute_force_count(token_lengths, gaps, shared) -> None:
    # Tokens tile a text; some share their first character with the previous token (a split character).
    starts, ends, pos = [], [], 0
    for i, n in enumerate(token_lengths):
        s = pos - 1 if shared[i:i + 1] == [True] and pos > 0 and n > 0 else pos
        starts.append(s)
        ends.append(max(s + n, pos) if n else s)
        pos = ends[-1]
    word_spans, p = [], 0
    for g in gaps:
        if g:
            word_spans.append((p, p + g))
        p += g + 1
    assert continued_words(word_spans, starts, ends) == _brute_force(word_spans, starts, ends)
