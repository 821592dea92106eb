"""Issue 21, the library side: no single request takes the process's memory, no stack trace or server path reaches
a visitor, nothing wrong or lost in silence, one parser for every boolean setting, no leftovers after a kill.

Memory bounds are measured in a fresh interpreter (tests/memwatch.py): the peak resident memory during the
operation above the resident memory before it.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from analysis import config
from analysis.config import SettingError, env_bool, imports_enabled, parse_bool
from analysis.corpus.imports import read_corpus, read_flores200, read_jsonl, read_lines, read_tsv
from analysis.corpus.uploads import check_name, corpus_from_upload, existing_name
from analysis.errors import CorpusFormatError
from analysis.lifecycle import private_prefix, sweep_leftovers
from analysis.redact import redact_message, redact_paths
from analysis.sql_console import SqlTimeoutError, display_frame, open_console, run_query
from analysis.textio import UploadError, read_upload
from tests.memwatch import measure
from tests.tiny_store import build_tiny_store

ROOT = Path(__file__).resolve().parent.parent


def zipped(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


UPLOAD = """
from pathlib import Path
from analysis.corpus.uploads import corpus_from_upload
data = Path({path!r}).read_bytes()
"""


# ------------------------------------------------------------------ 1. resource exhaustion: imports


def test_zip_bomb_of_lines_is_refused_at_the_default_limit_with_bounded_memory(tmp_path: Path) -> None:
    # The issue's input: ~100 KB of zip holding 100 MB of "a\n" (50,000,000 lines). The old reader split it into
    # 50M strings and units (past 5 GB). Now the lines are counted on the decoded text before it is split: the
    # 100 MB file and its decoded text (100 MB, ASCII) are what it costs. Bound 400 MiB: both, plus slack.
    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(zipped({"eng.txt": b"a\n" * 50_000_000}))
    assert bomb.stat().st_size < 200_000
    r = measure(UPLOAD.format(path=str(bomb)), f"""
        corpus_from_upload("lines", "bomb.zip", data, name="bomb", workdir={str(tmp_path / 'w')!r})
    """)
    assert r["error"] == "CorpusFormatError"
    assert r["message"] == (
        "bomb.zip/eng.txt: the corpus reaches 50,000,000 lines with this file, over the limit of 2,000,000 lines "
        "(ATLAS_IMPORT_MAX_LINES). Make it smaller, or run Token Atlas on your own server with ATLAS_IMPORT_MAX_LINES "
        "set higher (see docs/deployment.md).")
    assert r["growth_mb"] < 400, r


def test_lowered_line_limit_bounds_memory(tmp_path: Path) -> None:
    # 1,000,000 lines of "a": the old reader made a million strings and a million units (~250 MiB measured with
    # the limit raised, below); with the limit at 100,000 it stops after decoding 2 MB. Bound: 60 MiB.
    bomb = tmp_path / "lines.zip"
    bomb.write_bytes(zipped({"eng.txt": b"a\n" * 1_000_000, "fra.txt": b"b\n" * 1_000_000}))
    action = f"""
        c = corpus_from_upload("lines", "lines.zip", data, name="l", workdir={str(tmp_path / 'w')!r})
        _out["value"] = len(c.units)
    """
    low = measure(UPLOAD.format(path=str(bomb)), action, env={"ATLAS_IMPORT_MAX_LINES": "100000"})
    assert low["error"] == "CorpusFormatError" and "ATLAS_IMPORT_MAX_LINES" in low["message"]
    assert "the corpus reaches 1,000,000 lines with this file, over the limit of 100,000 lines" in low["message"]
    assert low["growth_mb"] < 60, low
    high = measure(UPLOAD.format(path=str(bomb)), action.replace("/w'", "/w2'"), env={"ATLAS_IMPORT_MAX_LINES": "3000000"})
    assert high["error"] is None and high["value"] == 2_000_000
    assert high["growth_mb"] > 3 * low["growth_mb"], (low, high)  # the bound above is one the old path breaks


def test_unpacked_bytes_are_counted_while_unpacking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_IMPORT_MAX_BYTES", "1000")
    data = zipped({"eng.txt": b"x" * 600 + b"\n", "fra.txt": b"y" * 600 + b"\n"})
    with pytest.raises(CorpusFormatError) as e:
        corpus_from_upload("lines", "two.zip", data, name="t", workdir=tmp_path)
    assert e.value.message.startswith("two.zip unpacks to more than 1,000 bytes, over the limit of 1,000 bytes of "
                                      "text (uncompressed) (ATLAS_IMPORT_MAX_BYTES).")


def lying_zip(size_in_header: int) -> bytes:
    """A zip whose one member (1,000 bytes of "a\\n") says it holds ``size_in_header`` bytes, in both headers."""
    data = bytearray(zipped({"eng.txt": b"a\n" * 500}))
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, size_in_header)
    struct.pack_into("<I", data, central + 24, size_in_header)
    return bytes(data)


def corrupt_zip() -> bytes:
    """A zip whose member's deflate data is damaged in the middle (its headers are intact)."""
    text = "".join(f"{i * 7919 % 100003:05d} " for i in range(2000)).encode() + b"\n"
    data = bytearray(zipped({"eng.txt": text}))
    data[400:440] = b"\xff" * 40  # the local header is 37 bytes: this is inside the compressed data
    return bytes(data)


