"""Episode store <-> LeRobotDataset v3.0, written and read by LeRobot's own dataset library.

Export: each episode of T steps becomes T+1 frames. Frame t < T holds observation t
(`observation.state`, one video `observation.images.<view>` per camera view), the executed
`action`, `next.reward`, `next.done` (= terminated or truncated), `next.terminated`,
`next.truncated`, `intervened`, the policy's proposal `policy_action` and its
`policy_version`; frame T holds the final observation only (`final_observation` true, a zero
action, not a transition), so nothing of the episode is lost. The task is the task's
instruction; fps is the task's control rate. LeRobot writes parquet tables, MP4 videos,
`meta/info.json`, the episode and task tables and the statistics. userl's per-episode
records (id, robot, source, success, statistics) go to `meta/userl_episodes.jsonl`.

Import: the features named by a `LeRobotMappingConfig` become an episode's columns; a
dataset whose features do not fit is a `DatasetMismatch` naming the feature.
"""

from __future__ import annotations

import io
import json
import shutil
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image

from userl.core.errors import ConfigError
from userl.core.specs import ObservationSpec
from userl.core.types import Episode
from userl.data.lerobot_client import lerobot_dataset_module, video_utils_module
from userl.data.lerobot_mapping import LeRobotMappingConfig

EPISODE_RECORDS = "meta/userl_episodes.jsonl"
INFO_FILE = "meta/info.json"
DEFAULT_MAPPING = LeRobotMappingConfig()
VIDEO_CODEC = "libsvtav1"  # LeRobot's default encoder
PIXEL_SCALE = 255.0  # LeRobot decodes video frames to float in [0, 1]
EpisodeDone = Callable[[int, int], None]  # told how many episodes of how many are done


class DatasetMismatch(ConfigError):
    """A LeRobot dataset's features cannot map onto the episode columns; names the feature."""


def is_lerobot_dataset(path: Path) -> bool:
    return (Path(path) / INFO_FILE).is_file()


# ----------------------------------------------------------------------------- export
@dataclass
class ExportReport:
    out: str
    episodes: int
    frames: int
    transitions: int
    fps: int
    bytes: int
    views: list[str]


def _features(episode: Episode) -> dict[str, dict[str, Any]]:
    names = DEFAULT_MAPPING
    action_dim = int(episode.actions.shape[1])
    features: dict[str, dict[str, Any]] = {}
    for key, value in episode.observations.items():
        if key == "state":
            features[names.state[0]] = {
                "dtype": "float32",
                "shape": (value.shape[1],),
                "names": None,
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
    vector = {"dtype": "float32", "shape": (action_dim,), "names": None}
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
        yield frame


def _folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _write(
    dataset: Any, episodes: list[Episode], instruction: str, on_episode: EpisodeDone | None
) -> list[dict[str, Any]]:
    """Every episode's frames through LeRobot's writer; returns userl's episode records."""
    features = _features(episodes[0])
    records = []
    for index, episode in enumerate(episodes):
        if _features(episode) != features:
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
) -> ExportReport:
    """Write `episodes` as a LeRobotDataset v3.0 at `out` (which must not exist);
    `on_episode` is told after each one how many of how many are written (a progress bar)."""
    if not episodes:
        raise DatasetMismatch("the store has no readable episodes to export")
    module = lerobot_dataset_module()
    dataset = module.LeRobotDataset.create(
        repo_id,
        fps=int(fps),
        root=out,
        features=_features(episodes[0]),
        robot_type=episodes[0].robot_id,
        use_videos=True,
        vcodec=VIDEO_CODEC,
    )
    with warnings.catch_warnings():  # LeRobot's statistics convert the bool flags to count them
        warnings.filterwarnings("ignore", message="Converting input from bool")
        try:
            records = _write(dataset, episodes, instruction, on_episode)
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
        str(out), len(episodes), frames, frames - len(episodes), int(fps), _folder_bytes(out), views
    )


# ----------------------------------------------------------------------------- import
def _records(path: Path) -> dict[int, dict[str, Any]]:
    file = path / EPISODE_RECORDS
    if not file.is_file():
        return {}
    lines = [json.loads(line) for line in file.read_text().splitlines() if line.strip()]
    return {int(r["episode_index"]): r for r in lines}


