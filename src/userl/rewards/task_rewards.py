"""Rewards computed from the task's own facts: sparse success and dense pose distance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from userl.core.registry import REWARDS
from userl.core.types import Observation
from userl.tasks.base import TaskConfig


@REWARDS.register("success")
class SuccessReward:
    """1.0 on success, else 0.0."""

    def __init__(self, config: TaskConfig) -> None:
        self.config = config

    def __call__(self, obs: Observation, info: Mapping[str, Any]) -> tuple[float, bool]:
        success = bool(info["success"])
        return float(success), success


@REWARDS.register("pose_distance")
class PoseDistanceReward:
    """-dense_reward_scale_per_m * (distance of the task's point to its target, m)."""

    def __init__(self, config: TaskConfig) -> None:
        self.scale_per_m = config.dense_reward_scale_per_m

    def __call__(self, obs: Observation, info: Mapping[str, Any]) -> tuple[float, bool]:
        return -self.scale_per_m * float(info["target_distance_m"]), bool(info["success"])
