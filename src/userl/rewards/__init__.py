"""Reward sources, one module each, registered in `userl.core.registry.REWARDS`."""

from userl.rewards import classifier, composite, keyboard, pose, success  # noqa: F401
from userl.rewards.base import (
    RewardConfig,
    RewardContext,
    RewardFailed,
    RewardInput,
    RewardSource,
    RewardStep,
)
from userl.rewards.factory import build_reward

__all__ = [
    "RewardConfig",
    "RewardContext",
    "RewardFailed",
    "RewardInput",
    "RewardSource",
    "RewardStep",
    "build_reward",
]