def _column(table: Any, name: str, rows: slice) -> np.ndarray:
    """Rows of one numeric column of the dataset's arrow table, as (rows, values)."""
    chunk = table.column(name).slice(rows.start, rows.stop - rows.start).combine_chunks()
    while hasattr(chunk, "flatten") and not hasattr(chunk, "field"):  # (fixed-size) lists
        chunk = chunk.flatten()
    values = chunk.to_numpy(zero_copy_only=False)
    return values.reshape(rows.stop - rows.start, -1)


def _flat(values: np.ndarray) -> np.ndarray:
    return values.reshape(len(values), -1)[:, 0]


# What a LeRobotDataset v3.0 folder holds, read locally before LeRobot's class opens it (which
# would otherwise go looking on the hub for what is missing).
LOCAL_LAYOUT = ((INFO_FILE, "file"), ("meta/episodes", "folder"), ("data", "folder"))


def check_local_layout(path: Path) -> None:
    """One line naming what a local LeRobot dataset folder lacks, before anything reads it."""
    for relative, kind in LOCAL_LAYOUT:
        entry = path / relative
        present = entry.is_file() if kind == "file" else entry.is_dir()
        if not present:
            raise DatasetMismatch(
                f"{path}: not a complete LeRobotDataset v3.0 folder (no {kind} {relative}); "
                "give the folder `userl data export` or LeRobot wrote, with its meta/ and data/"
            )
    if not any((path / "data").rglob("*.parquet")):
        raise DatasetMismatch(
            f"{path}: the dataset's data/ folder holds no parquet files; give a complete "
            "LeRobotDataset v3.0 folder"
        )


class _Reader:
    """One LeRobot dataset opened with LeRobot's own class (offline, from a local folder)."""

    def __init__(self, path: Path, mapping: LeRobotMappingConfig) -> None:
        module = lerobot_dataset_module()
        self.path, self.mapping = Path(path), mapping
        check_local_layout(self.path)
        self.dataset = module.LeRobotDataset(repo_id=f"local/{self.path.name}", root=self.path)
        self.features: dict[str, dict[str, Any]] = self.dataset.meta.features
        self.table = self.dataset.hf_dataset.data  # the arrow table, read as numpy
        self.records = _records(self.path)

    def has(self, name: str) -> bool:
        return bool(name) and name in self.features

    def require(self, name: str, what: str, key: str) -> str:
        if not self.has(name):
            known = ", ".join(sorted(self.features))
            raise DatasetMismatch(
                f"{self.path}: no feature {name!r} for the {what}; set demos.lerobot.{key}= to "
                f"one of: {known}"
            )
        return name

    def views(self) -> dict[str, str]:
        prefix = self.mapping.image_prefix
        return {
            name[len(prefix) :]: name
            for name, spec in self.features.items()
            if prefix and name.startswith(prefix) and spec["dtype"] in ("video", "image")
        }

    def images(
        self, episode_index: int, feature: str, rows: slice, timestamps: np.ndarray
    ) -> np.ndarray:
        if self.features[feature]["dtype"] == "image":
            cells = self.table.column(feature).slice(rows.start, rows.stop - rows.start)
            return np.stack(
                [
                    np.asarray(PIL.Image.open(io.BytesIO(cell["bytes"])).convert("RGB"))
                    for cell in cells.to_pylist()
                ]
            )
        meta = self.dataset.meta
        start = float(meta.episodes[episode_index][f"videos/{feature}/from_timestamp"])
        path = self.path / meta.get_video_file_path(episode_index, feature)
        frames = video_utils_module().decode_video_frames(
            path,
            [start + float(t) for t in timestamps],
            self.dataset.tolerance_s,
            self.dataset.video_backend,
        )
        pixels = frames.permute(0, 2, 3, 1).numpy() * PIXEL_SCALE
        return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)

    def episode(self, episode_index: int) -> Episode:
        m, meta = self.mapping, self.dataset.meta.episodes[episode_index]
        rows = slice(int(meta["dataset_from_index"]), int(meta["dataset_to_index"]))
        state = np.concatenate(
            [_column(self.table, self.require(name, "state", "state"), rows) for name in m.state],
            axis=1,
        ).astype(np.float32)
        actions = _column(self.table, self.require(m.action, "action", "action"), rows)
        actions = actions.astype(np.float32)
        count = len(actions)
        final = (
            _flat(_column(self.table, m.final_observation, rows)).astype(bool)
            if self.has(m.final_observation)
            else np.zeros(count, bool)
        )
        has_final = bool(final[-1])
        steps = count - 1 if has_final else count
        if steps < 1:
            raise DatasetMismatch(f"{self.path}: episode {episode_index} has no transitions")
        observations = {"state": state if has_final else np.concatenate([state, state[-1:]])}
        timestamps = _flat(_column(self.table, "timestamp", rows))
        for view, feature in self.views().items():
            pixels = self.images(episode_index, feature, rows, timestamps)
            observations[view] = pixels if has_final else np.concatenate([pixels, pixels[-1:]])

        def column(name: str, key: str, default: np.ndarray, dtype: Any) -> np.ndarray:
            if not name:
                return default.astype(dtype)
            if not self.has(name):
                if key == "reward":
                    self.require(name, key, key)
                return default.astype(dtype)
            return _flat(_column(self.table, name, rows))[:steps].astype(dtype)

        ends = np.zeros(steps, bool)
        ends[-1] = True
        done = column(m.done, "done", ends, bool)
        rewards = column(m.reward, "reward", np.zeros(steps), np.float32)
        terminated = column(m.terminated, "terminated", done, bool)
        truncated = column(m.truncated, "truncated", np.zeros(steps, bool), bool)
        intervened = column(m.intervened, "intervened", np.zeros(steps, bool), bool)
        versions = column(m.policy_version, "policy_version", np.full(steps, -1), np.int64)
        proposals = (
            _column(self.table, m.policy_action, rows)[:steps].astype(np.float32)
            if self.has(m.policy_action)
            else actions[:steps].copy()
        )
        record = self.records.get(episode_index, {})
        success = record.get(
            "success", bool(np.any(rewards >= m.success_reward_min)) if self.has(m.reward) else True
        )
        tasks = meta.get("tasks") or [""]
        kwargs = {k: record[k] for k in ("episode_id", "source", "info") if k in record}
        return Episode(
            robot_id=record.get("robot_id", str(self.dataset.meta.robot_type or "lerobot")),
            task=record.get("task", str(tasks[0])),
            observations=observations,
            actions=actions[:steps],
            policy_actions=proposals,
            rewards=rewards,
            terminated=terminated,
            truncated=truncated,
            intervened=intervened,
            policy_versions=versions,
            success=bool(success),
            **kwargs,
        )