@pytest.mark.parametrize(("data", "message"), [
    (lying_zip(10), "bad.zip: eng.txt cannot be unpacked (Bad CRC-32 for file 'eng.txt'); the archive is damaged or "
                    "its header does not match its data. Make the archive again and upload it."),
    (lying_zip(5000), "bad.zip: eng.txt is not the size its header states. Make the archive again and upload it."),
    (corrupt_zip(), "bad.zip: eng.txt cannot be unpacked ("),
    (b"PK\x05\x06" + b"\x00" * 18, "bad.zip: the corpus folder has no <code>.txt files"),
], ids=["header-says-smaller", "header-says-larger", "corrupt-deflate", "empty-archive"])
def test_damaged_zips_are_refused_with_a_message(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(CorpusFormatError) as e:
        corpus_from_upload("lines", "bad.zip", data, name="b", workdir=tmp_path)
    if message.startswith("bad.zip: the corpus"):
        assert "has no <code>.txt files" in e.value.message
    else:
        assert e.value.message.startswith(message)
    assert str(tmp_path) not in e.value.message


def test_a_million_language_columns_are_refused_at_once(tmp_path: Path) -> None:
    # The issue's TSV: 1,000,000 language codes and one row. The old reader built a million units and scanned
    # every unit per language (quadratic: it never finished). Now the header is counted first. The file is 16 MB;
    # its lines and the header's million cells are ~120 MiB of Python strings. Bound: 250 MiB.
    path = tmp_path / "wide.tsv"
    codes = "\t".join(f"l{i:06d}" for i in range(1_000_000))
    path.write_text(codes + "\n" + "\t".join(["x"] * 1_000_000) + "\n", encoding="utf-8")
    r = measure("from analysis.corpus.imports import read_corpus", f"""
        read_corpus("tsv", {str(path)!r}, name="wide")
    """)
    assert r["error"] == "CorpusFormatError"
    assert r["message"] == (f"{path}: it has 1,000,000 or more languages, over the limit of 2,000 languages "
                            "(ATLAS_IMPORT_MAX_LANGUAGES). Make it smaller, or run Token Atlas on your own server with "
                            "ATLAS_IMPORT_MAX_LANGUAGES set higher (see docs/deployment.md).")
    assert r["growth_mb"] < 250, r


def test_texts_per_language_come_from_one_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 3,000 columns (over the default, so raised): every language's texts, exactly, from the index built once.
    monkeypatch.setenv("ATLAS_IMPORT_MAX_LANGUAGES", "3000")
    path = tmp_path / "w.tsv"
    path.write_text("\t".join(f"c{i}" for i in range(3000)) + "\n" + "\t".join(f"t{i}" for i in range(3000)) + "\n",
                    encoding="utf-8")
    c = read_tsv(path)
    assert [c.texts(f"c{i}") for i in (0, 1234, 2999)] == [{"1": "t0"}, {"1": "t1234"}, {"1": "t2999"}]
    assert c.texts("nope") == {}
    c.texts("c0")["1"] = "changed"  # a copy: the corpus is not changed through it
    assert c.texts("c0") == {"1": "t0"}


def test_units_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_IMPORT_MAX_UNITS", "5")
    tsv = tmp_path / "u.tsv"
    tsv.write_text("eng\tfra\na\tb\nc\td\ne\tf\n", encoding="utf-8")  # 6 texts
    with pytest.raises(CorpusFormatError, match=r"it has 6 or more texts, over the limit of 5 texts \(language × "
                                                r"unit\) \(ATLAS_IMPORT_MAX_UNITS\)"):
        read_tsv(tsv)
    folder = tmp_path / "lines"
    folder.mkdir()
    (folder / "eng.txt").write_text("a\nb\nc\n", encoding="utf-8")
    (folder / "fra.txt").write_text("d\n\nf\n", encoding="utf-8")  # 5 texts: the blank line is not one
    assert len(read_lines(folder).units) == 5
    (folder / "fra.txt").write_text("d\ne\nf\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError, match="it has 6 or more texts"):
        read_lines(folder)


def test_bytes_limit_counts_every_file_of_one_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_IMPORT_MAX_BYTES", "10")
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "eng.txt").write_text("abcd\n", encoding="utf-8")  # 5 bytes
    (folder / "fra.txt").write_text("efgh\n", encoding="utf-8")  # 10 in all: at the limit
    assert len(read_corpus("lines", folder, name="c").units) == 2
    (folder / "fra.txt").write_text("efghi\n", encoding="utf-8")  # 11
    with pytest.raises(CorpusFormatError, match=r"fra.txt: the corpus reaches 11 bytes with this file, over the limit "
                                                r"of 10 bytes of text \(uncompressed\) \(ATLAS_IMPORT_MAX_BYTES\)"):
        read_corpus("lines", folder, name="c")


@pytest.mark.parametrize("value", ["lots", "-5", "0"])
def test_malformed_limit_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ATLAS_IMPORT_MAX_LINES", value)
    with pytest.raises(SettingError, match="ATLAS_IMPORT_MAX_LINES"):
        config.IMPORT_MAX_LINES.value()


# ------------------------------------------------------------------ 1. resource exhaustion: the SQL console


@pytest.fixture(scope="module")
def console_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_store(tmp_path_factory.mktemp("robust_sql"))


def test_wide_result_stops_at_the_byte_cap_with_bounded_memory(console_db: Path) -> None:
    # 10,000 rows of 100,000 bytes: 1 GB. The old console fetched every row the row cap allowed (10,000) into a
    # DataFrame, past 1 GB. Now Arrow batches of 64 rows are measured as they come: Arrow counts 6,400,264 bytes
    # per batch (6,400,000 of text, its offsets and validity bits), so 3 fit under 20 MiB (19,200,792 bytes) and the
    # 4th would not (25,601,056). DuckDB builds one vector of 2,048 values (~200 MB) before it can be measured.
    # Bound: 400 MiB.
    setup = f"""
        from analysis.sql_console import open_console, run_query
        con = open_console(__import__("pathlib").Path({str(console_db)!r}))
    """
    action = """
        r = run_query(con, "SELECT repeat('x', 100000) AS s FROM range(10000)", max_rows=10000, timeout_s=60)
        _out["value"] = [len(r.frame), r.truncated, r.nbytes, r.stopped]
    """
    r = measure(setup, action)
    assert r["error"] is None, r
    rows, truncated, nbytes, stopped = r["value"]
    assert (rows, truncated, nbytes) == (192, True, 19_200_792)
    assert stopped == ("The result passed 25,601,056 bytes after 192 rows, so fetching stopped there (add a LIMIT, or "
                       "select fewer or narrower columns, e.g. left(text, 200)), over the limit of 20,971,520 bytes "
                       "(ATLAS_SQL_MAX_RESULT_BYTES). Make it smaller, or run Token Atlas on your own server with "
                       "ATLAS_SQL_MAX_RESULT_BYTES set higher (see docs/deployment.md).")
    assert r["growth_mb"] < 400, r
    # The same query with the cap raised fetches what the row cap allows: the bound above is one the old way breaks.
    big = measure(setup, action, env={"ATLAS_SQL_MAX_RESULT_BYTES": "2GB"})
    assert big["value"][:2] == [10000, False] and big["growth_mb"] > 900, big


def test_the_issues_query_under_the_memory_ceiling_is_a_message(console_db: Path) -> None:
    # The issue's query: 1,000 rows of 1 MB (the old console went from 0.6 to 6.4 GB). DuckDB builds one vector of
    # all 1,000 values (1 GB) before anything can be measured; under a ceiling (ATLAS_MEMORY_MAX, RLIMIT_DATA) of
    # 500 MiB above what the process holds, that allocation fails and the console says so; the process goes on.
    setup = f"""
        import os
        from pathlib import Path
        from analysis.sql_console import open_console, run_query
        con = open_console(Path({str(console_db)!r}))
        with open("/proc/self/status") as f:
            vmdata = next(int(l.split()[1]) for l in f if l.startswith("VmData:")) * 1024
        os.environ["ATLAS_MEMORY_MAX"] = str(vmdata + 500 * 2**20)
        from analysis.lifecycle import apply_memory_ceiling
        apply_memory_ceiling()
    """
    action = """
        try:
            run_query(con, "SELECT repeat('x', 1000000) AS s FROM range(1000)", timeout_s=60)
        except Exception as e:
            _out["value"] = [e.title, e.message, run_query(con, "SELECT 42 AS x").frame["x"].tolist()]
    """
    r = measure(setup, action)
    assert r["value"] is not None, r
    title, message, after = r["value"]
    assert title == "Query stopped: memory limit" and after == [42]
    assert message.startswith("The query needed more memory than this server allows (Out of Memory Error")
    assert message.endswith("on your own server, raise ATLAS_MEMORY_MAX (see docs/deployment.md).")
    assert r["growth_mb"] < 550, r


def test_a_streaming_query_stopped_by_the_time_limit_is_not_a_partial_result(console_db: Path) -> None:
    # Rows 0 and 5 come at once, the next after 10^12 rows: the time limit interrupts a stream that has started.
    con = open_console(console_db)
    try:
        with pytest.raises(SqlTimeoutError, match=r"more than 1 s and was stopped"):
            run_query(con, "SELECT x FROM range(1000000000000) t(x) WHERE x % 1000000000000 = 0 OR x = 5",
                      timeout_s=1)
        assert run_query(con, "SELECT 1 AS one").frame["one"].tolist() == [1]
    finally:
        con.close()


def test_one_huge_cell_is_refused_not_fetched(console_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_SQL_MAX_RESULT_BYTES", "1MB")
    con = open_console(console_db)
    try:
        r = run_query(con, "SELECT repeat('x', 2000000) AS s")
        assert (len(r.frame), r.truncated, r.nbytes) == (0, True, 0)
        assert r.stopped.startswith("The result passed 2,000,00")  # 2,000,000 bytes + its offsets
        assert "over the limit of 1,000,000 bytes (ATLAS_SQL_MAX_RESULT_BYTES)" in r.stopped
        ok = run_query(con, "SELECT repeat('x', 5000) AS s")  # the console still works, and keeps the whole value
        assert ok.frame["s"].tolist() == ["x" * 5000] and not ok.stopped
        shown, cut = display_frame(ok.frame)
        assert cut == 1 and shown["s"][0] == "x" * 2000 + "… (5,000 characters; download the result for all of it)"
    finally:
        con.close()


def test_console_shows_file_names_not_server_paths(console_db: Path) -> None:
    con = open_console(console_db)
    try:
        paths = run_query(con, "SELECT path FROM duckdb_databases() WHERE path IS NOT NULL").frame["path"].tolist()
        assert paths == [console_db.name]
        settings = run_query(con, "SELECT name, value FROM duckdb_settings()", max_rows=10_000).frame
        text = " ".join(map(str, settings["value"].tolist()))
        for folder in (console_db.parent, ROOT, Path.home(), Path(sys.prefix)):
            assert str(folder) not in text
    finally:
        con.close()


# ------------------------------------------------------------------ 2. messages, not stack traces


DEEP = "[" * 100_000 + "]" * 100_000
BIG_NUMBER = "1" * 5000


@pytest.mark.parametrize(("line", "problem"), [
    (DEEP, "nests JSON arrays or objects too deeply to be read."),
    ('{"id": "1", "lang": "eng", "text": "a", "n": ' + BIG_NUMBER + "}", "cannot be read as JSON (Exceeds the limit"),
], ids=["deep", "5000-digit-number"])
def test_hostile_jsonl_corpus_gives_the_line(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"id": "1", "lang": "eng", "text": "ok"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError) as e:
        read_jsonl(path)
    assert e.value.line == 2 and e.value.message.startswith(f"{path}, line 2: {problem}")


@pytest.mark.parametrize(("line", "problem"), [
    (DEEP, "x.jsonl line 2: arrays or objects are nested too deeply to be read."),
    ('{"text": "a", "n": ' + BIG_NUMBER + "}", "x.jsonl line 2: cannot be read as JSON (Exceeds the limit"),
], ids=["deep", "5000-digit-number"])
def test_hostile_jsonl_upload_gives_the_line(line: str, problem: str) -> None:
    with pytest.raises(UploadError) as e:
        read_upload("x.jsonl", ('{"text": "ok"}\n' + line + "\n").encode())
    assert e.value.message.startswith(problem) and e.value.title == "Malformed JSONL"


def test_cli_vocabulary_replaced_by_a_folder(tmp_path: Path) -> None:
    from analysis.catalogue import load_catalogue

    cache = tmp_path / "cache"
    ranks = cache / "files" / load_catalogue().entries["r50k_base"].files["ranks"].path
    ranks.mkdir(parents=True)  # a folder where the vocabulary file should be
    proc = subprocess.run([sys.executable, "-m", "analysis", "encode", "--tokenizer", "r50k_base"], input="hello",
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "ATLAS_CACHE": str(cache), "ATLAS_DB": str(tmp_path / "a.duckdb")})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (
        f"error: Vocabulary file replaced: {ranks} is not a regular file (a folder or a special file is in its "
        "place). Remove it and run `python -m analysis assets fetch` to download and verify the file.")


def test_cli_other_os_errors_are_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "dir.tiktoken"
    folder.mkdir()
    proc = subprocess.run([sys.executable, "-m", "analysis", "encode", "--tokenizer", f"file:{folder}"],
                          input="hello", capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "ATLAS_DB": str(tmp_path / "a.duckdb")})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stderr.startswith("error: ")


