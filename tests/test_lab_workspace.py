"""The Tokenizer lab's per-session workspace (analysis.lab.workspace), on a plain dict as the session's state:
registering, replacing and evicting trained tokenizers, the session folder, run numbers, and a real training."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from analysis.lab import TrainSpec, load_lab_data
from analysis.lab.workspace import (
    FOLDER,
    LAST,
    MAX_KEPT,
    RUN_COUNT,
    RUNS,
    SESSION_PREFIX,
    TOKENIZERS,
    LabResult,
    Trained,
    Workspace,
    capped_languages,
    run_algorithms,
    run_label,
)


def _run_dir(root: Path, n: int) -> Path:
    """A run's folder with a file in it, as a training leaves it."""
    d = root / f"run-{n}"
    (d / "bpe").mkdir(parents=True)
    (d / "bpe" / "tokenizer.json").write_text("{}")
    return d


def test_the_keys_are_the_ones_the_app_has_always_used() -> None:
    # Tests, the Playground and the Vocabularies page read the lab's tokenizers under this key.
    assert (TOKENIZERS, RUNS, RUN_COUNT, FOLDER, LAST) == ("lab_tokenizers", "lab_runs", "lab_run_count", "lab_dir",
                                                           "lab_last")
    assert MAX_KEPT == 6


def test_register_adds_in_order_and_returns_nothing_dropped(tmp_path: Path) -> None:
    state: dict = {}
    ws = Workspace(state, tmp_root=tmp_path)
    r1 = _run_dir(tmp_path, 1)
    assert ws.register("lab 1: A", "file:/a", r1) == []
    assert ws.register("lab 1: B", "file:/b", r1) == []
    assert state[TOKENIZERS] == {"lab 1: A": "file:/a", "lab 1: B": "file:/b"}
    assert state[RUNS] == [("lab 1: A", str(r1)), ("lab 1: B", str(r1))]
    assert ws.tokenizers is state[TOKENIZERS]  # one dict: what the Playground reads is what the lab wrote
    assert r1.is_dir()


def test_eviction_at_the_cap_drops_the_oldest_and_deletes_a_run_folder_once_unused(tmp_path: Path) -> None:
    # Four runs of two tokenizers each (the chosen algorithm and the BPE baseline) with the default cap of 6.
    state: dict = {}
    ws = Workspace(state, tmp_root=tmp_path)
    dirs = {n: _run_dir(tmp_path, n) for n in (1, 2, 3, 4)}
    for n in (1, 2, 3):
        assert ws.register(f"lab {n}: A", f"file:/{n}a", dirs[n]) == []
        assert ws.register(f"lab {n}: B", f"file:/{n}b", dirs[n]) == []
    # The 7th tokenizer drops the 1st; run 1's folder stays, its baseline is still kept.
    assert ws.register("lab 4: A", "file:/4a", dirs[4]) == ["lab 1: A"]
    assert dirs[1].is_dir()
    # The 8th drops run 1's last tokenizer, and with it the folder.
    assert ws.register("lab 4: B", "file:/4b", dirs[4]) == ["lab 1: B"]
    assert not dirs[1].exists()
    assert list(state[TOKENIZERS]) == ["lab 2: A", "lab 2: B", "lab 3: A", "lab 3: B", "lab 4: A", "lab 4: B"]
    assert [label for label, _d in state[RUNS]] == list(state[TOKENIZERS])
    assert all(dirs[n].is_dir() for n in (2, 3, 4))


def test_a_smaller_cap_drops_several_at_once(tmp_path: Path) -> None:
    state: dict = {}
    ws = Workspace(state, max_kept=1, tmp_root=tmp_path)
    r1, r2 = _run_dir(tmp_path, 1), _run_dir(tmp_path, 2)
    ws.register("a", "file:/a", r1)
    assert ws.register("b", "file:/b", r2) == ["a"]
    assert state[TOKENIZERS] == {"b": "file:/b"} and not r1.exists() and r2.is_dir()


def test_replacing_a_label_keeps_one_entry_and_deletes_the_old_folder_once_unused(tmp_path: Path) -> None:
    state: dict = {}
    ws = Workspace(state, tmp_root=tmp_path)
    r1, r2, r3 = (_run_dir(tmp_path, n) for n in (1, 2, 3))
    ws.register("mine", "file:/old", r1)
    ws.register("other", "file:/o", r2)
    assert ws.register("mine", "file:/new", r2) == []  # a replaced label is not reported as dropped
    assert state[TOKENIZERS] == {"other": "file:/o", "mine": "file:/new"}  # and it moves to the newest place
    assert state[RUNS] == [("other", str(r2)), ("mine", str(r2))]
    assert not r1.exists() and r2.is_dir()
    # Replaced into a folder another kept tokenizer still uses: that folder stays.
    ws.register("third", "file:/t", r3)
    ws.register("third", "file:/t2", r2)
    assert not r3.exists() and r2.is_dir()
    assert state[TOKENIZERS] == {"other": "file:/o", "mine": "file:/new", "third": "file:/t2"}


