"""`reward=success`: the task's own success (simulator ground truth), sparse."""

from __future__ import annotations

from dataclasses import dataclass

from userl.core.registry import REWARDS
from userl.rewards.base import RewardConfig, RewardContext, RewardInput, RewardSource, RewardStep


@dataclass
class SuccessRewardConfig(RewardConfig):
    """1 on the task's success, else 0 (`task.evaluate`'s `success`)."""

    success_reward: float = 1.0  # the reward of a successful step


@REWARDS.register("success", config=SuccessRewardConfig)
class SuccessReward(RewardSource):
    """`success_reward` on success, else 0.0."""

    needs_ground_truth = True

    def __init__(self, config: SuccessRewardConfig, context: RewardContext) -> None:
        self.config = config

    def __call__(self, step: RewardInput) -> RewardStep:
        success = bool(step.facts["success"])
        return RewardStep(self.config.success_reward if success else 0.0, success)
