"""Run one episode of an environment with an action source and record it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from userl.core.types import Episode, EpisodeBuilder
from userl.rollout.action_sources import ActionSource
from userl.rollout.chunks import boundary_jump, running_wait_metrics, wait_metrics
from userl.telemetry.timing import percentiles_ms

StepHook = Callable[[], object]  # its result is ignored
CONFUSION_KEYS = (
    "reward_true_positives",
    "reward_false_positives",
    "reward_false_negatives",
    "reward_true_negatives",
)
CONFUSION = dict(
    zip([(True, True), (True, False), (False, True), (False, False)], CONFUSION_KEYS, strict=True)
)  # (source says success, truth) -> count


class RewardTelemetry:
    """Per episode: the reward model's mean probability (`reward/probability`) and, where the
    task's ground truth is known (simulation), the share of steps where the reward source
    agrees with it (`reward/agreement`) and the confusion counts (source vs truth)."""

    def __init__(self) -> None:
        self.probabilities: list[float] = []
        self.counts = dict.fromkeys(CONFUSION_KEYS, 0)
        self.true_success = False

    def add(self, info: dict[str, Any]) -> None:
        if "reward/probability" in info:
            self.probabilities.append(float(info["reward/probability"]))
        if "true_success" in info:
            said, truth = bool(info.get("success")), bool(info["true_success"])
            self.counts[CONFUSION[(said, truth)]] += 1
            self.true_success = self.true_success or truth

    def summary(self) -> dict[str, float]:
        out: dict[str, float] = {}
        if self.probabilities:
            out["reward/probability"] = float(np.mean(self.probabilities))
        judged = sum(self.counts.values())
        if judged:
            agreed = self.counts[CONFUSION_KEYS[0]] + self.counts[CONFUSION_KEYS[3]]
            out["reward/agreement"] = agreed / judged
            out["true_success"] = float(self.true_success)  # the task's own, any step
            out.update({key: float(value) for key, value in self.counts.items()})
        return out


def run_episode(
    env: Any,
    source: ActionSource,
    robot_id: str,
    seed: int | None,
    between_steps: StepHook | None = None,
    latest_version: Callable[[], int] | None = None,
    record_frames: bool = False,
) -> Episode:
    """Reset, act until terminated or truncated, and return the recorded episode.

    `between_steps` runs after each step (e.g. a non-blocking weight poll); it must not block.
    `latest_version` gives the newest weight version known, for `sync/weight_version_lag`.
    `record_frames`: keep `env.render()` after the reset and each step in `episode.frames`
    (the env needs `render_mode="rgb_array"`); they are not part of the observations.
    """
    frames: list[np.ndarray] = []
    started_at_s = time.time()  # wall clock, comparable across processes on one machine
    started = time.monotonic()
    observation, _ = env.reset(seed=seed)
    if record_frames:
        frames.append(env.render())
    reset_s = time.monotonic() - started
    source.reset()
    builder = EpisodeBuilder(robot_id, env.task.name, observation, source=source.source)
    periods_s: list[float] = []
    lags: list[int] = []
    refused = 0
    reward_telemetry = RewardTelemetry()
    step_started = time.monotonic()
    while True:
        decision = source.decide(observation)
        if latest_version is not None and decision.version >= 0:
            lags.append(max(0, latest_version() - decision.version))
        observation, reward, terminated, truncated, info = env.step(decision.action)
        refused += int(info.get("refused", False))
        reward_telemetry.add(info)
        if record_frames:
            frames.append(env.render())
        executed = info.get("executed_action", decision.action)
        builder.add(
            action=executed,
            policy_action=decision.policy_action,
            reward=float(reward),
            next_observation=observation,
            terminated=terminated,
            truncated=truncated,
            intervened=decision.intervened,
            policy_version=decision.version,
            success=bool(info.get("success", False)),
            chunk_id=decision.chunk_id,
            chunk_delay=decision.chunk_delay,
        )
        if between_steps is not None:
            between_steps()
        now = time.monotonic()
        periods_s.append(now - step_started)
        step_started = now
        if terminated or truncated:
            break
    timing = percentiles_ms(periods_s)
    overrun_s = getattr(env, "control_overrun_threshold_s", 0.0)
    wall_s = time.monotonic() - started
    episode = builder.build(
        info={
            "length": len(builder),
            "success": float(builder.success),
            "wall_s": wall_s,
            "reset_s": reset_s,
            "env_steps_per_s": len(builder) / max(wall_s - reset_s, 1e-9),
            "control_period_p50_ms": timing["p50_ms"],
            "control_period_p99_ms": timing["p99_ms"],
            "weight_version_lag": float(np.mean(lags)) if lags else 0.0,
            "refused_actions": refused,
            "seed": -1 if seed is None else int(seed),
            "started_at_s": started_at_s,
            "control_overruns": int(np.sum(np.asarray(periods_s) > overrun_s)) if overrun_s else 0,
        }
    )
    chunks = getattr(source, "chunks", None)
    episode.info.update(wait_metrics(chunks.drain_waits_ms() if chunks is not None else []))
    if chunks is not None:
        episode.info.update(running_wait_metrics(chunks.drain_running_waits_ms()))
    if episode.chunk_ids is not None:
        episode.info["chunk_boundary_jump"] = boundary_jump(episode.actions, episode.chunk_ids)
    episode.info.update(reward_telemetry.summary())
    episode.info["return"] = episode.episode_return
    episode.info["intervened_steps"] = episode.intervened_steps
    episode.info["intervention_rate"] = episode.intervened_steps / max(len(episode), 1)
    episode.frames = frames
    return episode
