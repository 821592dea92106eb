"""Issue 21, the pages (AppTest): each case says what happened and what to do; no stack trace, no server path;
nothing replaced without asking."""

from __future__ import annotations

import io
import re
import sys
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis.store.schema import open_readonly
from analysis.textio import MAX_UPLOAD_BYTES
from tests.app_harness import APP, clear_app_caches
from tests.tiny_store import build_tiny_store


def zipped(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def texts(elements) -> str:
    return "\n".join(e.value for e in elements)


def on_page(path: str, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["tokenizers"] = "utf8-bytes"
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    if path:
        at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


def start_import(at: AppTest, *, kind: str, name: str, filename: str, data: bytes) -> AppTest:
    at.selectbox(key="im_kind").set_value(kind).run()  # the uploader's accepted type follows the kind
    at.text_input(key="im_name").set_value(name)
    at.multiselect(key="im_tokenizers").set_value(["utf8-bytes"])
    at.file_uploader(key="im_file").set_value((filename, data, "application/octet-stream"))
    return at.run()


# ------------------------------------------------------------------ the import page


@pytest.mark.parametrize("value", ["off", "false", "no", "0"])
def test_import_switched_off_by_every_spelling(fresh_db: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ATLAS_IMPORT", value)
    at = on_page("views/import_corpus.py")
    assert "switched off on this server" in at.info[0].value and not at.button


def test_import_malformed_switch_is_an_error_not_on(fresh_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_IMPORT", "perhaps")
    at = on_page("views/import_corpus.py")
    assert "ATLAS_IMPORT='perhaps' is neither true nor false" in at.error[0].value and not at.button


@pytest.mark.parametrize(("data", "message"), [
    (zipped({"eng.txt": b"a\n" * 500})[:-30], "is not a readable .zip archive"),
    (b"PK\x03\x04" + b"\x00" * 100, "is not a readable .zip archive"),
], ids=["truncated", "garbage"])
def test_damaged_zip_on_the_page(fresh_db: Path, data: bytes, message: str) -> None:
    at = start_import(on_page("views/import_corpus.py"), kind="lines", name="z", filename="c.zip", data=data)
    at.button(key="im_go").click().run()
    assert not at.exception
    assert message in texts(at.error) and "/tmp" not in texts(at.error)
    assert [st.label for st in at.status] == ["Import failed; the database is unchanged"]  # not "Importing…"
    assert not fresh_db.exists()


def test_import_over_the_line_limit_names_the_setting(fresh_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_IMPORT_MAX_LINES", "5")
    data = zipped({"c/eng.txt": b"a\n" * 4, "c/fra.txt": b"b\n" * 4})  # 8 lines in all
    at = start_import(on_page("views/import_corpus.py"), kind="lines", name="big", filename="c.zip", data=data)
    at.button(key="im_go").click().run()
    assert not at.exception
    assert ("c.zip/fra.txt: the corpus reaches 8 lines with this file, over the limit of 5 lines "
            "(ATLAS_IMPORT_MAX_LINES). Make it smaller, or run Token Atlas on your own server with "
            "ATLAS_IMPORT_MAX_LINES set higher") in texts(at.error)
    assert not fresh_db.exists()


def counts_of(db: Path, corpus: str) -> list[tuple]:
    con = open_readonly(db)
    try:
        return con.execute("SELECT tokenizer, lang, unit, n_tokens FROM counts WHERE corpus = ? ORDER BY ALL",
                           [corpus]).fetchall()
    finally:
        con.close()


def test_an_existing_name_asks_before_replacing(fresh_db: Path) -> None:
    first = b"eng\tfra\nabc\tabcd\n"
    at = start_import(on_page("views/import_corpus.py"), kind="tsv", name="mine", filename="mine.tsv", data=first)
    at.button(key="im_go").click().run()
    assert not at.error
    before = counts_of(fresh_db, "mine")
    assert before == [("utf8-bytes", "eng", "1", 3), ("utf8-bytes", "fra", "1", 4)]
    snapshot = fresh_db.read_bytes()

    clear_app_caches()
    at = start_import(on_page("views/import_corpus.py"), kind="tsv", name="mine", filename="other.tsv",
                      data=b"eng\tfra\nx\ty\n")
    assert ("A corpus named 'mine' is already in the database, counted with 1 tokenizer(s). Importing under this name "
            "replaces it and deletes those counts.") in texts(at.warning)
    at.button(key="im_go").click().run()  # not confirmed
    assert "Nothing imported" in texts(at.error)
    assert fresh_db.read_bytes() == snapshot  # not a byte changed

    at.text_input(key="im_name").set_value("MINE").run()  # the same name in other case
    at.button(key="im_go").click().run()
    assert "'MINE' differs from the corpus 'mine' only in case" in texts(at.error)
    assert fresh_db.read_bytes() == snapshot

    at.text_input(key="im_name").set_value("UDHR").run()
    at.button(key="im_go").click().run()
    assert "'UDHR' is the built-in corpus 'udhr' (names are compared ignoring case)" in texts(at.error)
    assert fresh_db.read_bytes() == snapshot

    at.text_input(key="im_name").set_value("mine").run()
    at.checkbox(key="im_replace").check().run()
    at.button(key="im_go").click().run()
    assert not at.error and not at.exception
    assert counts_of(fresh_db, "mine") == [("utf8-bytes", "eng", "1", 1), ("utf8-bytes", "fra", "1", 1)]
    con = open_readonly(fresh_db)
    assert con.execute("SELECT source FROM corpora WHERE corpus = 'mine'").fetchone() == ("tsv:other.tsv",)
    con.close()


# ------------------------------------------------------------------ the Playground


@pytest.fixture
def tiny(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = build_tiny_store(tmp_path_factory.mktemp("robust_tiny"))
    monkeypatch.setenv("ATLAS_DB", str(db))
    clear_app_caches()
    return db


def summary(at: AppTest) -> dict[str, int]:
    table = next(t.value for t in at.table if "chars/token" in t.value.columns)
    return dict(zip(table["tokenizer"], table["tokens"]))


def test_a_long_paste_is_cut_with_a_warning(tiny: Path) -> None:
    at = on_page("")
    assert at.text_area(key="pg_text").proto.max_chars == 0  # no browser-side cap that drops a paste in silence
    at.text_area(key="pg_text").set_value("a" * 200_001).run()
    assert ("The text has 200,001 characters; the Playground tokenizes the first 200,000.") in texts(at.warning)
    assert summary(at) == {"utf8-bytes": 200_000}


def test_replacement_characters_are_explained(tiny: Path) -> None:
    at = on_page("")
    at.text_area(key="pg_text").set_value("a\ufffdb").run()
    assert "The text holds U+FFFD replacement characters" in texts(at.warning)
    assert summary(at) == {"utf8-bytes": 5}


@pytest.mark.parametrize(("name", "data", "message"), [
    ("big.txt", b"a" * (MAX_UPLOAD_BYTES + 1), "big.txt is 5.0 MB; the limit is 5 MB. Upload a smaller part of it."),
    ("u16.txt", "hello".encode("utf-16-le"), "u16.txt holds NUL bytes (first at byte 1), so it is not UTF-8 text. It "
                                              "looks like UTF-16 without a byte-order mark."),
    ("deep.jsonl", b"[" * 100_000 + b"]" * 100_000 + b"\n", "deep.jsonl line 1: arrays or objects are nested too "
                                                            "deeply to be read."),
], ids=["over-the-cap", "utf16-no-bom", "deep-jsonl"])
def test_bad_uploads_say_why_on_the_page(tiny: Path, name: str, data: bytes, message: str) -> None:
    at = on_page("")
    at.radio(key="pg_source").set_value("Upload a file").run()
    at.file_uploader(key="pg_upload").set_value((name, data, "text/plain")).run()
    assert not at.exception
    assert message in texts(at.error)


def test_a_link_to_a_missing_sample_says_what_it_shows(tiny: Path) -> None:
    at = on_page("", corpus="nope", lang="eng", unit="1")
    assert "The link's corpus 'nope' is not in this database; showing 'tiny' instead." in texts(at.warning)
    clear_app_caches()
    at = on_page("", corpus="tiny", lang="xx", unit="zz")
    warnings = texts(at.warning)
    assert "The link's language 'xx' is not in the corpus 'tiny'; showing 'ell' instead." in warnings
    assert "The link's unit 'zz' is not in the corpus 'tiny'; showing '1' instead." in warnings
    clear_app_caches()
    at = on_page("", text="é" * 1001)
    assert "The link's text has 1,001 characters; links carry at most 1,000" in texts(at.warning)
    assert summary(at) == {"utf8-bytes": 2000}


# ------------------------------------------------------------------ the SQL console and the lab


def run_sql(at: AppTest, sql: str) -> AppTest:
    at.text_area(key="sql_text").set_value(sql)
    at.button(key="sql_run").click().run()
    assert not at.exception
    return at


def test_sql_page_cuts_wide_cells_and_stops_at_the_byte_cap(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = run_sql(on_page("views/sql_console.py"), "SELECT repeat('x', 3000) AS s")
    assert at.info[0].value == "1 long cell(s) are cut for display; the CSV and Parquet downloads hold them whole."
    assert at.dataframe[-1].value["s"][0] == "x" * 2000 + "… (3,000 characters; download the result for all of it)"
    monkeypatch.setenv("ATLAS_SQL_MAX_RESULT_BYTES", "100000")
    at = run_sql(on_page("views/sql_console.py"), "SELECT repeat('x', 1000) AS s FROM range(1000)")
    warning = texts(at.warning)
    assert "over the limit of 100,000 bytes (ATLAS_SQL_MAX_RESULT_BYTES)" in warning
    assert len(at.dataframe[-1].value) == 64  # one batch of 64 rows (64,264 bytes) fits, two would not


def test_sql_page_shows_no_server_path(tiny: Path) -> None:
    at = run_sql(on_page("views/sql_console.py"), "SELECT path FROM duckdb_databases() WHERE path IS NOT NULL")
    assert at.dataframe[-1].value["path"].tolist() == [tiny.name]
    at = run_sql(at, "SELECT * FROM read_csv('/etc/passwd')")
    assert "/etc" not in texts(at.error) and at.error


def test_lab_keeps_twelve_of_a_forged_selection() -> None:
    clear_app_caches()
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("views/lab.py").run()
    codes = [re.search(r"\((\w+)\)$", o).group(1) for o in at.multiselect(key="lab_langs").options]
    at.multiselect(key="lab_langs").set_value(codes[:40]).run()  # what a forged websocket message can send
    assert not at.exception and not at.error
    assert "40 training languages were chosen; the lab takes at most 12, so the first 12 are kept." in texts(at.warning)
    assert at.multiselect(key="lab_langs").value == codes[:12]


def test_the_boundary_shows_title_and_what_to_do() -> None:
    def page() -> None:
        from app.state import show_unexpected

        show_unexpected(IsADirectoryError(21, "Is a directory", "/srv/atlas/.cache/atlas/files/x.tiktoken"))

    main = sys.modules["__main__"]
    try:
        at = AppTest.from_function(page).run()
    finally:
        # The script runner leaves its fake __main__ (a file that only runs under AppTest) behind, and spawned
        # worker processes of later tests would run it: put the real one back.
        sys.modules["__main__"] = main
    assert not at.exception
    assert at.error[0].value == (
        "**Something went wrong: IsADirectoryError**\n\n[Errno 21] Is a directory: 'x.tiktoken'. Nothing was saved. "
        "Check what you entered (a smaller input, another file), reload the page and try again; if it happens again, "
        "report it with the steps that led here.")


def test_the_app_sweeps_a_dead_builds_copy_at_start(tiny: Path) -> None:
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    stale = tiny.with_name(f".building-{tiny.name}.{p.pid}")
    stale.write_bytes(b"x" * 1000)
    before = tiny.read_bytes()
    on_page("")
    assert not stale.exists() and tiny.read_bytes() == before
