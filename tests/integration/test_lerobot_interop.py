"""Episode store <-> LeRobotDataset v3.0, checked with LeRobot's own dataset library."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # local folders only: never the hub

import json
from pathlib import Path

import numpy as np
import pytest

from userl.cli import main
from userl.core.specs import ImageSpec, ObservationSpec
from userl.core.types import Episode
from userl.data.interop import read_episodes
from userl.data.lerobot_client import lerobot_dataset_module
from userl.data.lerobot_format import DatasetMismatch, read_lerobot
from userl.data.lerobot_mapping import LeRobotMappingConfig
from userl.data.store import EpisodeStore

# offline: any connection that is not to the loopback address fails the test (pytest-socket)
pytestmark = [pytest.mark.integration, pytest.mark.allow_hosts(["127.0.0.1"])]

SIDE_PX = 32
STATE_DIM = 5
ACTION_DIM = 7
LENGTHS = (6, 9, 4)
PIXEL_TOLERANCE = 12.0  # mean absolute error of a lossy AV1 frame (of 255)


def smooth_view(rng: np.random.Generator, steps: int) -> np.ndarray:
    """A moving colour gradient: what a video codec keeps well (noise it would not)."""
    y, x = np.mgrid[0:SIDE_PX, 0:SIDE_PX]
    base = rng.uniform(40, 200, size=3)
    frames = [
        np.clip(base + 2.0 * x[..., None] + 1.5 * y[..., None] + 3 * t, 0, 255)
        for t in range(steps)
    ]
    return np.stack(frames).astype(np.uint8)


def make_episode(rng: np.random.Generator, steps: int, index: int) -> Episode:
    intervened = rng.random(steps) < 0.3
    actions = rng.uniform(-1, 1, (steps, ACTION_DIM)).astype(np.float32)
    proposals = np.where(
        intervened[:, None], rng.uniform(-1, 1, (steps, ACTION_DIM)), actions
    ).astype(np.float32)
    terminated = np.zeros(steps, bool)
    truncated = np.zeros(steps, bool)
    (terminated if index % 2 == 0 else truncated)[-1] = True
    rewards = np.zeros(steps, np.float32)
    rewards[-1] = float(terminated[-1])
    return Episode(
        robot_id=f"robot_{index}",
        task="pick_place",
        observations={
            "state": rng.normal(size=(steps + 1, STATE_DIM)).astype(np.float32),
            "front": smooth_view(rng, steps + 1),
            "wrist": smooth_view(rng, steps + 1),
        },
        actions=actions,
        policy_actions=proposals,
        rewards=rewards,
        terminated=terminated,
        truncated=truncated,
        intervened=intervened,
        policy_versions=np.arange(steps, dtype=np.int64) + 10 * index,
        success=bool(terminated[-1]),
        source=("policy", "expert", "human")[index % 3],
        info={"return": float(rewards.sum()), "seed": index},
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("store") / "episodes"
    rng = np.random.default_rng(0)
    store = EpisodeStore(root).create()
    for index, steps in enumerate(LENGTHS):
        store.write(make_episode(rng, steps, index))
    return root


@pytest.fixture(scope="module")
def exported(store: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lerobot") / "dataset"
    assert main(["data", "export", str(store), f"out={out}", "format=lerobot"]) == 0
    return out


def assert_same_transitions(original: Episode, restored: Episode) -> None:
    for column in (
        "actions",
        "policy_actions",
        "rewards",
        "terminated",
        "truncated",
        "intervened",
        "policy_versions",
    ):
        np.testing.assert_array_equal(
            getattr(restored, column), getattr(original, column), err_msg=column
        )
    np.testing.assert_array_equal(restored.observations["state"], original.observations["state"])
    for view in ("front", "wrist"):
        error = np.abs(
            restored.observations[view].astype(float) - original.observations[view].astype(float)
        )
        assert restored.observations[view].shape == original.observations[view].shape
        assert error.mean() < PIXEL_TOLERANCE, (view, error.mean())
    assert (
        restored.episode_id,
        restored.robot_id,
        restored.task,
        restored.source,
        restored.success,
        restored.info,
    ) == (
        original.episode_id,
        original.robot_id,
        original.task,
        original.source,
        original.success,
        original.info,
    )


def test_lerobot_reads_the_export(store: Path, exported: Path) -> None:
    episodes = EpisodeStore(store).load().episodes
    dataset = lerobot_dataset_module().LeRobotDataset("userl/pick_place", root=exported)
    info = json.loads((exported / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0"
    assert dataset.fps == 10  # pick_place's control rate
    assert dataset.meta.total_episodes == len(episodes)
    assert len(dataset) == sum(len(e) + 1 for e in episodes)
    assert (exported / "meta/stats.json").is_file()
    assert set(dataset.meta.stats) >= {"observation.state", "action", "observation.images.front"}
    start = 0
    for index, episode in enumerate(episodes):
        record = dataset.meta.episodes[index]
        assert (record["dataset_from_index"], record["dataset_to_index"]) == (
            start,
            start + len(episode) + 1,
        )
        first, last = dataset[start], dataset[start + len(episode)]
        assert first["task"] == "Pick up the object and put it in the container."
        assert first["observation.state"].shape == (STATE_DIM,)
        assert first["action"].shape == (ACTION_DIM,)
        assert first["observation.images.front"].shape == (3, SIDE_PX, SIDE_PX)
        np.testing.assert_allclose(
            first["observation.state"].numpy(), episode.observations["state"][0]
        )
        np.testing.assert_allclose(first["action"].numpy(), episode.actions[0])
        np.testing.assert_allclose(first["policy_action"].numpy(), episode.policy_actions[0])
        step = dataset[start + len(episode) - 1]
        assert bool(step["next.done"]) and not bool(step["final_observation"])
        assert float(step["next.reward"]) == float(episode.rewards[-1])
        assert bool(step["intervened"]) == bool(episode.intervened[-1])
        assert bool(last["final_observation"])
        np.testing.assert_allclose(
            last["observation.state"].numpy(), episode.observations["state"][-1]
        )
        pixels = first["observation.images.front"].permute(1, 2, 0).numpy() * 255
        assert np.abs(pixels - episode.observations["front"][0]).mean() < PIXEL_TOLERANCE
        start += len(episode) + 1
    assert dataset.meta.tasks.index[0] == dataset[0]["task"]


def test_round_trip_keeps_every_transition(store: Path, exported: Path, tmp_path) -> None:
    back = tmp_path / "back"
    assert main(["data", "import", str(exported), f"out={back}"]) == 0
    originals = {e.episode_id: e for e in EpisodeStore(store).load().episodes}
    restored = EpisodeStore(back).load().episodes
    assert sorted(e.episode_id for e in restored) == sorted(originals)
    assert sum(len(e) for e in restored) == sum(LENGTHS)
    for episode in restored:
        assert_same_transitions(originals[episode.episode_id], episode)


def write_foreign(root: Path, episodes: int = 2, steps: int = 5) -> Path:
    """A dataset written by LeRobot's own writer, named as LeRobot's recorders name things
    (no final-observation frame, no userl records)."""
    features = {
        "observation.state": {"dtype": "float32", "shape": (3,), "names": None},
        "observation.images.top": {
            "dtype": "video",
            "shape": (SIDE_PX, SIDE_PX, 3),
            "names": ["height", "width", "channels"],
        },
        "action": {"dtype": "float32", "shape": (2,), "names": None},
        "next.reward": {"dtype": "float32", "shape": (1,), "names": None},
        "next.done": {"dtype": "bool", "shape": (1,), "names": None},
    }
    module = lerobot_dataset_module()
    dataset = module.LeRobotDataset.create(
        "someone/push", fps=15, root=root, features=features, use_videos=True
    )
    rng = np.random.default_rng(1)
    for _ in range(episodes):
        view = smooth_view(rng, steps)
        for t in range(steps):
            dataset.add_frame(
                {
                    "observation.state": np.full(3, t, np.float32),
                    "observation.images.top": view[t],
                    "action": np.array([t, -t], np.float32) / steps,
                    "next.reward": np.array([float(t == steps - 1)], np.float32),
                    "next.done": np.array([t == steps - 1]),
                    "task": "push it",
                }
            )
        dataset.save_episode()
    dataset.finalize()
    return root


def test_imports_a_dataset_written_by_lerobot(tmp_path) -> None:
    source = write_foreign(tmp_path / "foreign")
    episodes = read_lerobot(source)
    assert len(episodes) == 2
    for episode in episodes:
        assert len(episode) == 5  # every frame is a transition
        assert episode.observations["state"].shape == (6, 3)
        assert episode.observations["top"].shape == (6, SIDE_PX, SIDE_PX, 3)
        np.testing.assert_array_equal(
            episode.observations["state"][-1], episode.observations["state"][-2]
        )  # LeRobot's s' at done
        np.testing.assert_allclose(episode.actions[:, 0], np.arange(5) / 5)
        assert episode.terminated.tolist() == [False] * 4 + [True]
        assert episode.rewards.tolist() == [0, 0, 0, 0, 1]
        assert episode.success and episode.task == "push it"
        np.testing.assert_array_equal(episode.policy_actions, episode.actions)
    spec = ObservationSpec(state_dim=3, images=(ImageSpec("top", SIDE_PX, SIDE_PX),))
    assert len(read_episodes(source, LeRobotMappingConfig(), spec, 2).episodes) == 2


def test_features_that_do_not_map_are_named(tmp_path, capsys) -> None:
    source = write_foreign(tmp_path / "foreign", episodes=1)
    with pytest.raises(DatasetMismatch, match="'observation.joints'"):
        read_lerobot(source, LeRobotMappingConfig(state=["observation.joints"]))
    with pytest.raises(DatasetMismatch, match="'observation.images.front'"):
        read_lerobot(source, spec=ObservationSpec(3, (ImageSpec("front", SIDE_PX, SIDE_PX),)))
    with pytest.raises(DatasetMismatch, match="'action' has 2 values; the task's action has 7"):
        read_lerobot(source, action_dim=7)
    code = main(
        ["data", "import", str(source), f"out={tmp_path / 'x'}", "demos.lerobot.reward=reward"]
    )
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert code == 2 and len(errors) == 1 and "'reward'" in errors[0], errors
    assert not (tmp_path / "x").exists()  # nothing half-imported
