"""Interface languages (issue 17): catalogs complete, no untranslated label in the pages, CLDR names and numbers,
which language a visit gets."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from analysis import i18n
from analysis.i18n import (
    LANGUAGES,
    format_number,
    format_percent,
    gettext,
    language_name,
    native_name,
    ngettext,
    normalize_language,
    resolve_language,
    script_display_name,
    set_language,
)
from analysis.i18n_catalogs import REVIEW_NOTICE, extract, problems, read_catalog

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]


@pytest.fixture(autouse=True)
def _english_after():
    yield
    set_language("en")


# ---------------------------------------------------------------- catalogs


def test_every_msgid_in_the_source_has_a_translation_in_every_catalog() -> None:
    """Fails on a string wrapped in _() (here or by anyone later) that a catalog lacks or leaves empty/fuzzy."""
    found = problems()
    assert not found, (
        f"{len(found)} interface string(s) without a translation:\n  " + "\n  ".join(found) +
        "\n\nTo fix: `.venv/bin/python -m analysis.i18n_catalogs update` adds the new msgids to every catalog in "
        "analysis/locales/<lang>/LC_MESSAGES/atlas.po with an empty msgstr; write each translation there (keep the "
        "{placeholders}), then `.venv/bin/python -m analysis.i18n_catalogs check` (see docs/i18n.md).")


def test_extraction_sees_the_pages_strings() -> None:
    """The extractor reads app/ and analysis/, N_ marks included (a broken method map would pass the test above)."""
    msgs = extract()
    where = {loc[0] for m in msgs.values() for loc in m.locations}
    assert {"Playground", "Type or paste", "Unknown tokenizer", "Language", "Text"} <= set(msgs)
    assert {"app/streamlit_app.py", "app/views/playground.py", "analysis/errors.py"} <= where


@pytest.mark.parametrize("lang", TRANSLATED)
def test_each_catalog_is_marked_as_a_draft_for_review(lang: str) -> None:
    cat = read_catalog(lang)
    assert REVIEW_NOTICE in cat.header_comment
    assert str(cat.locale) == lang and cat.domain == "atlas"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_placeholders_survive_translation(lang: str) -> None:
    """A translation that drops or renames a {placeholder} would raise KeyError (or lose a number) when shown."""
    import string

    def fields(s: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(s) if f is not None}

    bad = []
    for m in read_catalog(lang):
        if not m.id:
            continue
        ids, strings = (m.id, m.string) if isinstance(m.id, tuple) else ((m.id,), (m.string,))
        if any(s and fields(s) != fields(ids[-1]) for s in strings):
            bad.append(m.id)
    assert bad == []


def test_a_missing_translation_falls_back_to_english(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    po = tmp_path / "fr" / "LC_MESSAGES" / "atlas.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Language: fr\\n"\n\nmsgid "Text"\nmsgstr "Texte"\n\nmsgid "Unit"\nmsgstr ""\n\n'
                  '#, fuzzy\nmsgid "Corpus"\nmsgstr "Corps"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    monkeypatch.setattr(i18n, "_loaded", {})
    set_language("fr")
    assert (gettext("Text"), gettext("Unit"), gettext("Corpus"), gettext("Not in the catalog")) == (
        "Texte", "Unit", "Corpus", "Not in the catalog")


@pytest.mark.parametrize(("lang", "want"), [("en", "Playground"), ("es", "Zona de pruebas"), ("fr", "Bac à sable"),
                                            ("hi", "प्लेग्राउंड"), ("ar", "ساحة التجربة"), ("zh_Hans", "试验场")])
def test_gettext_in_each_language(lang: str, want: str) -> None:
    set_language(lang)
    assert gettext("Playground") == want


# ---------------------------------------------------------------- CLDR names and numbers


@pytest.mark.parametrize(("lang", "hindi", "chinese"), [
    ("en", "Hindi", "Chinese, Mandarin (Simplified)"),  # English keeps the corpus's own names
    ("es", "hindi", "chino (simplificado)"),
    ("fr", "hindi", "chinois (simplifié)"),
    ("hi", "हिन्दी", "चीनी (सरलीकृत)"),
    ("ar", "الهندية", "الصينية (المبسطة)"),
    ("zh_Hans", "印地语", "中文 (简体)"),
])
def test_language_names_in_the_interface_language(lang: str, hindi: str, chinese: str) -> None:
    assert language_name("hin", english="Hindi", lang=lang) == hindi
    assert language_name("cmn_hans", english="Chinese, Mandarin (Simplified)", lang=lang) == chinese


def test_language_without_a_cldr_name_keeps_the_corpus_name() -> None:
    assert language_name("qqq", english="Made-up", lang="ar") == "Made-up"
    assert language_name("qqq", lang="fr") == "qqq"


def test_script_names_and_picker_names() -> None:
    assert script_display_name("Deva", lang="fr") == "dévanagari"
    assert script_display_name("Deva", english="Devanagari", lang="en") == "Devanagari"
    assert [native_name(x) for x in LANGUAGES] == ["English", "español", "français", "हिन्दी", "العربية", "中文 (简体)"]


@pytest.mark.parametrize(("lang", "whole", "fixed"), [
    ("en", "1,234,567", "1,234,567.50"),
    ("es", "1.234.567", "1.234.567,50"),
    ("fr", "1\u202f234\u202f567", "1\u202f234\u202f567,50"),  # narrow no-break space, decimal comma
    ("hi", "12,34,567", "12,34,567.50"),  # lakh grouping
    ("ar", "1,234,567", "1,234,567.50"),  # CLDR's default numbering for ar is Latin digits
    ("zh_Hans", "1,234,567", "1,234,567.50"),
])
def test_numbers_for_the_locale(lang: str, whole: str, fixed: str) -> None:
    assert format_number(1234567, lang=lang) == whole
    assert format_number(1234567.5, decimals=2, lang=lang) == fixed


def test_percent_and_sign_for_the_locale() -> None:
    assert format_percent(0.25, lang="fr") == "25\xa0%"  # no-break space before %
    assert format_percent(0.25, lang="en") == "25%"
    assert format_number(-1.5, decimals=1, lang="fr") == "-1,5"
    assert format_number(float("nan"), lang="fr") == "—"


# ---------------------------------------------------------------- which language a visit gets


@pytest.mark.parametrize(("url", "browser", "want"), [
    ("ar", "fr-FR", "ar"),  # the link wins over the browser
    (None, "fr-FR", "fr"),
    ("zh_Hans", None, "zh_Hans"),
    ("zh-CN", "en-US", "zh_Hans"),
    ("hin", "es-MX", "es"),  # a corpus language code (old Playground links) is not an interface language
    ("de", "de-DE", "en"),  # neither is offered: English
    (None, None, "en"),
])
def test_language_precedence(url: str | None, browser: str | None, want: str) -> None:
    assert resolve_language(url, browser) == want


def test_normalize_language() -> None:
    assert [normalize_language(t) for t in ("fr-CA", "es_419", "zh-Hant-TW", "AR", "hi-IN", "eng", "")] == [
        "fr", "es", "zh_Hans", "ar", "hi", None, None]


@pytest.mark.parametrize(("lang", "forms"), [
    ("en", ["0 rows", "1 row", "2 rows", "5 rows", "11 rows", "100 rows"]),
    ("fr", ["0 ligne", "1 ligne", "2 lignes", "5 lignes", "11 lignes", "100 lignes"]),  # French 0 is singular
    ("hi", ["0 पंक्ति", "1 पंक्ति", "2 पंक्तियाँ", "5 पंक्तियाँ", "11 पंक्तियाँ", "100 पंक्तियाँ"]),
    ("ar", ["0 صفوف", "1 صف", "2 صفّان", "5 صفوف", "11 صفًا", "100 صف"]),  # six forms
])
def test_plural_forms(lang: str, forms: list[str]) -> None:
    set_language(lang)
    got = [ngettext("{n} row in {ms} ms", "{n} rows in {ms} ms", n).format(n=n, ms=7) for n in (0, 1, 2, 5, 11, 100)]
    assert [g.split(" ", 2)[0] + " " + g.split(" ", 2)[1].rstrip("،,") for g in got] == forms


def test_set_language_refuses_what_it_does_not_offer() -> None:
    set_language("de")
    assert i18n.current_language() == "en"


def test_catalog_is_reread_after_it_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    po = tmp_path / "es" / "LC_MESSAGES" / "atlas.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Language: es\\n"\n\nmsgid "Text"\nmsgstr "Texto"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    monkeypatch.setattr(i18n, "_loaded", {})
    set_language("es")
    assert gettext("Text") == "Texto"
    po.write_text('msgid ""\nmsgstr ""\n"Language: es\\n"\n\nmsgid "Text"\nmsgstr "El texto"\n', encoding="utf-8")
    os.utime(po, ns=(po.stat().st_atime_ns, po.stat().st_mtime_ns + 10**9))
    assert gettext("Text") == "El texto"


# ---------------------------------------------------------------- no untranslated label in the pages

#: Streamlit calls whose first argument (or label=/help=/placeholder=) a visitor reads.
TEXT_CALLS = {"title", "header", "subheader", "caption", "markdown", "text", "info", "warning", "error", "success",
              "button", "download_button", "link_button", "form_submit_button", "page_link", "selectbox",
              "multiselect", "radio", "toggle", "checkbox", "text_input", "text_area", "number_input", "slider",
              "select_slider", "file_uploader", "expander", "popover", "metric", "date_input", "spinner",
              "chat_input", "status", "progress",
              # st.column_config: a column's header and its help
              "Column", "TextColumn", "NumberColumn", "ProgressColumn", "CheckboxColumn", "SelectboxColumn",
              "LinkColumn", "ListColumn", "DatetimeColumn", "DateColumn", "TimeColumn", "ImageColumn",
              "LineChartColumn", "BarChartColumn", "AreaChartColumn"}
TEXT_KWARGS = {"label", "help", "placeholder", "text"}
#: Pages still being wrapped by another branch: listed here until it merges; the test fails once one is clean,
#: so the exemption is removed then.
PENDING: set[str] = set()


def _literal_text(node: ast.AST) -> str | None:
    """The English words of a string literal, an f-string's literal parts, or a concatenation of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return "".join(t for t in (_literal_text(node.left), _literal_text(node.right)) if t)
    return None


