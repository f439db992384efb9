"""Unfinished writes (`.partial`) in an episode store: `userl data stats` reports them without
writing anything; a resume recovers the whole ones and removes the rest. A file named `.npz`
that is not a NumPy archive is named as what it is."""

from __future__ import annotations

import errno
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest

from tests.unit.test_store import make_episode
from userl.cli import main
from userl.data.store import EpisodeStore, encode_episode, read_episode_file


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file's bytes and modification time: what a read-only command must not change."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def damaged_store(root: Path) -> tuple[EpisodeStore, str]:
    """A store with one stored episode, one whole episode left as `.partial` (a crash
    between fsync and rename), a 0-byte `.partial` (a full disk) and a temporary index;
    returns the store and the whole partial's episode id."""
    store = EpisodeStore(root).create()
    store.write(make_episode())
    whole = make_episode(steps=3)
    buffer = io.BytesIO()
    np.savez(buffer, **encode_episode(whole))  # type: ignore[arg-type]
    (root / f"0000000000002_robot_0_{whole.episode_id}.partial").write_bytes(buffer.getvalue())
    (root / "0000000000003_robot_0_cut.partial").write_bytes(b"")
    (root / "index.jsonl.partial").write_text("{")
    return store, whole.episode_id


def test_data_stats_reports_partial_files_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged_store(tmp_path)
    before = snapshot(tmp_path)
    assert main(["data", "stats", str(tmp_path)]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["partial_files"] == 3 and stats["episodes"] == 1
    assert any(
        line.startswith("0000000000003_robot_0_cut.partial: 0 bytes") for line in stats["partial"]
    )
    assert snapshot(tmp_path) == before


def test_a_spool_holding_only_partials_is_still_a_store_for_stats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "0000000000001_robot_0_abc.partial").write_bytes(b"")
    assert main(["data", "stats", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out)["partial_files"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["0000000000001_robot_0_abc.partial"]


def test_resume_recovers_a_whole_partial_and_removes_the_rest(tmp_path: Path) -> None:
    store, whole_id = damaged_store(tmp_path)
    report = store.recover_partials()
    assert len(report.recovered) == 1 and len(report.removed) == 2
    assert "1 whole episode(s) recovered, 2 incomplete file(s) removed" in (
        report.line(tmp_path) or ""
    )
    assert not list(tmp_path.glob("*.partial"))
    loaded = store.load()
    assert whole_id in {episode.episode_id for episode in loaded.episodes}
    assert len(loaded.episodes) == 2 and not loaded.unreadable


def test_a_failed_write_leaves_no_partial_and_the_store_reads_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = EpisodeStore(tmp_path).create()
    store.write(make_episode())

    def full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space left"):
        store.write(make_episode())
    monkeypatch.undo()
    assert not list(tmp_path.glob("*.partial"))
    assert len(store.load().episodes) == 1


def test_a_text_file_named_npz_is_named_as_text_not_as_pickled_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = EpisodeStore(tmp_path).create()
    store.write(make_episode())
    (tmp_path / "notes.npz").write_text("not an episode\n")
    with pytest.raises(ValueError, match="not a NumPy .npz archive .*a text file of 15 bytes"):
        read_episode_file(tmp_path / "notes.npz")
    assert main(["data", "stats", str(tmp_path)]) == 0
    [line] = json.loads(capsys.readouterr().out)["unreadable"]
    assert line.startswith("notes.npz: not a NumPy .npz archive") and "pickled" not in line