def test_redaction() -> None:
    assert redact_paths(f"tsv:{ROOT}/x/upload.tsv") == "tsv:upload.tsv"
    assert redact_paths("tsv:/tmp/atlas-import-123-abc/upload/eng.txt, line 3") == "tsv:eng.txt, line 3"
    assert redact_paths("and/or 1/2 https://example.org/a/b") == "and/or 1/2 https://example.org/a/b"
    assert redact_message("No such file: '/srv/data/db/atlas.duckdb'") == "No such file: 'atlas.duckdb'"


def test_upload_provenance_is_the_file_name(tmp_path: Path) -> None:
    c = corpus_from_upload("tsv", "mine.tsv", b"eng\tfra\nhello\tbonjour\n", name="mine", workdir=tmp_path)
    assert c.source == "tsv:mine.tsv"
    c = corpus_from_upload("lines", "l.zip", zipped({"l/eng.txt": b"a\n", "l/fra.txt": b"b\n"}), name="l",
                           workdir=tmp_path / "z")
    assert c.source == "lines:l.zip"


# ------------------------------------------------------------------ 3. nothing wrong in silence


def test_utf16_without_bom_is_refused_in_the_playground() -> None:
    data = "hello world\n".encode("utf-16-le")
    with pytest.raises(UploadError) as e:
        read_upload("notes.txt", data)
    assert e.value.message == ("notes.txt holds NUL bytes (first at byte 1), so it is not UTF-8 text. It looks like "
                               "UTF-16 without a byte-order mark. Save it as UTF-8 (or UTF-16 with a byte-order mark) "
                               "and upload it again.")
    assert read_upload("notes.txt", "\ufeffhello".encode("utf-16-le")).text() == "hello"  # with its BOM: fine


