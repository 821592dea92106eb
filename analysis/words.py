"""Words for fertility and continued words: ICU word segmentation, and where it cannot be trusted.

Words are ICU's word-like segments (``BreakIterator.createWordInstance`` with the root locale): letters, numbers,
kana and ideographs; spaces, punctuation and emoji are not words. ICU segments Chinese, Japanese, Thai, Lao,
Khmer and Myanmar with dictionaries, so unspaced text in those scripts gets real words rather than one "word"
per line. For other scripts written without spaces between words, :func:`segmenter_coverage` says the word
count is not trustworthy, and why, so the value is withheld rather than silently wrong.

Example:
    >>> text = "It's 3.5 km."
    >>> [text[s:e] for s, e in words(text)]
    ["It's", '3.5', 'km']
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from itertools import pairwise

import icu
import numpy as np

from .errors import InputTextError

__all__ = [
    "DICTIONARY_SCRIPTS", "UNSPACED_SCRIPTS", "continued_words", "count_words", "segmenter_coverage", "word_bounds",
    "words",
]

# ICU rule statuses below this are UBRK_WORD_NONE (spaces, punctuation, symbols such as emoji); the word-like
# classes are NUMBER (100), LETTER (200), KANA (300) and IDEO (400).
_WORD_LIKE_MIN = icu.UWordBreak.NONE_LIMIT

#: Scripts ICU segments with a dictionary (ISO 15924). Han/Kana share ICU's CJ dictionary.
DICTIONARY_SCRIPTS: dict[str, str] = {
    "Hani": "Han", "Hans": "Han (Simplified)", "Hant": "Han (Traditional)", "Hira": "Hiragana",
    "Kana": "Katakana", "Hrkt": "Japanese syllabaries", "Jpan": "Japanese", "Thai": "Thai", "Laoo": "Lao",
    "Khmr": "Khmer", "Mymr": "Myanmar",
}

# Which languages a dictionary was built for, where it is one language's word list; other languages in the same
# script would be cut into words of the wrong language (ICU's Myanmar dictionary is Burmese, not Mon or Shan).
_DICTIONARY_LANGUAGES: dict[str, tuple[str, frozenset[str]]] = {
    "Thai": ("Thai", frozenset({"th", "tha"})),
    "Laoo": ("Lao", frozenset({"lo", "lao"})),
    "Khmr": ("Khmer", frozenset({"km", "khm"})),
    "Mymr": ("Burmese", frozenset({"my", "mya"})),
}

#: Scripts written without spaces between words, with no ICU dictionary: word counts are withheld.
#: (Checked on the UDHR texts: Tibetan and Dzongkha put a tsheg between syllables, so ICU yields syllables; the
#: Javanese, Tai Tham and Yi texts have about one space per 25 to 100 characters, between phrases.)
UNSPACED_SCRIPTS: dict[str, str] = {
    "Tibt": "it separates syllables with a tsheg, not words with spaces, so ICU's segments are syllables",
    "Java": "Javanese script is written without spaces between words",
    "Bali": "Balinese script is written without spaces between words",
    "Lana": "Tai Tham script is written without spaces between words",
    "Talu": "New Tai Lue script is written without spaces between words",
    "Bugi": "Buginese script is written without spaces between words",
    "Yiii": "Yi text puts spaces between phrases, not between words",
}

# Below this many separators per character the text is taken to be written without spaces between words.
_MIN_SEPARATORS_PER_40_CHARS = 1
_SEPARATORS = frozenset("\u1361")  # ETHIOPIC WORDSPACE (፡), used instead of a space in some Amharic texts
# The same characters as ``ch.isspace() or ch in _SEPARATORS`` (``\s`` of a str pattern is str.isspace), counted in C.
_SEPARATOR_RE = re.compile(r"[\s\u1361]")
# A character outside the BMP: ICU counts it as two UTF-16 units, Python as one character.
_ASTRAL_RE = re.compile("[\U00010000-\U0010FFFF]")


_ITERATORS = threading.local()


def _word_iterator() -> icu.BreakIterator:
    """This thread's ICU word iterator (making one costs as much as segmenting a sentence with it; an iterator is
    not safe to share between threads)."""
    it = getattr(_ITERATORS, "word", None)
    if it is None:
        it = _ITERATORS.word = icu.BreakIterator.createWordInstance(icu.Locale.getRoot())
    return it


def _utf16_to_str_index(text: str) -> np.ndarray | None:
    """Map ICU's UTF-16 offsets to Python ``str`` offsets; None when they coincide (all characters in the BMP)."""
    if not text or text.isascii() or _ASTRAL_RE.search(text) is None:  # a C scan (``max(text)`` compares in Python)
        return None
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    widths = 1 + (cps >= 0x10000)  # an astral character is a surrogate pair: two UTF-16 code units
    u16 = np.zeros(cps.size + 1, dtype=np.int64)
    np.cumsum(widths, out=u16[1:])
    inverse = np.full(int(u16[-1]) + 1, -1, dtype=np.int64)
    inverse[u16] = np.arange(cps.size + 1)
    return inverse


