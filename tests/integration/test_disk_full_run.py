"""A disk without room for the next episode stops a real async run before its robot moves,
on one line naming the spool folder, the free space and the key; the worker is not restarted
into the same full disk, and no `.partial` file is left anywhere in the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from userl.cli import main

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("shared_ray")]


def the_stop_line(err: str, marker: str) -> str:
    """The one stderr line that says why the run stopped. Other lines may come from Ray on a
    busy machine (a start it tried again, a worker's log forwarded to the driver), but
    none is a traceback and no other line repeats the stop."""
    lines = [line for line in err.strip().splitlines() if marker in line]
    assert len(lines) == 1, err
    assert "Traceback" not in err, err
    return lines[0]


def test_a_short_disk_stops_the_run_on_one_line_before_the_robot_moves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "train",
            "task=gym:InvertedPendulum-v5",
            "algo=sac",
            "demos.episodes=0",
            "pipeline=async",
            "run.env_steps=200",
            "run.grad_steps=0",
            "eval.episodes=1",
            "run.min_free_disk_mb=1000000000000.0",  # more than any disk has free
            f"run.root={tmp_path}",
            "run.name=full",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1
    line = the_stop_line(err, "robot_0 stopped before its next episode: only ")
    assert str(tmp_path / "full" / "spool" / "robot_0") in line
    assert "run.min_free_disk_mb=1e+12" in line and "every finished episode" in line
    assert "restart 1" not in out
    assert not list((tmp_path / "full").rglob("*.partial"))
    assert not list((tmp_path / "full" / "episodes").glob("*.npz"))


def test_a_short_disk_stops_a_sync_run_before_its_first_episode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sync pipeline has no spool: the learner's store is checked before each round."""
    code = main(
        [
            "train",
            "task=gym:InvertedPendulum-v5",
            "algo=sac",
            "demos.episodes=0",
            "pipeline=sync",
            "run.env_steps=200",
            "run.grad_steps=0",
            "eval.episodes=1",
            "run.min_free_disk_mb=1000000000000.0",
            f"run.root={tmp_path}",
            "run.name=full",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    line = the_stop_line(err, "the run stopped before its next episodes: only ")
    assert str(tmp_path / "full" / "episodes") in line and "run.min_free_disk_mb=1e+12" in line
    assert "every finished episode" in line
    assert not list((tmp_path / "full" / "episodes").glob("*.npz"))
