"""Charger plugging: a charger with two flat prongs, held in the gripper, goes into the two
slots of a power socket lying on the table at a randomised pose.

The hardest part is lateral precision before the push: the blades clear their slots by
1.2 mm a side (`slot_clearance_m`). A blade that comes down a few millimetres off jams on the
socket's face, and a policy does not learn to lift and re-align from there; online the
operator rescues each jam, so a run whose policy jams never stops needing it. So one action
unit moves 1 cm here, half the base task's `action_scale_m`: at 2 cm a policy's small errors
in the push land the blades on the face.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from userl.core.registry import TASKS
from userl.core.specs import RobotState, WorkspaceBox
from userl.geometry import make_pose, quat_to_mat, yaw_rotation
from userl.hardware.base import SceneFragment
from userl.hardware.sim.mjcf import ROBOT_CONTACT, SCENE_CONTACT, TABLE_TOP_Z_M, fmt
from userl.tasks.base import Task, TaskConfig, TaskReset
from userl.tasks.motion import GRIPPER_CLOSE, move_action, tcp_yaw, tool_down, wrap_angle
from userl.tasks.workspace import Workspace


@dataclass
class ChargerConfig(TaskConfig):
    """Charger plugging: a two-prong charger held in the gripper goes into a power socket on
    the table; tighter clearance than the peg, and the prongs' yaw must match the slots'."""

    instruction: str = "Plug the charger into the socket."
    action_scale_m: float = 0.01  # metres per step at action 1.0; half the base task's: the blades
    # clear their slots by 1.2 mm, and at 2 cm a policy's small errors in the push landed the blades
    # on the socket's face

    socket_nominal_xy_m: list[float] = field(default_factory=lambda: [0.55, 0.0])  # the socket's
    # centre before randomisation, base frame

    socket_xy_range_m: float = 0.05  # socket randomised uniformly within +- this, per axis
    socket_yaw_range_deg: float = 30.0  # socket yaw randomised within +- this
    tcp_reset_xy_range_m: float = 0.04  # TCP reset randomised within +- this around the socket
    tcp_reset_height_above_socket_m: float = 0.07  # TCP reset height above the socket
    tcp_reset_height_range_m: float = 0.02  # TCP reset height randomised within +- this
    tcp_reset_yaw_range_deg: float = 20.0  # the prongs start this far off the slots' yaw
    prong_half_thickness_m: float = 0.0015  # flat blades: half thickness (TCP x) ...
    prong_half_width_m: float = 0.005  # ... and half width (TCP y)
    prong_length_m: float = 0.02  # also the depth of the slots
    prong_spacing_m: float = 0.02  # centre to centre, along the TCP x axis
    slot_clearance_m: float = 0.0012  # gap between a blade and its slot, per side
    charger_half_size_m: list[float] = field(default_factory=lambda: [0.022, 0.012, 0.015])  # the
    # charger body's half extents (x, y, z)

    socket_half_size_m: list[float] = field(default_factory=lambda: [0.04, 0.03])  # the socket
    # plate's half extents (x, y)

    plug_tip_below_tcp_m: float = 0.045  # the prong tips lie this far along the tool axis
    success_threshold_m: float = 0.004  # prong tips within this of fully inserted
    workspace_xy_margin_m: float = 0.05  # safety box: +- this around the socket, per axis
    workspace_z_above_socket_m: float = 0.1  # safety box top above the socket's face
    gripper_locked: bool = True  # the fingers stay closed on the charger
    obs_angle_scale_rad: float = 0.2  # the yaw error is given in this unit
    expert_align_tolerance_m: float = 0.0008  # descends once the xy error is below this ...
    expert_yaw_tolerance_deg: float = 1.5  # ... and the yaw error below this
    expert_hover_height_m: float = 0.008  # prong tips this far above the socket while aligning
    expert_gain: float = 0.8  # share of the remaining error the expert corrects per step


SOCKET_BODY = "socket"
CHARGER_MASS_KG = 0.08
INSIDE_SLOT_MARGIN_M = 0.002  # the expert counts the tips as inside below surface - this


def _box(pos: list[float], half: list[float], rgba: str, contact: str) -> str:
    return f'<geom type="box" pos="{fmt(pos)}" size="{fmt(half)}" rgba="{rgba}" {contact}/>'


@TASKS.register("charger", config=ChargerConfig)
class Charger(Task):
    """The socket's slots are at a random xy and yaw; the TCP starts above them, turned off
    their yaw. The plug is symmetric under a half turn. Success: the prong tips within
    `success_threshold_m` of their fully inserted position."""

    task_state_dim = 4  # prong tips -> target (3, reset frame); yaw error to the slots
    config: ChargerConfig

    def __init__(self, config: ChargerConfig) -> None:
        super().__init__(config)
        self.socket_xy_m = np.asarray(config.socket_nominal_xy_m, dtype=np.float64)
        self.socket_yaw_rad = 0.0

    # ------------------------------------------------------------------ geometry
    @property
    def surface_z_m(self) -> float:
        return TABLE_TOP_Z_M + self.config.prong_length_m

    def target_tip(self) -> np.ndarray:
        return np.array([*self.socket_xy_m, TABLE_TOP_Z_M])

    def plug_tip(self, tcp_pose: np.ndarray) -> np.ndarray:
        """The midpoint of the prong tips."""
        return tcp_pose[:3] + quat_to_mat(tcp_pose[3:])[:, 2] * self.config.plug_tip_below_tcp_m

    def yaw_error(self, tcp_pose: np.ndarray) -> float:
        """The turn (rad) that lines the prongs up with the slots (the plug is symmetric)."""
        return wrap_angle(self.socket_yaw_rad - tcp_yaw(tcp_pose), math.pi)

    def scene(self) -> SceneFragment:
        cfg = self.config
        depth, spacing = cfg.prong_length_m, cfg.prong_spacing_m / 2
        slot_x = cfg.prong_half_thickness_m + cfg.slot_clearance_m
        slot_y = cfg.prong_half_width_m + cfg.slot_clearance_m
        bx, by = cfg.socket_half_size_m
        colour = "0.9 0.9 0.85 1"
        geoms = []
        # three full-depth columns between and beside the slots (along x)
        edges = [-bx, -spacing - slot_x, -spacing + slot_x, spacing - slot_x, spacing + slot_x, bx]
        for low, high in ((edges[0], edges[1]), (edges[2], edges[3]), (edges[4], edges[5])):
            geoms.append(
                _box(
                    [(low + high) / 2, 0.0, depth / 2],
                    [(high - low) / 2, by, depth / 2],
                    colour,
                    SCENE_CONTACT,
                )
            )
        for centre in (-spacing, spacing):  # in front of and behind each slot
            half_y = (by - slot_y) / 2
            for side in (-1.0, 1.0):
                geoms.append(
                    _box(
                        [centre, side * (slot_y + half_y), depth / 2],
                        [slot_x, half_y, depth / 2],
                        colour,
                        SCENE_CONTACT,
                    )
                )
        tip = cfg.plug_tip_below_tcp_m
        hx, hy, hz = cfg.charger_half_size_m
        plug = [
            _box(
                [0.0, 0.0, tip - depth - hz],
                [hx, hy, hz],
                "0.15 0.15 0.15 1",
                f'mass="{CHARGER_MASS_KG}" {ROBOT_CONTACT}',
            )
        ]
        for centre in (-spacing, spacing):
            plug.append(
                _box(
                    [centre, 0.0, tip - depth / 2],
                    [cfg.prong_half_thickness_m, cfg.prong_half_width_m, depth / 2],
                    "0.8 0.7 0.3 1",
                    f'mass="0.001" {ROBOT_CONTACT}',
                )
            )
        return SceneFragment(
            worldbody_xml=f'<body name="{SOCKET_BODY}" mocap="true" pos="0 0 {TABLE_TOP_Z_M}">'
            f"{''.join(geoms)}</body>",
            tcp_xml="".join(plug),
            mocap_bodies=(SOCKET_BODY,),
        )

    # ------------------------------------------------------------------ episode
    def begin_episode(self, rng: np.random.Generator) -> TaskReset:
        cfg = self.config
        nominal = np.asarray(cfg.socket_nominal_xy_m, dtype=np.float64)
        self.socket_xy_m = nominal + rng.uniform(-cfg.socket_xy_range_m, cfg.socket_xy_range_m, 2)
        self.socket_yaw_rad = math.radians(
            rng.uniform(-cfg.socket_yaw_range_deg, cfg.socket_yaw_range_deg)
        )
        tcp_xy = self.socket_xy_m + rng.uniform(
            -cfg.tcp_reset_xy_range_m, cfg.tcp_reset_xy_range_m, 2
        )
        tcp_z = (
            self.surface_z_m
            + cfg.tcp_reset_height_above_socket_m
            + rng.uniform(-cfg.tcp_reset_height_range_m, cfg.tcp_reset_height_range_m)
        )
        yaw_range = min(cfg.tcp_reset_yaw_range_deg, cfg.workspace_yaw_range_deg)
        tcp_yaw_rad = self.socket_yaw_rad + math.radians(rng.uniform(-yaw_range, yaw_range))
        tcp_pose = make_pose([*tcp_xy, tcp_z], tool_down(tcp_yaw_rad))
        socket = make_pose([*self.socket_xy_m, TABLE_TOP_Z_M], yaw_rotation(self.socket_yaw_rad))
        return TaskReset(
            tcp_pose=self.workspace().clip(tcp_pose),
            gripper_width_m=2.0 * cfg.charger_half_size_m[1],
            body_poses={SOCKET_BODY: socket},
        )

    def workspace(self) -> Workspace:
        cfg = self.config
        margin = cfg.workspace_xy_margin_m
        x, y = self.socket_xy_m
        box = WorkspaceBox(
            low_m=(x - margin, y - margin, self.surface_z_m),
            high_m=(x + margin, y + margin, self.surface_z_m + cfg.workspace_z_above_socket_m),
        )
        reference = make_pose(np.zeros(3), tool_down(self.socket_yaw_rad))[3:]
        return Workspace(
            box=box,
            reference_quat=reference,
            max_tilt_rad=math.radians(cfg.workspace_tilt_range_deg),
            max_yaw_rad=math.radians(cfg.workspace_yaw_range_deg),
        )

    def gripper_width_m(self, gripper_action: float, max_width_m: float) -> float:
        if self.config.gripper_locked:
            return 2.0 * self.config.charger_half_size_m[1]  # the fingers rest on the charger
        return super().gripper_width_m(gripper_action, max_width_m)

    # ------------------------------------------------------------------ observation, success
    def task_state(self, state: RobotState, frame: np.ndarray) -> np.ndarray:
        to_target = quat_to_mat(frame[3:]).T @ (self.target_tip() - self.plug_tip(state.tcp_pose))
        return np.array([*to_target, self.yaw_error(state.tcp_pose)], dtype=np.float32)

    def task_state_scale(self) -> np.ndarray:
        position = self.config.obs_position_scale_m
        return np.array(
            [position, position, position, self.config.obs_angle_scale_rad], dtype=np.float32
        )

    def evaluate(self, state: RobotState) -> dict[str, object]:
        distance = float(np.linalg.norm(self.target_tip() - self.plug_tip(state.tcp_pose)))
        return {
            "success": distance < self.config.success_threshold_m,
            "target_distance_m": distance,
            "yaw_error_rad": abs(self.yaw_error(state.tcp_pose)),
        }

    # ------------------------------------------------------------------ scripted expert
    def expert_action(self, state: RobotState, frame: np.ndarray) -> np.ndarray:
        """Turn the prongs onto the slots' yaw and centre them at hover height, then push
        straight down; only through the normalised action."""
        cfg = self.config
        tcp = state.tcp_pose
        tip = self.plug_tip(tcp)
        error = self.target_tip() - tip
        yaw_error = self.yaw_error(tcp)
        inside = tip[2] < self.surface_z_m - INSIDE_SLOT_MARGIN_M
        aligned = np.linalg.norm(error[:2]) < cfg.expert_align_tolerance_m and abs(
            yaw_error
        ) < math.radians(cfg.expert_yaw_tolerance_deg)
        if not aligned and not inside:
            error[2] = self.surface_z_m + cfg.expert_hover_height_m - tip[2]
        return move_action(
            tcp,
            frame,
            tcp[:3] + error,
            tcp_yaw(tcp) + yaw_error,
            GRIPPER_CLOSE,
            cfg.expert_gain,
            cfg.action_scale_m,
            cfg.action_scale_rad,
        )
