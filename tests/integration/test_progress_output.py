"""The long commands show their progress while they run, not only when they end: collect,
eval, data export and data import print `done/total` lines off a terminal (here: pytest's
captured output) before their report, one per update with `run.log_every_s=0`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.integration.test_lerobot_interop import (  # sets HF_HUB_OFFLINE: local only
    make_episode,
    write_foreign,
)
from userl.cli import main
from userl.data.store import EpisodeStore
from userl.tools.collect import collect, collection_config

pytestmark = pytest.mark.integration
SHORT = ["task=peg_insertion", "task.episode_steps=10", "run.log_every_s=0"]


def progress_lines(out: str, prefix: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(prefix)]


def test_collect_prints_each_episode_as_it_is_recorded(tmp_path: Path, capsys) -> None:
    report = collect(collection_config(SHORT), tmp_path / "demos", 2)
    lines = progress_lines(capsys.readouterr().out, "collect: ")
    assert [line.split("  ")[0] for line in lines] == [
        "collect: 1/2 episodes",
        "collect: 2/2 episodes",
    ]
    assert lines[-1].split("  ")[1] == f"successes={report['successes']} rejected=0"


def test_eval_prints_each_episode_before_its_report(capsys) -> None:
    assert main(["eval", "policy=expert", "episodes=2", *SHORT]) == 0
    out = capsys.readouterr().out.splitlines()
    report = json.loads(out[-1])
    lines = progress_lines("\n".join(out[:-1]), "eval: ")
    assert [line.split("  ")[0] for line in lines] == ["eval: 1/2 episodes", "eval: 2/2 episodes"]
    successes = round(report["success_rate"] * 2)
    assert lines[-1].split("  ")[1] == f"successes={successes}"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """Two of the LeRobot interop test's episodes (two 32 px views, a few steps each)."""
    root = tmp_path / "episodes"
    rng = np.random.default_rng(0)
    created = EpisodeStore(root).create()
    for index, steps in enumerate((4, 5)):
        created.write(make_episode(rng, steps, index))
    return root


def test_export_prints_each_episode_as_it_is_written(store: Path, tmp_path: Path, capsys) -> None:
    from userl.data.interop import EXPORT_FORMATS
    from userl.tools.data_transfer import export_store

    export_store(store, tmp_path / "dataset", EXPORT_FORMATS.get("lerobot"), every_s=0.0)
    lines = progress_lines(capsys.readouterr().out, "export: ")
    assert [line.split("  ")[0] for line in lines] == [
        "export: 1/2 episodes written",
        "export: 2/2 episodes written",
    ]


def test_import_prints_its_reading_and_writing(tmp_path: Path, capsys) -> None:
    source = write_foreign(tmp_path / "foreign", episodes=2)
    capsys.readouterr()
    out = tmp_path / "store"
    assert main(["data", "import", str(source), f"out={out}", "run.log_every_s=0"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert json.loads(printed[-1])["episodes"] == 2
    assert [line.split("  ")[0] for line in progress_lines("\n".join(printed), "import: ")] == [
        "import: 1/2 episodes read",
        "import: 2/2 episodes read",
        "import: 1/2 episodes written",
        "import: 2/2 episodes written",
    ]
