"""What the learner reports about the run besides its learning curve: the TensorBoard
scalars of each stored episode (how it went, how fast its robot ran and waited, how fresh
its weights were) and of its training, and the pipeline's timing figures."""

from __future__ import annotations

import time
from collections import deque

import numpy as np

from userl.core.types import Episode
from userl.telemetry.timing import RateMeter

UPDATE_TIMES_KEPT = 100_000  # wall-clock times of recent updates, for pipeline benchmarks
METRICS_EVERY_S = 1.0  # losses are read back (a GPU synchronisation) at most this often

# episode info -> TensorBoard tag, logged when the episode has it (a reward model, ground truth)
REWARD_TELEMETRY = {
    "reward/probability": "reward/probability",
    "reward/agreement": "reward/agreement",
    "true_success": "env/true_success",
}


def episode_scalars(episode: Episode) -> dict[str, float]:
    """One episode's `env/`, `time/`, `sync/` and reward scalars (0 where the robot did not
    report a figure)."""
    info = episode.info
    return {
        "env/success": float(episode.success),
        "env/return": episode.episode_return,
        "env/episode_len": len(episode),
        "env/intervened_steps": episode.intervened_steps,
        "env/intervention_rate": episode.intervened_steps / max(len(episode), 1),
        "env/takeovers": episode.takeovers,
        "env/steps_per_s": info.get("env_steps_per_s", 0.0),
        "time/control_period_ms": info.get("control_period_p50_ms", 0.0),
        "time/waited_for_learner_s": info.get("waited_for_learner_s", 0.0),
        "time/control_overruns": info.get("control_overruns", 0),
        "time/control_period_ms_p99": info.get("control_period_p99_ms", 0.0),
        "time/action_wait_ms": info.get("action_wait_ms", 0.0),
        "time/action_wait_ms_p99": info.get("action_wait_ms_p99", 0.0),
        "time/action_wait_ms_running_p99": info.get("action_wait_ms_running_p99", 0.0),
        "time/chunk_boundary_jump": info.get("chunk_boundary_jump", 0.0),
        "sync/weight_version_lag": info.get("weight_version_lag", 0.0),
        "sync/latency_ms": info.get("sync_latency_ms", 0.0),
        "sync/bytes": info.get("sync_bytes", 0.0),
        **{tag: info[key] for key, tag in REWARD_TELEMETRY.items() if key in info},
    }


class TrainingMetrics:
    """The algorithm's newest losses and the update rate, for TensorBoard. Reading the
    losses back is a GPU synchronisation, so an online update reports them only when asked
    to or once `METRICS_EVERY_S` has passed since they were last read."""

    def __init__(self) -> None:
        self.losses: dict[str, float] = {}
        self.rate = RateMeter()  # online updates per second
        self._due_s = 0.0  # monotonic time from which the next update reports losses

    def due(self, asked: bool, now: float) -> bool:
        """Whether the update starting at `now` should report its losses."""
        return asked or now >= self._due_s

    def updated(self, losses: dict[str, float] | None, started: float) -> None:
        """An online update, started at `started`, done: its losses if it reported them."""
        if losses is not None:
            self.losses = losses
            self._due_s = started + METRICS_EVERY_S
        self.rate.add()

    def scalars(
        self, online_updates: int, env_steps: int, grad_steps: int, utd_min: float
    ) -> dict[str, float]:
        """The newest losses (`train/...` unless they name their own group), the update
        rate, the update-to-data ratio and whether it is below the floor `algo.utd_min`."""
        utd = online_updates / max(env_steps, 1)
        return {
            **{k if "/" in k else f"train/{k}": v for k, v in self.losses.items()},
            "train/updates_per_s": self.rate.rate(),
            "train/utd": utd,
            "train/learner_behind": float(utd < utd_min),
            "train/grad_steps": grad_steps,
        }


class PipelineTiming:
    """The paper's pipeline figures for a run: mean wall time between consecutive updates,
    and between consecutive episode starts on the same robot (reset included)."""

    def __init__(self) -> None:
        self.update_times_s: deque[float] = deque(maxlen=UPDATE_TIMES_KEPT)
        self.episode_starts: dict[str, list[float]] = {}

    def update(self) -> None:
        self.update_times_s.append(time.time())

    def episode(self, episode: Episode) -> None:
        """An episode's start time (`started_at_s`, where its robot reported one)."""
        if "started_at_s" in episode.info:
            self.episode_starts.setdefault(episode.robot_id, []).append(
                float(episode.info["started_at_s"])
            )

    def figures(self) -> dict[str, float]:
        updates = np.diff(np.asarray(self.update_times_s))
        per_robot = [np.diff(sorted(starts)) for starts in self.episode_starts.values()]
        gaps = np.concatenate(per_robot) if per_robot else np.zeros(0)
        return {
            "training_s_per_update": float(updates.mean()) if len(updates) else 0.0,
            "generation_s_per_episode": float(gaps.mean()) if len(gaps) else 0.0,
        }
