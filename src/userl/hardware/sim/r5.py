"""The ARX R5 as data: joint origins, axes and link inertias from the vendor's URDF; the sim
builds its MJCF from them.

Sources (nothing is downloaded at run time; the numbers are copied here):

- Joint origins (xyz, rpy) and axes (`R5_JOINTS[i].origin_xyz_m`, `.origin_rpy_rad`,
  `.axis`): arx-r5-sdk 1.0.0 sdist (PyPI), `arx_r5_sdk/R5_master.urdf`,
  `<joint name="jointN">` `<origin>`, `<axis>`.
- Link masses, centres of mass, inertia tensors (`R5_JOINTS[i].mass_kg`, `.com_m`,
  `.inertia`): the same file, `<link name="linkN"><inertial>`.
- Joint limits (`R5_JOINTS[i].lower_rad`, `.upper_rad`): that URDF's `<limit>` is a +-10 rad
  placeholder; the SDK builds the X5lite (`X5liteaa0.urdf`) and the R5 from the same joints
  (the files differ only in link6's mass), so the X5's limits of arx5-sdk
  (`include/app/config.h`, `RobotConfigFactory`, "X5": `joint_pos_min` / `joint_pos_max`).
- Motor torque limits (`R5_TORQUE_LIMITS_NM`): arx5-sdk, same entry, `joint_torque_max`.
- Gripper width 0.088 m (`R5_GRIPPER_MAX_WIDTH_M`): arx5-sdk, same entry, `gripper_width`.
- TCP 0.145 m along link6's x axis (`R5_TCP_OFFSET_M`): ARX's arx5 description, R5 variant
  (`arx5_r5.urdf` as republished in wei-hsuan-cheng/robot_descriptions): `gripper_joint`
  origin x + `left_pad_joint` origin x (0.08657 + 0.05843 m).
- Finger mass 0.065 kg (`R5_GRIPPER.finger_mass_kg`): the same description,
  `<link name="link7"><inertial><mass>`.

Approximated (in neither file): link collision/visual shapes (capsules between joint origins
instead of the STL meshes; only the hand and fingers collide, as for the Panda), the hand's box
and mass, the finger pads (boxes), and every controller gain, damping and armature (the
config, `SimArxR5Config`). The URDF's base link is fixed, so its inertia is not used.
`R5_HOME_Q` is chosen here: the TCP tool-down at yaw 0, 0.25 m in front of the base and
0.05 m above it (the pick-and-place reset with the default mount).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from userl.geometry import mat_to_quat
from userl.hardware.sim.arm import GripperGeometry, SimArm, quat_of
from userl.hardware.sim.config import SimArmConfig
from userl.hardware.sim.mjcf import (
    ARM_RGBA,
    SCENE_CONTACT,
    TABLE_TOP_Z_M,
    VISUAL_ONLY,
    fmt,
    joint_xml,
    link_geom,
)


@dataclass(frozen=True)
class UrdfJoint:
    """One revolute joint of a URDF and its child link's inertial: the child frame sits at
    Trans(origin_xyz) RPY(origin_rpy) in the parent's and turns about `axis`."""

    origin_xyz_m: tuple[float, float, float]
    origin_rpy_rad: tuple[float, float, float]
    axis: tuple[float, float, float]
    lower_rad: float
    upper_rad: float
    mass_kg: float
    com_m: tuple[float, float, float]
    inertia: tuple[float, float, float, float, float, float]  # ixx ixy ixz iyy iyz izz


R5_JOINTS: tuple[UrdfJoint, ...] = (
    UrdfJoint(
        (0.0, 0.0, 0.0565),
        (0.0, 0.0, 0.0),
        (0.0, 0.0, 1.0),
        -3.14,
        2.618,
        0.09728,
        (0.005056, -0.0078534, 0.020887),
        (0.00011, -0.00001, 0.00001, 0.00005, -0.00001, 0.00010),
    ),
    UrdfJoint(
        (0.02, 0.0, 0.047),
        (0.0, 0.0, 0.0),
        (0.0, 1.0, 0.0),
        -0.05,
        3.14,
        1.1477,
        (-0.12983, -0.00073729, -1.2236e-05),
        (0.00061, 0.00008, -0.00001, 0.01676, 0.0, 0.01674),
    ),
    UrdfJoint(
        (-0.264, 0.0, 0.0),
        (3.1416, 0.0, 0.0),
        (0.0, 1.0, 0.0),
        -0.1,
        3.24,
        0.74116,
        (0.15404, 5.5044e-07, -0.054689),
        (0.00070, -0.00009, -0.00061, 0.00747, 0.00003, 0.00732),
    ),
    UrdfJoint(
        (0.245, 0.0, -0.06),
        (0.0, 0.0, 0.0),
        (0.0, 1.0, 0.0),
        -1.6,
        1.55,
        0.11714,
        (0.040231, 0.0039307, -0.035335),
        (0.00019, -0.00002, -0.00009, 0.00023, 0.00002, 0.00014),
    ),
    UrdfJoint(
        (0.06775, -5e-05, -0.0865),
        (0.0, 0.0, 0.0),
        (0.0, 0.0, 1.0),
        -1.57,
        1.57,
        0.6353,
        (0.0036004, -1.5445e-05, 0.055255),
        (0.00084, 0.0, 0.00007, 0.00082, 0.0, 0.00026),
    ),
    UrdfJoint(
        (0.02895, 0.0, 0.0865),
        (3.1416, 0.0, 0.0),
        (1.0, 0.0, 0.0),
        -2.0,
        2.0,
        0.281,
        (0.050676, -4.9137e-05, 5.123e-05),
        (0.00046, 0.0, 0.0, 0.00051, 0.0, 0.00078),
    ),
)
R5_DOF = len(R5_JOINTS)
R5_TORQUE_LIMITS_NM = np.array([30.0, 40.0, 30.0, 15.0, 10.0, 10.0])
R5_LINK_RADII_M = (0.04, 0.035, 0.03, 0.03, 0.03, 0.03)  # visual capsules
R5_TCP_OFFSET_M = 0.145  # fingertip pads along link6's x axis
R5_GRIPPER_MAX_WIDTH_M = 0.088
R5_HOME_Q = np.array([0.0, 1.5304, 0.9859, -1.0263, 0.0, 0.0])
# the hand's z axis (tool axis) along link6's x, its x axis along link6's z: tool-down at yaw 0
# (the common TCP convention) is the arm stretched forward with joint 6 at 0
TOOL_IN_LINK6 = np.array([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]])
R5_GRIPPER = GripperGeometry(
    mount_pos_m=(0.0, 0.0, 0.0),
    mount_quat=quat_of(TOOL_IN_LINK6),
    tcp_offset_m=R5_TCP_OFFSET_M,
    max_width_m=R5_GRIPPER_MAX_WIDTH_M,
    hand_mass_kg=0.15,
    hand_com_z_m=0.05,
    finger_mass_kg=0.065,
    hand_half_size_m=(0.03, 0.05, 0.035),
    hand_center_z_m=0.05,
)


