"""Builds the MJCF of the simulated world: an arm (`SimArm`: the Panda, the ARX R5) with a
parallel gripper, a table, cameras and a task's scene fragment."""

from __future__ import annotations

import numpy as np

from userl.hardware.base import SceneFragment
from userl.hardware.sim.arm import GripperGeometry, SimArm
from userl.hardware.sim.config import SimArmConfig

ROBOT_CONTACT = 'contype="1" conaffinity="2"'  # touches the scene, not itself
SCENE_CONTACT = 'contype="2" conaffinity="1"'  # touches the robot, not the static scene
OBJECT_CONTACT = 'contype="2" conaffinity="3"'  # a movable object: touches everything
VISUAL_ONLY = 'contype="0" conaffinity="0"'
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


def hand_xml(cfg: SimArmConfig, scene: SceneFragment, gripper: GripperGeometry) -> str:
    """The hand body: a collision box, the TCP (with the wrist camera and the task's TCP
    fragment) and two fingers sliding along the hand's y axis."""
    finger_travel_m = gripper.max_width_m / 2
    pad_center_z_m = gripper.tcp_offset_m - 0.02
    fingers = []
    for side, sign in (("left", 1.0), ("right", -1.0)):
        fingers.append(
            f'<body name="{side}_finger"><joint name="{side}_finger" type="slide" '
            f'axis="0 {sign:g} 0" range="0 {finger_travel_m}" '
            f'damping="{cfg.gripper_damping_n_s_per_m}"/>'
            f'<inertial pos="0 {sign * 0.01:g} {pad_center_z_m}" mass="{gripper.finger_mass_kg}" '
            f'diaginertia="1e-5 1e-5 1e-5"/>'
            f'<geom type="box" pos="0 {sign * 0.006:g} {pad_center_z_m}" size="0.01 0.006 0.025" '
            f'rgba="0.2 0.2 0.2 1" friction="1.5 0.01 0.001" {ROBOT_CONTACT}/></body>'
        )
    wrist_pos = np.asarray(cfg.wrist_camera_pos_m, float)
    wrist_axes = look_at_xyaxes(
        wrist_pos, np.asarray(cfg.wrist_camera_lookat_m), np.array([-1.0, 0.0, 0.0])
    )
    return (
        f'<body name="hand" pos="{fmt(gripper.mount_pos_m)}" quat="{fmt(gripper.mount_quat)}">'
        f'<inertial pos="0 0 {gripper.hand_com_z_m}" mass="{gripper.hand_mass_kg}" '
        f'diaginertia="3e-3 3e-3 2e-3"/>'
        f'<geom type="box" pos="0 0 {gripper.hand_center_z_m}" '
        f'size="{fmt(gripper.hand_half_size_m)}" rgba="{ARM_RGBA}" {ROBOT_CONTACT}/>'
        f'<body name="tcp" pos="0 0 {gripper.tcp_offset_m}"><site name="tcp" size="0.005"/>'
        f'<camera name="wrist" pos="{fmt(wrist_pos)}" xyaxes="{wrist_axes}" '
        f'fovy="{cfg.camera_fovy_deg}"/>{scene.tcp_xml}</body>' + "".join(fingers) + "</body>"
    )


def link_geom(child_pos: np.ndarray, radius_m: float) -> str:
    """A visual capsule from a link's origin to its child's (a sphere when they coincide)."""
    if np.linalg.norm(child_pos) < 1e-6:
        return f'<geom type="sphere" size="{radius_m}" rgba="{ARM_RGBA}" {VISUAL_ONLY}/>'
    return (
        f'<geom type="capsule" fromto="0 0 0 {fmt(child_pos)}" size="{radius_m}" '
        f'rgba="{ARM_RGBA}" {VISUAL_ONLY}/>'
    )


def joint_xml(
    cfg: SimArmConfig,
    index: int,
    axis: tuple[float, float, float],
    lower_rad: float,
    upper_rad: float,
) -> str:
    return (
        f'<joint name="joint{index + 1}" axis="{fmt(axis)}" range="{lower_rad} {upper_rad}" '
        f'armature="{cfg.joint_armature_kg_m2}" damping="{cfg.joint_damping_nms_per_rad}"/>'
    )


def _actuators_xml(cfg: SimArmConfig, arm: SimArm) -> str:
    motors = "".join(
        f'<motor name="joint{i + 1}" joint="joint{i + 1}" ctrlrange="{-limit} {limit}"/>'
        for i, limit in enumerate(arm.torque_limits_nm)
    )
    fingers = "".join(
        f'<position name="{side}_finger" joint="{side}_finger" kp="{cfg.gripper_stiffness_n_per_m}"'
        f' ctrlrange="0 {arm.gripper.max_width_m / 2}" '
        f'forcerange="{-cfg.gripper_force_n} {cfg.gripper_force_n}"/>'
        for side in ("left", "right")
    )
    return motors + fingers


def build_world_xml(cfg: SimArmConfig, scene: SceneFragment, arm: SimArm) -> str:
    """The whole MJCF text of the world."""
    size = max(
        cfg.image_height_px, cfg.image_width_px, cfg.render_height_px, cfg.render_width_px, 64
    )
    front_pos = np.asarray(cfg.front_camera_pos_m, float)
    front_axes = look_at_xyaxes(
        front_pos, np.asarray(cfg.front_camera_lookat_m), np.array([0.0, 0.0, 1.0])
    )
    return f"""
<mujoco model="userl_sim_{arm.name}">
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
    {arm.links_xml(cfg, hand_xml(cfg, scene, arm.gripper))}
    {scene.worldbody_xml}
  </worldbody>
  <actuator>{_actuators_xml(cfg, arm)}</actuator>
</mujoco>
"""
