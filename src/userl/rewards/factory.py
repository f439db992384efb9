"""Builds the configured reward source (with the optional gripper-toggle penalty)."""

from __future__ import annotations

from userl.core.registry import REWARDS
from userl.rewards.base import RewardConfig, RewardContext, RewardSource
from userl.rewards.gripper_penalty import GripperTogglePenalty


def build_reward(config: RewardConfig, context: RewardContext) -> RewardSource:
    """`REWARDS[config.name]`, wrapped in the gripper-toggle penalty when that is set."""
    source: RewardSource = REWARDS.build(config, context)
    if config.gripper_toggle_penalty:
        source = GripperTogglePenalty(source, config.gripper_toggle_penalty)
    return source
