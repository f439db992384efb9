"""`userl data view PATH [out=F.rrd]`: an episode store or a LeRobot dataset in the rerun
viewer (the `rerun-sdk` LeRobot's `lerobot-dataset-viz` uses), or saved as an `.rrd` file.

Each episode is one entity, `episodes/<n>` (n: its place in the store's or dataset's order),
on the `step` timeline: `camera/<view>` images and the `state` (T+1 rows each), the executed
`action`, the policy's `policy_action`, `reward` and `intervened` (T rows), the per-step
`step_success` labels where recorded, the episode's `success` (one row at its last step) and
an `info` text (episode id, task, robot, source, steps, return, takeovers). Reading is
read-only: nothing is written into the store or dataset.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from userl.core.errors import ConfigError
from userl.core.types import Episode
from userl.data.interop import read_episodes
from userl.data.lerobot_mapping import LeRobotMappingConfig
from userl.data.store import SUFFIX, EpisodeStore, LoadReport

if TYPE_CHECKING:
    import rerun

APPLICATION_ID = "userl_data_view"
TIMELINE = "step"
IMAGE_DIMS = 4  # an observation with rows of (H, W, C) is a camera view
RUN_SUBFOLDERS = ("episodes", "demos")  # what a run folder holds that the viewer can show
SHOW = "give an episode store (e.g. runs/<name>/episodes) or a LeRobot dataset folder"


def what_is_not_viewable(path: Path) -> str | None:
    """None when `path` is an episode store or a LeRobot dataset; otherwise one line naming
    what it is and the path to give instead."""
    from userl.data.lerobot_format import is_lerobot_dataset

    if not path.exists():
        return f"no folder at {path}; {SHOW}"
    if path.is_file():
        return f"{path} is a file, not a folder; {SHOW}"
    if is_lerobot_dataset(path) or EpisodeStore(path).is_store():
        return None
    inside = [path / name for name in RUN_SUBFOLDERS if EpisodeStore(path / name).is_store()]
    if inside:
        given = " or ".join(str(p) for p in inside)
        return f"{path} is a run folder, not an episode store; give {given}"
    return f"{path} is neither an episode store (no *{SUFFIX} files) nor a LeRobot dataset; {SHOW}"


def check_out(out: Path) -> None:
    """`out=` names a new `.rrd` file in an existing folder (nothing is overwritten)."""
    if out.suffix != ".rrd":
        raise ConfigError(f"out={out}: a rerun recording ends in .rrd; write e.g. out=data.rrd")
    if out.exists():
        raise ConfigError(f"out={out} exists; give a new file (nothing was overwritten)")
    if not out.parent.is_dir():
        raise ConfigError(f"out={out}: no folder {out.parent}; create it or give another path")


def load(path: Path) -> LoadReport:
    """The episodes at `path` (an episode store or a LeRobot dataset), read-only."""
    report = read_episodes(path, LeRobotMappingConfig())
    if not report.episodes:
        raise ConfigError(f"{path} holds no readable episodes to view")
    return report


def _steps(count: int) -> list[Any]:
    import rerun as rr

    return [rr.TimeColumn(TIMELINE, sequence=np.arange(count))]


def _series(rec: rerun.RecordingStream, entity: str, values: np.ndarray) -> None:
    import rerun as rr

    rows = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    rec.send_columns(entity, indexes=_steps(len(rows)), columns=rr.Scalars.columns(scalars=rows))


def log_episode(rec: rerun.RecordingStream, number: int, episode: Episode) -> None:
    """One episode under `episodes/<number>`: its views, series and text."""
    import rerun as rr

    root = f"episodes/{number}"
    info = {
        "episode_id": episode.episode_id,
        "task": episode.task,
        "robot": episode.robot_id,
        "source": episode.source,
        "success": bool(episode.success),
        "steps": len(episode),
        "return": round(episode.episode_return, 6),
        "takeovers": episode.takeovers,
    }
    rec.log(f"{root}/info", rr.TextDocument(json.dumps(info, indent=1)), static=True)
    for key, values in episode.observations.items():
        if values.ndim == IMAGE_DIMS:
            for step, frame in enumerate(values):
                rec.set_time(TIMELINE, sequence=step)
                rec.log(f"{root}/camera/{key}", rr.Image(frame))
        else:
            _series(rec, f"{root}/{key}", values)
    _series(rec, f"{root}/action", episode.actions)
    _series(rec, f"{root}/policy_action", episode.policy_actions)
    _series(rec, f"{root}/reward", episode.rewards)
    _series(rec, f"{root}/intervened", episode.intervened.astype(np.float64))
    if episode.step_success is not None:
        _series(rec, f"{root}/step_success", episode.step_success.astype(np.float64))
    rec.send_columns(
        f"{root}/success",
        indexes=[rr.TimeColumn(TIMELINE, sequence=[len(episode)])],
        columns=rr.Scalars.columns(scalars=[float(episode.success)]),
    )


def view(path: Path, out: Path | None = None) -> dict[str, Any]:
    """Show the episodes at `path` in a spawned rerun viewer, or save them to `out` (.rrd);
    every check runs before anything is read or written."""
    problem = what_is_not_viewable(path)
    if problem:
        raise ConfigError(problem)
    if out is not None:
        check_out(out)
    try:
        import rerun as rr
    except ImportError:
        raise ConfigError(
            "userl data view needs rerun-sdk; install it with pip install 'userl[lerobot]'"
        ) from None
    report = load(path)
    for name, reason in report.unreadable:
        print(f"warning: {path / name} skipped: {reason}", file=sys.stderr)
    rec = rr.RecordingStream(APPLICATION_ID)
    if out is not None:
        rec.save(out)
    else:
        rec.spawn()
    for number, episode in enumerate(report.episodes):
        log_episode(rec, number, episode)
    rec.flush()
    rec.disconnect()  # the file is complete (the spawned viewer keeps what it was sent)
    views = {k for e in report.episodes for k, v in e.observations.items() if v.ndim == IMAGE_DIMS}
    return {
        "episodes": len(report.episodes),
        "views": sorted(views),
        "skipped_unreadable": len(report.unreadable),
        "skipped_nonfinite": len(report.nonfinite),
        "out": str(out) if out is not None else None,
    }