def _has_words(text: str | None) -> bool:
    import re

    return bool(text) and re.search(r"[A-Za-z]{2,}", text) is not None


def untranslated_labels(source: str, filename: str) -> list[str]:
    """``file:line call(...)`` for each visitor-facing string literal passed to a Streamlit call.

    A call whose first line carries ``# i18n-exempt: why`` is skipped (a paper's title, a table's name: data).
    """
    out = []
    lines = source.splitlines()
    tree = ast.parse(source, filename)
    # The page's own helpers that pass a `label` (or title, help) on to Streamlit: download("Sizes as CSV", ...).
    helpers = {f.name: [k for k, a in enumerate(f.args.args) if a.arg in TEXT_KWARGS | {"title", "caption"}]
               for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name) and helpers.get(node.func.id):
            args = [node.args[k] for k in helpers[node.func.id] if k < len(node.args)]
            args += [k.value for k in node.keywords if k.arg in TEXT_KWARGS | {"title", "caption"}]
            name = node.func.id
        elif isinstance(node.func, ast.Attribute) and node.func.attr in TEXT_CALLS:
            if "log" in ast.unparse(node.func.value).lower():  # logging.getLogger(...).error(...): the server's log
                continue
            # page_link's first argument is the page (a path); its label is label=
            args = [node.args[0]] if node.args and node.func.attr != "page_link" else []
            args += [k.value for k in node.keywords if k.arg in TEXT_KWARGS]
            name = node.func.attr
        else:
            continue
        for a in args:
            text = _literal_text(a)
            if _has_words(text) and "# i18n-exempt:" not in lines[node.lineno - 1]:
                out.append(f"{filename}:{a.lineno} {name}({text[:60]!r})")
    return out


