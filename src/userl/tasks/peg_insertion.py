"""Peg insertion: a round peg held in the gripper goes into a square hole in a board.

Hardest part: the alignment before the push. The peg clears the hole by 3 mm
(`hole_clearance_m`), the hole lies at a random xy (+- 5 cm) and yaw (+- 30 deg) below a TCP
starting 6-10 cm above it, and a peg pushed down more than 3 mm off lands on the board. The
horizon is short, so the sparse reward is near the start and learning from demos needs no
operator; from scratch (no demos) a random policy seldom lands the peg, so the critic rarely
sees a reward.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from userl.core.registry import TASKS
from userl.core.specs import RobotState, WorkspaceBox
from userl.geometry import make_pose, mat_to_rotvec, quat_to_mat, yaw_rotation
from userl.hardware.base import SceneFragment
from userl.hardware.sim.mjcf import (
    ROBOT_CONTACT,
    SCENE_CONTACT,
    TABLE_TOP_Z_M,
    fmt,
    look_at_xyaxes,
)
from userl.tasks.base import Task, TaskConfig, TaskReset
from userl.tasks.workspace import Workspace


@dataclass
class PegInsertionConfig(TaskConfig):
    """Peg insertion: a peg held in the gripper goes into a hole on a randomised board."""

    instruction: str = "Insert the peg into the hole."
    hole_nominal_xy_m: list[float] = field(default_factory=lambda: [0.55, 0.0])  # the hole's centre
    # before randomisation, base frame

    hole_xy_range_m: float = 0.05  # hole randomised uniformly within +- this, per axis
    hole_yaw_range_deg: float = 30.0  # hole yaw randomised within +- this
    tcp_reset_xy_range_m: float = 0.05  # TCP reset randomised within +- this around the hole
    tcp_reset_height_above_hole_m: float = 0.08  # TCP reset height above the board
    tcp_reset_height_range_m: float = 0.02  # TCP reset height randomised within +- this
    tcp_reset_yaw_range_deg: float = 30.0  # TCP reset yaw randomised within +- this
    peg_radius_m: float = 0.012  # the peg's radius
    peg_length_m: float = 0.06  # the peg's length
    hole_clearance_m: float = 0.003  # radial gap between peg and hole walls
    hole_depth_m: float = 0.03  # the hole's depth
    success_threshold_m: float = 0.01  # peg tip within this of the fully inserted tip
    workspace_xy_margin_m: float = 0.05  # safety box: +- this around the hole, per axis
    workspace_z_above_hole_m: float = 0.10  # safety box top above the board's surface
    peg_tip_below_tcp_m: float = 0.045  # the held peg's tip lies this far along the tool axis
    board_half_size_m: float = 0.08  # the square board's half side
    gripper_locked: bool = True  # the gripper stays closed on the peg; its action is ignored
    expert_align_tolerance_m: float = 0.0015  # expert descends once the xy error is below this
    expert_hover_height_m: float = 0.01  # expert keeps the peg tip this far above the board
    expert_gain: float = 0.8  # share of the remaining error the expert corrects per step
    side_camera_pos_m: list[float] = field(default_factory=lambda: [0.12, 0.0, 0.05])  # the
    # `hole_side` close-up camera, mounted on the board (its frame: origin under the hole); a reward
    # classifier's view (`robot.reward_camera_names=[hole_side]`)

    side_camera_lookat_m: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.04])  # in the
    # board's frame

    side_camera_fovy_deg: float = 45.0  # its vertical field of view


BOARD_BODY = "hole_board"
SIDE_CAMERA = "hole_side"
TOOL_DOWN = np.diag([1.0, -1.0, -1.0])  # TCP orientation with the tool axis pointing down
PEG_MASS_KG = 0.05
INSIDE_HOLE_MARGIN_M = 0.002  # the expert counts the tip as inside below surface - this


@TASKS.register("peg_insertion", config=PegInsertionConfig)
class PegInsertion(Task):
    """The board's hole is at a random xy and yaw; the TCP starts above it. Success: the peg
    tip within `success_threshold_m` of the tip's fully inserted position (hole bottom)."""

    task_state_dim = 5  # peg tip -> target (3, reset frame); hole yaw vs reset frame (sin, cos)
    config: PegInsertionConfig

    def __init__(self, config: PegInsertionConfig) -> None:
        super().__init__(config)
        self.hole_xy_m = np.asarray(config.hole_nominal_xy_m, dtype=np.float64)
        self.hole_yaw_rad = 0.0

    # ------------------------------------------------------------------ geometry
    @property
    def surface_z_m(self) -> float:
        return TABLE_TOP_Z_M + self.config.hole_depth_m

    def target_tip(self) -> np.ndarray:
        return np.array([*self.hole_xy_m, TABLE_TOP_Z_M])

    def peg_tip(self, tcp_pose: np.ndarray) -> np.ndarray:
        return tcp_pose[:3] + quat_to_mat(tcp_pose[3:])[:, 2] * self.config.peg_tip_below_tcp_m

    def scene(self) -> SceneFragment:
        cfg = self.config
        hole = cfg.peg_radius_m + cfg.hole_clearance_m  # half width of the square hole
        board, depth = cfg.board_half_size_m, cfg.hole_depth_m
        wall, offset = (board - hole) / 2, (board + hole) / 2
        walls = [
            ((offset, 0.0), (wall, board)),
            ((-offset, 0.0), (wall, board)),
            ((0.0, offset), (hole, wall)),
            ((0.0, -offset), (hole, wall)),
        ]
        geoms = "".join(
            f'<geom type="box" pos="{x:.6g} {y:.6g} {depth / 2:.6g}" '
            f'size="{sx:.6g} {sy:.6g} {depth / 2:.6g}" rgba="0.2 0.45 0.8 1" {SCENE_CONTACT}/>'
            for (x, y), (sx, sy) in walls
        )
        peg_center = cfg.peg_tip_below_tcp_m - cfg.peg_length_m / 2
        peg = (
            f'<geom name="peg" type="cylinder" pos="0 0 {peg_center:.6g}" '
            f'size="{cfg.peg_radius_m:.6g} {cfg.peg_length_m / 2:.6g}" mass="{PEG_MASS_KG}" '
            f'rgba="0.85 0.3 0.2 1" {ROBOT_CONTACT}/>'
        )
        side_pos = np.asarray(cfg.side_camera_pos_m, float)
        side_axes = look_at_xyaxes(
            side_pos, np.asarray(cfg.side_camera_lookat_m, float), np.array([0.0, 0.0, 1.0])
        )
        side_camera = (
            f'<camera name="{SIDE_CAMERA}" pos="{fmt(side_pos)}" xyaxes="{side_axes}"'
            f' fovy="{cfg.side_camera_fovy_deg}"/>'
        )
        return SceneFragment(
            worldbody_xml=f'<body name="{BOARD_BODY}" mocap="true" pos="0 0 {TABLE_TOP_Z_M}">'
            f"{geoms}{side_camera}</body>",
            tcp_xml=peg,
            mocap_bodies=(BOARD_BODY,),
        )

    # ------------------------------------------------------------------ episode
    def begin_episode(self, rng: np.random.Generator) -> TaskReset:
        cfg = self.config
        nominal = np.asarray(cfg.hole_nominal_xy_m, dtype=np.float64)
        self.hole_xy_m = nominal + rng.uniform(-cfg.hole_xy_range_m, cfg.hole_xy_range_m, 2)
        self.hole_yaw_rad = math.radians(
            rng.uniform(-cfg.hole_yaw_range_deg, cfg.hole_yaw_range_deg)
        )
        tcp_xy = self.hole_xy_m + rng.uniform(
            -cfg.tcp_reset_xy_range_m, cfg.tcp_reset_xy_range_m, 2
        )
        tcp_z = (
            self.surface_z_m
            + cfg.tcp_reset_height_above_hole_m
            + rng.uniform(-cfg.tcp_reset_height_range_m, cfg.tcp_reset_height_range_m)
        )
        yaw_range = min(cfg.tcp_reset_yaw_range_deg, cfg.workspace_yaw_range_deg)
        tcp_yaw = self.hole_yaw_rad + math.radians(rng.uniform(-yaw_range, yaw_range))
        tcp_pose = make_pose([*tcp_xy, tcp_z], yaw_rotation(tcp_yaw) @ TOOL_DOWN)
        board = make_pose([*self.hole_xy_m, TABLE_TOP_Z_M], yaw_rotation(self.hole_yaw_rad))
        return TaskReset(
            tcp_pose=self.workspace().clip(tcp_pose),
            gripper_width_m=2.0 * cfg.peg_radius_m,
            body_poses={BOARD_BODY: board},
        )

    def workspace(self) -> Workspace:
        cfg = self.config
        margin = cfg.workspace_xy_margin_m
        box = WorkspaceBox(
            low_m=(self.hole_xy_m[0] - margin, self.hole_xy_m[1] - margin, self.surface_z_m),
            high_m=(
                self.hole_xy_m[0] + margin,
                self.hole_xy_m[1] + margin,
                self.surface_z_m + cfg.workspace_z_above_hole_m,
            ),
        )
        reference = make_pose(np.zeros(3), yaw_rotation(self.hole_yaw_rad) @ TOOL_DOWN)[3:]
        return Workspace(
            box=box,
            reference_quat=reference,
            max_tilt_rad=math.radians(cfg.workspace_tilt_range_deg),
            max_yaw_rad=math.radians(cfg.workspace_yaw_range_deg),
        )

    def gripper_width_m(self, gripper_action: float, max_width_m: float) -> float:
        if self.config.gripper_locked:
            return 2.0 * self.config.peg_radius_m  # the fingers rest on the peg
        return super().gripper_width_m(gripper_action, max_width_m)

    # ------------------------------------------------------------------ observation, success
    def task_state(self, state: RobotState, frame: np.ndarray) -> np.ndarray:
        frame_rot = quat_to_mat(frame[3:])
        to_target = frame_rot.T @ (self.target_tip() - self.peg_tip(state.tcp_pose))
        frame_yaw = math.atan2(frame_rot[1, 0], frame_rot[0, 0])
        relative_yaw = self.hole_yaw_rad - frame_yaw
        return np.array(
            [*to_target, math.sin(relative_yaw), math.cos(relative_yaw)], dtype=np.float32
        )

    def task_state_scale(self) -> np.ndarray:
        position = self.config.obs_position_scale_m
        return np.array([position, position, position, 1.0, 1.0], dtype=np.float32)

    def evaluate(self, state: RobotState) -> dict[str, object]:
        distance = float(np.linalg.norm(self.target_tip() - self.peg_tip(state.tcp_pose)))
        return {
            "success": distance < self.config.success_threshold_m,
            "target_distance_m": distance,
        }

    # ------------------------------------------------------------------ scripted expert
    def expert_action(self, state: RobotState, frame: np.ndarray) -> np.ndarray:
        """Align the tip over the hole at hover height, then descend, keeping the reset
        orientation; only through the normalised action."""
        cfg = self.config
        tip = self.peg_tip(state.tcp_pose)
        error = self.target_tip() - tip
        inside = tip[2] < self.surface_z_m - INSIDE_HOLE_MARGIN_M
        if np.linalg.norm(error[:2]) > cfg.expert_align_tolerance_m and not inside:
            error[2] = self.surface_z_m + cfg.expert_hover_height_m - tip[2]
        frame_rot = quat_to_mat(frame[3:])
        rotation_error = mat_to_rotvec(frame_rot @ quat_to_mat(state.tcp_pose[3:]).T)
        action = np.zeros(7)
        action[:3] = frame_rot.T @ error * cfg.expert_gain / cfg.action_scale_m
        action[3:6] = frame_rot.T @ rotation_error * cfg.expert_gain / cfg.action_scale_rad
        action[6] = 1.0  # keep the gripper closed
        return np.clip(action, -1.0, 1.0).astype(np.float32)
