"""LeRobot export and import are offline: under a guard that refuses every connection that is
not to the loopback address, a round trip works, and an incomplete local folder is one line
naming what it lacks (before, LeRobot's class asked the Hugging Face Hub for the missing
files, sending the folder's name off the machine)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.integration.test_lerobot_interop import LENGTHS, make_episode
from userl.cli import main
from userl.data.store import EpisodeStore

pytestmark = [pytest.mark.integration, pytest.mark.allow_hosts(["127.0.0.1"])]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("store") / "episodes"
    store = EpisodeStore(root).create()
    rng = np.random.default_rng(1)
    for index, steps in enumerate(LENGTHS):
        store.write(make_episode(rng, steps, index))
    out = tmp_path_factory.mktemp("lerobot") / "dataset"
    assert main(["data", "export", str(root), f"out={out}", "format=lerobot"]) == 0
    return out


def test_a_round_trip_makes_no_outside_connection(exported: Path, tmp_path: Path) -> None:
    back = tmp_path / "back"
    assert main(["data", "import", str(exported), f"out={back}"]) == 0
    assert len(EpisodeStore(back).load().episodes) == len(LENGTHS)


@pytest.mark.parametrize("missing", ["data", "meta/episodes"])
def test_an_incomplete_folder_is_one_line_and_writes_nothing(
    exported: Path, tmp_path: Path, missing: str, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = tmp_path / "damaged"
    shutil.copytree(exported, damaged)
    shutil.rmtree(damaged / missing)
    out = tmp_path / "imported"
    assert main(["data", "import", str(damaged), f"out={out}"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and missing in error[0]
    assert not out.exists()