def test_the_checker_catches_literals_and_passes_translated_ones() -> None:
    src = ('st.title("Playground")\ncols[0].radio("View", x, help="Pick one")\nst.caption(f"{n} tokens")\n'
           'st.warning("Note: " + x)\nst.title(_("Playground"))\nst.caption(_("{n} tokens").format(n=n))\n'
           'st.markdown(f"**{name}**")\nst.selectbox(_("Unit"), units, help=None)\n'
           'def download(label, data):\n    st.download_button(label, data)\ndownload("Sizes as CSV", x)\n'
           'download(_("Sizes as CSV"), x)\n')
    assert untranslated_labels(src, "x.py") == [
        "x.py:1 title('Playground')", "x.py:2 radio('View')", "x.py:2 radio('Pick one')",
        "x.py:3 caption(' tokens')", "x.py:4 warning('Note: ')", "x.py:11 download('Sizes as CSV')"]


def test_no_untranslated_label_in_the_pages() -> None:
    found, pending_clean = [], []
    for path in sorted((ROOT / "app").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        hits = untranslated_labels(path.read_text(encoding="utf-8"), rel)
        if rel in PENDING:
            if not hits:
                pending_clean.append(rel)
            continue
        found += hits
    assert not found, ("Interface strings not passed through gettext (wrap each in _(...), with .format() for "
                       "values; then `python -m analysis.i18n_catalogs update` and translate, see docs/i18n.md):\n  "
                       + "\n  ".join(found))
    assert not pending_clean, f"{pending_clean} now translate(s) every label: remove them from PENDING in this test"


# ---------------------------------------------------------------- the app: ?lang=, the picker, permalinks


@pytest.fixture
def _app_store(app_db: Path, monkeypatch: pytest.MonkeyPatch):
    from tests.app_harness import clear_app_caches

    monkeypatch.setenv("ATLAS_DB", str(app_db))
    clear_app_caches()
    yield


def _app(**params: str):
    from streamlit.testing.v1 import AppTest

    from tests.app_harness import APP

    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def test_app_link_language_then_picker(_app_store) -> None:
    at = _app(lang="fr", tokenizers="codepoints", text="abc")
    assert not at.exception
    assert at.title[0].value == "Bac à sable"
    assert at.text_area(key="pg_text").label == "Texte"
    assert at.selectbox(key="ui_lang").value == "fr" and at.selectbox(key="ui_lang").label == "Langue"
    assert at.query_params["lang"] == "fr" and at.query_params["text"] == "abc"  # the permalink keeps both
    # AppTest writes the widgets' states back in this thread, through each widget's format_func (here gettext):
    # this thread must be in the page's language, as the browser's page is.
    set_language("fr")
    at.selectbox(key="ui_lang").set_value("hi").run()
    assert at.title[0].value == "प्लेग्राउंड" and at.query_params["lang"] == "hi"
    assert "**codepoints** · 3 टोकन" in [m.value for m in at.markdown]


def test_app_english_leaves_the_url_alone_and_a_sample_link_keeps_its_language(_app_store) -> None:
    at = _app(tokenizers="codepoints", text="abc")
    assert at.title[0].value == "Playground" and "lang" not in at.query_params
    # An older sample link: lang= is the sample's corpus language, not the interface's.
    at = _app(tokenizers="codepoints", corpus="udhr", lang="amh", unit="(all)")
    assert not at.exception and at.title[0].value == "Playground"
    assert at.selectbox(key="pg_sample_lang").value == "amh"
    assert at.query_params["sample_lang"] == "amh" and "lang" not in at.query_params
    # ... the same sample in Spanish: both travel, under their own names.
    at = _app(tokenizers="codepoints", corpus="udhr", sample_lang="amh", unit="(all)", lang="es")
    assert at.title[0].value == "Zona de pruebas"
    assert (at.query_params["sample_lang"], at.query_params["lang"]) == ("amh", "es")
    assert at.selectbox(key="pg_sample_lang").format_func("amh") == "amárico (amh)"  # CLDR's name, in Spanish


def test_charts_mirror_for_arabic_only() -> None:
    import plotly.graph_objects as go

    from app.language import interface_lang_in, mirror

    fig = mirror(go.Figure(go.Bar(x=["a", "b"], y=[1, 2])), lang="ar")
    assert (fig.layout.xaxis.autorange, fig.layout.yaxis.side, fig.layout.legend.xanchor) == ("reversed", "right", "left")
    plain = mirror(go.Figure(go.Bar(x=["a", "b"], y=[1, 2])), lang="fr")
    assert (plain.layout.xaxis.autorange, plain.layout.yaxis.side) == (None, None)
    assert [interface_lang_in(p) for p in ({"lang": "ar"}, {"lang": "hin"}, {"lang": "zh-CN"}, {})] == [
        "ar", None, "zh_Hans", None]


def test_token_links_carry_the_interface_language() -> None:
    from analysis.render import token_href

    assert token_href("o200k_base", 290) == "token?tokenizer=o200k_base&id=290"
    set_language("zh_Hans")
    assert token_href("o200k_base", 290) == "token?tokenizer=o200k_base&id=290&lang=zh_Hans"


def test_every_multiselect_names_its_placeholder() -> None:
    """Streamlit's own placeholder ("Choose options") is English whatever the interface language."""
    missing = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "multiselect"
                    and not any(k.arg == "placeholder" for k in node.keywords)):
                missing.append(f"{path.relative_to(ROOT).as_posix()}:{node.lineno}")
    assert not missing, f"multiselect without placeholder=_(\"Choose options\"): {missing}"


