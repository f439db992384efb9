"""Helpers for scripted experts: turn a desired TCP motion into the normalised 7-D action,
the way a SpaceMouse operator's hand would (pure numpy)."""

from __future__ import annotations

import math

import numpy as np

from userl.geometry import mat_to_rotvec, quat_to_mat, yaw_rotation

TOOL_DOWN = np.diag([1.0, -1.0, -1.0])  # TCP orientation with the tool axis pointing down
GRIPPER_OPEN = -1.0
GRIPPER_CLOSE = 1.0


def tcp_yaw(tcp_pose: np.ndarray) -> float:
    """The yaw (rad) of a tool-down TCP: the angle of its x axis about world z."""
    rot = quat_to_mat(tcp_pose[3:])
    return math.atan2(rot[1, 0], rot[0, 0])


def wrap_angle(angle_rad: float, period_rad: float = 2 * math.pi) -> float:
    """`angle_rad` wrapped into [-period/2, period/2)."""
    return (angle_rad + period_rad / 2) % period_rad - period_rad / 2


def tool_down(yaw_rad: float) -> np.ndarray:
    """The rotation matrix of a tool-down TCP at `yaw_rad`."""
    return yaw_rotation(yaw_rad) @ TOOL_DOWN


def move_action(
    tcp_pose: np.ndarray,
    frame: np.ndarray,
    target_xyz: np.ndarray,
    target_yaw_rad: float,
    gripper: float,
    gain: float,
    scale_m: float,
    scale_rad: float,
) -> np.ndarray:
    """The action that moves the TCP toward `target_xyz` with the tool down at
    `target_yaw_rad`, correcting `gain` of the error per step; values clipped to [-1, 1]."""
    frame_rot = quat_to_mat(frame[3:])
    position_error = np.asarray(target_xyz, dtype=np.float64) - tcp_pose[:3]
    rotation_error = mat_to_rotvec(tool_down(target_yaw_rad) @ quat_to_mat(tcp_pose[3:]).T)
    action = np.zeros(7)
    action[:3] = frame_rot.T @ position_error * gain / scale_m
    action[3:6] = frame_rot.T @ rotation_error * gain / scale_rad
    action[6] = gripper
    return np.clip(action, -1.0, 1.0).astype(np.float32)