@pytest.mark.parametrize("make", ["dir", "fifo"])
@pytest.mark.parametrize("layout", ["flores200", "lines"])
def test_entry_named_like_a_language_file_is_refused(tmp_path: Path, make: str, layout: str) -> None:
    folder = tmp_path / "c"
    sub = folder / "dev" if layout == "flores200" else folder
    sub.mkdir(parents=True)
    suffix = ".dev" if layout == "flores200" else ".txt"
    (sub / f"eng_Latn{suffix}").write_text("a\n", encoding="utf-8")
    odd = sub / f"fra_Latn{suffix}"
    odd.mkdir() if make == "dir" else os.mkfifo(odd)
    reader = read_flores200 if layout == "flores200" else read_lines
    with pytest.raises(CorpusFormatError) as e:
        reader(folder)
    what = "a folder" if make == "dir" else "not a regular file (a FIFO, socket or device)"
    assert e.value.message == (f"{odd}: is named like a corpus file but is {what}. Replace it with the language's text "
                               f"file, or rename or remove it (only {suffix} files are read).")


def test_link_text_over_the_url_limit_is_cut_with_a_warning() -> None:
    from analysis.playground import MAX_URL_TEXT, state_from_query

    state, warnings = state_from_query({"text": "a" * 1500, "compare": "b" * 1001}, [])
    assert (state.text, state.compare) == ("a" * MAX_URL_TEXT, "b" * MAX_URL_TEXT)
    assert warnings == [
        "The link's text has 1,500 characters; links carry at most 1,000, so only the first 1,000 are shown. Share a "
        "longer text as a file, or link a stored sample (corpus=, sample_lang=, unit=).",
        "The link's compare has 1,001 characters; links carry at most 1,000, so only the first 1,000 are shown. Share "
        "a longer text as a file, or link a stored sample (corpus=, sample_lang=, unit=)."]
    assert state_from_query({"text": "a" * 1000}, [])[1] == []