def rpy_to_mat(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """URDF's fixed-axis roll-pitch-yaw: Rz(yaw) Ry(pitch) Rx(roll)."""
    cr, sr, cp, sp = math.cos(roll), math.sin(roll), math.cos(pitch), math.sin(pitch)
    cy, sy = math.cos(yaw), math.sin(yaw)
    return np.array(
        [
            [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
            [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
            [-sp, cp * sr, cp * cr],
        ]
    )


def axis_angle_mat(axis: tuple[float, float, float], angle: float) -> np.ndarray:
    x, y, z = axis
    c, s = math.cos(angle), math.sin(angle)
    k = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    return np.eye(3) + s * k + (1 - c) * k @ k


def forward_kinematics(q: np.ndarray) -> np.ndarray:
    """4x4 pose of the TCP in the arm's base frame for joint angles q (6,), from the table."""
    pose = np.eye(4)
    for joint, theta in zip(R5_JOINTS, q, strict=True):
        step = np.eye(4)
        step[:3, :3] = rpy_to_mat(*joint.origin_rpy_rad) @ axis_angle_mat(joint.axis, float(theta))
        step[:3, 3] = joint.origin_xyz_m
        pose = pose @ step
    tool = np.eye(4)
    tool[:3, :3] = TOOL_IN_LINK6
    tool[:3, 3] = TOOL_IN_LINK6 @ np.array([0.0, 0.0, R5_TCP_OFFSET_M])
    return pose @ tool


class R5Arm(SimArm):
    """The R5 as MuJoCo bodies: one per URDF joint, at its origin, turning about its axis,
    with the URDF's inertial; the gripper's hand on link6."""

    name = "arx_r5"
    home_q = R5_HOME_Q
    lower_rad = np.array([j.lower_rad for j in R5_JOINTS])
    upper_rad = np.array([j.upper_rad for j in R5_JOINTS])
    torque_limits_nm = R5_TORQUE_LIMITS_NM
    gripper = R5_GRIPPER

    def links_xml(self, cfg: SimArmConfig, hand_xml: str) -> str:
        children = [np.array(j.origin_xyz_m) for j in R5_JOINTS[1:]] + [np.zeros(3)]
        xml = hand_xml
        for index in reversed(range(R5_DOF)):
            joint = R5_JOINTS[index]
            ixx, ixy, ixz, iyy, iyz, izz = joint.inertia
            xml = (
                f'<body name="link{index + 1}" pos="{fmt(joint.origin_xyz_m)}" '
                f'quat="{fmt(mat_to_quat(rpy_to_mat(*joint.origin_rpy_rad)))}">'
                f"{joint_xml(cfg, index, joint.axis, joint.lower_rad, joint.upper_rad)}"
                f'<inertial pos="{fmt(joint.com_m)}" mass="{joint.mass_kg}" '
                f'fullinertia="{fmt((ixx, iyy, izz, ixy, ixz, iyz))}"/>'
                f"{link_geom(children[index], R5_LINK_RADII_M[index])}{xml}</body>"
            )
        riser_m = cfg.base_position_m[2] - TABLE_TOP_Z_M  # the mount stands on a riser
        base = (
            f'<geom type="cylinder" fromto="0 0 0 0 0 {R5_JOINTS[0].origin_xyz_m[2]}" '
            f'size="0.045" rgba="{ARM_RGBA}" {VISUAL_ONLY}/>'
        )
        if riser_m > 0.0:
            base += (
                f'<geom type="box" pos="0 0 {-riser_m / 2}" size="0.06 0.06 {riser_m / 2}" '
                f'rgba="0.3 0.3 0.3 1" {SCENE_CONTACT}/>'
            )
        return f'<body name="link0" pos="{fmt(cfg.base_position_m)}">{base}{xml}</body>'
