"""The Franka Panda as data: modified-DH table (Craig), joint limits, torque limits, link masses.

These are the arm's published physical facts, not tunables; the sim builds its MJCF from them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DHJoint:
    """One row of a modified-DH table: the transform from frame i-1 to frame i is
    RotX(alpha) TransX(a) RotZ(theta) TransZ(d)."""

    a_m: float
    d_m: float
    alpha_rad: float
    lower_rad: float
    upper_rad: float
    torque_limit_nm: float
    mass_kg: float


PANDA_JOINTS: tuple[DHJoint, ...] = (
    DHJoint(0.0, 0.333, 0.0, -2.8973, 2.8973, 87.0, 4.97),
    DHJoint(0.0, 0.0, -math.pi / 2, -1.7628, 1.7628, 87.0, 0.65),
    DHJoint(0.0, 0.316, math.pi / 2, -2.8973, 2.8973, 87.0, 3.23),
    DHJoint(0.0825, 0.0, math.pi / 2, -3.0718, -0.0698, 87.0, 3.59),
    DHJoint(-0.0825, 0.384, -math.pi / 2, -2.8973, 2.8973, 12.0, 1.23),
    DHJoint(0.0, 0.0, math.pi / 2, -0.0175, 3.7525, 12.0, 1.67),
    DHJoint(0.088, 0.0, math.pi / 2, -2.8973, 2.8973, 12.0, 0.74),
)
PANDA_FLANGE_D_M = 0.107  # flange frame: TransZ(0.107) after joint 7
PANDA_HAND_YAW_RAD = -math.pi / 4  # the hand is mounted rotated about the flange's z axis
PANDA_HAND_MASS_KG = 0.73
PANDA_TCP_OFFSET_M = 0.1034  # TCP (between the fingertips) along the hand's z axis
PANDA_FINGER_MASS_KG = 0.015
PANDA_GRIPPER_MAX_WIDTH_M = 0.08
PANDA_HOME_Q = np.array([0.0, -math.pi / 4, 0.0, -3 * math.pi / 4, 0.0, math.pi / 2, math.pi / 4])


def rot_x(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_z(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def dh_transform(joint: DHJoint, theta: float) -> np.ndarray:
    """4x4 transform from frame i-1 to frame i (modified DH)."""
    t = np.eye(4)
    t[:3, :3] = rot_x(joint.alpha_rad) @ rot_z(theta)
    t[:3, 3] = rot_x(joint.alpha_rad) @ np.array([joint.a_m, 0.0, 0.0]) + rot_x(
        joint.alpha_rad
    ) @ np.array([0.0, 0.0, joint.d_m])
    return t


def forward_kinematics(q: np.ndarray) -> np.ndarray:
    """4x4 pose of the TCP in the base frame for joint angles q (7,), from the DH table."""
    pose = np.eye(4)
    for joint, theta in zip(PANDA_JOINTS, q, strict=True):
        pose = pose @ dh_transform(joint, float(theta))
    tool = np.eye(4)
    tool[:3, :3] = rot_z(PANDA_HAND_YAW_RAD)
    tool[:3, 3] = [0.0, 0.0, PANDA_FLANGE_D_M + PANDA_TCP_OFFSET_M]
    return pose @ tool
