"""Lessons (issue 17): loading and checking presets, the two shipped lessons, and stepping through one in the app."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis import get_tokenizer
from analysis.corpus.udhr import load_udhr
from analysis.i18n import LANGUAGES, set_language
from analysis.workshops import WorkshopError, available_workshops, load_workshop, pick
from app.lesson import step_from_url
from tests.app_harness import APP, clear_app_caches

MAGIKARP = Path(__file__).resolve().parent.parent / "assets" / "published" / "magikarp" / "tokens.csv"
LESSONS = ["glitch-tokens", "why-cost"]


@pytest.fixture
def language():
    """Set the interface language for one test, English again afterwards."""
    yield set_language
    set_language("en")


# ------------------------------------------------------------------ the shipped lessons


def test_shipped_presets() -> None:
    assert available_workshops() == ["glitch-tokens", "intro", "why-cost"]
    assert [load_workshop(n).is_lesson for n in available_workshops()] == [True, False, True]
    assert [len(load_workshop(n).steps) for n in LESSONS] == [4, 5]


@pytest.mark.parametrize("name", LESSONS)
def test_every_field_in_all_six_languages_and_marked_for_review(name: str) -> None:
    w = load_workshop(name)
    assert w.review_languages == ("es", "fr", "hi", "ar", "zh_Hans")
    assert set(w.titles) == set(w.descriptions) == set(LANGUAGES)
    for k, step in enumerate(w.steps, start=1):
        fields = [step.titles, step.questions, step.notes] + ([step.link.labels] if step.link else [])
        for f in fields:
            assert set(f) == set(LANGUAGES), (name, k, f)
        for lang in LANGUAGES:  # every text resolves, from the verified UDHR where it is a reference
            assert step.text(lang).strip()


def test_why_cost_texts_are_the_udhr_articles() -> None:
    udhr = load_udhr()
    w = load_workshop("why-cost")
    assert [s.udhr_ref("en") for s in w.steps] == ["eng:1", "hin:1", "amh:1", "eng:1", "cmn_hans:1"]
    assert [w.steps[3].udhr_ref(lang) for lang in LANGUAGES] == ["eng:1", "spa:1", "fra:1", "hin:1", "arb:1",
                                                                 "cmn_hans:1"]
    assert w.steps[3].text("es") == udhr.texts("spa")["1"]
    assert w.steps[1].text("ar") == udhr.texts("hin")["1"]  # the step's text is Hindi whatever the interface
    link = w.steps[4].link
    assert (link.page, link.params) == ("premiums", {"tab": "Dots", "tokenizers": "o200k_base,llama3,gemma3,bert-uncased"})


def magikarp_verified() -> set[tuple[str, int]]:
    with MAGIKARP.open(encoding="utf-8") as f:
        return {(r["tokenizer"], int(r["token_id"])) for r in csv.DictReader(f)}


def test_glitch_lesson_uses_real_verified_glitch_tokens() -> None:
    """Each step's text encodes to the glitch tokens its note names, and each is in the Magikarp tables."""
    w = load_workshop("glitch-tokens")
    want = {1: ("llama3", [80369]), 2: ("llama3", [85071, 89473]), 3: ("r50k_base", [36173, 42089]),
            4: ("llama3", [85069])}
    verified = magikarp_verified()
    for k, (tid, ids) in want.items():
        step = w.steps[k - 1]
        got = get_tokenizer(tid).encode(step.text()).ids
        for i in ids:
            assert i in got, (k, tid, i)
            assert (tid, i) in verified, (k, tid, i)
    # Step 1's point: Llama 3 has the word as one token, o200k_base does not.
    assert 80369 in get_tokenizer("llama3").encode(w.steps[0].text()).ids
    assert [t.bytes for t in get_tokenizer("o200k_base").encode(" ForCanBeConverted").tokens] == [
        b" For", b"Can", b"Be", b"Converted"]
    assert [s.link.page if s.link else None for s in w.steps] == ["token", None, "glitch", "playground"]
    assert w.steps[0].link.params == {"tokenizer": "llama3", "id": "80369"}


# ------------------------------------------------------------------ per-language fields


def write(folder: Path, name: str, body: str) -> None:
    (folder / f"{name}.toml").write_text(body, encoding="utf-8")


GOOD_STEP = """
[[step]]
text = "hello"
[step.title]
en = "Hello"
fr = "Bonjour"
[step.question]
en = "Why?"
"""


