"""One glossary per interface language (issue 17): the catalogs and the lessons say one thing for one concept."""

from __future__ import annotations

import tomllib

import pytest

from analysis.i18n import LANGUAGES
from analysis.i18n_catalogs import REVIEW_NOTICE, read_catalog
from analysis.i18n_glossary import (
    CONCEPTS,
    WORKSHOPS_DIR,
    Text,
    glossary_path,
    load_glossary,
    problems,
    text_problems,
)

TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]

#: The terms, as each glossary states them (a native reviewer who changes one changes it here too).
TERMS = {
    "es": ("token anómalo", "sobrecoste", "tokenizador"),
    "fr": ("token anomal", "surcoût", "tokeniseur"),
    "hi": ("ग्लिच टोकन", "प्रीमियम", "टोकनाइज़र"),
    "ar": ("رمز معطوب", "الكلفة الإضافية", "مُقطِّع"),
    "zh_Hans": ("故障词元", "溢价", "分词器"),
}


def test_every_catalog_and_lesson_uses_its_glossary() -> None:
    found = problems()
    assert not found, (f"{len(found)} text(s) break their language's glossary:\n  " + "\n  ".join(found) +
                       "\n\nWrite the glossary's term (analysis/locales/<lang>/glossary.toml) in the catalog or the "
                       "lesson; `.venv/bin/python -m analysis.i18n_glossary` lists them.")


@pytest.mark.parametrize("lang", TRANSLATED)
def test_each_language_has_a_draft_glossary_of_every_concept(lang: str) -> None:
    assert REVIEW_NOTICE in glossary_path(lang).read_text(encoding="utf-8")
    glossary = load_glossary(lang)
    assert set(glossary) == set(CONCEPTS)
    assert tuple(glossary[c].term for c in ("glitch_token", "token_premium", "tokenizer")) == TERMS[lang]
    for entry in glossary.values():
        assert entry.match.search(entry.term), f"{lang}: the term {entry.term!r} must match its own pattern"


@pytest.mark.parametrize(("lang", "navigation", "lesson"), [
    ("es", "Tokens anómalos", "Tokens anómalos (glitch tokens)"),
    ("fr", "Tokens anomaux", "Les tokens anomaux (glitch tokens)"),
    ("hi", "ग्लिच टोकन", "ग्लिच टोकन"),
    ("ar", "الرموز المعطوبة", "الرموز المعطوبة (glitch tokens)"),
    ("zh_Hans", "故障词元", "故障词元（glitch tokens）"),
])
def test_the_navigation_and_the_lesson_name_glitch_tokens_alike(lang: str, navigation: str, lesson: str) -> None:
    """The issue's example: the lessons said "tokens fantômes" while the navigation said "Tokens anomaux"."""
    assert read_catalog(lang).get("Glitch tokens").string == navigation
    with (WORKSHOPS_DIR / "glitch-tokens.toml").open("rb") as f:
        preset = tomllib.load(f)
    assert preset["title"][lang] == lesson


def test_the_check_catches_another_word_and_a_missing_term() -> None:
    assert text_problems("es", Text("x", "Your turn: hunt for glitch tokens",
                                    "Te toca: a la caza de tokens defectuosos")) == [
        "es: x: 'Your turn: hunt for glitch tokens' names glitch token but its translation does not say 'token "
        "anómalo': 'Te toca: a la caza de tokens defectuosos'",
        "es: x: 'defectuos' for glitch token: write 'token anómalo' instead ('Te toca: a la caza de tokens "
        "defectuosos')"]
    assert text_problems("zh_Hans", Text("x", "Token premium vs {reference}", "词元附加费")) == [
        "zh_Hans: x: 'Token premium vs {reference}' names token premium but its translation does not say '溢价': "
        "'词元附加费'",
        "zh_Hans: x: '附加费' for token premium: write '溢价' instead ('词元附加费')"]
    # Identifiers are not words: a column named `tokenizer` or a {tokenizer} placeholder names no concept.
    assert text_problems("fr", Text("x", "Add `--tokenizers {ids}` to {tokenizer}", "Ajoutez `--tokenizers {ids}`")) == []
    # Arabic attaches articles and prepositions to the term: "للكلفة الإضافية" (for the premium) still says it.
    assert text_problems("ar", Text("x", "premium 95% CI", "فترة ثقة 95% للكلفة الإضافية")) == []
