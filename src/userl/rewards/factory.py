"""Builds a task's reward: its registered source plus the optional dense term."""

from __future__ import annotations

from userl.core.registry import REWARDS
from userl.rewards.base import CompositeReward, RewardSource
from userl.rewards.task_rewards import PoseDistanceReward
from userl.tasks.base import TaskConfig


def build_reward(config: TaskConfig) -> RewardSource:
    """`REWARDS[config.reward]`, plus `dense_reward_weight` x pose distance when that is > 0."""
    main = REWARDS.get(config.reward)(config)
    if config.dense_reward_weight <= 0.0:
        return main
    return CompositeReward([(main, 1.0), (PoseDistanceReward(config), config.dense_reward_weight)])