def test_fields_follow_the_interface_language_with_english_fallback(tmp_path: Path, language) -> None:
    write(tmp_path, "mini", 'tokenizers = ["utf8-bytes"]\n[title]\nen = "Mini"\nfr = "Mini FR"\n' + GOOD_STEP)
    w = load_workshop("mini", tmp_path)
    step = w.steps[0]
    assert (w.title, step.title(), step.question()) == ("Mini", "Hello", "Why?")
    language("fr")
    assert (w.title, step.title(), step.question()) == ("Mini FR", "Bonjour", "Why?")  # no French question: English
    language("hi")
    assert (w.title, step.title()) == ("Mini", "Hello")
    assert step.tokenizers == ("utf8-bytes",) and step.text() == "hello" and step.note() == "" and step.link is None
    assert pick({"en": "a", "zh_Hans": "乙"}, "zh_Hans") == "乙"


BAD = {
    "no steps and no texts": ('tokenizers = ["utf8-bytes"]\n', "add at least one [[text]] entry or a lesson of [[step]]"),
    "text and udhr": ('tokenizers = ["utf8-bytes"]\n[[step]]\ntext = "a"\nudhr = "eng:1"\ntitle = "t"\nquestion = "q"\n',
                      "step 1 needs exactly one of text = \"...\" or udhr = \"LANG:UNIT\""),
    "no question": ('tokenizers = ["utf8-bytes"]\n[[step]]\ntext = "a"\ntitle = "t"\n',
                    "step 1, question is missing: add it as a string, or as a table with one entry per language"),
    "no English": ('tokenizers = ["utf8-bytes"]\n[[step]]\ntext = "a"\nquestion = "q"\n[step.title]\nfr = "t"\n',
                   "step 1, title has no English (en) entry: add one"),
    "unknown language": ('tokenizers = ["utf8-bytes"]\n[[step]]\ntext = "a"\nquestion = "q"\n[step.title]\nen = "t"\n'
                         'de = "t"\n', "step 1, title has entries for unknown languages 'de': use en, es, fr, hi, ar, "
                                       "zh_Hans"),
    "bad udhr reference": ('tokenizers = ["utf8-bytes"]\n[[step]]\nudhr = "Hindi article 1"\ntitle = "t"\n'
                           'question = "q"\n', "step 1: udhr 'Hindi article 1' is not a LANG:UNIT reference"),
    "unknown tokenizer": ('tokenizers = ["utf8-bytes"]\n[[step]]\ntext = "a"\ntitle = "t"\nquestion = "q"\n'
                          'tokenizers = ["gpt-5"]\n', "step 1: 'tokenizers' must list catalogue ids; unknown: gpt-5"),
    "unknown field": ('tokenizers = ["utf8-bytes"]\n[[step]]\ntext = "a"\ntitle = "t"\nquestion = "q"\nanswer = "x"\n',
                      "step 1 has unknown field(s) answer: a step has title, text or udhr"),
    "unknown page": ('tokenizers = ["utf8-bytes"]\n[[step]]\ntext = "a"\ntitle = "t"\nquestion = "q"\n[step.link]\n'
                     'page = "admin"\nlabel = "x"\n', "step 1: link.page must be one of premiums, token, glitch"),
    "unknown parameter": ('tokenizers = ["utf8-bytes"]\n[[step]]\ntext = "a"\ntitle = "t"\nquestion = "q"\n'
                          '[step.link]\npage = "premiums"\nlabel = "x"\nparams = { sort = "desc" }\n',
                          "the premiums page does not read sort; it reads tab, search, tokenizers"),
    "review language": ('tokenizers = ["utf8-bytes"]\n[review]\nlanguages = ["klingon"]\n' + GOOD_STEP,
                        "[review] languages must list interface languages"),
    "not TOML": ('tokenizers = ["utf8-bytes"\n', "is not valid TOML"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_preset_is_refused_with_what_to_do(tmp_path: Path, case: str) -> None:
    body, message = BAD[case]
    write(tmp_path, "bad", body)
    with pytest.raises(WorkshopError) as e:
        load_workshop("bad", tmp_path)
    assert message in e.value.message
    assert e.value.title == "Workshop preset problem"


def test_missing_udhr_unit_is_explained_when_the_step_is_read(tmp_path: Path) -> None:
    write(tmp_path, "gap", 'tokenizers = ["utf8-bytes"]\n[[step]]\nudhr = "eng:99"\ntitle = "t"\nquestion = "q"\n')
    step = load_workshop("gap", tmp_path).steps[0]
    with pytest.raises(WorkshopError, match=r"The UDHR has no unit '99' for 'eng' \(lesson step 't'\)"):
        step.text()


def test_step_from_url() -> None:
    assert step_from_url("3", 5) == (3, None)
    assert step_from_url(None, 5) == (1, None)
    assert step_from_url("0", 5) == (1, "This lesson has steps 1 to 5; the link asked for step 0, showing step 1.")
    assert step_from_url("12", 4) == (4, "This lesson has steps 1 to 4; the link asked for step 12, showing step 4.")
    assert step_from_url("two", 4) == (1, "The link's step 'two' is not a number; showing step 1.")


# ------------------------------------------------------------------ in the app


@pytest.fixture
def _store(app_db: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ATLAS_DB", str(app_db))
    clear_app_caches()
    yield


def lesson_app(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def table(at: AppTest) -> dict[str, dict]:
    return at.table[0].value.set_index("tokenizer").to_dict("index")


@pytest.mark.usefixtures("_store")
def test_stepping_next_and_previous_keeps_the_step_in_the_url() -> None:
    udhr = load_udhr()
    eng, hin = udhr.texts("eng")["1"], udhr.texts("hin")["1"]
    tokenizers = ["o200k_base", "llama3", "gemma3", "bert-uncased"]
    at = lesson_app(workshop="why-cost")
    assert [t.value for t in at.title] == ["Why does my language cost more?"]
    assert [h.value for h in at.header] == ["English: the yardstick"]
    assert at.query_params["step"] == "1"
    assert {t: r["tokens"] for t, r in table(at).items()} == {t: get_tokenizer(t).count(eng) for t in tokenizers}
    assert at.button(key="ls_prev").disabled and not at.button(key="ls_next").disabled
    assert "Before you look at the counts" in at.info[0].value

    at.button(key="ls_next").click().run()
    assert at.query_params["step"] == "2"
    assert [h.value for h in at.header] == ["The same article in Hindi"]
    rows = table(at)
    for t in tokenizers:
        n_hin, n_eng = get_tokenizer(t).count(hin), get_tokenizer(t).count(eng)
        assert rows[t]["tokens"] == n_hin
        assert rows[t]["× English (same article)"] == round(n_hin / n_eng, 2)

    at.button(key="ls_prev").click().run()
    assert at.query_params["step"] == "1" and [h.value for h in at.header] == ["English: the yardstick"]


@pytest.mark.usefixtures("_store")
def test_a_reloaded_link_opens_its_step_and_the_last_step_links_the_explorer() -> None:
    at = lesson_app(workshop="why-cost", step="5")
    assert [h.value for h in at.header] == ["The whole picture: every language"]
    assert at.button(key="ls_next").disabled and not at.button(key="ls_prev").disabled
    links = {link.proto.label: link.proto for link in at.get("page_link")}
    explorer = links["Open the Premium explorer with these tokenizers"]
    assert explorer.query_string == "tab=Dots&tokenizers=o200k_base%2Cllama3%2Cgemma3%2Cbert-uncased"
    free = links["Explore this text freely in the Playground"]
    assert free.query_string == "tokenizers=o200k_base%2Cllama3%2Cgemma3%2Cbert-uncased&corpus=udhr&lang=cmn_hans&unit=1"


@pytest.mark.usefixtures("_store")
def test_a_step_beyond_the_lesson_is_explained() -> None:
    at = lesson_app(workshop="glitch-tokens", step="9")
    assert at.warning[0].value == "This lesson has steps 1 to 4; the link asked for step 9, showing step 4."
    assert at.query_params["step"] == "4"
    assert [h.value for h in at.header] == ["Your turn: hunt for glitch tokens"]


@pytest.mark.usefixtures("_store")
def test_glitch_lesson_flags_the_verified_tokens() -> None:
    at = lesson_app(workshop="glitch-tokens", step="2")
    html = [h.proto.body for h in at.get("html") if "ta-tokens" in h.proto.body]
    llama = next(h for h in html if "useRalativeImagePath" in h and "ta-flag" in h)
    assert llama.count("ta-flag") >= 2  # $PostalCodesNL and useRalativeImagePath, verified in the published reports
    assert "under-trained (verified) in meta-llama/Meta-Llama-3-8B" in llama


@pytest.mark.usefixtures("_store")
def test_a_preset_without_a_lesson_keeps_the_playground_workshop_mode() -> None:
    at = lesson_app(workshop="intro")
    assert [t.value for t in at.title] == ["Playground"]
    assert at.radio(key="pg_source").value == "Workshop texts"