def test_lone_surrogates_on_the_wire_become_replacement_characters() -> None:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    from app.wire import repair

    msg = BackMsg()
    msg.rerun_script.query_string = "x" * 3  # three bytes that a lone surrogate will stand in for
    good = msg.SerializeToString()
    bad = good.replace(b"xxx", b"\xed\xa0\x80")  # what the browser's encoder writes for "\ud800"
    from google.protobuf.message import DecodeError

    with pytest.raises(DecodeError):  # the frame the server used to drop, closing the connection
        BackMsg().ParseFromString(bad)
    fixed = BackMsg()
    fixed.ParseFromString(repair(bad))
    assert fixed.rerun_script.query_string == "\ufffd"
    assert repair(good) == good and repair("한국어".encode()) == "한국어".encode()  # Hangul ED 9x xx is untouched


# ------------------------------------------------------------------ 4. names; no leftovers


def test_names_compare_ignoring_case() -> None:
    with pytest.raises(CorpusFormatError, match=r"'UDHR' is the built-in corpus 'udhr' \(names are compared ignoring "
                                                r"case\); choose another name."):
        check_name("UDHR")
    assert existing_name("Mine", ["udhr", "mine"]) == "mine"


def test_store_refuses_a_name_that_differs_only_in_case(tmp_path: Path) -> None:
    from analysis.corpus.model import Language, ParallelCorpus, Unit
    from analysis.store.corpora import import_into_store
    from analysis.store.schema import StoreError, open_readonly

    def corpus(name: str, text: str) -> ParallelCorpus:
        return ParallelCorpus(name=name, source="test", languages={"eng": Language(code="eng", name="eng")},
                              units=[Unit("eng", "1", text)], unit_order=["1"])

    db = import_into_store(tmp_path / "a.duckdb", corpus("mine", "hello"))
    before = db.read_bytes()
    for name in ("MINE", "Udhr"):
        with pytest.raises(StoreError, match="names are compared ignoring case"):
            import_into_store(db, corpus(name, "other"))
    assert db.read_bytes() == before
    con = open_readonly(db)
    assert con.execute("SELECT corpus FROM corpora").fetchall() == [("mine",)]
    con.close()


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_leftovers_of_dead_processes_are_swept(tmp_path: Path) -> None:
    db = tmp_path / "db" / "atlas.duckdb"
    db.parent.mkdir()
    db.write_bytes(b"the database")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    dead, alive = dead_pid(), os.getppid()
    left = [db.with_name(f".building-atlas.duckdb.{dead}"), db.with_name(f".building-atlas.duckdb.{dead}.wal"),
            db.with_name(f".building-atlas.duckdb.{dead}.inputs")]
    kept = [db.with_name(f".building-atlas.duckdb.{alive}"), db.with_name(".building-other.duckdb.1")]
    for p in left + kept:
        p.write_bytes(b"x" * 100)
    (tmp / f"atlas-import-{dead}-abc" / "upload").mkdir(parents=True)
    (tmp / f"atlas-import-{dead}-abc" / "upload" / "eng.txt").write_bytes(b"a\n")
    (tmp / f"atlas-import-{alive}-def").mkdir()
    (tmp / "atlas-lab-xyz").mkdir()
    removed = sweep_leftovers(db=db, temp_dir=tmp)
    assert sorted(removed) == sorted([*left, tmp / f"atlas-import-{dead}-abc"])
    assert all(p.exists() for p in kept) and db.read_bytes() == b"the database"
    assert sorted(p.name for p in tmp.iterdir()) == sorted([f"atlas-import-{alive}-def", "atlas-lab-xyz"])
    assert private_prefix("atlas-import-").startswith(f"atlas-import-{os.getpid()}-")


