"""LeRobotDataset v3.0 -> episodes, read by LeRobot's own dataset library (the export, its
inverse, is `lerobot_export`): the features named by a `LeRobotMappingConfig` become an
episode's columns. The folder is checked against its own files first (`lerobot_checks`) and
its views against the task's before any video is decoded; a dataset whose files or features
do not fit is a `DatasetMismatch` naming the file or the feature and the fix.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image

from userl.core.specs import ImageSpec, ObservationSpec
from userl.core.types import Episode
from userl.data.lerobot_checks import (
    INFO_FILE,
    RESTORE,
    DatasetMismatch,
    check_dataset,
    read_json_lines,
)
from userl.data.lerobot_client import lerobot_dataset_module, video_utils_module
from userl.data.lerobot_mapping import LeRobotMappingConfig

EPISODE_RECORDS = "meta/userl_episodes.jsonl"
DEFAULT_MAPPING = LeRobotMappingConfig()
PIXEL_SCALE = 255.0  # LeRobot decodes video frames to float in [0, 1]
EpisodeDone = Callable[[int, int], None]  # told how many episodes of how many are done

# What LeRobot's table reading raises on a damaged file that its footer did not show
READ_ERRORS: tuple[type[BaseException], ...] = (OSError, ValueError)


def is_lerobot_dataset(path: Path) -> bool:
    return (Path(path) / INFO_FILE).is_file()


# ----------------------------------------------------------------------------- import
def _records(path: Path) -> dict[int, dict[str, Any]]:
    file = path / EPISODE_RECORDS
    if not file.is_file():
        return {}
    records = read_json_lines(file)
    if not all(isinstance(r, dict) and isinstance(r.get("episode_index"), int) for r in records):
        raise DatasetMismatch(f"{file}: a record has no episode_index; {RESTORE}")
    return {int(r["episode_index"]): r for r in records}


def _column(table: Any, name: str, rows: slice) -> np.ndarray:
    """Rows of one numeric column of the dataset's arrow table, as (rows, values)."""
    chunk = table.column(name).slice(rows.start, rows.stop - rows.start).combine_chunks()
    while hasattr(chunk, "flatten") and not hasattr(chunk, "field"):  # (fixed-size) lists
        chunk = chunk.flatten()
    values = chunk.to_numpy(zero_copy_only=False)
    return values.reshape(rows.stop - rows.start, -1)


def _flat(values: np.ndarray) -> np.ndarray:
    return values.reshape(len(values), -1)[:, 0]


class _Reader:
    """One LeRobot dataset opened with LeRobot's own class (offline, from a local folder)."""

    def __init__(self, path: Path, mapping: LeRobotMappingConfig) -> None:
        self.path, self.mapping = Path(path), mapping
        check_dataset(self.path)  # before LeRobot's class trusts what meta/ claims
        self.records = _records(self.path)
        module = lerobot_dataset_module()
        from datasets.exceptions import DatasetGenerationError
        from pyarrow import ArrowException

        try:
            self.dataset = module.LeRobotDataset(repo_id=f"local/{self.path.name}", root=self.path)
        except (DatasetGenerationError, ArrowException, *READ_ERRORS) as error:
            reason = str(error.__cause__ or error).splitlines()[0]
            raise DatasetMismatch(
                f"{self.path}: LeRobot cannot read the dataset's tables ({reason}); {RESTORE}"
            ) from None
        self.features: dict[str, dict[str, Any]] = self.dataset.meta.features
        self.table = self.dataset.hf_dataset.data  # the arrow table, read as numpy

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
            step_success=(
                _flat(_column(self.table, m.step_success, rows))[:steps].astype(bool)
                if self.has(m.step_success)
                else None
            ),
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
            raise view_size_mismatch(name, pixels.shape[1], pixels.shape[2], view)
    for key in [k for k in episode.observations if k != "state"]:
        if key not in {v.name for v in spec.images}:
            del episode.observations[key]  # a view the task does not observe


def view_size_mismatch(feature: str, height: int, width: int, view: ImageSpec) -> DatasetMismatch:
    """The dataset's view is not the size the task's cameras deliver: the keys that make
    them deliver it (the image policy's size sets both unless the robot's keys are given)."""
    return DatasetMismatch(
        f"feature {feature!r} is {height}x{width} px; the task's view is "
        f"{view.height_px}x{view.width_px} px: import with robot.image_height_px={height} "
        f"robot.image_width_px={width}"
        + (f" (or policy.image_size_px={height})" if height == width else "")
    )


def check_views(
    reader: _Reader, spec: ObservationSpec | None, mapping: LeRobotMappingConfig
) -> None:
    """The dataset's views against the task's, from the declared shapes, before any video is
    decoded; views the task does not observe are dropped with one warning line."""
    if spec is None:
        return
    views = reader.views()
    for view in spec.images:
        feature = views.get(view.name)
        shape = reader.features[feature]["shape"] if feature else None
        if shape is not None and tuple(shape[:2]) != (view.height_px, view.width_px):
            raise view_size_mismatch(feature or "", int(shape[0]), int(shape[1]), view)
    dropped = sorted(set(views) - set(spec.image_names))
    if dropped:
        fix = (
            "add obs=image to import them" if not spec.images else "the task does not observe them"
        )
        print(
            f"warning: {reader.path}: camera views {', '.join(dropped)} not imported ({fix})",
            file=sys.stderr,
            flush=True,
        )


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
    check_views(reader, spec, mapping)
    episodes = []
    for index in range(reader.dataset.meta.total_episodes):
        episode = reader.episode(index)
        check_fits(episode, spec, action_dim, mapping)
        episodes.append(episode)
        if on_episode is not None:
            on_episode(index + 1, reader.dataset.meta.total_episodes)
    return episodes
