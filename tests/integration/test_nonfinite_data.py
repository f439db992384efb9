"""A store holding one NaN episode: `userl train demos.path=` on it is exit 2 and one line
naming the file before anything is created, `userl data export` refuses it the same way,
and `userl data stats` reports it instead of counting it healthy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.unit.test_store import make_episode
from userl.cli import main
from userl.data.store import EpisodeStore

pytestmark = pytest.mark.integration


@pytest.fixture
def poisoned(tmp_path: Path) -> tuple[Path, str]:
    store = EpisodeStore(tmp_path / "demos").create()
    store.write(make_episode())
    bad = make_episode()
    bad.observations["state"][:] = np.nan
    bad.actions[:] = np.nan
    return store.root, store.write(bad).name


def test_train_on_a_nan_demo_is_one_line_and_creates_nothing(
    poisoned: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, name = poisoned
    runs = tmp_path / "runs"
    arguments = [f"demos.path={store}", f"run.root={runs}", "run.name=poisoned"]
    assert main(["train", *arguments]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and "NaN" in lines[0], lines
    assert not (runs / "poisoned").exists()


def test_export_of_a_nan_episode_is_one_line_naming_it(
    poisoned: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, name = poisoned
    out = tmp_path / "lerobot"
    assert main(["data", "export", str(store), f"out={out}", "format=lerobot"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and name in lines[0], lines
    assert not out.exists()


def test_stats_reports_the_nan_episode(
    poisoned: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    store, name = poisoned
    assert main(["data", "stats", str(store)]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["episodes"] == 1 and stats["nonfinite_episodes"] == 1
    assert stats["nonfinite"][0].startswith(name)