def test_the_next_cli_start_sweeps_a_killed_builds_copy(tmp_path: Path) -> None:
    db = tmp_path / "atlas.duckdb"
    stale = db.with_name(f".building-atlas.duckdb.{dead_pid()}")
    stale.write_bytes(b"x" * 1000)
    proc = subprocess.run([sys.executable, "-m", "analysis", "tokenizers", "--json"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, env={**os.environ, "ATLAS_DB": str(db)})
    assert proc.returncode == 0 and json.loads(proc.stdout)
    assert not stale.exists()


WORKERS = """
import os, sys, time, multiprocessing
from concurrent.futures import ProcessPoolExecutor
from analysis.store.local_pool import init_worker
if __name__ == "__main__":
    pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"), initializer=init_worker,
                               initargs=(os.getpid(),))
    pids = {pool.submit(os.getpid).result() for _ in range(8)}
    print(" ".join(map(str, sorted(pids))), flush=True)
    time.sleep(600)
"""


def test_workers_exit_when_their_parent_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(WORKERS, encoding="utf-8")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert pids and all(_alive(p) for p in pids)
        os.kill(parent.pid, signal.SIGKILL)  # kill -9: no cleanup code of the parent runs
        parent.wait()
        deadline = time.monotonic() + 30  # a wait, not a timing assertion: they go at once (the kernel's signal)
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(p) for p in pids), f"workers {pids} outlived their parent"
    finally:
        if parent.poll() is None:
            parent.kill()


