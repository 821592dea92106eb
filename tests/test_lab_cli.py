"""``python -m analysis lab train|compare|steps`` and the lab's use of corpora imported into the store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analysis import get_tokenizer
from analysis.cli import main
from analysis.corpus.imports import read_corpus
from analysis.lab.data import load_lab_data
from analysis.store.corpora import import_into_store

ROOT = Path(__file__).resolve().parent.parent


def test_train_writes_a_loadable_file(tmp_path, capsys):
    out = tmp_path / "t" / "tokenizer.json"
    rc = main(["lab", "train", "--corpus", "udhr", "--langs", "eng,hin,tha", "--algorithm", "parity-bpe",
               "--vocab-size", "700", "--seed", "3", "--out", str(out)])
    assert rc == 0
    err = capsys.readouterr().err
    assert "udhr: 3 languages, 23 training and 8 held-out units (seed 3)" in err
    assert f"load it as file:{out.resolve()}" in err
    tok = get_tokenizer(f"file:{out}")
    assert tok.vocab_size == 700 and tok.roundtrip("สวัสดี नमस्ते hello")
    side = json.loads((tmp_path / "t" / "tokenizer.lab.json").read_text())
    assert side["data"]["seed"] == 3 and side["data"]["langs"] == ["eng", "hin", "tha"]


def test_compare_prints_the_side_by_side_table(capsys):
    rc = main(["lab", "compare", "--langs", "eng,hin", "--vocab-size", "600", "--algorithm", "parity-bpe",
               "--pre-tokenizer", "gpt2", "--tokenizer", "utf8-bytes"])
    assert rc == 0
    out = capsys.readouterr().out
    header = out.splitlines()[1]
    assert header.split() == ["lang", "name", "script", "units", "premium", "parity-bpe", "CI", "parity-bpe",
                              "bytes/token", "parity-bpe", "premium", "bpe", "CI", "bpe", "bytes/token", "bpe",
                              "premium", "utf8-bytes", "CI", "utf8-bytes", "bytes/token", "utf8-bytes"]
    # The byte baseline's premium is the held-out byte ratio and its bytes/token exactly 1; it has no script shares.
    data = load_lab_data("udhr", ["eng", "hin"])
    ratio = sum(len(t.encode()) for t in data.held_out_texts("hin").values()) / sum(
        len(t.encode()) for t in data.held_out_texts("eng").values())
    hin = next(line for line in out.splitlines() if line.startswith("hin "))
    assert f"{ratio:.3f}" in hin and hin.rstrip().endswith("1.000")
    assert "—" in out.split("# vocabulary share per script")[1]


def test_steps_lists_merges(tmp_path, capsys):
    out = tmp_path / "tokenizer.json"
    assert main(["lab", "train", "--langs", "eng,fra", "--algorithm", "bpe", "--vocab-size", "400",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["lab", "steps", "--tokenizer", f"file:{out}", "--text", "the the", "--limit", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "start: 7 byte tokens"
    assert len(lines) == 3 and all(" tokens | " in line for line in lines[1:])


@pytest.mark.parametrize(("argv", "message"), [
    (["--langs", "eng,xx_nope", "--vocab-size", "500"], "No language 'xx_nope' in corpus 'udhr'"),
    (["--langs", "eng,fra", "--vocab-size", "50"], "from 300 to 262,144"),
    (["--langs", "eng,fra", "--vocab-size", "500", "--weights", "eng:2"], "Weights look like eng=2,hin=3"),
    (["--langs", "eng,fra", "--vocab-size", "500", "--char-level", "--algorithm", "parity-bpe"], "byte-level only"),
])
def test_errors_name_the_fix(argv, message, tmp_path, capsys):
    assert main(["lab", "train", *argv, "--out", str(tmp_path / "t.json")]) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_imported_corpus_from_the_store(tmp_path):
    folder = tmp_path / "lines"
    folder.mkdir()
    (folder / "aaa.txt").write_text("one two\nthree four\nfive six\nseven eight\n", encoding="utf-8")
    (folder / "bbb.txt").write_text("un deux\ntrois quatre\ncinq six\nsept huit\n", encoding="utf-8")
    db = tmp_path / "atlas.duckdb"
    import_into_store(db, read_corpus("lines", folder, name="mini"))
    data = load_lab_data("mini", ["aaa", "bbb"], db=db, held_out=0.25, seed=0)
    assert data.unit_order == ("1", "2", "3", "4")
    assert len(data.held_out_units) == 1
    assert data.train_texts("bbb") == [t for u, t in zip(("1", "2", "3", "4"),
                                                          ("un deux", "trois quatre", "cinq six", "sept huit"))
                                       if u not in data.held_out_units]
    proc = subprocess.run([sys.executable, "-m", "analysis", "lab", "train", "--corpus", "nope", "--db", str(db),
                           "--langs", "aaa,bbb", "--vocab-size", "300", "--out", str(tmp_path / "x.json")],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "No corpus 'nope' in the statistics database; it has: mini" in proc.stderr
