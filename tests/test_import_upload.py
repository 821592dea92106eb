"""Importing a corpus through the dashboard: safe unpacking, the same format rules as the CLI, the page end to end."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis.corpus.uploads import MAX_FILES, check_name, corpus_from_upload
from analysis.errors import CorpusFormatError
from analysis.store import read
from analysis.store.schema import open_readonly
from tests.app_harness import APP


def zipped(files: dict[str, bytes], *, links: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, "/etc/passwd")
    return buf.getvalue()


FLORES = {
    "floresp/dev/eng_Latn.dev": b"one\ntwo\n", "floresp/dev/fra_Latn.dev": b"un\ndeux\n",
    "floresp/devtest/eng_Latn.devtest": b"three\n", "floresp/devtest/fra_Latn.devtest": b"trois\n",
    "__MACOSX/floresp/._eng_Latn.dev": b"junk",
}


def test_flores_zip_with_a_top_folder(tmp_path: Path) -> None:
    c = corpus_from_upload("flores200", "floresp.zip", zipped(FLORES), name="fl", workdir=tmp_path)
    assert sorted(c.languages) == ["eng_Latn", "fra_Latn"]
    assert c.unit_order == ["dev:1", "dev:2", "devtest:1"]
    assert c.texts("fra_Latn") == {"dev:1": "un", "dev:2": "deux", "devtest:1": "trois"}


def test_lines_zip_without_a_top_folder(tmp_path: Path) -> None:
    c = corpus_from_upload("lines", "l.zip", zipped({"eng.txt": b"a\nb\n", "deu.txt": b"c\nd\n"}), name="l",
                           workdir=tmp_path)
    assert c.texts("deu") == {"1": "c", "2": "d"}


@pytest.mark.parametrize(("kind", "name", "data", "message"), [
    ("flores200", "x.zip", zipped({"../evil/dev/eng_Latn.dev": b"x\n"}), r"unsafe path '\.\./evil/dev/eng_Latn.dev'"),
    ("flores200", "x.zip", zipped({"/abs/eng_Latn.dev": b"x\n"}), r"unsafe path '/abs/eng_Latn.dev'"),
    ("lines", "x.zip", zipped({"eng.txt": b"a\n"}, links=("fra.txt",)), r"symbolic link \(fra.txt\)"),
    ("lines", "x.zip", b"PK\x03\x04 not really", r"x.zip is not a readable .zip archive"),
    ("lines", "x.txt", b"a\n", r"Upload a lines folder as one .zip archive of it; got x.txt"),
    ("tsv", "x.csv", b"eng\n", r"A tsv corpus is one .tsv file; got x.csv"),
    ("lines", "x.zip", zipped({f"{i:04d}.txt": b"a\n" for i in range(MAX_FILES + 1)}), r"holds 2001 files; at most 2000"),
    ("tsv", "mine.tsv", b"eng\tfra\nhello\n", r"mine.tsv"),
], ids=["dotdot", "absolute", "symlink", "not-zip", "lines-not-zip", "tsv-suffix", "too-many-files", "names-user-file"])
def test_bad_uploads_are_refused(tmp_path: Path, kind, name, data, message) -> None:
    with pytest.raises(CorpusFormatError, match=message) as e:
        corpus_from_upload(kind, name, data, name="c", workdir=tmp_path)
    assert str(tmp_path) not in e.value.message  # the user's file name, never our temporary path
    assert not (tmp_path.parent / "evil").exists()


@pytest.mark.parametrize(("name", "ok"), [("flores-dev", True), ("a.b_c", True), ("udhr", False), ("", False),
                                          ("../x", False), ("x" * 41, False), ("<b>", False)])
def test_corpus_names(name: str, ok: bool) -> None:
    if ok:
        assert check_name(name) == name
    else:
        with pytest.raises(CorpusFormatError):
            check_name(name)


# ------------------------------------------------------------------ the page, end to end


def import_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["tokenizers"] = "utf8-bytes"  # a cheap first run: pages with their own url_path need one
    at.run().switch_page("views/import_corpus.py").run()
    assert not at.exception
    return at


def test_import_page_counts_an_uploaded_tsv(fresh_db: Path) -> None:
    at = import_page()
    at.selectbox(key="im_kind").set_value("tsv")
    at.text_input(key="im_name").set_value("mine")
    at.multiselect(key="im_tokenizers").set_value(["utf8-bytes", "codepoints"])
    tsv = "eng\tfra\nabc\tabcd\nde\tdéf\n".encode()
    at.file_uploader(key="im_file").set_value(("mine.tsv", tsv, "text/tab-separated-values"))
    at.run()
    at.button(key="im_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    con = open_readonly(fresh_db)
    prem = read.premiums(con, "mine", "eng").set_index(["tokenizer", "lang"])["premium"]
    # utf8-bytes: fra 4 + 4 bytes ("déf" is 4) over eng 3 + 2; codepoints: 4 + 3 over 3 + 2.
    assert prem[("utf8-bytes", "fra")] == 8 / 5
    assert prem[("codepoints", "fra")] == 7 / 5
    con.close()


def test_import_page_bad_file_changes_nothing(fresh_db: Path) -> None:
    at = import_page()
    at.selectbox(key="im_kind").set_value("tsv")
    at.text_input(key="im_name").set_value("bad")
    at.multiselect(key="im_tokenizers").set_value(["utf8-bytes"])
    at.file_uploader(key="im_file").set_value(("bad.tsv", b"eng\tfra\nabc\n", "text/tab-separated-values"))
    at.run()
    at.button(key="im_go").click().run()
    assert at.error and "bad.tsv" in at.error[0].value
    assert not fresh_db.exists()


def test_import_page_refuses_a_builtin_name(fresh_db: Path) -> None:
    at = import_page()
    at.text_input(key="im_name").set_value("udhr")
    at.file_uploader(key="im_file").set_value(("x.tsv", b"eng\nabc\n", "text/tab-separated-values"))
    at.run()
    at.button(key="im_go").click().run()
    assert at.error and "built-in corpus" in at.error[0].value


def test_import_switched_off(fresh_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_IMPORT", "0")
    at = import_page()
    assert "switched off on this server" in at.info[0].value
    assert not at.button
