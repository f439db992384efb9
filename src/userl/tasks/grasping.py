"""Shared parts of the tasks that pick free objects: workspace, reset pose, grasp facts and a
reactive scripted pick-and-place expert (it decides from what it sees, so it can take over
from a policy mid-episode)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from userl.core.specs import WorkspaceBox
from userl.geometry import make_pose, quat_to_mat
from userl.hardware.sim.mjcf import TABLE_TOP_Z_M
from userl.tasks.base import TaskConfig
from userl.tasks.motion import (
    GRIPPER_CLOSE,
    GRIPPER_OPEN,
    move_action,
    tcp_yaw,
    tool_down,
    wrap_angle,
)
from userl.tasks.objects import ObjectShape
from userl.tasks.workspace import Workspace


@dataclass
class GraspTaskConfig(TaskConfig):
    """Fields of tasks whose scripted expert picks free objects with the two-finger gripper."""

    tcp_reset_height_m: float = 0.2  # TCP reset height above the table
    tcp_reset_xy_range_m: float = 0.03  # TCP reset randomised within +- this around nominal
    tcp_reset_yaw_range_deg: float = 15.0  # TCP reset yaw randomised within +- this
    workspace_z_min_m: float = 0.005  # safety box: TCP height above the table
    workspace_z_max_m: float = 0.3  # safety box: the TCP's highest height above the table
    workspace_yaw_range_deg: float = 95.0  # about the tool-down orientation at yaw 0
    rest_speed_m_per_s: float = 0.05  # an object counts as at rest below this speed
    release_width_margin_m: float = 0.012  # released: gripper wider than the object by this
    obs_angle_scale_rad: float = 1.0  # angles in the task state are given in this unit
    expert_gain: float = 0.8  # share of the remaining error the expert corrects per step
    expert_hover_above_object_m: float = 0.03  # fingertips this far above an object's top
    expert_align_tolerance_m: float = 0.004  # xy error below which the expert descends
    expert_descend_tolerance_m: float = 0.012  # xy error tolerated once low
    expert_yaw_tolerance_deg: float = 5.0  # yaw error below which the expert descends
    expert_grasp_height_tolerance_m: float = 0.006  # closes when this near the grasp height
    expert_hold_tolerance_m: float = 0.025  # an object this near the TCP is between the fingers
    expert_hold_width_margin_m: float = 0.006  # closed on it: width below its width + this
    expert_release_above_floor_m: float = 0.015  # opens with the object this far above a floor


FINGERTIP_BELOW_TCP_M = 0.005  # the finger pads end this far below the TCP
TRAVEL_DISTANCE_M = 0.05  # farther than this from its goal in xy, the expert travels high
LIFTED_MARGIN_M = 0.03  # within this of the carry height counts as lifted
LOW_MARGIN_M = 0.02  # this far below the hover height counts as low (descending)


def object_yaw(pose: np.ndarray) -> float:
    """The yaw (rad) of an upright object's x axis."""
    rot = quat_to_mat(pose[3:])
    return math.atan2(rot[1, 0], rot[0, 0])


def grasp_yaw(pose: np.ndarray, shape: ObjectShape, current_yaw_rad: float) -> float:
    """The TCP yaw that closes the fingers across the object, nearest the tool-down yaw 0
    (a round object: the current yaw)."""
    if shape.yaw_symmetry_rad <= 0.0:
        return current_yaw_rad
    return wrap_angle(object_yaw(pose), shape.yaw_symmetry_rad)


def grasp_yaw_error(tcp_pose: np.ndarray, pose: np.ndarray, shape: ObjectShape) -> float:
    """How far (rad) the TCP must turn to grasp the object."""
    current = tcp_yaw(tcp_pose)
    return wrap_angle(grasp_yaw(pose, shape, current) - current)


def is_held(
    tcp_pose: np.ndarray,
    gripper_width_m: float,
    pose: np.ndarray,
    shape: ObjectShape,
    cfg: GraspTaskConfig,
) -> bool:
    """The object's grasp point is between the fingers and they are closed on it."""
    offset = quat_to_mat(tcp_pose[3:]).T @ (pose[:3] - tcp_pose[:3])
    return bool(
        np.all(np.abs(offset) < cfg.expert_hold_tolerance_m)
        and gripper_width_m < shape.grasp_width_m + cfg.expert_hold_width_margin_m
    )


def distance_to_go(
    tcp_pose: np.ndarray,
    gripper_width_m: float,
    pose: np.ndarray,
    shape: ObjectShape,
    release_xyz_m: np.ndarray,
    cfg: GraspTaskConfig,
) -> float:
    """What remains of picking the object and carrying it to its release point (m): the
    reach from the TCP to the object's grasp point, unless held, plus the carry."""
    carry = float(np.linalg.norm(release_xyz_m - pose[:3]))
    if is_held(tcp_pose, gripper_width_m, pose, shape, cfg):
        return carry
    return float(np.linalg.norm(pose[:3] - tcp_pose[:3])) + carry


