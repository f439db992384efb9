"""`reward=pose`: success within a tolerance of a target TCP pose (recorded with `userl
record-pose out=F.yaml field=target_tcp_pose`), and an optional dense distance term. Without
a recorded pose, the distance is the task's own (`target_distance_m` of `task.evaluate`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from userl.core.registry import REWARDS
from userl.geometry import quat_to_mat
from userl.rewards.base import RewardConfig, RewardContext, RewardInput, RewardSource, RewardStep

POSE_LENGTHS = (0, 3, 7)  # none (the task's target), a position, or a position + wxyz


@dataclass
class PoseRewardConfig(RewardConfig):
    """Sparse success within `tolerance_m` (and `tolerance_deg`) of the target; optional dense
    term `-dense_scale_per_m * distance`, weighted by `dense_weight`."""

    target_tcp_pose: list[float] = field(default_factory=list)  # xyz (+ wxyz), base frame, m
    tolerance_m: float = 0.01  # success within this distance of the target pose
    tolerance_deg: float = 10.0  # with a 7-value target: the orientation must be this close
    sparse_weight: float = 1.0  # reward of a step within tolerance
    dense_weight: float = 0.0  # weight of the dense term (0: sparse only)
    dense_scale_per_m: float = 10.0  # dense term: -this * distance (m)

    def problem(self) -> str | None:
        if len(self.target_tcp_pose) not in POSE_LENGTHS:
            return (
                f"bad value for 'reward.target_tcp_pose': {len(self.target_tcp_pose)} "
                "numbers; give xyz or xyz+wxyz (userl record-pose field=target_tcp_pose), "
                "or [] for the task's own target"
            )
        return None


def rotation_angle_deg(quat_a: np.ndarray, quat_b: np.ndarray) -> float:
    """The angle (degrees) of the rotation between two wxyz orientations."""
    relative = quat_to_mat(quat_a).T @ quat_to_mat(quat_b)
    return math.degrees(math.acos(float(np.clip((np.trace(relative) - 1.0) / 2.0, -1.0, 1.0))))


@REWARDS.register("pose", config=PoseRewardConfig)
class PoseReward(RewardSource):
    """Success within tolerance of the target pose, plus the optional dense term."""

    def __init__(self, config: PoseRewardConfig, context: RewardContext) -> None:
        self.config = config
        self.target = np.asarray(config.target_tcp_pose, np.float64)
        self.needs_ground_truth = len(self.target) == 0

    def _errors(self, step: RewardInput) -> tuple[float, float]:
        """(distance m, orientation error deg) to the target."""
        if not len(self.target):
            return float(step.facts["target_distance_m"]), 0.0
        pose = step.state.tcp_pose
        distance = float(np.linalg.norm(pose[:3] - self.target[:3]))
        angle = rotation_angle_deg(pose[3:], self.target[3:]) if len(self.target) == 7 else 0.0
        return distance, angle

    def __call__(self, step: RewardInput) -> RewardStep:
        cfg = self.config
        distance, angle = self._errors(step)
        success = distance <= cfg.tolerance_m and angle <= cfg.tolerance_deg
        reward = (
            cfg.sparse_weight * float(success) - cfg.dense_weight * cfg.dense_scale_per_m * distance
        )
        return RewardStep(reward, success)
