"""A checkpoint replaces the previous one only once it is whole, and the previous one stays
as `previous.pt`: a resume whose `latest.pt` is cut short falls back to it with a one-line
warning; with none readable it is one line naming the file. A full disk leaves no
`.partial` and no damage behind."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
import torch

from tests.checkpoints import malicious_run
from userl.data.checkpoint import (
    CheckpointRefused,
    CheckpointUnreadable,
    load_latest,
    previous_of,
    write_checkpoint,
)


def two_checkpoints(root: Path) -> Path:
    path = root / "checkpoints" / "latest.pt"
    assert write_checkpoint(path, {"grad_steps": 1, "weights": torch.ones(64)}) is None
    assert write_checkpoint(path, {"grad_steps": 2, "weights": torch.ones(64)}) is None
    return path


def cut(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def test_the_previous_checkpoint_is_kept_beside_the_latest(tmp_path: Path) -> None:
    path = two_checkpoints(tmp_path)
    assert torch.load(path, weights_only=True)["grad_steps"] == 2
    assert torch.load(previous_of(path), weights_only=True)["grad_steps"] == 1
    loaded = load_latest(path)
    assert loaded is not None and loaded[0]["grad_steps"] == 2 and loaded[1] == path


def test_a_truncated_latest_falls_back_to_the_previous_with_one_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = two_checkpoints(tmp_path)
    cut(path)
    loaded = load_latest(path)
    assert loaded is not None and loaded[0]["grad_steps"] == 1
    [warning] = capsys.readouterr().out.strip().splitlines()
    assert warning.startswith("warning: checkpoint ") and str(path) in warning
    assert "previous checkpoint" in warning


def test_with_no_readable_checkpoint_resume_is_one_line_naming_the_file(tmp_path: Path) -> None:
    path = two_checkpoints(tmp_path)
    cut(path)
    previous_of(path).write_text("not a checkpoint")
    with pytest.raises(CheckpointUnreadable) as error:
        load_latest(path)
    assert "\n" not in str(error.value) and str(path) in str(error.value)


def test_a_text_file_as_checkpoint_is_named_as_text(tmp_path: Path) -> None:
    path = tmp_path / "latest.pt"
    path.write_text("hello")
    with pytest.raises(CheckpointUnreadable, match="not a PyTorch checkpoint: it is a text file"):
        load_latest(path)


def test_a_malicious_latest_is_refused_not_passed_over(tmp_path: Path) -> None:
    run, marker = malicious_run(tmp_path)
    path = run / "checkpoints" / "latest.pt"
    torch.save({"grad_steps": 1}, previous_of(path))
    with pytest.raises(CheckpointRefused, match="refusing checkpoint") as error:
        load_latest(path)
    assert not isinstance(error.value, CheckpointUnreadable) and not marker.exists()


def test_a_full_disk_keeps_both_checkpoints_and_leaves_no_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = two_checkpoints(tmp_path)
    before = {p.name: p.read_bytes() for p in path.parent.iterdir()}

    def full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    failed = write_checkpoint(path, {"grad_steps": 3, "weights": torch.ones(64)})
    monkeypatch.undo()
    assert failed is not None and "No space left" in failed
    assert {p.name: p.read_bytes() for p in path.parent.iterdir()} == before


def test_a_leftover_partial_is_removed_on_resume(tmp_path: Path) -> None:
    path = two_checkpoints(tmp_path)
    partial = path.with_name("latest.pt.partial")
    partial.write_bytes(b"\0" * 100)
    assert load_latest(path) is not None and not partial.exists()