def is_released(gripper_width_m: float, shape: ObjectShape, cfg: GraspTaskConfig) -> bool:
    return gripper_width_m > shape.grasp_width_m + cfg.release_width_margin_m


def grasp_workspace(cfg: GraspTaskConfig, low_xy_m: np.ndarray, high_xy_m: np.ndarray) -> Workspace:
    """A safety box over an xy area of the table, tool down, yaw within limits."""
    box = WorkspaceBox(
        low_m=(float(low_xy_m[0]), float(low_xy_m[1]), TABLE_TOP_Z_M + cfg.workspace_z_min_m),
        high_m=(float(high_xy_m[0]), float(high_xy_m[1]), TABLE_TOP_Z_M + cfg.workspace_z_max_m),
    )
    return Workspace(
        box=box,
        reference_quat=make_pose(np.zeros(3), tool_down(0.0))[3:],
        max_tilt_rad=math.radians(cfg.workspace_tilt_range_deg),
        max_yaw_rad=math.radians(cfg.workspace_yaw_range_deg),
    )


def reset_tcp_pose(
    cfg: GraspTaskConfig, nominal_xy_m: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    xy = np.asarray(nominal_xy_m, float) + rng.uniform(
        -cfg.tcp_reset_xy_range_m, cfg.tcp_reset_xy_range_m, 2
    )
    yaw = math.radians(rng.uniform(-cfg.tcp_reset_yaw_range_deg, cfg.tcp_reset_yaw_range_deg))
    return make_pose([*xy, TABLE_TOP_Z_M + cfg.tcp_reset_height_m], tool_down(yaw))


@dataclass
class PickPlaceGoal:
    """Where the expert should put an object: its grasp point's release position, the TCP
    yaw to release at (None: any), the carry height, and whether it is already there."""

    release_xyz_m: np.ndarray
    release_yaw_rad: float | None
    carry_height_m: float
    placed: bool


def pick_place_action(
    tcp_pose: np.ndarray,
    gripper_width_m: float,
    frame: np.ndarray,
    pose: np.ndarray,
    shape: ObjectShape,
    goal: PickPlaceGoal,
    cfg: GraspTaskConfig,
) -> np.ndarray:
    """One step of the pick-and-place expert for one object."""
    tcp = tcp_pose[:3]
    yaw = tcp_yaw(tcp_pose)

    def act(target: np.ndarray, target_yaw: float, gripper: float) -> np.ndarray:
        return move_action(
            tcp_pose,
            frame,
            target,
            target_yaw,
            gripper,
            cfg.expert_gain,
            cfg.action_scale_m,
            cfg.action_scale_rad,
        )

    if is_held(tcp_pose, gripper_width_m, pose, shape, cfg):
        to_goal = goal.release_xyz_m - pose[:3]
        release_yaw = yaw if goal.release_yaw_rad is None else goal.release_yaw_rad
        if np.linalg.norm(to_goal[:2]) > cfg.expert_descend_tolerance_m:
            lifted = tcp[2] > goal.carry_height_m - LIFTED_MARGIN_M
            xy = tcp[:2] + to_goal[:2] if lifted else tcp[:2]
            return act(np.array([*xy, goal.carry_height_m]), release_yaw, GRIPPER_CLOSE)
        target = tcp + to_goal
        low_enough = to_goal[2] > -cfg.expert_grasp_height_tolerance_m
        aligned = abs(wrap_angle(release_yaw - yaw)) < math.radians(cfg.expert_yaw_tolerance_deg)
        return act(target, release_yaw, GRIPPER_OPEN if low_enough and aligned else GRIPPER_CLOSE)
    if goal.placed:
        return act(np.array([*tcp[:2], goal.carry_height_m]), yaw, GRIPPER_OPEN)
    target_yaw = grasp_yaw(pose, shape, yaw)
    xy_error = float(np.linalg.norm(pose[:2] - tcp[:2]))
    if xy_error > TRAVEL_DISTANCE_M:  # travel at the carry height, rising first
        lifted = tcp[2] > goal.carry_height_m - LIFTED_MARGIN_M
        xy = pose[:2] if lifted else tcp[:2]
        return act(
            np.array([*xy, goal.carry_height_m]), target_yaw if lifted else yaw, GRIPPER_OPEN
        )
    hover_z = pose[2] + shape.top_height_m + cfg.expert_hover_above_object_m + FINGERTIP_BELOW_TCP_M
    low = tcp[2] < hover_z - LOW_MARGIN_M
    tolerance = cfg.expert_descend_tolerance_m if low else cfg.expert_align_tolerance_m
    yaw_error = abs(wrap_angle(target_yaw - yaw))
    if xy_error > tolerance or yaw_error > math.radians(cfg.expert_yaw_tolerance_deg):
        return act(np.array([*pose[:2], hover_z]), target_yaw, GRIPPER_OPEN)
    at_grasp = tcp[2] < pose[2] + cfg.expert_grasp_height_tolerance_m
    return act(pose[:3].copy(), target_yaw, GRIPPER_CLOSE if at_grasp else GRIPPER_OPEN)
