"""Reward sources, registered in `userl.core.registry.REWARDS`."""

from userl.rewards.base import CompositeReward, RewardSource
from userl.rewards.factory import build_reward
from userl.rewards.task_rewards import PoseDistanceReward, SuccessReward

__all__ = ["CompositeReward", "PoseDistanceReward", "RewardSource", "SuccessReward",
           "build_reward"]
