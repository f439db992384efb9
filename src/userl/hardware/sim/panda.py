"""The Franka Panda as data: modified-DH table (Craig), joint limits, torque limits, link masses.

These are the arm's published physical facts, not tunables; the sim builds its MJCF from them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from userl.geometry import mat_to_quat, rot_x_mat, yaw_rotation
from userl.hardware.sim.arm import GripperGeometry, SimArm, quat_of
from userl.hardware.sim.config import SimArmConfig
from userl.hardware.sim.mjcf import ARM_RGBA, VISUAL_ONLY, fmt, joint_xml, link_geom


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


LINK_RADII_M = (0.06, 0.06, 0.06, 0.055, 0.055, 0.05, 0.045)  # visual capsules


class PandaArm(SimArm):
    """The Panda as MuJoCo bodies: one per DH row, body i at RotX(alpha) TransX(a) TransZ(d)
    in body i-1, turning about its own z axis; link inertias are uniform rods of the DH
    length (an approximation), the hand mounted at the flange."""

    name = "panda"
    home_q = PANDA_HOME_Q
    lower_rad = np.array([j.lower_rad for j in PANDA_JOINTS])
    upper_rad = np.array([j.upper_rad for j in PANDA_JOINTS])
    torque_limits_nm = np.array([j.torque_limit_nm for j in PANDA_JOINTS])
    gripper = GripperGeometry(
        mount_pos_m=(0.0, 0.0, PANDA_FLANGE_D_M),
        mount_quat=quat_of(yaw_rotation(PANDA_HAND_YAW_RAD)),
        tcp_offset_m=PANDA_TCP_OFFSET_M,
        max_width_m=PANDA_GRIPPER_MAX_WIDTH_M,
        hand_mass_kg=PANDA_HAND_MASS_KG,
        hand_com_z_m=0.04,
        finger_mass_kg=PANDA_FINGER_MASS_KG,
        hand_half_size_m=(0.025, 0.1, 0.028),
        hand_center_z_m=0.03,
    )

    def links_xml(self, cfg: SimArmConfig, hand_xml: str) -> str:
        positions, quats = [], []
        for joint in PANDA_JOINTS:
            rot = rot_x_mat(joint.alpha_rad)
            positions.append(
                np.array([joint.a_m, 0.0, 0.0]) + rot @ np.array([0.0, 0.0, joint.d_m])
            )
            quats.append(mat_to_quat(rot))
        child_positions = positions[1:] + [np.array([0.0, 0.0, PANDA_FLANGE_D_M])]
        xml = hand_xml
        for index in reversed(range(len(PANDA_JOINTS))):
            joint = PANDA_JOINTS[index]
            child = child_positions[index]
            length = float(np.linalg.norm(child))
            radius = LINK_RADII_M[index]
            inertia = joint.mass_kg * (length**2 / 12 + radius**2 / 2) + 1e-4
            xml = (
                f'<body name="link{index + 1}" pos="{fmt(positions[index])}" '
                f'quat="{fmt(quats[index])}">'
                f"{joint_xml(cfg, index, (0.0, 0.0, 1.0), joint.lower_rad, joint.upper_rad)}"
                f'<inertial pos="{fmt(child / 2)}" mass="{joint.mass_kg}" '
                f'diaginertia="{inertia:.6g} {inertia:.6g} {inertia:.6g}"/>'
                f"{link_geom(child, radius)}{xml}</body>"
            )
        base = (
            f'<geom type="cylinder" fromto="0 0 0 0 0 {PANDA_JOINTS[0].d_m - 0.05}" '
            f'size="0.07" rgba="{ARM_RGBA}" {VISUAL_ONLY}/>'
        )
        return f'<body name="link0" pos="{fmt(cfg.base_position_m)}">{base}{xml}</body>'
