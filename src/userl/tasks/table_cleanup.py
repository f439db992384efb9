"""Table clean-up: several objects lie scattered on the table; each goes into a box, then the
box's hinged lid, which starts open, is closed.

Hardest part: the sequence. The expert needs most of the episode for the objects and the
lid, switching sub-goal, grasp yaw and gripper many times. Behaviour cloning with an MLP
averages the switches (its one Gaussian: the hand dives and closes between objects) and puts
no object in the box, even from many demos. A flow policy (Flow-G) fits the switches,
but only once the state names the stage: hence the stage block below (the next object's
block, a one-hot of which it is, then the lid's edge and push point); with every object's
block alone it does little better than the MLP. Progress is measured along the expert's
whole way (`distance_to_go_m`), so the simulated operator steps in when a policy stalls in
any stage, not only while objects move."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from userl.core.registry import TASKS
from userl.core.specs import RobotState
from userl.geometry import make_pose, quat_to_mat, yaw_rotation
from userl.hardware.base import SceneFragment
from userl.hardware.sim.mjcf import OBJECT_CONTACT, TABLE_TOP_Z_M, fmt
from userl.tasks.base import Task, TaskReset, uniform_in
from userl.tasks.grasping import (
    GraspTaskConfig,
    PickPlaceGoal,
    grasp_workspace,
    grasp_yaw_error,
    is_held,
    pick_place_action,
    reset_tcp_pose,
)
from userl.tasks.motion import GRIPPER_OPEN, move_action, tcp_yaw
from userl.tasks.objects import SHAPES, inside_box, object_xml, open_box_geoms, resting_pose
from userl.tasks.workspace import Workspace


@dataclass
class TableCleanupConfig(GraspTaskConfig):
    """Table clean-up: every object on the table goes into a box, then the box's hinged lid
    is closed."""

    episode_steps: int = 400
    action_scale_m: float = 0.03  # a wider scene: faster moves
    workspace_yaw_range_deg: float = 110.0  # room to turn the hand along the lid's hinge
    instruction: str = "Put all the objects into the box, then close its lid."
    objects: list[str] = field(default_factory=lambda: ["duck", "block", "can"])  # the objects on
    # the table

    object_x_range_m: list[float] = field(default_factory=lambda: [0.42, 0.62])  # objects' x, drawn
    # within [low, high], base frame

    object_y_range_m: list[float] = field(default_factory=lambda: [0.03, 0.21])  # objects' y, drawn
    # within [low, high]

    object_min_spacing_m: float = 0.085  # objects are placed at least this far apart
    object_yaw_range_deg: float = 90.0  # object yaw randomised within +- this
    box_x_range_m: list[float] = field(default_factory=lambda: [0.48, 0.56])  # the box's x, drawn
    # within [low, high]

    box_y_range_m: list[float] = field(default_factory=lambda: [-0.21, -0.18])  # the box's y, drawn
    # within [low, high]

    box_yaw_range_deg: float = 10.0  # box yaw randomised within +- this
    box_inner_half_size_m: list[float] = field(default_factory=lambda: [0.14, 0.065])  # the box's
    # inner half extents (x, y)

    box_wall_height_m: float = 0.08  # the box's wall height
    box_wall_thickness_m: float = 0.006  # the box's wall thickness
    slot_spacing_m: float = 0.08  # objects are put down this far apart along the box's x
    lid_thickness_m: float = 0.006  # the lid's thickness
    lid_mass_kg: float = 0.15  # the lid's mass
    lid_damping_nm_s_per_rad: float = 0.02  # viscous damping of the lid's hinge
    lid_open_angle_deg: float = 100.0  # the lid starts open, resting on its stop
    lid_closed_tolerance_deg: float = 5.0  # closed: within this of shut
    tcp_reset_nominal_xy_m: list[float] = field(default_factory=lambda: [0.5, 0.0])  # the TCP
    # reset's centre, base frame

    workspace_y_margin_m: float = 0.16  # the safety box reaches this far beyond the box (y)
    expert_carry_height_m: float = 0.14  # TCP height while carrying
    expert_lid_push_fraction: float = 0.85  # pushes the lid this far from the hinge
    expert_lid_lead_deg: float = 15.0  # aims this far ahead of the lid's angle
    expert_lid_clearance_m: float = 0.04  # approaches the lid's outer face from this far


BOX_BODY = "cleanup_box"
LID_JOINT = "lid"
PARK_SPACING_M = 0.15
PLACEMENT_ATTEMPTS = 1000
WORKSPACE_MARGIN_M = 0.08
FINGER_HALF_THICKNESS_M = 0.01  # a finger pad's half size across the push direction
PER_OBJECT_STATE = 7  # TCP -> object (3), object -> its slot (3), grasp yaw error (1)
LID_STATE = 7  # lid angle (1), TCP -> the lid's top edge (3), TCP -> its push point (3)


def object_body(index: int) -> str:
    return f"clutter_{index}"


@TASKS.register("table_cleanup", config=TableCleanupConfig)
class TableCleanup(Task):
    """Objects at random non-overlapping poses; the box at a random pose with its lid open.
    Success: every object inside the box (below the rim) and the lid shut."""

    config: TableCleanupConfig

    def __init__(self, config: TableCleanupConfig) -> None:
        super().__init__(config)
        for name in config.objects:
            if name not in SHAPES:
                raise ValueError(
                    f"unknown object {name!r} in task.objects; choose from: "
                    f"{', '.join(sorted(SHAPES))}"
                )
        self.shapes = [SHAPES[name] for name in config.objects]
        # every object's block, the stage's (the next object's block and which one it is:
        # zeros once all are in), then the lid's
        self.task_state_dim = (
            (PER_OBJECT_STATE * (len(self.shapes) + 1)) + len(self.shapes) + LID_STATE
        )
        self.box_pose = make_pose([0.52, -0.17, TABLE_TOP_Z_M], np.eye(3))

    # ------------------------------------------------------------------ geometry
    @property
    def lid_length_m(self) -> float:
        return 2.0 * (self.config.box_inner_half_size_m[1] + self.config.box_wall_thickness_m)

    def hinge_point(self) -> np.ndarray:
        cfg = self.config
        local = np.array(
            [0.0, -self.lid_length_m / 2, cfg.box_wall_height_m + cfg.lid_thickness_m / 2]
        )
        return self.box_pose[:3] + quat_to_mat(self.box_pose[3:]) @ local

    def across_box_yaw(self) -> float:
        """The TCP yaw that puts the hand's long side along the box's x axis (the hinge), so
        it keeps clear of the standing lid and the fingers open between the slots."""
        return tcp_yaw(self.box_pose) - math.pi / 2  # the wrist keeps away from its limit

    def lid_angle(self) -> float:
        return self.world.joint_position(LID_JOINT)

    def slot(self, index: int) -> np.ndarray:
        """Where object `index`'s grasp point is released, in the world."""
        cfg = self.config
        offset = (index - (len(self.shapes) - 1) / 2) * cfg.slot_spacing_m
        local = np.array(
            [offset, 0.0, self.shapes[index].rest_height_m + cfg.expert_release_above_floor_m]
        )
        return self.box_pose[:3] + quat_to_mat(self.box_pose[3:]) @ local

    def object_poses(self) -> list[np.ndarray]:
        return [self.world.body_pose(object_body(i)) for i in range(len(self.shapes))]

    def inside(self, pose: np.ndarray) -> bool:
        cfg = self.config
        half_x_m, half_y_m = cfg.box_inner_half_size_m
        return inside_box(pose[:3], self.box_pose, half_x_m, half_y_m, cfg.box_wall_height_m)

    def scene(self) -> SceneFragment:
        cfg = self.config
        hx, hy = cfg.box_inner_half_size_m
        t, height = cfg.box_wall_thickness_m, cfg.box_wall_height_m
        walls = open_box_geoms(hx, hy, height, t, "0.55 0.35 0.2 1")
        length = self.lid_length_m
        lid = (
            f'<body name="lid" pos="0 {-length / 2:.6g} {height + cfg.lid_thickness_m / 2:.6g}">'
            f'<joint name="{LID_JOINT}" type="hinge" axis="1 0 0" '
            f'range="0 {math.radians(cfg.lid_open_angle_deg):.6g}" '
            f'damping="{cfg.lid_damping_nm_s_per_rad}"/>'
            f'<geom type="box" pos="0 {length / 2:.6g} 0" '
            f'size="{fmt([hx + 2 * t, length / 2, cfg.lid_thickness_m / 2])}" '
            f'mass="{cfg.lid_mass_kg}" rgba="0.65 0.45 0.25 1" {OBJECT_CONTACT}/></body>'
        )
        objects = "".join(
            object_xml(object_body(i), shape, (0.2 + PARK_SPACING_M * i, 0.4))
            for i, shape in enumerate(self.shapes)
        )
        return SceneFragment(
            worldbody_xml=(
                f'<body name="{BOX_BODY}" mocap="true" pos="0.52 -0.17 {t}">'
                f"{walls}{lid}</body>{objects}"
            ),
            mocap_bodies=(BOX_BODY,),
        )

    # ------------------------------------------------------------------ episode
    def begin_episode(self, rng: np.random.Generator) -> TaskReset:
        cfg = self.config
        box_xy = np.array([uniform_in(rng, cfg.box_x_range_m), uniform_in(rng, cfg.box_y_range_m)])
        box_yaw = math.radians(rng.uniform(-cfg.box_yaw_range_deg, cfg.box_yaw_range_deg))
        self.box_pose = make_pose(
            [*box_xy, TABLE_TOP_Z_M + cfg.box_wall_thickness_m], yaw_rotation(box_yaw)
        )
        poses = {BOX_BODY: self.box_pose}
        placed: list[np.ndarray] = []
        for index, shape in enumerate(self.shapes):
            xy = self._free_spot(rng, placed)
            placed.append(xy)
            yaw = math.radians(rng.uniform(-cfg.object_yaw_range_deg, cfg.object_yaw_range_deg))
            poses[object_body(index)] = resting_pose(xy, yaw, shape, TABLE_TOP_Z_M)
        tcp = reset_tcp_pose(cfg, np.asarray(cfg.tcp_reset_nominal_xy_m), rng)
        return TaskReset(
            tcp_pose=self.workspace().clip(tcp),
            body_poses=poses,
            joint_positions={LID_JOINT: math.radians(cfg.lid_open_angle_deg)},
        )

    def _free_spot(self, rng: np.random.Generator, taken: list[np.ndarray]) -> np.ndarray:
        cfg = self.config
        for _ in range(PLACEMENT_ATTEMPTS):
            xy = np.array(
                [uniform_in(rng, cfg.object_x_range_m), uniform_in(rng, cfg.object_y_range_m)]
            )
            if all(np.linalg.norm(xy - other) >= cfg.object_min_spacing_m for other in taken):
                return xy
        raise ValueError(
            "cannot place the objects apart: widen task.object_x_range_m / "
            "object_y_range_m or lower task.object_min_spacing_m"
        )

    def workspace(self) -> Workspace:
        cfg = self.config
        low = np.array(
            [
                min(cfg.object_x_range_m[0], cfg.box_x_range_m[0]) - WORKSPACE_MARGIN_M,
                cfg.box_y_range_m[0] - cfg.workspace_y_margin_m,
            ]
        )
        high = np.array(
            [
                max(cfg.object_x_range_m[1], cfg.box_x_range_m[1]) + WORKSPACE_MARGIN_M,
                cfg.object_y_range_m[1] + WORKSPACE_MARGIN_M,
            ]
        )
        return grasp_workspace(cfg, low, high)

    # ------------------------------------------------------------------ observation, success
    def task_state(self, state: RobotState, frame: np.ndarray) -> np.ndarray:
        """Every object's block (TCP -> object, object -> its slot, grasp yaw error), then the
        stage: the next object's block again with a one-hot of which it is (all zeros once
        every object is in), then the lid: its angle, TCP -> its top edge, TCP -> its push
        point. The stage block names the sub-goal the expert's order implies, so a policy
        need not infer it from which objects already lie inside."""
        frame_rot = quat_to_mat(frame[3:])
        tcp = state.tcp_pose[:3]
        poses = self.object_poses()
        blocks = [
            self._object_block(index, pose, state, frame_rot) for index, pose in enumerate(poses)
        ]
        pending = self.pending(state, poses)
        which = np.zeros(len(self.shapes))
        stage = np.zeros(PER_OBJECT_STATE)
        if pending:
            which[pending[0]] = 1.0
            stage = blocks[pending[0]]
        lid = self.lid_angle()
        top, _ = self._lid_point(lid, fraction=1.0)
        push, _ = self._lid_point(lid)
        lid_block = [lid, *(frame_rot.T @ (top - tcp)), *(frame_rot.T @ (push - tcp))]
        return np.concatenate([*blocks, stage, which, lid_block]).astype(np.float32)

    def _object_block(
        self, index: int, pose: np.ndarray, state: RobotState, frame_rot: np.ndarray
    ) -> np.ndarray:
        return np.array(
            [
                *(frame_rot.T @ (pose[:3] - state.tcp_pose[:3])),
                *(frame_rot.T @ (self.slot(index) - pose[:3])),
                grasp_yaw_error(state.tcp_pose, pose, self.shapes[index]),
            ]
        )

    def task_state_scale(self) -> np.ndarray:
        cfg = self.config
        per_object = [cfg.obs_position_scale_m] * 6 + [cfg.obs_angle_scale_rad]
        lid = [cfg.obs_angle_scale_rad] + [cfg.obs_position_scale_m] * 6
        return np.array(
            per_object * (len(self.shapes) + 1) + [1.0] * len(self.shapes) + lid, dtype=np.float32
        )

    def evaluate(self, state: RobotState) -> dict[str, object]:
        poses = self.object_poses()
        inside = [self.inside(pose) for pose in poses]
        lid = self.lid_angle()
        outside_m = sum(
            float(np.linalg.norm(self.slot(i)[:2] - pose[:2]))
            for i, pose in enumerate(poses)
            if not inside[i]
        )
        closed = lid < math.radians(self.config.lid_closed_tolerance_deg)
        return {
            "success": all(inside) and closed,
            "target_distance_m": outside_m + lid * self.lid_length_m,
            "distance_to_go_m": self.distance_to_go(state, poses, inside),
            "objects_inside": int(sum(inside)),
            "lid_angle_rad": lid,
        }

    def held(self, state: RobotState, poses: list[np.ndarray]) -> list[bool]:
        """Per object: is it between the closed fingers?"""
        return [
            is_held(state.tcp_pose, state.gripper_width_m, pose, shape, self.config)
            for pose, shape in zip(poses, self.shapes, strict=True)
        ]

    @staticmethod
    def pending_in_order(held: list[bool], inside: list[bool]) -> list[int]:
        """The objects still to put away, in the expert's order: the held one first, then by
        index."""
        pending = [i for i in range(len(held)) if held[i] or not inside[i]]
        return sorted(pending, key=lambda i: (not held[i], i))

    def pending(self, state: RobotState, poses: list[np.ndarray]) -> list[int]:
        """The objects still to put away now, in the expert's order."""
        return self.pending_in_order(self.held(state, poses), [self.inside(pose) for pose in poses])

    def distance_to_go(
        self, state: RobotState, poses: list[np.ndarray], inside: list[bool]
    ) -> float:
        """The length of what remains along the expert's way (m): from the TCP to each pending
        object in turn (the held one first, no reach to it) and on to its slot, then to the
        lid's push point, then the arc that point still travels until the lid is shut. It
        shrinks in every stage, so the simulated operator's no-progress rule sees reaching
        and the lid's approach as progress (the objects' distance alone stands still then)."""
        held = self.held(state, poses)
        position, total = state.tcp_pose[:3], 0.0
        for index in self.pending_in_order(held, inside):
            if not held[index]:
                total += float(np.linalg.norm(poses[index][:3] - position))
            total += float(np.linalg.norm(self.slot(index) - poses[index][:3]))
            position = self.slot(index)
        lid = self.lid_angle()
        push_point, _ = self._lid_point(lid)
        total += float(np.linalg.norm(push_point - position))
        return total + lid * self.lid_length_m * self.config.expert_lid_push_fraction

    # ------------------------------------------------------------------ scripted expert
    def expert_action(self, state: RobotState, frame: np.ndarray) -> np.ndarray:
        """Pick and place each object that is not yet inside (the held one first), then push
        the lid shut from its outer face."""
        cfg = self.config
        poses = self.object_poses()
        pending = self.pending(state, poses)
        if pending:
            index = pending[0]
            goal = PickPlaceGoal(
                release_xyz_m=self.slot(index),
                release_yaw_rad=self.across_box_yaw(),
                carry_height_m=TABLE_TOP_Z_M + cfg.expert_carry_height_m,
                placed=False,
            )
            return pick_place_action(
                state.tcp_pose,
                state.gripper_width_m,
                frame,
                poses[index],
                self.shapes[index],
                goal,
                cfg,
            )
        return self._close_lid(state, frame)

    def _lid_point(
        self, angle_rad: float, fraction: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """A point on the lid's outer face, `fraction` of its length from the hinge (default:
        the push distance), and the face's normal."""
        fraction = self.config.expert_lid_push_fraction if fraction is None else fraction
        rot = quat_to_mat(self.box_pose[3:])
        along = rot @ np.array([0.0, math.cos(angle_rad), math.sin(angle_rad)])
        normal = rot @ np.array([0.0, -math.sin(angle_rad), math.cos(angle_rad)])
        point = self.hinge_point() + along * self.lid_length_m * fraction
        return point + normal * self.config.lid_thickness_m / 2, normal

    def _close_lid(self, state: RobotState, frame: np.ndarray) -> np.ndarray:
        """Rise, pass over the lid's top edge to its outer side, then push its face ahead of
        its angle until it is shut (fingers open: they push as well as closed ones)."""
        cfg = self.config
        tcp = state.tcp_pose[:3]
        angle = self.lid_angle()
        point, normal = self._lid_point(angle)
        top, _ = self._lid_point(angle, fraction=1.0)
        outward = np.array([normal[0], normal[1], 0.0])
        outward /= max(float(np.linalg.norm(outward)), 1e-9)
        clearance = FINGER_HALF_THICKNESS_M + cfg.expert_lid_clearance_m
        if tcp[2] < top[2] and float((tcp - point) @ normal) > 0.0:  # beside its outer face
            ahead, ahead_normal = self._lid_point(angle - math.radians(cfg.expert_lid_lead_deg))
            target = ahead + ahead_normal * FINGER_HALF_THICKNESS_M
        elif tcp[2] < top[2]:
            target = np.array([*tcp[:2], top[2] + cfg.expert_lid_clearance_m])  # rise first
        elif float((tcp - top) @ outward) > clearance / 2:  # beyond the top edge: go down
            target = np.array([*tcp[:2], point[2]])
        else:
            target = top + outward * clearance
            target[2] = max(top[2] + cfg.expert_lid_clearance_m, tcp[2])
        return move_action(
            state.tcp_pose,
            frame,
            target,
            self.across_box_yaw(),
            GRIPPER_OPEN,
            cfg.expert_gain,
            cfg.action_scale_m,
            cfg.action_scale_rad,
        )
