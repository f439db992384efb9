"""From a normalised action to a safe TCP target (pure numpy, no robot)."""

from __future__ import annotations

import numpy as np

from userl.core.specs import ACTION_DIM
from userl.geometry import make_pose, quat_to_mat, rotvec_to_mat
from userl.tasks.workspace import Workspace


def sanitise_action(action: np.ndarray) -> tuple[np.ndarray | None, bool]:
    """`(action clipped to [-1, 1], refused)`; a non-finite action is refused (None, True)."""
    values = np.asarray(action, dtype=np.float64).reshape(-1)
    if values.shape != (ACTION_DIM,):
        raise ValueError(f"an action has {ACTION_DIM} values, got shape {np.shape(action)}")
    if not np.all(np.isfinite(values)):
        return None, True
    return np.clip(values, -1.0, 1.0), False


def delta_target(
    current_pose: np.ndarray,
    action: np.ndarray,
    frame: np.ndarray,
    scale_m: float,
    scale_rad: float,
) -> np.ndarray:
    """The current pose moved by the scaled action (a translation and a rotation vector, both
    expressed in `frame`); not yet clipped to any workspace."""
    frame_rot = quat_to_mat(frame[3:])
    position = current_pose[:3] + frame_rot @ (action[:3] * scale_m)
    rotation = rotvec_to_mat(frame_rot @ (action[3:6] * scale_rad)) @ quat_to_mat(current_pose[3:])
    return make_pose(position, rotation)


def safe_target(
    current_pose: np.ndarray,
    action: np.ndarray,
    frame: np.ndarray,
    scale_m: float,
    scale_rad: float,
    workspace: Workspace,
) -> np.ndarray:
    """The next TCP target: `delta_target` clipped to the workspace."""
    return workspace.clip(delta_target(current_pose, action, frame, scale_m, scale_rad))
