"""A tiny statistics store for the SQL console, Methods and page tests, counted by hand; and the writer of such
line-aligned corpora, which the glitch tests use with texts of their own.

Two languages, two units (a folder of line-aligned files, kind "lines"):

    eng  unit 1  "Hello world."   12 bytes, 12 characters
         unit 2  "Be kind."        8 bytes,  8 characters        eng: 20 bytes, 20 characters
    ell  unit 1  "Γειά σου."      16 bytes,  9 characters (7 Greek letters x 2 bytes + space + ".")
         unit 2  "Καλό."           9 bytes,  5 characters (4 x 2 + ".")  ell: 25 bytes, 14 characters

Counted with utf8-bytes (tokens = bytes), codepoints (tokens = characters) and bert-uncased (for a vocabulary
sha256 in the provenance tables). Premium of ell against eng with utf8-bytes: 25 / 20 = 1.25; codepoints 14 / 20.
"""

from __future__ import annotations

from pathlib import Path

from analysis.corpus.imports import read_corpus
from analysis.store.build import build
from analysis.store.corpora import import_into_store

TEXTS = {"eng": ["Hello world.", "Be kind."], "ell": ["Γειά σου.", "Καλό."]}
TOKENIZERS = ["utf8-bytes", "codepoints", "bert-uncased"]


def import_lines(root: Path, texts: dict[str, list[str]], db: Path | None = None, name: str = "tiny") -> Path:
    """Write ``texts`` (language -> one line per unit) as a folder ``root/NAME`` of line-aligned files and import it
    as corpus ``name`` into ``db`` (default ``root/atlas.duckdb``); returns the database path."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.txt"):
        old.unlink()
    for lang, lines in texts.items():
        (folder / f"{lang}.txt").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    db = db or root / "atlas.duckdb"
    import_into_store(db, read_corpus("lines", folder, name=name))
    return db


def build_tiny_store(root: Path) -> Path:
    """Write the corpus under ``root``, import it as ``tiny`` and count it; returns the database path."""
    db = import_lines(root, TEXTS)
    build(db, corpora=["tiny"], tokenizers=TOKENIZERS, workers=1)
    return db
