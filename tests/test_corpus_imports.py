"""Imports of users' parallel corpora: FLORES-200 folders, line-aligned folders, TSV and JSONL.

Every fixture is a real file the test writes into ``tmp_path``; every expected corpus is written out by
hand. Bad input must raise :class:`CorpusFormatError` with the right ``.path``, ``.line`` and message.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

from analysis.corpus.imports import read_corpus, read_flores200, read_jsonl, read_lines, read_tsv
from analysis.corpus.model import Language, ParallelCorpus, Unit
from analysis.errors import AnalysisError, CorpusFormatError

#: Scripts detected from text exist only once analysis.scripts does; scripts named in a code always do.
HAVE_SCRIPTS = importlib.util.find_spec("analysis.scripts") is not None


def detected(script: str) -> str | None:
    return script if HAVE_SCRIPTS else None


def lang(code: str, *, script: str | None = None, complete: bool = True, iso: str | None = None,
         direction: str = "ltr") -> Language:
    return Language(code=code, name=code, script=script, iso639_3=iso, direction=direction,  # type: ignore[arg-type]
                    complete=complete)


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def raises(call: Callable[[], object], *, path: Path, line: int | None, words: list[str]) -> CorpusFormatError:
    """Run ``call``; it must raise CorpusFormatError at ``path``/``line`` whose message has every word."""
    with pytest.raises(CorpusFormatError) as info:
        call()
    err = info.value
    assert (err.path, err.line) == (path, line), err.message
    for word in words:
        assert word in err.message, (word, err.message)
    return err


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))}


# --- each format, read correctly ---------------------------------------------------------------------------


def test_flores200(tmp_path: Path) -> None:
    root = tmp_path / "flores200_dataset"
    write(root / "dev" / "eng_Latn.dev", "Hello.\nGood morning.\n")
    write(root / "dev" / "fra_Latn.dev", "Bonjour.\r\nBon matin.\r\n")  # CRLF
    write(root / "dev" / "arb_Arab.dev", "مرحبا.\nصباح الخير.\n")
    write(root / "dev" / ".DS_Store", b"\x00\x01junk")  # hidden: ignored
    write(root / "devtest" / "eng_Latn.devtest", "Thank you.\n")
    write(root / "devtest" / "fra_Latn.devtest", " \t \n")  # blank: absent for fra
    write(root / "devtest" / "arb_Arab.devtest", "شكرا.")  # no final newline
    write(root / "README", "not a corpus file")
    before = snapshot(tmp_path)

    corpus = read_flores200(root)

    assert corpus == ParallelCorpus(
        name="flores200_dataset",
        source=f"flores200:{root.resolve()}",
        languages={
            "arb_Arab": lang("arb_Arab", script="Arab", iso="arb", direction="rtl"),
            "eng_Latn": lang("eng_Latn", script="Latn", iso="eng"),
            "fra_Latn": lang("fra_Latn", script="Latn", iso="fra", complete=False),
        },
        units=[
            Unit("arb_Arab", "dev:1", "مرحبا."),
            Unit("arb_Arab", "dev:2", "صباح الخير."),
            Unit("arb_Arab", "devtest:1", "شكرا."),
            Unit("eng_Latn", "dev:1", "Hello."),
            Unit("eng_Latn", "dev:2", "Good morning."),
            Unit("eng_Latn", "devtest:1", "Thank you."),
            Unit("fra_Latn", "dev:1", "Bonjour."),
            Unit("fra_Latn", "dev:2", "Bon matin."),
        ],
        unit_order=["dev:1", "dev:2", "devtest:1"],
    )
    assert list(corpus.languages) == ["arb_Arab", "eng_Latn", "fra_Latn"]
    assert snapshot(tmp_path) == before  # a pure reader: nothing written


def test_flores200_one_split_only(tmp_path: Path) -> None:
    write(tmp_path / "devtest" / "eng_Latn.devtest", "One.\nTwo.\n")
    write(tmp_path / "devtest" / "deu_Latn.devtest", "Eins.\nZwei.\n")
    write(tmp_path / "devtest" / "rus_Cyrl.devtest", "Один.\nДва.\n")
    corpus = read_flores200(tmp_path, name="mini")
    assert corpus.name == "mini"
    assert corpus.unit_order == ["devtest:1", "devtest:2"]
    assert corpus.languages["rus_Cyrl"] == lang("rus_Cyrl", script="Cyrl", iso="rus")
    assert corpus.texts("rus_Cyrl") == {"devtest:1": "Один.", "devtest:2": "Два."}
    assert [(u.lang, u.unit) for u in corpus.units] == [
        ("deu_Latn", "devtest:1"), ("deu_Latn", "devtest:2"), ("eng_Latn", "devtest:1"),
        ("eng_Latn", "devtest:2"), ("rus_Cyrl", "devtest:1"), ("rus_Cyrl", "devtest:2"),
    ]


def test_lines(tmp_path: Path) -> None:
    write(tmp_path / "eng.txt", "Hello.\nThank you.\n  Good night.  \n")
    write(tmp_path / "fra.txt", "Bonjour.\nMerci.\nBonne nuit.\n")
    write(tmp_path / "hin.txt", "नमस्ते।\n\t \nशुभ रात्रि।\n")  # line 2 blank: absent for hin
    write(tmp_path / "README.md", "# my corpus\n")  # not a .txt: ignored
    before = snapshot(tmp_path)

    corpus = read_lines(tmp_path, name="greetings")

    assert corpus == ParallelCorpus(
        name="greetings",
        source=f"lines:{tmp_path.resolve()}",
        languages={
            "eng": lang("eng", script=detected("Latn")),
            "fra": lang("fra", script=detected("Latn")),
            "hin": lang("hin", script=detected("Deva"), complete=False),
        },
        units=[
            Unit("eng", "1", "Hello."),
            Unit("eng", "2", "Thank you."),
            Unit("eng", "3", "  Good night.  "),  # text kept as given
            Unit("fra", "1", "Bonjour."),
            Unit("fra", "2", "Merci."),
            Unit("fra", "3", "Bonne nuit."),
            Unit("hin", "1", "नमस्ते।"),
            Unit("hin", "3", "शुभ रात्रि।"),
        ],
        unit_order=["1", "2", "3"],
    )
    assert snapshot(tmp_path) == before


def test_lines_unit_blank_everywhere_is_no_unit(tmp_path: Path) -> None:
    write(tmp_path / "eng.txt", "One.\n\nThree.\n")
    write(tmp_path / "fra.txt", "Un.\n \nTrois.\n")
    write(tmp_path / "deu.txt", "Eins.\n\t\nDrei.\n")
    corpus = read_lines(tmp_path)
    assert corpus.name == tmp_path.name
    assert corpus.unit_order == ["1", "3"]
    assert all(language.complete for language in corpus.languages.values())
    assert corpus.texts("deu") == {"1": "Eins.", "3": "Drei."}


def test_lines_keeps_unicode_line_separators_inside_the_text(tmp_path: Path) -> None:
    write(tmp_path / "eng.txt", "a\u2028b\rc\x85d\nsecond\n")
    write(tmp_path / "fra.txt", "un\ndeux\n")
    write(tmp_path / "deu.txt", "eins\nzwei\n")
    assert read_lines(tmp_path).texts("eng") == {"1": "a\u2028b\rc\x85d", "2": "second"}


def test_tsv_with_id_column(tmp_path: Path) -> None:
    path = write(tmp_path / "greetings.tsv",
                 "id\teng\tsr-Cyrl\thin\n"
                 'g1\t"Hi," she said.\tЗдраво.\tनमस्ते।\n'
                 " g2 \tThanks.\t\tधन्यवाद।\n"  # id stripped; empty cell: absent for sr-Cyrl
                 "g3\tBye.\tЗбогом.\t  \n"  # blank cell: absent for hin
                 "\n\n")  # empty lines at the end: ignored
    before = snapshot(tmp_path)

    corpus = read_tsv(path)

    assert corpus == ParallelCorpus(
        name="greetings",
        source=f"tsv:{path.resolve()}",
        languages={
            "eng": lang("eng", script=detected("Latn")),
            "sr-Cyrl": lang("sr-Cyrl", script="Cyrl", complete=False),
            "hin": lang("hin", script=detected("Deva"), complete=False),
        },
        units=[
            Unit("eng", "g1", '"Hi," she said.'),
            Unit("eng", "g2", "Thanks."),
            Unit("eng", "g3", "Bye."),
            Unit("sr-Cyrl", "g1", "Здраво."),
            Unit("sr-Cyrl", "g3", "Збогом."),
            Unit("hin", "g1", "नमस्ते।"),
            Unit("hin", "g2", "धन्यवाद।"),
        ],
        unit_order=["g1", "g2", "g3"],
    )
    assert list(corpus.languages) == ["eng", "sr-Cyrl", "hin"]  # column order
    assert snapshot(tmp_path) == before


def test_tsv_without_id_column_numbers_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "rows.tsv", "fra\teng\tdeu\nUn.\tOne.\tEins.\nDeux.\tTwo.\t\n")
    corpus = read_tsv(path, name="rows")
    assert corpus.unit_order == ["1", "2"]
    assert list(corpus.languages) == ["fra", "eng", "deu"]
    assert corpus.texts("eng") == {"1": "One.", "2": "Two."}
    assert corpus.texts("deu") == {"1": "Eins."}
    assert [(c, x.complete) for c, x in corpus.languages.items()] == [("fra", True), ("eng", True), ("deu", False)]


def test_jsonl(tmp_path: Path) -> None:
    records = [
        {"id": "u1", "lang": "en", "text": "Hello.", "source": "extra fields are ignored"},
        {"id": "u1", "lang": "ar", "text": "مرحبا."},
        {"id": "u2", "lang": "en", "text": "Thank you."},
        {"id": "u1", "lang": "ru", "text": "Привет."},
        {"id": "u2", "lang": "ar", "text": "  "},  # blank text: absent for ar
        {"id": " u2 ", "lang": " ru ", "text": " Спасибо."},  # id and lang stripped, text kept
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    path = write(tmp_path / "corpus.jsonl", "\n".join([*lines[:3], "", "   ", *lines[3:]]) + "\n")
    before = snapshot(tmp_path)

    corpus = read_jsonl(path)

    assert corpus == ParallelCorpus(
        name="corpus",
        source=f"jsonl:{path.resolve()}",
        languages={
            "en": lang("en", script=detected("Latn")),
            "ar": lang("ar", script=detected("Arab"), complete=False, direction="rtl" if HAVE_SCRIPTS else "ltr"),
            "ru": lang("ru", script=detected("Cyrl")),
        },
        units=[
            Unit("en", "u1", "Hello."),
            Unit("en", "u2", "Thank you."),
            Unit("ar", "u1", "مرحبا."),
            Unit("ru", "u1", "Привет."),
            Unit("ru", "u2", " Спасибо."),
        ],
        unit_order=["u1", "u2"],
    )
    assert snapshot(tmp_path) == before


# --- the same small corpus in every kind, for the checks every format shares ------------------------------

KINDS = ["flores200", "lines", "tsv", "jsonl"]
ENG = ["Hello.", "Coffee."]
FRA = ["Bonjour.", "Café."]


def layout(kind: str, root: Path, encode: Callable[[str], bytes] = str.encode) -> tuple[Path, Path, int]:
    """Write eng + fra as ``kind``; the file holding fra (TSV/JSONL: the only file) goes through ``encode``.

    Returns the path to import, the file written with ``encode``, and the line of "Café." in that file.
    """
    def lines(texts: list[str]) -> str:
        return "".join(t + "\n" for t in texts)

    if kind == "flores200":
        write(root / "dev" / "eng_Latn.dev", lines(ENG))
        return root, write(root / "dev" / "fra_Latn.dev", encode(lines(FRA))), 2
    if kind == "lines":
        write(root / "eng.txt", lines(ENG))
        return root, write(root / "fra.txt", encode(lines(FRA))), 2
    if kind == "tsv":
        text = lines(["eng\tfra", *(f"{e}\t{f}" for e, f in zip(ENG, FRA, strict=True))])
        path = write(root / "c.tsv", encode(text))
        return path, path, 3
    rows = [{"id": str(i), "lang": c, "text": t} for i in (1, 2) for c, t in (("eng", ENG[i - 1]), ("fra", FRA[i - 1]))]
    path = write(root / "c.jsonl", encode(lines([json.dumps(r, ensure_ascii=False) for r in rows])))
    return path, path, 4


FRA_CODE = {"flores200": "fra_Latn", "lines": "fra", "tsv": "fra", "jsonl": "fra"}
FIRST_ID = {"flores200": "dev:1", "lines": "1", "tsv": "1", "jsonl": "1"}


@pytest.mark.parametrize("kind", KINDS)
def test_read_corpus_dispatches_to_each_reader(kind: str, tmp_path: Path) -> None:
    path, _, _ = layout(kind, tmp_path)
    corpus = read_corpus(kind, path, name="tiny")  # type: ignore[arg-type]
    assert corpus.name == "tiny"
    assert corpus.source == f"{kind}:{path.resolve()}"
    assert len(corpus.languages) == 2 and all(x.complete for x in corpus.languages.values())
    assert list(corpus.texts(FRA_CODE[kind]).values()) == FRA
    assert corpus.unit_order[0] == FIRST_ID[kind]


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: b"\xef\xbb\xbf" + s.encode("utf-8"),  # UTF-8 with BOM
        lambda s: s.encode("utf-16"),  # BOM + native order
        lambda s: b"\xff\xfe" + s.encode("utf-16-le"),
        lambda s: b"\xfe\xff" + s.encode("utf-16-be"),
        lambda s: s.replace("\n", "\r\n").encode("utf-8"),
    ],
    ids=["utf8-bom", "utf16", "utf16le-bom", "utf16be-bom", "crlf"],
)
@pytest.mark.parametrize("kind", KINDS)
def test_accepted_encodings(kind: str, encode: Callable[[str], bytes], tmp_path: Path) -> None:
    path, _, _ = layout(kind, tmp_path, encode)
    corpus = read_corpus(kind, path, name="enc")  # type: ignore[arg-type]
    assert list(corpus.texts(FRA_CODE[kind]).values()) == FRA  # no BOM, no \r left in the text


# --- bad input: shared by every format ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_latin1_is_refused_at_the_first_bad_byte(kind: str, tmp_path: Path) -> None:
    path, bad, line = layout(kind, tmp_path, lambda s: s.encode("latin-1"))
    raises(lambda: read_corpus(kind, path, name="x"), path=bad, line=line,  # type: ignore[arg-type]
           words=[str(bad), f"line {line}", "0xE9", "not valid UTF-8", "Convert the file to UTF-8"])


@pytest.mark.parametrize("kind", KINDS)
def test_utf16_without_bom_is_refused(kind: str, tmp_path: Path) -> None:
    # Non-ASCII UTF-16 fails UTF-8 decoding; ASCII-only UTF-16 decodes, with a NUL after every letter.
    path, bad, _ = layout(kind, tmp_path, lambda s: s.replace("é", "e").encode("utf-16-le"))
    raises(lambda: read_corpus(kind, path, name="x"), path=bad, line=1,  # type: ignore[arg-type]
           words=["NUL", "UTF-16 file without a byte-order mark", "convert it to UTF-8"])


@pytest.mark.parametrize("kind", KINDS)
def test_broken_utf16_is_refused(kind: str, tmp_path: Path) -> None:
    path, bad, line = layout(kind, tmp_path, lambda s: s.encode("utf-16")[:-1])  # odd byte count
    # The lone byte is the first half of the newline that ends the last line ("Café.").
    raises(lambda: read_corpus(kind, path, name="x"), path=bad, line=line,  # type: ignore[arg-type]
           words=["byte 0x0A", "not valid UTF-16", "Convert the file to UTF-8"])


@pytest.mark.parametrize("kind", KINDS)
def test_utf32_is_refused(kind: str, tmp_path: Path) -> None:
    path, bad, _ = layout(kind, tmp_path, lambda s: s.encode("utf-32"))
    raises(lambda: read_corpus(kind, path, name="x"), path=bad, line=1,  # type: ignore[arg-type]
           words=["UTF-32", "Convert the file to UTF-8"])


@pytest.mark.parametrize("kind", KINDS)
def test_nul_in_text_is_refused(kind: str, tmp_path: Path) -> None:
    path, bad, line = layout(kind, tmp_path, lambda s: s.replace("Café", "Caf\x00é").encode("utf-8"))
    raises(lambda: read_corpus(kind, path, name="x"), path=bad, line=line,  # type: ignore[arg-type]
           words=[f"line {line}", "NUL character"])


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\xff\xfe"], ids=["0-bytes", "utf8-bom-only", "utf16-bom"])
@pytest.mark.parametrize("kind", KINDS)
def test_empty_file_is_refused(kind: str, content: bytes, tmp_path: Path) -> None:
    path, bad, _ = layout(kind, tmp_path, lambda s: content)
    raises(lambda: read_corpus(kind, path, name="x"), path=bad, line=None,  # type: ignore[arg-type]
           words=[str(bad), "is empty", "Fill it"])


@pytest.mark.parametrize("kind", KINDS)
def test_file_of_blank_lines_is_refused(kind: str, tmp_path: Path) -> None:
    path, bad, _ = layout(kind, tmp_path, lambda s: b" \n\t\n")  # as many lines as the eng file
    raises(lambda: read_corpus(kind, path, name="x"), path=bad, line=None,  # type: ignore[arg-type]
           words=["only blank lines"])


def test_flores_language_blank_in_every_split_is_refused(tmp_path: Path) -> None:
    for code in ("eng_Latn", "fra_Latn"):
        write(tmp_path / "dev" / f"{code}.dev", "a\nb\n")
        write(tmp_path / "devtest" / f"{code}.devtest", "c\n")
    write(tmp_path / "dev" / "deu_Latn.dev", "\n \n")
    write(tmp_path / "devtest" / "deu_Latn.devtest", "\t\n")
    raises(lambda: read_flores200(tmp_path), path=tmp_path / "dev" / "deu_Latn.dev", line=None,
           words=["has only blank lines, and so has its devtest file: deu_Latn has no text"])


@pytest.mark.parametrize("kind", KINDS)
def test_file_over_max_bytes_is_refused(kind: str, tmp_path: Path) -> None:
    path, bad, _ = layout(kind, tmp_path)
    limit = bad.stat().st_size - 1
    assert all(p.stat().st_size <= limit for p in tmp_path.rglob("*") if p.is_file() and p != bad)
    raises(lambda: read_corpus(kind, path, name="x", max_bytes=limit), path=bad, line=None,  # type: ignore[arg-type]
           words=[f"is {limit + 1:,} bytes", f"limit of {limit:,} bytes", "Split the corpus", "max_bytes"])
    assert read_corpus(kind, path, name="x", max_bytes=limit + 1).languages  # type: ignore[arg-type]


def test_default_size_limit_is_500_mb(tmp_path: Path) -> None:
    path = tmp_path / "huge.tsv"
    with path.open("wb") as f:  # sparse: 500 MB + 1 byte without writing them
        f.truncate(500_000_001)
    raises(lambda: read_tsv(path), path=path, line=None, words=["500,000,001 bytes", "limit of 500,000,000 bytes"])


@pytest.mark.parametrize("kind", KINDS)
def test_missing_path_is_refused(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "nowhere"
    raises(lambda: read_corpus(kind, path, name="x"), path=path, line=None,  # type: ignore[arg-type]
           words=["does not exist", "Check the path"])


def test_read_corpus_refuses_unknown_kind_and_empty_name(tmp_path: Path) -> None:
    err = raises(lambda: read_corpus("csv", tmp_path, name="x"), path=tmp_path, line=None,  # type: ignore[arg-type]
                 words=["Unknown corpus kind 'csv'", "flores200, lines, tsv, jsonl"])
    assert isinstance(err, AnalysisError) and isinstance(err, ValueError)
    assert err.title == "Corpus cannot be imported"
    copy = pickle.loads(pickle.dumps(err))  # crosses process boundaries intact (the builder uses several)
    assert (type(copy), copy.message, copy.path, copy.line, copy.title) == (
        CorpusFormatError, err.message, tmp_path, None, "Corpus cannot be imported")
    raises(lambda: read_corpus("lines", tmp_path, name="  "), path=tmp_path, line=None, words=["non-empty name"])


# --- bad input: folders ------------------------------------------------------------------------------------


def test_lines_misaligned_names_both_files_and_counts(tmp_path: Path) -> None:
    write(tmp_path / "eng.txt", "One.\nTwo.\nThree.\n")
    write(tmp_path / "fra.txt", "Un.\nDeux.\n")
    write(tmp_path / "hin.txt", "एक।\nदो।\nतीन।\n")
    raises(lambda: read_lines(tmp_path), path=tmp_path / "fra.txt", line=3,
           words=[str(tmp_path / "fra.txt"), "has 2 lines", f"{tmp_path / 'eng.txt'} has 3", "same number of lines"])


def test_lines_misaligned_longer_file_is_the_odd_one(tmp_path: Path) -> None:
    write(tmp_path / "eng.txt", "One.\nTwo.\n")
    write(tmp_path / "fra.txt", "Un.\nDeux.\n")
    write(tmp_path / "hin.txt", "एक।\nदो।\nतीन।\nचार।\n")
    raises(lambda: read_lines(tmp_path), path=tmp_path / "hin.txt", line=3,
           words=["has 4 lines", f"{tmp_path / 'eng.txt'} has 2"])


def test_lines_empty_folder_is_refused(tmp_path: Path) -> None:
    raises(lambda: read_lines(tmp_path), path=tmp_path, line=None, words=["no <code>.txt files", "It is empty"])


def test_lines_folder_without_txt_files_says_what_it_holds(tmp_path: Path) -> None:
    write(tmp_path / "eng.csv", "a,b\n")
    write(tmp_path / "notes.md", "hi\n")
    raises(lambda: read_lines(tmp_path), path=tmp_path, line=None,
           words=["no <code>.txt files", "It holds: eng.csv, notes.md", "named by language code"])


def test_lines_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "eng.txt", "One.\n")
    raises(lambda: read_lines(path), path=path, line=None, words=["is a file, not a folder"])


def test_flores_without_splits_is_refused_with_a_hint(tmp_path: Path) -> None:
    write(tmp_path / "flores200_dataset" / "dev" / "eng_Latn.dev", "Hi.\n")
    raises(lambda: read_flores200(tmp_path), path=tmp_path, line=None,
           words=["neither a dev/ nor a devtest/ folder", f"has one inside: {tmp_path / 'flores200_dataset'}"])
    empty = tmp_path / "empty"
    empty.mkdir()
    err = raises(lambda: read_flores200(empty), path=empty, line=None, words=["neither a dev/ nor a devtest/"])
    assert "inside" not in err.message


def test_flores_empty_split_folder_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "devtest" / "eng_Latn.devtest", "Hi.\n")
    (tmp_path / "dev").mkdir()
    write(tmp_path / "dev" / "notes.txt", "not a .dev file\n")
    raises(lambda: read_flores200(tmp_path), path=tmp_path / "dev", line=None,
           words=["has no <code>.dev files", "remove the empty folder"])


def test_flores_split_missing_for_some_languages_names_the_files(tmp_path: Path) -> None:
    for code in ("eng_Latn", "fra_Latn", "deu_Latn"):
        write(tmp_path / "dev" / f"{code}.dev", "x\n")
    write(tmp_path / "devtest" / "eng_Latn.devtest", "y\n")
    missing = [tmp_path / "devtest" / "deu_Latn.devtest", tmp_path / "devtest" / "fra_Latn.devtest"]
    raises(lambda: read_flores200(tmp_path), path=missing[0], line=None,
           words=["2 file(s) are missing", f"{missing[0]}, {missing[1]}", "needs a file for every language"])


def test_flores_language_only_in_devtest_names_the_dev_file(tmp_path: Path) -> None:
    write(tmp_path / "dev" / "eng_Latn.dev", "x\n")
    write(tmp_path / "devtest" / "eng_Latn.devtest", "y\n")
    write(tmp_path / "devtest" / "zul_Latn.devtest", "z\n")
    raises(lambda: read_flores200(tmp_path), path=tmp_path / "dev" / "zul_Latn.dev", line=None,
           words=["1 file(s) are missing"])


def test_flores_misaligned_split(tmp_path: Path) -> None:
    for code in ("eng_Latn", "fra_Latn", "deu_Latn"):
        write(tmp_path / "dev" / f"{code}.dev", "a\nb\n")
        write(tmp_path / "devtest" / f"{code}.devtest", "c\nd\ne\n")
    write(tmp_path / "devtest" / "eng_Latn.devtest", "c\nd\n")
    raises(lambda: read_flores200(tmp_path), path=tmp_path / "devtest" / "eng_Latn.devtest", line=3,
           words=["has 2 lines", f"{tmp_path / 'devtest' / 'deu_Latn.devtest'} has 3"])


# --- bad input: TSV ----------------------------------------------------------------------------------------


def test_tsv_row_with_wrong_number_of_cells(tmp_path: Path) -> None:
    path = write(tmp_path / "c.tsv", "id\teng\tfra\n1\tHi.\tSalut.\n2\tBye.\n")
    raises(lambda: read_tsv(path), path=path, line=3,
           words=[f"{path}, line 3", "has 2 cells but the header has 3 columns", "separated by tabs"])


def test_tsv_quoted_cells_get_a_hint(tmp_path: Path) -> None:
    path = write(tmp_path / "c.tsv", 'eng\tfra\nHi.\tSalut.\n"A\tB"\tC\n')
    raises(lambda: read_tsv(path), path=path, line=3, words=["has 3 cells", "export without quoting"])


def test_tsv_duplicate_language_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "c.tsv", "id\teng\tfra\teng\n1\tHi.\tSalut.\tHello.\n")
    raises(lambda: read_tsv(path), path=path, line=1,
           words=["language 'eng' heads both column 2 and column 4", "one column only"])


def test_tsv_empty_header_cell(tmp_path: Path) -> None:
    path = write(tmp_path / "c.tsv", "eng\t \tfra\nHi.\tx\tSalut.\n")
    raises(lambda: read_tsv(path), path=path, line=1, words=["header column 2 is empty"])


def test_tsv_id_column_alone(tmp_path: Path) -> None:
    path = write(tmp_path / "c.tsv", "id\n1\n2\n")
    raises(lambda: read_tsv(path), path=path, line=1, words=["no language columns"])


def test_tsv_header_without_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "c.tsv", "id\teng\tfra\n\n")
    raises(lambda: read_tsv(path), path=path, line=1, words=["no data rows"])


def test_tsv_empty_and_repeated_ids(tmp_path: Path) -> None:
    path = write(tmp_path / "c.tsv", "id\teng\tfra\na\tHi.\tSalut.\n \tBye.\tAu revoir.\n")
    raises(lambda: read_tsv(path), path=path, line=3, words=["has an empty id"])
    path = write(tmp_path / "d.tsv", "id\teng\tfra\na\tHi.\tSalut.\nb\tYes.\tOui.\na\tBye.\tAu revoir.\n")
    raises(lambda: read_tsv(path), path=path, line=4, words=["repeats the id 'a' of line 2", "unique"])


def test_tsv_column_without_text(tmp_path: Path) -> None:
    path = write(tmp_path / "c.tsv", "eng\tfra\tdeu\nHi.\tSalut.\t\nBye.\tAu revoir.\t \n")
    raises(lambda: read_tsv(path), path=path, line=1, words=["column 3 ('deu') has no text", "remove it"])


# --- bad input: JSONL --------------------------------------------------------------------------------------

OK = '{"id": "1", "lang": "eng", "text": "Hi."}'


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ('{"id": "1", "lang": "fra" "text": "Salut."}', ["is not valid JSON", "column 27", "one complete JSON object"]),
        ('{"id": "1", "lang": "fra", "text": "Salut."', ["is not valid JSON"]),
        ('["1", "fra", "Salut."]', ["is a JSON array, not an object"]),
        ('"just a string"', ["is a JSON string, not an object"]),
        ('{"id": "1", "lang": "fra"}', ["missing the field(s) 'text'"]),
        ('{"text": "Salut."}', ["missing the field(s) 'id', 'lang'"]),
        ('{"id": 1, "lang": "fra", "text": "Salut."}', ["field 'id' is a number (1), not a string"]),
        ('{"id": "1", "lang": true, "text": "Salut."}', ["field 'lang' is a boolean (true)"]),
        ('{"id": "1", "lang": "fra", "text": null}', ["field 'text' is a null (null)"]),
        ('{"id": "1", "lang": "fra", "text": ["Sa", "lut."]}', ["field 'text' is a array"]),
        ('{"id": " ", "lang": "fra", "text": "Salut."}', ["field 'id' is empty"]),
        ('{"id": "1", "lang": "", "text": "Salut."}', ["field 'lang' is empty"]),
        ('{"id": "1", "lang": "fra", "text": "Sa\\u0000lut."}', ["field 'text' contains a NUL character"]),
        ('{"id": "1", "lang": "fra", "text": "Sa\\ud800lut."}', ["unpaired surrogate (U+D800)"]),
    ],
    ids=["syntax", "truncated", "array", "string", "no-text", "no-id-lang", "int-id", "bool-lang", "null-text",
         "array-text", "blank-id", "empty-lang", "nul-escape", "lone-surrogate"],
)
def test_jsonl_bad_record(bad: str, words: list[str], tmp_path: Path) -> None:
    path = write(tmp_path / "c.jsonl", f"{OK}\n\n{bad}\n{OK.replace('Hi.', 'x').replace('1', '2')}\n")
    raises(lambda: read_jsonl(path), path=path, line=3, words=[f"{path}, line 3", *words])


def test_jsonl_duplicate_id_and_lang(tmp_path: Path) -> None:
    path = write(tmp_path / "c.jsonl", f'{OK}\n{{"id": "1", "lang": "fra", "text": "Salut."}}\n'
                                       f'{{"id": "1", "lang": " eng", "text": "Hello."}}\n')
    raises(lambda: read_jsonl(path), path=path, line=3,
           words=["repeats id '1' for lang 'eng', first given on line 1", "one record per (id, lang)"])


def test_jsonl_language_with_only_empty_texts(tmp_path: Path) -> None:
    path = write(tmp_path / "c.jsonl", f'{OK}\n{{"id": "1", "lang": "fra", "text": " "}}\n'
                                       f'{{"id": "2", "lang": "fra", "text": ""}}\n')
    raises(lambda: read_jsonl(path), path=path, line=2, words=["language 'fra' has only empty texts"])
