"""The local engine's pool starts before the corpus import, and a failed import stops it cleanly.

(The engines' results are compared in tests/test_ray.py; this file needs no Ray.)
"""

from __future__ import annotations

import importlib
import multiprocessing
from pathlib import Path

import pytest

from analysis.store.build import build
from analysis.store.schema import StoreError


def test_workers_start_during_the_import_and_stop_when_it_fails(tmp_path: Path, monkeypatch) -> None:
    seen: dict[str, object] = {}

    def failing_import(con, corpus, **kw):
        # By now the pool's worker processes exist: they start up (and load their tokenizers) during the import.
        seen["workers"] = len(multiprocessing.active_children())
        seen["inputs"] = sorted(p.name for p in tmp_path.glob(".building-*.inputs*"))
        raise StoreError("the import broke")

    # The builder imports it from analysis.store.corpora when a build runs (analysis.store.build defers its imports).
    monkeypatch.setattr(importlib.import_module("analysis.store.corpora"), "import_corpus", failing_import)
    db = tmp_path / "atlas.duckdb"
    with pytest.raises(StoreError, match="the import broke"):
        build(db, corpora=["udhr"], tokenizers=["utf8-bytes", "codepoints"], workers=2)
    assert seen["workers"] >= 2
    assert seen["inputs"] == []  # the texts are published only after the import
    assert multiprocessing.active_children() == []  # the waiting workers gave up and the pool is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atlas.duckdb.lock"]  # no database, copy or texts file


def test_an_unknown_corpus_is_refused_before_any_worker_starts(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="No built-in corpus named 'nope'"):
        build(tmp_path / "a.duckdb", corpora=["nope"], tokenizers=["utf8-bytes"], workers=2)
    assert multiprocessing.active_children() == []
