"""A serving process follows rebuilt databases: each version swapped in by rename is opened anew, readers of the
previous version finish on it, and nothing half-written is ever read."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from analysis.store import StoreError, build, open_readonly
from analysis.store.snapshots import Snapshots, file_version


def counted(con) -> list[str]:
    return [r[0] for r in con.execute("SELECT tokenizer FROM runs ORDER BY tokenizer").fetchall()]


def test_swapped_in_versions_are_followed(app_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "atlas.duckdb"
    shutil.copyfile(app_db, db)
    snaps = Snapshots(keep=2)
    first = snaps.cursor(db)
    assert counted(first) == ["bert-uncased", "llama3", "o200k_base", "utf8-bytes"]
    # DuckDB alone would hand back the cached old version for the same path: the reason for Snapshots.
    plain = open_readonly(db)

    build(db, corpora=["udhr"], tokenizers=["words"], workers=1)  # version 2, renamed into place
    second = snaps.cursor(db)
    assert counted(second) == ["bert-uncased", "llama3", "o200k_base", "utf8-bytes", "words"]
    assert counted(first) == ["bert-uncased", "llama3", "o200k_base", "utf8-bytes"]  # the old reader is undisturbed
    assert len(snaps.versions(db)) == 2 and snaps.versions(db)[-1] == file_version(db)
    again = open_readonly(db)  # by path, DuckDB hands back the instance it already has: the old version
    assert "words" not in counted(again)
    again.close()
    plain.close()

    build(db, corpora=["udhr"], tokenizers=["codepoints"], workers=1)  # version 3: version 1 is closed
    assert "codepoints" in counted(snaps.cursor(db))
    assert len(snaps.versions(db)) == 2
    with pytest.raises(duckdb.Error):
        counted(first)
    assert counted(second)[-1] == "words"  # the previous version stays readable
    snaps.close()


def test_same_version_shares_one_connection(app_db: Path) -> None:
    snaps = Snapshots()
    assert snaps.connection(app_db) is snaps.connection(app_db)
    assert snaps.cursor(app_db) is not snaps.cursor(app_db)
    snaps.close()


def test_missing_and_corrupt_files(tmp_path: Path) -> None:
    snaps = Snapshots()
    with pytest.raises(StoreError, match="No statistics database at"):
        snaps.connection(tmp_path / "none.duckdb")
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"garbage" * 100)
    with pytest.raises(StoreError, match=f"{bad} is not a readable Token Atlas database"):  # names the file, not /proc
        snaps.connection(bad)
    assert snaps.versions(bad) == []
    n_fds = len(os.listdir("/proc/self/fd"))
    for _ in range(5):
        with pytest.raises(StoreError):
            snaps.connection(bad)
    assert len(os.listdir("/proc/self/fd")) == n_fds  # a failed open gives its descriptor back
