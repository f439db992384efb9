"""The ARX R5's adapter from the common TCP target to a pose the 6-DoF arm follows, shared
by the real driver (`robots/arx_r5.py`) and the simulated R5 (`sim/arx_r5.py`).

A 6-DoF arm has no redundant joint, so its dexterous workspace is a thin shell of reach with
a limited cone of orientations. `R5Projection` maps each target onto the nearest pose inside
that set: the position is pulled into the shell `min_reach_m .. max_reach_m` around the arm's
base origin (`origin_m`, in the frame of the poses), and the orientation, expressed as
roll/pitch/yaw about a reference orientation (the last reset's), is clipped to
`max_tilt_deg` (roll, pitch) and `max_yaw_deg` (yaw). `distance` says how far it moved one.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from userl.geometry import euler_zyx_to_mat, make_pose, mat_to_euler_zyx, mat_to_rotvec, quat_to_mat


class R5Limits(Protocol):
    """The config fields the projection reads (the real and the simulated R5 both have them)."""

    min_reach_m: float
    max_reach_m: float
    max_tilt_deg: float
    max_yaw_deg: float


class R5Projection:
    """The nearest pose to a target that the 6-DoF R5 can follow (see the module docstring)."""

    def __init__(self, config: R5Limits, origin_m: np.ndarray | None = None) -> None:
        self.config = config
        self.origin_m = np.zeros(3) if origin_m is None else np.asarray(origin_m, np.float64)
        self.reference = np.eye(3)  # orientation about which tilt and yaw are limited

    def set_reference(self, quat: np.ndarray) -> None:
        self.reference = quat_to_mat(quat)

    def __call__(self, pose: np.ndarray) -> np.ndarray:
        config = self.config
        offset = np.asarray(pose[:3], dtype=np.float64) - self.origin_m
        reach = float(np.linalg.norm(offset))
        clipped_reach = float(np.clip(reach, config.min_reach_m, config.max_reach_m))
        if reach > 0.0 and clipped_reach != reach:
            offset = offset * (clipped_reach / reach)
        relative = mat_to_euler_zyx(self.reference.T @ quat_to_mat(pose[3:]))
        tilt, yaw = math.radians(config.max_tilt_deg), math.radians(config.max_yaw_deg)
        limits = np.array([tilt, tilt, yaw])
        return make_pose(
            self.origin_m + offset,
            self.reference @ euler_zyx_to_mat(*np.clip(relative, -limits, limits)),
        )

    @staticmethod
    def distance(projected: np.ndarray, target: np.ndarray) -> tuple[float, float]:
        """How far (m, rad) a target was moved by the projection."""
        return (
            float(np.linalg.norm(projected[:3] - target[:3])),
            float(
                np.linalg.norm(
                    mat_to_rotvec(quat_to_mat(projected[3:]) @ quat_to_mat(target[3:]).T)
                )
            ),
        )
