"""Proprioception expressed in the TCP's reset frame (as SERL's relative-frame wrapper)."""

from __future__ import annotations

import dataclasses

import numpy as np

from userl.core.specs import RobotState
from userl.geometry import quat_to_mat, relative_pose
from userl.tasks.base import TaskConfig

PROPRIOCEPTION_DIM = 20  # tcp pose 7, tcp velocity 6, gripper 1, wrench 6


def state_in_frame(state: RobotState, frame: np.ndarray) -> RobotState:
    """The reading with TCP pose and velocity in `frame` (wrench stays in the TCP frame)."""
    rot = quat_to_mat(frame[3:])
    velocity = np.concatenate([rot.T @ state.tcp_velocity[:3], rot.T @ state.tcp_velocity[3:]])
    return dataclasses.replace(
        state, tcp_pose=relative_pose(frame, state.tcp_pose), tcp_velocity=velocity
    )


def proprioception_scale(task_config: TaskConfig) -> np.ndarray:
    """Per-component units of the proprioception vector (pose, velocity, gripper, wrench)."""
    position = [task_config.obs_position_scale_m] * 3
    linear = [task_config.obs_linear_velocity_scale_m_per_s] * 3
    angular = [task_config.obs_angular_velocity_scale_rad_per_s] * 3
    force = [task_config.obs_force_scale_n] * 3
    torque = [task_config.obs_torque_scale_nm] * 3
    scale = [*position, 1.0, 1.0, 1.0, 1.0, *linear, *angular, 1.0, *force, *torque]
    return np.asarray(scale, dtype=np.float32)
