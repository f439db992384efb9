"""Episode data in other formats, for `userl data export|import` and `demos.path=` (a LeRobot
dataset or an episode store). Formats are registered by name; readers probe the folder. The
commands' glue (building a task's config and environment) is in `userl.tools.data_transfer`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from userl.core.errors import ConfigError
from userl.core.registry import Registry
from userl.core.specs import ObservationSpec
from userl.core.types import Episode
from userl.data.dataset_meaning import DatasetMeaning
from userl.data.lerobot_mapping import LeRobotMappingConfig
from userl.data.store import EpisodeStore, LoadReport, nonfinite_entry

if TYPE_CHECKING:  # LeRobot's modules load only when a LeRobot format is used
    from userl.data.lerobot_format import EpisodeDone


class Exporter(Protocol):
    """An export format: episodes to the new folder `out` at `fps` with the task's
    `instruction`; `on_episode` is told after each one how many of how many are written;
    `meaning` is what the dataset says of its robot and of each state and action value."""

    def __call__(
        self,
        episodes: list[Episode],
        out: Path,
        fps: int,
        instruction: str,
        on_episode: EpisodeDone | None = None,
        meaning: DatasetMeaning | None = None,
    ) -> dict[str, Any]: ...


EXPORT_FORMATS: Registry = Registry("export format")


@EXPORT_FORMATS.register("lerobot")
def export_lerobot(
    episodes: list[Episode],
    out: Path,
    fps: int,
    instruction: str,
    on_episode: EpisodeDone | None = None,
    meaning: DatasetMeaning | None = None,
) -> dict[str, Any]:
    from userl.data.lerobot_export import export_episodes

    repo_id = f"userl/{episodes[0].task.replace(':', '-')}"
    report = export_episodes(episodes, out, fps, instruction, repo_id, on_episode, meaning)
    return asdict(report)


# ----------------------------------------------------------------------------- reading
Reader = Callable[[Path, LeRobotMappingConfig, "ObservationSpec | None", "int | None"], LoadReport]
EPISODE_FORMATS: Registry = Registry("episode format")
_PROBES: dict[str, Callable[[Path], bool]] = {}


AnyReader = TypeVar("AnyReader", bound=Reader)


def _format(name: str, probe: Callable[[Path], bool]) -> Callable[[AnyReader], AnyReader]:
    """Register a reader with the probe that recognises its folders; the reader keeps its
    own signature (a reader may take more, such as a progress callback)."""
    _PROBES[name] = probe
    return EPISODE_FORMATS.register(name)


def _is_lerobot(path: Path) -> bool:
    from userl.data.lerobot_format import is_lerobot_dataset

    return is_lerobot_dataset(path)


@_format("lerobot", _is_lerobot)
def read_lerobot_report(
    path: Path,
    mapping: LeRobotMappingConfig,
    spec: ObservationSpec | None,
    action_dim: int | None,
    on_episode: EpisodeDone | None = None,
) -> LoadReport:
    """A LeRobot dataset's episodes; `on_episode` is told after each how many are read."""
    from userl.data.lerobot_format import read_lerobot

    report = LoadReport()
    episodes = read_lerobot(path, mapping, spec, action_dim, on_episode)
    for index, episode in enumerate(episodes):
        if (entry := nonfinite_entry(f"episode {index}", episode)) is None:
            report.episodes.append(episode)
        else:
            report.nonfinite.append(entry)
    return report


@_format("userl", lambda path: path.is_dir())
def read_store_report(
    path: Path, mapping: LeRobotMappingConfig, spec: ObservationSpec | None, action_dim: int | None
) -> LoadReport:
    return EpisodeStore(path).load()


def read_episodes(
    path: Path,
    mapping: LeRobotMappingConfig,
    spec: ObservationSpec | None = None,
    action_dim: int | None = None,
) -> LoadReport:
    """The episodes at `path` in whichever registered format it is (first probe that fits);
    non-finite ones are named in the report's `nonfinite`, not loaded."""
    for name in _PROBES:
        if _PROBES[name](path):
            return EPISODE_FORMATS.get(name)(path, mapping, spec, action_dim)
    raise ConfigError(f"{path} is not a folder; give an episode store or a LeRobot dataset")
