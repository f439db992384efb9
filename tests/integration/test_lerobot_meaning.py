"""A LeRobot export says what its numbers mean, read back by LeRobot's own dataset class:
`robot_type` is the robot's kind from the run's config (not the worker id `robot_0`), the
state's and action's `names` name each value, and the reward classifier's per-step labels
(`step_success`) survive the export -> import round trip. Importing views of another size
is one line naming the keys to set; views the import does not take are named in a warning."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.integration.test_lerobot_interop import make_episode, smooth_view
from userl.cli import main
from userl.config.loader import load_config, to_yaml
from userl.data.lerobot_client import lerobot_dataset_module
from userl.data.store import EpisodeStore
from userl.tools.export_meaning import ACTION_NAMES, PROPRIOCEPTION_NAMES, describe_task

pytestmark = [pytest.mark.integration, pytest.mark.allow_hosts(["127.0.0.1"])]

TASK = "pick_place"
ROBOT = "sim_arx_r5"  # not the task's default robot: the kind must come from the run
SIDE_PX = 32  # the views' size in the dataset; the task's cameras deliver another by default
LENGTHS = (4, 6)


@pytest.fixture(scope="module")
def state_names() -> tuple[str, ...]:
    description = describe_task(TASK)
    assert description is not None
    return description.state_names


@pytest.fixture(scope="module")
def run_store(tmp_path_factory: pytest.TempPathFactory, state_names: tuple[str, ...]) -> Path:
    """A run folder (its config.yaml on the sim ARX R5) whose episodes/ have the task's
    state layout, two 32 px views and the reward source's per-step labels."""
    run = tmp_path_factory.mktemp("runs") / "arx"
    run.mkdir()
    (run / "config.yaml").write_text(to_yaml(load_config([f"task={TASK}", f"robot={ROBOT}"])))
    store = EpisodeStore(run / "episodes").create()
    rng = np.random.default_rng(3)
    for index, steps in enumerate(LENGTHS):
        episode = make_episode(rng, steps, index)
        episode.robot_id = "robot_0"
        episode.task = TASK
        episode.observations = {
            "state": rng.normal(size=(steps + 1, len(state_names))).astype(np.float32),
            "front": smooth_view(rng, steps + 1),
            "wrist": smooth_view(rng, steps + 1),
        }
        episode.step_success = np.arange(steps) % 3 == index
        store.write(episode)
    return run / "episodes"


@pytest.fixture(scope="module")
def exported(run_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lerobot") / "dataset"
    assert main(["data", "export", str(run_store), f"out={out}", "format=lerobot"]) == 0
    return out


def test_lerobot_reads_the_robot_kind_names_and_labels(
    run_store: Path, exported: Path, state_names: tuple[str, ...]
) -> None:
    dataset = lerobot_dataset_module().LeRobotDataset(f"userl/{TASK}", root=exported)
    assert dataset.meta.robot_type == ROBOT
    features = dataset.meta.features
    assert features["observation.state"]["names"] == list(state_names)
    assert list(state_names[: len(PROPRIOCEPTION_NAMES)]) == list(PROPRIOCEPTION_NAMES)
    assert len(state_names) == features["observation.state"]["shape"][0]
    assert features["action"]["names"] == list(ACTION_NAMES)
    assert features["policy_action"]["names"] == list(ACTION_NAMES)
    episodes = EpisodeStore(run_store).load().episodes
    start = 0
    for index, episode in enumerate(episodes):
        labels = [bool(dataset[start + t]["next.success"]) for t in range(len(episode))]
        assert labels == episode.step_success.tolist()
        assert not bool(dataset[start + len(episode)]["next.success"])  # the final frame
        assert dataset.meta.episodes[index]["dataset_from_index"] == start
        start += len(episode) + 1


def test_a_store_outside_a_run_takes_the_robot_given(run_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "dataset"
    code = main(["data", "export", str(run_store), f"out={out}", "robot=franka"])
    assert code == 0
    assert json.loads((out / "meta/info.json").read_text())["robot_type"] == "franka"


def test_step_success_survives_the_round_trip(
    run_store: Path, exported: Path, tmp_path: Path
) -> None:
    back = tmp_path / "back"
    assert main(["data", "import", str(exported), f"out={back}"]) == 0
    originals = {e.episode_id: e for e in EpisodeStore(run_store).load().episodes}
    restored = EpisodeStore(back).load().episodes
    assert sorted(e.episode_id for e in restored) == sorted(originals)
    for episode in restored:
        original = originals[episode.episode_id]
        assert episode.step_success is not None
        np.testing.assert_array_equal(episode.step_success, original.step_success)
        assert episode.robot_id == original.robot_id


def test_views_of_another_size_name_the_keys_to_set(
    exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "imported"
    assert main(["data", "import", str(exported), f"out={out}", f"task={TASK}", "obs=image"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    keys = f"robot.image_height_px={SIDE_PX} robot.image_width_px={SIDE_PX}"
    assert keys in lines[0] and f"policy.image_size_px={SIDE_PX}" in lines[0], lines[0]
    assert not out.exists()
    sized = [f"robot.image_height_px={SIDE_PX}", f"robot.image_width_px={SIDE_PX}"]
    command = ["data", "import", str(exported), f"out={out}", f"task={TASK}", "obs=image"]
    assert main([*command, *sized]) == 0
    views = EpisodeStore(out).load().episodes[0].observations
    assert views["front"].shape[1:] == (SIDE_PX, SIDE_PX, 3)


def test_views_left_out_are_named_in_one_warning(
    exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "imported"
    assert main(["data", "import", str(exported), f"out={out}", f"task={TASK}"]) == 0
    warnings = [
        line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")
    ]
    assert len(warnings) == 1, warnings
    assert "front, wrist" in warnings[0] and "obs=image" in warnings[0]
    assert set(EpisodeStore(out).load().episodes[0].observations) == {"state"}