def check_fits(
    episode: Episode,
    spec: ObservationSpec | None,
    action_dim: int | None,
    mapping: LeRobotMappingConfig,
) -> None:
    """A `DatasetMismatch` naming the feature when the episode does not fit the task."""
    if action_dim is not None and episode.actions.shape[1] != action_dim:
        raise DatasetMismatch(
            f"feature {mapping.action!r} has {episode.actions.shape[1]} "
            f"values; the task's action has {action_dim}"
        )
    if spec is None:
        return
    state_dim = episode.observations["state"].shape[1]
    if state_dim != spec.state_dim:
        raise DatasetMismatch(
            f"feature(s) {'+'.join(mapping.state)} give {state_dim} state "
            f"values; the task's state has {spec.state_dim}"
        )
    for view in spec.images:
        name = mapping.image_prefix + view.name
        pixels = episode.observations.get(view.name)
        if pixels is None:
            raise DatasetMismatch(
                f"no feature {name!r} for the task's camera view "
                f"{view.name!r}; set demos.lerobot.image_prefix="
            )
        if pixels.shape[1:3] != (view.height_px, view.width_px):
            raise DatasetMismatch(
                f"feature {name!r} is {pixels.shape[1]}x{pixels.shape[2]} px; "
                f"the task's view is {view.height_px}x{view.width_px} px"
            )
    for key in [k for k in episode.observations if k != "state"]:
        if key not in {v.name for v in spec.images}:
            del episode.observations[key]  # a view the task does not observe


def read_lerobot(
    path: Path,
    mapping: LeRobotMappingConfig = DEFAULT_MAPPING,
    spec: ObservationSpec | None = None,
    action_dim: int | None = None,
    on_episode: EpisodeDone | None = None,
) -> list[Episode]:
    """Every episode of the LeRobot dataset at `path`, checked against the task when given;
    `on_episode` is told after each one how many of how many are read (a progress bar)."""
    reader = _Reader(Path(path), mapping)
    episodes = []
    for index in range(reader.dataset.meta.total_episodes):
        episode = reader.episode(index)
        check_fits(episode, spec, action_dim, mapping)
        episodes.append(episode)
        if on_episode is not None:
            on_episode(index + 1, reader.dataset.meta.total_episodes)
    return episodes