def words(text: str) -> list[tuple[int, int]]:
    """Word-like segments of ``text`` as ``(start, end)`` Python string offsets, in order.

    A segment is word-like when ICU's rule status for it is not "none" (it is a number, letters, kana or
    ideographs); spaces, punctuation and symbols such as emoji are skipped. ICU counts UTF-16 code units; the
    offsets returned are converted to ``str`` indices, so ``text[start:end]`` is the word even after an emoji.

    Raises:
        InputTextError: ``text`` is not a ``str``.

    >>> [("人人生而自由"[s:e]) for s, e in words("人人生而自由")]
    ['人', '人生', '而', '自由']
    >>> words("😀 ok")  # the emoji is one str character (two UTF-16 units) and not a word
    [(2, 4)]
    """
    flat = word_bounds(text)
    return list(zip(flat[0::2], flat[1::2], strict=True))


def word_bounds(text: str) -> list[int]:
    """:func:`words` flattened, ``[start0, end0, start1, end1, ...]``: what a corpus import stores, made without a
    tuple per word (an import segments about a million segments; see :mod:`analysis.store.spans`).

    Raises:
        InputTextError: ``text`` is not a ``str``.

    >>> word_bounds("It's 3.5 km."), word_bounds("")
    ([0, 4, 5, 8, 9, 11], [])
    """
    if not isinstance(text, str):
        raise InputTextError(f"Expected text (str), got {type(text).__name__}. Decode bytes first.")
    if not text:
        return []
    u = icu.UnicodeString(text)
    it = _word_iterator()
    it.setText(u)
    flat: list[int] = []
    extend, status = flat.extend, it.getRuleStatus  # bound once: the loop runs once per ICU segment
    start = it.first()
    for end in it:
        if status() >= _WORD_LIKE_MIN:
            extend((start, end))
        start = end
    inverse = _utf16_to_str_index(text)
    if inverse is not None:
        flat = inverse[flat].tolist() if flat else []
    return flat


def count_words(text: str) -> int:
    """Number of word-like ICU segments in ``text``.

    >>> count_words("Everyone has the right to life, liberty and security of person.")
    11
    """
    return len(words(text))


def _script_name(script: str) -> str:
    codes = icu.Script.getCode(script)
    if codes:
        return icu.Script(codes[0]).getName().replace("_", " ")
    return script


def _normalise_code(script: str | None) -> str | None:
    if not script:
        return None
    return script[:1].upper() + script[1:].lower()


