"""Proprioception expressed in the TCP's reset frame (as SERL's relative-frame wrapper)."""

from __future__ import annotations

import dataclasses

import numpy as np

from userl.core.specs import RobotState
from userl.geometry import quat_to_mat, relative_pose

PROPRIOCEPTION_DIM = 20  # tcp pose 7, tcp velocity 6, gripper 1, wrench 6


def state_in_frame(state: RobotState, frame: np.ndarray) -> RobotState:
    """The reading with TCP pose and velocity in `frame` (wrench stays in the TCP frame)."""
    rot = quat_to_mat(frame[3:])
    velocity = np.concatenate([rot.T @ state.tcp_velocity[:3], rot.T @ state.tcp_velocity[3:]])
    return dataclasses.replace(state, tcp_pose=relative_pose(frame, state.tcp_pose),
                               tcp_velocity=velocity)
