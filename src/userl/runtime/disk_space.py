"""Room on disk for the next episode, checked before the robot moves.

A robot's finished episode is written to its spool before it is shipped (`outbox.py`); a
spool that cannot take it would leave the episode in memory only. So before each episode the
env worker asks for its expected size plus a reserve (`run.min_free_disk_mb`, room for the
learner's store and checkpoints on the same disk) and, when the disk is short, stops the run
in one line that names the folder, the free megabytes and the key, before the robot moves.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from userl.core.specs import ObservationSpec

if TYPE_CHECKING:
    from userl.runtime.outbox import Outbox

BYTES_PER_MB = 1024 * 1024
FLOAT_BYTES = 4  # state, actions and rewards are float32
STEP_FLAG_BYTES = 4  # terminated, truncated, intervened, step_success: one byte each
VERSION_BYTES = 24  # policy_versions, chunk_ids, chunk_delays: int64 each
ARCHIVE_OVERHEAD_BYTES = 64 * 1024  # zip headers, the meta JSON and its info


class DiskShort(RuntimeError):
    """The disk has no room for the next episode, or an episode could not be written; the
    message is one line naming the folder, the free megabytes, the key, and every episode
    held in memory only. A restart would not help, so the run stops on it."""

    def __init__(self, message: str, unwritten: int = 0) -> None:
        super().__init__(message)
        self.unwritten = unwritten  # finished episodes on no disk when it was raised

    def __reduce__(self) -> tuple[type[DiskShort], tuple[str, int]]:
        return type(self), (str(self), self.unwritten)  # survives Ray's pickling


def free_bytes(folder: Path) -> int:
    """Free bytes on the file system that holds `folder` (for an unprivileged writer)."""
    return shutil.disk_usage(folder).free


def expected_episode_bytes(spec: ObservationSpec, action_dim: int, steps: int) -> int:
    """An episode file's size: `steps` + 1 observations (the state vector and every camera
    view), and per step the executed and the policy's action, reward, flags and version."""
    rows = max(steps, 1)
    observation = spec.state_dim * FLOAT_BYTES + sum(
        view.height_px * view.width_px * 3 for view in spec.images
    )
    step = 2 * action_dim * FLOAT_BYTES + FLOAT_BYTES + STEP_FLAG_BYTES + VERSION_BYTES
    return (rows + 1) * observation + rows * step + ARCHIVE_OVERHEAD_BYTES


def shortfall(folder: Path, episode_bytes: int, reserve_mb: float) -> str | None:
    """None when `folder`'s disk has room for an episode of `episode_bytes` and
    `reserve_mb` besides; otherwise one line saying so."""
    free = free_bytes(folder)
    needed = episode_bytes + reserve_mb * BYTES_PER_MB
    if free >= needed:
        return None
    return (
        f"only {free / BYTES_PER_MB:.1f} MB free in {folder}, under the "
        f"{episode_bytes / BYTES_PER_MB:.1f} MB an episode needs plus "
        f"run.min_free_disk_mb={reserve_mb:g}; free disk space (or lower run.min_free_disk_mb)"
    )


class DiskGate:
    """An env worker's check before each episode: the spool must hold every finished
    episode, and its disk room for the next one plus `run.min_free_disk_mb`. Otherwise the
    robot holds, the learner gets a bounded wait to store what memory holds (it may have a
    disk of its own), and then `DiskShort` stops the run in one line naming what is
    unwritten."""

    def __init__(
        self, outbox: Outbox, episode_bytes: int, reserve_mb: float, learner_timeout_s: float
    ) -> None:
        self.outbox = outbox
        self.episode_bytes = episode_bytes
        self.reserve_mb = reserve_mb
        self.learner_timeout_s = learner_timeout_s

    def _short(self) -> str | None:
        return shortfall(self.outbox.spool.root, self.episode_bytes, self.reserve_mb)

    def check(self, hold: Callable[[], None]) -> None:
        """Return when there is room; otherwise `hold()` the robot and, unless the learner
        stores the held episodes and the disk has room after all, raise `DiskShort`."""
        if not self.outbox.respool() and self._short() is None:
            return
        hold()
        self.outbox.wait(self.learner_timeout_s, every=True)
        self.outbox.release_acknowledged()
        self.outbox.respool()
        short = self._short()
        if short is None and not self.outbox.unwritten:
            return
        raise DiskShort(self.stop_line(short), self.outbox.unwritten)

    def stop_line(self, short: str | None) -> str:
        """The one line `DiskShort` stops the run with."""
        folder = self.outbox.spool.root
        line = f"{self.outbox.robot_id} stopped before its next episode: "
        line += short or f"{folder} refuses writes"
        if self.outbox.unwritten:
            line += (
                f"; {self.outbox.unwritten} finished episode(s) could not be written and are "
                f"held in memory until the run stops: {self.outbox.describe_unwritten()}"
            )
        return line
