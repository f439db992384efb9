"""The optional penalty per gripper toggle (`reward.gripper_toggle_penalty`), around any
source: a step whose gripper command crosses zero (open <-> close) costs that much."""

from __future__ import annotations

from userl.rewards.base import RewardInput, RewardSource, RewardStep


class GripperTogglePenalty(RewardSource):
    """`source`'s verdict, minus `penalty` on each step the gripper command changes sign."""

    def __init__(self, source: RewardSource, penalty: float) -> None:
        self.source = source
        self.penalty = penalty
        self.needs_ground_truth = source.needs_ground_truth
        self._closed: bool | None = None

    def reset(self) -> None:
        self.source.reset()
        self._closed = None

    def __call__(self, step: RewardInput) -> RewardStep:
        result = self.source(step)
        if step.action is None:
            return result
        closed = bool(step.action[-1] > 0.0)
        toggled = self._closed is not None and closed != self._closed
        self._closed = closed
        if toggled:
            result.reward -= self.penalty
        return result

    def close(self) -> None:
        self.source.close()
