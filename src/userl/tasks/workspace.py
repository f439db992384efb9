"""The safety workspace of a task: a position box and orientation limits (pure numpy)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from userl.core.specs import WorkspaceBox
from userl.geometry import euler_zyx_to_mat, make_pose, mat_to_euler_zyx, quat_to_mat


@dataclass(frozen=True)
class Workspace:
    """TCP targets stay inside `box`; their orientation, relative to `reference_quat`
    (roll, pitch, yaw about the reference's own axes), stays within the limits."""

    box: WorkspaceBox
    reference_quat: np.ndarray  # (4,) w x y z
    max_tilt_rad: float  # roll and pitch
    max_yaw_rad: float

    def clip(self, pose: np.ndarray) -> np.ndarray:
        """The nearest pose inside the workspace (per axis)."""
        reference = quat_to_mat(self.reference_quat)
        relative = mat_to_euler_zyx(reference.T @ quat_to_mat(pose[3:]))
        limits = np.array([self.max_tilt_rad, self.max_tilt_rad, self.max_yaw_rad])
        clipped = np.clip(relative, -limits, limits)
        return make_pose(self.box.clip(pose[:3]), reference @ euler_zyx_to_mat(*clipped))

    def contains(self, pose: np.ndarray, tolerance: float = 1e-6) -> bool:
        reference = quat_to_mat(self.reference_quat)
        relative = mat_to_euler_zyx(reference.T @ quat_to_mat(pose[3:]))
        limits = np.array([self.max_tilt_rad, self.max_tilt_rad, self.max_yaw_rad])
        return self.box.contains(pose[:3], tolerance) and bool(
            np.all(np.abs(relative) <= limits + tolerance)
        )