def test_the_explorer_tab_names_are_msgids() -> None:
    """The explorer's tabs are labelled ``_(name)`` over the keys links use (?tab=Dots): each key is marked N_ so
    that it is extracted, and each is translated in every catalog."""
    tree = ast.parse((ROOT / "app" / "views" / "premiums.py").read_text(encoding="utf-8"))
    dicts = [n for n in ast.walk(tree) if isinstance(n, ast.Dict) and any(
        isinstance(k, ast.Call) and getattr(k.func, "id", "") == "N_" for k in n.keys if k is not None)]
    names = [k.args[0].value for d in dicts for k in d.keys if k is not None]
    assert names == ["Dots", "Bars", "Heatmap", "Map", "By script", "Per unit", "Fairness", "Table", "Cost",
                     "Published vs ours"]
    assert all(isinstance(k, ast.Call) for d in dicts for k in d.keys if k is not None)
    try:
        set_language("fr")
        assert [gettext(n) for n in names] == ["Points", "Barres", "Carte de chaleur", "Carte", "Par écriture",
                                               "Par unité", "Équité", "Tableau", "Coût", "Publié ou nos valeurs"]
        for lang in ("es", "hi", "ar", "zh_Hans"):
            set_language(lang)
            assert all(gettext(n) != n for n in names), lang
    finally:
        set_language("en")
