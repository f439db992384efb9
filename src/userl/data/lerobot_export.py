"""Episode store -> LeRobotDataset v3.0, written by LeRobot's own dataset library.

Each episode of T steps becomes T+1 frames. Frame t < T holds observation t
(`observation.state`, one video `observation.images.<view>` per camera view), the executed
`action`, `next.reward`, `next.done` (= terminated or truncated), `next.terminated`,
`next.truncated`, `intervened`, the policy's proposal `policy_action` and its
`policy_version`, and `next.success` (the reward source's success after the step, the labels a
success classifier trains on) when every episode has it; frame T holds the final observation
only (`final_observation` true, a zero action, not a transition), so nothing of the episode is
lost. The task is the task's instruction; fps is the task's control rate; `robot_type` is the
robot's kind and the state's and action's `names` name each value (`DatasetMeaning`). LeRobot
writes parquet tables, MP4 videos, `meta/info.json`, the episode and task tables and the
statistics. userl's per-episode records (id, robot, source, success, statistics) go to
`meta/userl_episodes.jsonl`.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from userl.core.types import Episode
from userl.data.dataset_meaning import DatasetMeaning
from userl.data.lerobot_checks import DatasetMismatch
from userl.data.lerobot_client import lerobot_dataset_module
from userl.data.lerobot_format import DEFAULT_MAPPING, EPISODE_RECORDS, EpisodeDone

VIDEO_CODEC = "libsvtav1"  # LeRobot's default encoder


@dataclass
class ExportReport:
    out: str
    episodes: int
    frames: int
    transitions: int
    fps: int
    bytes: int
    views: list[str]
    robot_type: str


def _features(episode: Episode, meaning: DatasetMeaning) -> dict[str, dict[str, Any]]:
    names = DEFAULT_MAPPING
    action_dim = int(episode.actions.shape[1])
    features: dict[str, dict[str, Any]] = {}
    for key, value in episode.observations.items():
        if key == "state":
            features[names.state[0]] = {
                "dtype": "float32",
                "shape": (value.shape[1],),
                "names": meaning.state_names_for(value.shape[1]),
            }
        elif value.dtype == np.uint8 and value.ndim == 4 and value.shape[-1] == 3:
            features[names.image_prefix + key] = {
                "dtype": "video",
                "shape": tuple(value.shape[1:]),
                "names": ["height", "width", "channels"],
            }
        else:
            raise DatasetMismatch(
                f"observation {key!r} (shape {value.shape[1:]}, "
                f"{value.dtype}) is neither the state nor an RGB view"
            )
    vector = {
        "dtype": "float32",
        "shape": (action_dim,),
        "names": meaning.action_names_for(action_dim),
    }
    flag = {"dtype": "bool", "shape": (1,), "names": None}
    features.update(
        {
            names.action: vector,
            names.policy_action: dict(vector),
            names.reward: {"dtype": "float32", "shape": (1,), "names": None},
            names.done: flag,
            names.terminated: dict(flag),
            names.truncated: dict(flag),
            names.intervened: dict(flag),
            names.final_observation: dict(flag),
            names.policy_version: {"dtype": "int64", "shape": (1,), "names": None},
        }
    )
    if episode.step_success is not None:
        features[names.step_success] = dict(flag)
    return features


def _frames(episode: Episode, instruction: str) -> Iterable[dict[str, Any]]:
    names = DEFAULT_MAPPING
    steps = len(episode)
    zero_action = np.zeros_like(episode.actions[0])
    for t in range(steps + 1):
        last = t == steps
        frame: dict[str, Any] = {"task": instruction}
        for key, value in episode.observations.items():
            name = names.state[0] if key == "state" else names.image_prefix + key
            frame[name] = value[t].astype(np.float32) if key == "state" else value[t]
        frame[names.action] = zero_action if last else episode.actions[t]
        frame[names.policy_action] = zero_action if last else episode.policy_actions[t]
        terminated = False if last else bool(episode.terminated[t])
        truncated = False if last else bool(episode.truncated[t])
        frame[names.reward] = np.array([0.0 if last else episode.rewards[t]], np.float32)
        frame[names.done] = np.array([last or terminated or truncated])
        frame[names.terminated] = np.array([terminated])
        frame[names.truncated] = np.array([truncated])
        frame[names.intervened] = np.array([False if last else bool(episode.intervened[t])])
        frame[names.final_observation] = np.array([last])
        frame[names.policy_version] = np.array(
            [-1 if last else int(episode.policy_versions[t])], np.int64
        )
        if episode.step_success is not None:
            frame[names.step_success] = np.array([False if last else episode.step_success[t]])
        yield frame


def _folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _write(
    dataset: Any,
    episodes: list[Episode],
    instruction: str,
    on_episode: EpisodeDone | None,
    meaning: DatasetMeaning,
) -> list[dict[str, Any]]:
    """Every episode's frames through LeRobot's writer; returns userl's episode records."""
    features = _features(episodes[0], meaning)
    records = []
    for index, episode in enumerate(episodes):
        if _features(episode, meaning) != features:
            raise DatasetMismatch(
                f"episode {episode.episode_id} has other observations or "
                "actions than the first; export one task's store at a time"
            )
        for frame in _frames(episode, instruction or episode.task):
            dataset.add_frame(frame)
        dataset.save_episode()
        if on_episode is not None:
            on_episode(index + 1, len(episodes))
        records.append(
            {
                "episode_index": index,
                "episode_id": episode.episode_id,
                "robot_id": episode.robot_id,
                "task": episode.task,
                "source": episode.source,
                "success": bool(episode.success),
                "info": episode.info,
            }
        )
    return records


def export_episodes(
    episodes: list[Episode],
    out: Path,
    fps: int,
    instruction: str,
    repo_id: str = "userl/export",
    on_episode: EpisodeDone | None = None,
    meaning: DatasetMeaning | None = None,
) -> ExportReport:
    """Write `episodes` as a LeRobotDataset v3.0 at `out` (which must not exist);
    `on_episode` is told after each one how many of how many are written (a progress bar);
    `meaning` gives the robot kind and the state's and action's names (else the recording
    worker's id and no names)."""
    if not episodes:
        raise DatasetMismatch("the store has no readable episodes to export")
    if any(e.step_success is None for e in episodes):  # a column every frame has, or none
        episodes = [dataclasses.replace(e, step_success=None) for e in episodes]
    meaning = meaning or DatasetMeaning(robot_type=episodes[0].robot_id)
    module = lerobot_dataset_module()
    dataset = module.LeRobotDataset.create(
        repo_id,
        fps=int(fps),
        root=out,
        features=_features(episodes[0], meaning),
        robot_type=meaning.robot_type,
        use_videos=True,
        vcodec=VIDEO_CODEC,
    )
    with warnings.catch_warnings():  # LeRobot's statistics convert the bool flags to count them
        warnings.filterwarnings("ignore", message="Converting input from bool")
        try:
            records = _write(dataset, episodes, instruction, on_episode, meaning)
        finally:
            dataset.finalize()
    frames_folder = out / "images"  # LeRobot's per-frame PNGs, emptied once encoded
    if frames_folder.is_dir() and not any(p.is_file() for p in frames_folder.rglob("*")):
        shutil.rmtree(frames_folder)
    with open(out / EPISODE_RECORDS, "w") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    frames = sum(len(e) + 1 for e in episodes)
    views = [k for k in episodes[0].observations if k != "state"]
    return ExportReport(
        str(out),
        len(episodes),
        frames,
        frames - len(episodes),
        int(fps),
        _folder_bytes(out),
        views,
        meaning.robot_type,
    )
