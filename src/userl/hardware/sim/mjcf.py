"""Builds the MJCF of the simulated world: a Panda arm generated from its DH table, a
parallel gripper, a table, cameras and a task's scene fragment."""

from __future__ import annotations

import numpy as np

from userl.geometry import mat_to_quat, rot_x_mat, yaw_rotation
from userl.hardware.base import SceneFragment
from userl.hardware.sim.config import SimFrankaConfig
from userl.hardware.sim.panda import (
    PANDA_FINGER_MASS_KG,
    PANDA_FLANGE_D_M,
    PANDA_GRIPPER_MAX_WIDTH_M,
    PANDA_HAND_MASS_KG,
    PANDA_HAND_YAW_RAD,
    PANDA_JOINTS,
    PANDA_TCP_OFFSET_M,
)

ROBOT_CONTACT = 'contype="1" conaffinity="2"'  # touches the scene, not itself
SCENE_CONTACT = 'contype="2" conaffinity="1"'  # touches the robot, not the static scene
OBJECT_CONTACT = 'contype="2" conaffinity="3"'  # a movable object: touches everything
VISUAL_ONLY = 'contype="0" conaffinity="0"'
LINK_RADII_M = (0.06, 0.06, 0.06, 0.055, 0.055, 0.05, 0.045)
ARM_RGBA = "0.92 0.92 0.92 1"
TABLE_TOP_Z_M = 0.0  # the robot's base stands on the table top


def fmt(values: np.ndarray | list[float] | tuple[float, ...]) -> str:
    return " ".join(f"{float(v):.10g}" for v in values)


def look_at_xyaxes(position: np.ndarray, target: np.ndarray, up: np.ndarray) -> str:
    """MJCF `xyaxes` for a camera at `position` looking at `target` (cameras look along -z)."""
    forward = np.asarray(target, float) - np.asarray(position, float)
    forward /= np.linalg.norm(forward)
    x_axis = np.cross(forward, up)
    if np.linalg.norm(x_axis) < 1e-6:
        x_axis = np.cross(forward, [1.0, 0.0, 0.0])
    x_axis /= np.linalg.norm(x_axis)
    y_axis = np.cross(x_axis, forward)
    return fmt(np.concatenate([x_axis, y_axis]))


def _link_geom(child_pos: np.ndarray, radius_m: float) -> str:
    if np.linalg.norm(child_pos) < 1e-6:
        return f'<geom type="sphere" size="{radius_m}" rgba="{ARM_RGBA}" {VISUAL_ONLY}/>'
    return (f'<geom type="capsule" fromto="0 0 0 {fmt(child_pos)}" size="{radius_m}" '
            f'rgba="{ARM_RGBA}" {VISUAL_ONLY}/>')


def _gripper_xml(cfg: SimFrankaConfig, scene: SceneFragment) -> str:
    finger_travel_m = PANDA_GRIPPER_MAX_WIDTH_M / 2
    pad_center_z_m = PANDA_TCP_OFFSET_M - 0.02
    fingers = []
    for side, sign in (("left", 1.0), ("right", -1.0)):
        fingers.append(
            f'<body name="{side}_finger"><joint name="{side}_finger" type="slide" '
            f'axis="0 {sign:g} 0" range="0 {finger_travel_m}" '
            f'damping="{cfg.gripper_damping_n_s_per_m}"/>'
            f'<inertial pos="0 {sign * 0.01:g} {pad_center_z_m}" mass="{PANDA_FINGER_MASS_KG}" '
            f'diaginertia="1e-5 1e-5 1e-5"/>'
            f'<geom type="box" pos="0 {sign * 0.006:g} {pad_center_z_m}" size="0.01 0.006 0.025" '
            f'rgba="0.2 0.2 0.2 1" friction="1.5 0.01 0.001" {ROBOT_CONTACT}/></body>'
        )
    wrist_pos = np.asarray(cfg.wrist_camera_pos_m, float)
    wrist_axes = look_at_xyaxes(wrist_pos, np.asarray(cfg.wrist_camera_lookat_m), np.array(
        [-1.0, 0.0, 0.0]))
    return (
        f'<body name="hand" pos="0 0 {PANDA_FLANGE_D_M}" '
        f'quat="{fmt(mat_to_quat(yaw_rotation(PANDA_HAND_YAW_RAD)))}">'
        f'<inertial pos="0 0 0.04" mass="{PANDA_HAND_MASS_KG}" diaginertia="3e-3 3e-3 2e-3"/>'
        f'<geom type="box" pos="0 0 0.03" size="0.025 0.1 0.028" rgba="{ARM_RGBA}" {ROBOT_CONTACT}/>'
        f'<body name="tcp" pos="0 0 {PANDA_TCP_OFFSET_M}"><site name="tcp" size="0.005"/>'
        f'<camera name="wrist" pos="{fmt(wrist_pos)}" xyaxes="{wrist_axes}" '
        f'fovy="{cfg.camera_fovy_deg}"/>{scene.tcp_xml}</body>'
        + "".join(fingers) + "</body>"
    )


