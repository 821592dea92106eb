"""A tokenizer trained in the lab (a ``file:`` spec) goes into the store like a catalogue one: counts, premiums,
its file's sha256 in ``runs`` and ``tokenizers``; retraining the file makes the next build count it again."""

from __future__ import annotations

from pathlib import Path

from analysis import get_tokenizer
from analysis.assets import sha256_file
from analysis.corpus.imports import read_corpus
from analysis.lab import TrainSpec, load_lab_data, train
from analysis.store import build, import_into_store, open_readonly, read

ROWS = [("All human beings are born free.", "Tous les êtres humains naissent libres."),
        ("Everyone has rights.", "Chacun a des droits.")]
TSV = "eng\tfra\n" + "".join(f"{e}\t{f}\n" for e, f in ROWS)


def test_lab_tokenizer_in_the_store(tmp_path: Path) -> None:
    data = load_lab_data("udhr", ["eng", "fra"])
    path = tmp_path / "bpe" / "tokenizer.json"
    spec = train(data, TrainSpec("bpe", 400), path).spec
    assert spec == f"file:{path}"
    (tmp_path / "c.tsv").write_text(TSV, encoding="utf-8")
    db = tmp_path / "atlas.duckdb"
    import_into_store(db, read_corpus("tsv", tmp_path / "c.tsv", name="mine"))
    report = build(db, corpora=["mine"], tokenizers=[spec], workers=1)
    assert report.pairs_counted == [("mine", spec)]
    tok = get_tokenizer(spec)
    n_eng = sum(tok.count(e) for e, _ in ROWS)
    n_fra = sum(tok.count(f) for _, f in ROWS)
    con = open_readonly(db)
    prem = read.premiums(con, "mine", "eng", [spec]).set_index("lang")["premium"]
    assert prem["fra"] == n_fra / n_eng
    sha = sha256_file(path)
    assert con.execute("SELECT tokenizer_sha256 FROM runs WHERE tokenizer = ?", [spec]).fetchone() == (sha,)
    assert con.execute("SELECT backend, source, sha256 FROM tokenizers WHERE tokenizer = ?", [spec]).fetchone() == \
        ("hf", spec, sha)
    con.close()
    # Unchanged file: nothing to count. Retrained (other size, new hash): counted again.
    assert build(db, corpora=["mine"], tokenizers=[spec], workers=1).pairs_skipped == [("mine", spec)]
    train(data, TrainSpec("bpe", 300), path)
    assert build(db, corpora=["mine"], tokenizers=[spec], workers=1).pairs_counted == [("mine", spec)]