def _alive(pid: int) -> bool:
    from analysis.lifecycle import pid_alive

    return pid_alive(pid)


# ------------------------------------------------------------------ 5. settings read one way


@pytest.mark.parametrize(("value", "enabled"), [
    ("0", False), ("false", False), ("False", False), ("off", False), ("no", False), (" OFF ", False), ("", False),
    ("1", True), ("true", True), ("on", True), ("yes", True), ("YES", True),
])
def test_imports_enabled_reads_every_spelling(monkeypatch: pytest.MonkeyPatch, value: str, enabled: bool) -> None:
    monkeypatch.setenv("ATLAS_IMPORT", value)
    assert imports_enabled() is enabled


def test_unset_and_malformed_booleans(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATLAS_IMPORT", raising=False)
    assert imports_enabled() is True and env_bool("ATLAS_IMPORT", False) is False
    monkeypatch.setenv("ATLAS_IMPORT", "maybe")
    with pytest.raises(SettingError, match=r"ATLAS_IMPORT='maybe' is neither true nor false. Set it to 1/true/yes/on "
                                           r"or 0/false/no/off."):
        imports_enabled()
    assert parse_bool("On", name="X") is True


@pytest.mark.parametrize("value", ["0", "off", "false"])
def test_cli_import_asks_the_same_setting(tmp_path: Path, value: str) -> None:
    """``corpus import`` on the command line refuses like the page when ATLAS_IMPORT is off, and writes nothing."""
    tsv = tmp_path / "c.tsv"
    tsv.write_text("eng\tfra\nhello\tbonjour\n", encoding="utf-8")
    db = tmp_path / "atlas.duckdb"
    args = [sys.executable, "-m", "analysis", "corpus", "import", "--kind", "tsv", "--path", str(tsv), "--name", "c",
            "--db", str(db)]
    off = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "ATLAS_IMPORT": value})
    assert off.returncode != 0 and not db.exists()
    assert "Importing is switched off here (ATLAS_IMPORT is off). To import on purpose, run the command with " \
           "ATLAS_IMPORT=1 in front of it" in off.stderr
    on = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "ATLAS_IMPORT": "1"})
    assert on.returncode == 0, on.stderr
    assert db.is_file()