def _arm_xml(cfg: SimFrankaConfig, scene: SceneFragment) -> str:
    """Nested bodies, one per DH row: body i sits at RotX(alpha) TransX(a) TransZ(d) in body
    i-1 and turns about its own z axis."""
    positions, quats = [], []
    for joint in PANDA_JOINTS:
        rot = rot_x_mat(joint.alpha_rad)
        positions.append(np.array([joint.a_m, 0.0, 0.0]) + rot @ np.array([0.0, 0.0, joint.d_m]))
        quats.append(mat_to_quat(rot))
    child_positions = positions[1:] + [np.array([0.0, 0.0, PANDA_FLANGE_D_M])]
    xml = _gripper_xml(cfg, scene)
    for index in reversed(range(len(PANDA_JOINTS))):
        joint = PANDA_JOINTS[index]
        child = child_positions[index]
        length = float(np.linalg.norm(child))
        radius = LINK_RADII_M[index]
        inertia = joint.mass_kg * (length**2 / 12 + radius**2 / 2) + 1e-4
        xml = (
            f'<body name="link{index + 1}" pos="{fmt(positions[index])}" '
            f'quat="{fmt(quats[index])}">'
            f'<joint name="joint{index + 1}" axis="0 0 1" range="{joint.lower_rad} '
            f'{joint.upper_rad}" armature="{cfg.joint_armature_kg_m2}" '
            f'damping="{cfg.joint_damping_nms_per_rad}"/>'
            f'<inertial pos="{fmt(child / 2)}" mass="{joint.mass_kg}" '
            f'diaginertia="{inertia:.6g} {inertia:.6g} {inertia:.6g}"/>'
            f"{_link_geom(child, radius)}{xml}</body>"
        )
    base = (f'<geom type="cylinder" fromto="0 0 0 0 0 {PANDA_JOINTS[0].d_m - 0.05}" size="0.07" '
            f'rgba="{ARM_RGBA}" {VISUAL_ONLY}/>')
    return f'<body name="link0">{base}{xml}</body>'


def _actuators_xml(cfg: SimFrankaConfig) -> str:
    motors = "".join(
        f'<motor name="joint{i + 1}" joint="joint{i + 1}" ctrlrange="{-j.torque_limit_nm} '
        f'{j.torque_limit_nm}"/>'
        for i, j in enumerate(PANDA_JOINTS)
    )
    fingers = "".join(
        f'<position name="{side}_finger" joint="{side}_finger" kp="{cfg.gripper_stiffness_n_per_m}"'
        f' ctrlrange="0 {PANDA_GRIPPER_MAX_WIDTH_M / 2}" '
        f'forcerange="{-cfg.gripper_force_n} {cfg.gripper_force_n}"/>'
        for side in ("left", "right")
    )
    return motors + fingers


def build_world_xml(cfg: SimFrankaConfig, scene: SceneFragment) -> str:
    """The whole MJCF text of the world."""
    size = max(cfg.image_height_px, cfg.image_width_px, cfg.render_height_px,
               cfg.render_width_px, 64)
    front_pos = np.asarray(cfg.front_camera_pos_m, float)
    front_axes = look_at_xyaxes(front_pos, np.asarray(cfg.front_camera_lookat_m),
                                np.array([0.0, 0.0, 1.0]))
    return f"""
<mujoco model="userl_sim_franka">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="{cfg.physics_dt_s}" integrator="implicitfast" cone="elliptic"
          impratio="10"><flag multiccd="enable"/></option>
  <visual>
    <quality shadowsize="0" offsamples="0"/>
    <global offwidth="{size}" offheight="{size}"/>
    <headlight ambient="0.4 0.4 0.4" diffuse="0.5 0.5 0.5" specular="0 0 0"/>
  </visual>
  <asset>{scene.asset_xml}</asset>
  <worldbody>
    <light directional="true" castshadow="false" pos="0 0 2" dir="0.2 0.1 -1"
           diffuse="0.5 0.5 0.5" specular="0 0 0"/>
    <geom name="table" type="box" pos="0.4 0 {TABLE_TOP_Z_M - 0.02}" size="0.8 0.8 0.02"
          rgba="0.55 0.45 0.35 1" {SCENE_CONTACT}/>
    <camera name="front" pos="{fmt(front_pos)}" xyaxes="{front_axes}"
            fovy="{cfg.camera_fovy_deg}"/>
    {_arm_xml(cfg, scene)}
    {scene.worldbody_xml}
  </worldbody>
  <actuator>{_actuators_xml(cfg)}</actuator>
</mujoco>
"""
