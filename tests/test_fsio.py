"""analysis.fsio.atomic_write: the one way the library writes a file or folder. A write that fails part-way leaves the
old file exactly as it was and no temporary file behind; one that succeeds replaces it whole."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from analysis.fsio import atomic_write, temporary_path


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_bytes_and_text_replace_the_file_and_create_its_folder(tmp_path: Path) -> None:
    dest = tmp_path / "a" / "b" / "f.txt"
    assert atomic_write(dest, b"one\n") == dest
    atomic_write(dest, "δύο\n")  # text is written as UTF-8
    assert dest.read_bytes() == "δύο\n".encode()
    assert _listing(dest.parent) == ["f.txt"]


def test_a_writer_function_gets_a_hidden_temporary_beside_the_target(tmp_path: Path) -> None:
    seen: list[Path] = []

    def write(tmp: Path) -> None:
        seen.append(tmp)
        tmp.write_text("from a writer")

    atomic_write(tmp_path / "out.csv", write)
    assert (tmp_path / "out.csv").read_text() == "from a writer"
    assert seen[0].parent == tmp_path and seen[0].name.startswith(".out.csv.") and seen[0].name.endswith(".tmp")
    assert _listing(tmp_path) == ["out.csv"]


class _HalfWriter:
    """Half the bytes reach the temporary file, then the disk is full."""

    def __init__(self, f) -> None:
        self.f = f

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.f.close()

    def write(self, data: bytes) -> None:
        self.f.write(data[: len(data) // 2])
        self.f.flush()
        raise OSError(errno.ENOSPC, "No space left on device (simulated)")


def test_a_failure_mid_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "vocab.json"
    dest.write_bytes(b"old content\n")
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, mode: _HalfWriter(real_fdopen(fd, mode)))
    with pytest.raises(OSError, match="No space left"):
        atomic_write(dest, b"new content, much longer than the old one\n" * 100)
    assert dest.read_bytes() == b"old content\n"
    assert _listing(tmp_path) == ["vocab.json"]


@pytest.mark.parametrize("error", [ValueError("bad row 3"), KeyboardInterrupt()], ids=["exception", "ctrl-c"])
def test_a_writer_function_that_fails_part_way_changes_nothing(tmp_path: Path, error: BaseException) -> None:
    dest = tmp_path / "table.parquet"
    dest.write_bytes(b"PAR1 old")

    def write(tmp: Path) -> None:
        tmp.write_bytes(b"PAR1 half a fi")
        raise error

    with pytest.raises(type(error)):
        atomic_write(dest, write)
    assert dest.read_bytes() == b"PAR1 old"
    assert _listing(tmp_path) == ["table.parquet"]


def test_a_folder_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    def broken(tmp: Path) -> None:
        tmp.mkdir()
        (tmp / "0.text.npy").write_bytes(b"x")
        raise RuntimeError("the second array failed")

    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "inputs", broken)
    assert _listing(tmp_path) == []  # no folder, no temporary folder

    def whole(tmp: Path) -> None:
        tmp.mkdir()
        (tmp / "0.text.npy").write_bytes(b"x")
        (tmp / "index.json").write_text("{}")

    atomic_write(tmp_path / "inputs", whole)
    assert _listing(tmp_path) == ["inputs"] and _listing(tmp_path / "inputs") == ["0.text.npy", "index.json"]


def test_temporary_names_are_hidden_and_unique(tmp_path: Path) -> None:
    a, b = temporary_path(tmp_path / "x.bin"), temporary_path(tmp_path / "x.bin")
    assert a != b and a.parent == b.parent == tmp_path
    assert a.name.startswith(".x.bin.") and a.suffix == ".tmp" and len(a.name) == len(".x.bin.") + 32 + len(".tmp")
    assert temporary_path(tmp_path / ".building-atlas.duckdb.7.inputs-0").name.startswith(
        ".building-atlas.duckdb.7.inputs-0.")  # one dot: the writer's stale-copy glob still matches it