def test_tokenizers_put_in_the_state_by_others_are_kept(tmp_path: Path) -> None:
    # A session may already hold tokenizers no run registered (a test presets them): they are never dropped.
    state: dict = {TOKENIZERS: {"preset": "file:/p"}}
    ws = Workspace(state, max_kept=2, tmp_root=tmp_path)
    r1, r2 = _run_dir(tmp_path, 1), _run_dir(tmp_path, 2)
    assert ws.register("a", "file:/a", r1) == []
    assert ws.register("b", "file:/b", r2) == ["a"]
    assert state[TOKENIZERS] == {"preset": "file:/p", "b": "file:/b"}


def test_the_session_folder_is_made_once_and_stale_ones_are_swept(tmp_path: Path) -> None:
    now = 100 * 3600.0
    stale = tmp_path / f"{SESSION_PREFIX}stale"
    fresh = tmp_path / f"{SESSION_PREFIX}fresh"
    other = tmp_path / "not-the-lab"
    for d in (stale, fresh, other):
        d.mkdir()
    os.utime(stale, (now - 13 * 3600, now - 13 * 3600))  # 13 hours old: more than the 12 allowed
    os.utime(fresh, (now - 11 * 3600, now - 11 * 3600))
    os.utime(other, (0, 0))  # not a lab folder: never touched
    state: dict = {}
    ws = Workspace(state, tmp_root=tmp_path, clock=lambda: now)
    folder = ws.folder()
    assert state[FOLDER] == str(folder)
    assert folder.parent == tmp_path and folder.name.startswith(SESSION_PREFIX) and folder.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([folder.name, fresh.name, other.name])
    assert ws.folder() == folder  # the same folder for the rest of the session
    folder.rmdir()  # removed under the session (another session swept it): a new one is made
    again = ws.folder()
    assert again != folder and again.is_dir() and state[FOLDER] == str(again)


def test_runs_are_numbered_per_session(tmp_path: Path) -> None:
    state: dict = {}
    ws = Workspace(state, tmp_root=tmp_path)
    n1, d1 = ws.new_run()
    n2, d2 = ws.new_run()
    assert (n1, n2, state[RUN_COUNT]) == (1, 2, 2)
    assert (d1.name, d2.name) == ("run-1", "run-2") and d1.parent == d2.parent == ws.folder()
    assert not d1.exists()  # made by the training that writes into it
    assert Workspace({RUN_COUNT: 6}, tmp_root=tmp_path).new_run()[0] == 7


def test_labels_algorithms_and_the_language_cap() -> None:
    assert run_algorithms("parity-bpe") == ["parity-bpe", "bpe"]
    assert run_algorithms("bpe") == ["bpe"]
    assert run_label(2, TrainSpec("unigram", 1000, byte_level=False), ["eng", "hin"]) == \
        "lab 2: Unigram 1,000 (o200k, characters) · eng+hin"
    assert run_label(1, TrainSpec("bpe", 300), ["a", "b", "c", "d", "e"]) == "lab 1: BPE 300 (o200k) · a+b+c+d…"
    langs = [f"l{i}" for i in range(14)]
    assert capped_languages(langs) == langs[:12]
    assert capped_languages(langs[:12]) is None
    assert capped_languages(("a", "b", "c"), cap=2) is None  # only a list, as a multiselect sends
    assert capped_languages(None) is None


def test_a_real_training_registers_compares_and_keeps_the_result(tmp_path: Path) -> None:
    data = load_lab_data("udhr", ["eng", "fra"])
    state: dict = {}
    ws = Workspace(state, tmp_root=tmp_path)
    seen: list[tuple[float, str]] = []
    trained = ws.train(data, TrainSpec("bpe", 300), progress=lambda done, message: seen.append((done, message)))
    assert len(trained) == 1
    t = trained[0]
    out = ws.folder() / "run-1" / "bpe" / "tokenizer.json"
    assert t == Trained("lab 1: BPE 300 (o200k) · eng+fra", "BPE", "bpe", f"file:{out.resolve()}", out, t.seconds, 300)
    assert t.path.is_file()
    assert state[TOKENIZERS] == {t.label: t.spec}
    assert seen[0] == (0.0, "training BPE 300 (o200k)") and seen[-1][0] == 1.0
    assert ws.last is None
    result = ws.compare(trained, data, requested=300)
    assert isinstance(result, LabResult) and state[LAST] is result and ws.last is result
    assert [r.label for r in result.comparison.reports] == ["BPE"]
    assert result.langs == ["eng", "fra"] and result.requested == 300 and result.off_size == []
    assert result.texts["fra"] == dict(data.texts["fra"])
    assert result.describe == data.describe()


@pytest.mark.parametrize("asked, got, off", [(300, 300, []), (400, 300, ["x"])])
def test_off_size_lists_the_tokenizers_short_of_the_size_asked(asked: int, got: int, off: list[str]) -> None:
    t = Trained("x", "BPE", "bpe", "file:/x", Path("/x"), 0.5, got)
    result = LabResult((t,), None, ("", {}), [], {}, asked)  # type: ignore[arg-type]
    assert [x.label for x in result.off_size] == off