def segmenter_coverage(text: str, script: str | None, *, lang: str | None = None) -> tuple[bool, str]:
    """Whether word counts of ``text`` (dominant script ``script``, ISO 15924) can be trusted, and why.

    In this order:

    1. A script ICU segments with a dictionary (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar): ok, unless
       ``lang`` (ISO 639-1/-3 or a BCP 47 tag) is given and the dictionary is another language's word list
       (Myanmar script for Mon or Shan, say): withheld.
    2. A script known to be written without spaces between words and without an ICU dictionary
       (:data:`UNSPACED_SCRIPTS`: Tibetan, Javanese, Balinese, Tai Tham, New Tai Lue, Buginese, Yi): withheld.
    3. Any other script: ok if the text has at least one space (or Ethiopic wordspace) per 40 characters;
       withheld if it has fewer, as text written without spaces (checked only on texts of 40+ characters).

    Returns:
        ``(ok, reason)``; the reason says why in words a page can show, also when ok.

    >>> segmenter_coverage("བོད་ཀྱི་སྐད་ཡིག", "Tibt")[0], segmenter_coverage("人人生而自由", "Hani")[0]
    (False, True)
    """
    code = _normalise_code(script)
    name = _script_name(code) if code else "unknown"
    if code in DICTIONARY_SCRIPTS:
        dictionary = _DICTIONARY_LANGUAGES.get(code)
        primary = lang.replace("_", "-").split("-")[0].lower() if lang else None
        if dictionary is not None and primary is not None and primary not in dictionary[1]:
            return False, (
                f"no word segmenter for {lang} in {name} script: ICU's {name} dictionary is a {dictionary[0]} word "
                f"list, so its segments would not be {lang} words"
            )
        return True, f"{name} script: ICU segments words with its dictionary"
    if code in UNSPACED_SCRIPTS:
        return False, f"no word segmenter for {name} script: ICU has no dictionary for it and {UNSPACED_SCRIPTS[code]}"
    n = len(text)
    separators = len(_SEPARATOR_RE.findall(text))
    if n >= 40 and separators * 40 < n * _MIN_SEPARATORS_PER_40_CHARS:
        return False, (
            f"no word segmenter for {name} script: ICU has no dictionary for it and the text has no spaces "
            f"between words ({separators} spaces in {n} characters)"
        )
    return True, f"{name} script: words are separated by spaces"


def continued_words(
    word_spans: Sequence[tuple[int, int]], token_starts: Sequence[int], token_ends: Sequence[int]
) -> int:
    """Number of words whose characters are covered by more than one token.

    A token overlaps a word when their character ranges intersect (``t_start < w_end and w_start < t_end``);
    zero-length tokens (e.g. an added BOS) are ignored. A token cut inside a character (byte pieces of one Han
    character) shares that character's span, so a one-character word split into byte pieces is continued.

    Token spans come in text order (starts and ends each non-decreasing, as every :class:`Encoding` has them) and
    words are sorted and disjoint, as :func:`words` returns them. One sweep: a pointer over the tokens that only
    moves forward past tokens ending at or before the current word; per word at most two overlapping tokens are
    looked at, so the work is O(n + m) for n words and m tokens.

    Raises:
        ValueError: token starts and ends differ in length, or spans out of text order.

    >>> # "unbelievable things": words [0, 12) and [13, 19); tokens "un" "believ" "able" " things"
    >>> continued_words([(0, 12), (13, 19)], [0, 2, 8, 12], [2, 8, 12, 19])
    1
    """
    if len(token_starts) != len(token_ends):
        raise ValueError(
            f"token_starts has {len(token_starts)} entries but token_ends has {len(token_ends)}; pass both "
            "columns of one encoding."
        )
    # Drop empty tokens first so that the inner loop only ever looks at tokens that can overlap a word.
    toks = [(s, e) for s, e in zip(token_starts, token_ends, strict=True) if e > s]
    for (s0, e0), (s1, e1) in pairwise(toks):
        if s1 < s0 or e1 < e0:
            raise ValueError("Token spans must be in text order (starts and ends non-decreasing).")
    m = len(toks)
    j = 0
    continued = 0
    prev_end = None
    for ws, we in word_spans:
        if prev_end is not None and ws < prev_end:
            raise ValueError("Word spans must be sorted and disjoint, as words() returns them.")
        prev_end = we
        if we <= ws:
            continue
        # Tokens ending at or before this word's start end before every later word too: skip them for good.
        while j < m and toks[j][1] <= ws:
            j += 1
        # toks[j] ends after ws (ends are non-decreasing, so do all later tokens); overlap needs start < we.
        if j + 1 < m and toks[j + 1][0] < we:
            continued += 1
    return continued