def test_no_other_boolean_parser_reads_settings() -> None:
    # The pages and the CLI ask config.imports_enabled(); no module compares a setting to "0" or "true" by hand.
    by_hand = re.compile(r"""environ(?:\.get\(|\[)["'][A-Z_]+["'][^\n]*(?:==|!=|\bin\b)\s*[\(\[{]?["'](?:0|1|true|on)""")
    offenders = [str(path.relative_to(ROOT)) for folder in ("analysis", "app") for path in (ROOT / folder).rglob("*.py")
                 if path.name != "config.py" and by_hand.search(path.read_text(encoding="utf-8"))]
    assert offenders == []
    assert by_hand.search('os.environ.get("ATLAS_IMPORT", "1") == "0"')  # the old page's test, which this catches
    assert by_hand.search('os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true")')


def test_a_killed_import_leaves_nothing_after_the_next_start(tmp_path: Path) -> None:
    # A real `corpus import` killed with -9 while it writes its private copy of the database: the copy stays (no
    # cleanup code runs), and the next CLI start removes it; the database itself is as it was.
    folder = tmp_path / "big"
    folder.mkdir()
    for code, word in (("eng", "hello world"), ("fra", "bonjour le monde")):
        (folder / f"{code}.txt").write_text("".join(f"{word} {i}\n" for i in range(150_000)), encoding="utf-8")
    db = tmp_path / "atlas.duckdb"
    env = {**os.environ, "ATLAS_DB": str(db)}
    proc = subprocess.Popen([sys.executable, "-m", "analysis", "corpus", "import", "--kind", "lines", "--path",
                             str(folder), "--name", "big", "--db", str(db)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    copy = db.with_name(f".building-atlas.duckdb.{proc.pid}")
    deadline = time.monotonic() + 120  # waiting for the import to reach its write, not asserting a time
    while not copy.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert copy.exists(), "the import finished or failed before it could be killed mid-write"
    assert not db.exists()  # the database was never replaced by a half-written one
    done = subprocess.run([sys.executable, "-m", "analysis", "tokenizers", "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".building-")) == []
