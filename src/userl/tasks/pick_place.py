"""Pick and place: grasp a randomly chosen, randomly placed object (a rubber duck, a block or a
can) and put it into an open container.

Hardest part for RL: the horizon and the grasp in the middle of it. The sparse success reward
comes only after the reach, the grasp, the carry and the release, many steps from the start,
so at the RLPD preset's discount the start is worth little, and SAC's entropy term outweighs
the critic (the policy's entropy climbs towards its maximum early and stays high). RLPD
learns it with `algo.demo_bc_weight=1` (a Q-filtered imitation of the demos). Progress is
measured over every stage (`distance_to_go_m`: the reach, then the carry), so the simulated
operator steps in when a policy stalls before the grasp, too."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from userl.core.registry import TASKS
from userl.core.specs import RobotState
from userl.geometry import make_pose, quat_to_mat, yaw_rotation
from userl.hardware.base import SceneFragment
from userl.hardware.sim.mjcf import TABLE_TOP_Z_M
from userl.tasks.base import Task, TaskReset, uniform_in
from userl.tasks.grasping import (
    GraspTaskConfig,
    PickPlaceGoal,
    distance_to_go,
    grasp_workspace,
    grasp_yaw_error,
    is_released,
    pick_place_action,
    reset_tcp_pose,
)
from userl.tasks.objects import (
    SHAPES,
    ObjectShape,
    inside_box,
    object_xml,
    open_box_geoms,
    park_shelf_xml,
    resting_pose,
)
from userl.tasks.workspace import Workspace


@dataclass
class PickPlaceConfig(GraspTaskConfig):
    """Pick and place: a randomly chosen, randomly placed object goes into a container."""

    episode_steps: int = 200
    instruction: str = "Pick up the object and put it in the container."
    objects: list[str] = field(default_factory=lambda: ["duck", "block", "can"])  # the objects one
    # is drawn from per episode

    object_x_range_m: list[float] = field(default_factory=lambda: [0.45, 0.6])  # the object's x,
    # drawn within [low, high], base frame

    object_y_range_m: list[float] = field(default_factory=lambda: [0.0, 0.15])  # the object's y,
    # drawn within [low, high]

    object_yaw_range_deg: float = 90.0  # object yaw randomised within +- this
    container_x_range_m: list[float] = field(default_factory=lambda: [0.45, 0.6])  # the container's
    # x, drawn within [low, high]

    container_y_range_m: list[float] = field(default_factory=lambda: [-0.2, -0.12])  # the
    # container's y, drawn within [low, high]

    container_yaw_range_deg: float = 20.0  # container yaw randomised within +- this
    container_inner_half_size_m: float = 0.065  # the container's inner half side
    container_wall_height_m: float = 0.05  # the container's wall height
    container_wall_thickness_m: float = 0.006  # the container's wall thickness
    tcp_reset_nominal_xy_m: list[float] = field(default_factory=lambda: [0.5, 0.0])  # the TCP
    # reset's centre, base frame

    expert_carry_height_m: float = 0.13  # TCP height while carrying


CONTAINER_BODY = "container"
PARK_SPACING_M = 0.15  # unused objects wait this far apart on the hidden shelf
WORKSPACE_MARGIN_M = 0.08  # the safety box extends this far beyond objects and container


def object_body(name: str) -> str:
    return f"object_{name}"


@TASKS.register("pick_place", config=PickPlaceConfig)
class PickPlace(Task):
    """One object of `objects` is placed at a random pose, the others wait out of sight.
    Success: the object at rest inside the container (below its rim) and the gripper open."""

    config: PickPlaceConfig

    def __init__(self, config: PickPlaceConfig) -> None:
        super().__init__(config)
        for name in config.objects:
            if name not in SHAPES:
                raise ValueError(
                    f"unknown object {name!r} in task.objects; choose from: "
                    f"{', '.join(sorted(SHAPES))}"
                )
        self.task_state_dim = 7 + len(config.objects)
        self.object_index = 0
        self.container_pose = make_pose([0.5, -0.15, TABLE_TOP_Z_M], np.eye(3))

    @property
    def object_name(self) -> str:
        return self.config.objects[self.object_index]

    @property
    def shape(self) -> ObjectShape:
        return SHAPES[self.object_name]

    def object_pose(self) -> np.ndarray:
        return self.world.body_pose(object_body(self.object_name))

    # ------------------------------------------------------------------ scene, episode
    def scene(self) -> SceneFragment:
        cfg = self.config
        container = open_box_geoms(
            cfg.container_inner_half_size_m,
            cfg.container_inner_half_size_m,
            cfg.container_wall_height_m,
            cfg.container_wall_thickness_m,
            "0.6 0.3 0.6 1",
        )
        objects = "".join(
            object_xml(object_body(name), SHAPES[name], (0.2 + PARK_SPACING_M * i, 0.0))
            for i, name in enumerate(cfg.objects)
        )
        floor = cfg.container_wall_thickness_m
        return SceneFragment(
            worldbody_xml=(
                f'<body name="{CONTAINER_BODY}" mocap="true" pos="0.5 -0.15 {floor}">'
                f"{container}</body>{park_shelf_xml(0.5)}{objects}"
            ),
            mocap_bodies=(CONTAINER_BODY,),
        )

    def begin_episode(self, rng: np.random.Generator) -> TaskReset:
        cfg = self.config
        self.object_index = int(rng.integers(len(cfg.objects)))
        container_xy = np.array(
            [uniform_in(rng, cfg.container_x_range_m), uniform_in(rng, cfg.container_y_range_m)]
        )
        container_yaw = math.radians(
            rng.uniform(-cfg.container_yaw_range_deg, cfg.container_yaw_range_deg)
        )
        self.container_pose = make_pose(
            [*container_xy, TABLE_TOP_Z_M + cfg.container_wall_thickness_m],
            yaw_rotation(container_yaw),
        )
        object_xy = np.array(
            [uniform_in(rng, cfg.object_x_range_m), uniform_in(rng, cfg.object_y_range_m)]
        )
        object_yaw = math.radians(rng.uniform(-cfg.object_yaw_range_deg, cfg.object_yaw_range_deg))
        tcp = reset_tcp_pose(cfg, np.asarray(cfg.tcp_reset_nominal_xy_m), rng)
        poses = {
            CONTAINER_BODY: self.container_pose,
            object_body(self.object_name): resting_pose(
                object_xy, object_yaw, self.shape, TABLE_TOP_Z_M
            ),
        }
        return TaskReset(tcp_pose=self.workspace().clip(tcp), body_poses=poses)

    def workspace(self) -> Workspace:
        cfg = self.config
        low = np.array(
            [
                min(cfg.object_x_range_m[0], cfg.container_x_range_m[0]),
                min(cfg.object_y_range_m[0], cfg.container_y_range_m[0]),
            ]
        )
        high = np.array(
            [
                max(cfg.object_x_range_m[1], cfg.container_x_range_m[1]),
                max(cfg.object_y_range_m[1], cfg.container_y_range_m[1]),
            ]
        )
        return grasp_workspace(cfg, low - WORKSPACE_MARGIN_M, high + WORKSPACE_MARGIN_M)

    # ------------------------------------------------------------------ observation, success
    def release_point(self) -> np.ndarray:
        floor = self.container_pose[:3]
        return floor + np.array(
            [0.0, 0.0, self.shape.rest_height_m + self.config.expert_release_above_floor_m]
        )

    def task_state(self, state: RobotState, frame: np.ndarray) -> np.ndarray:
        frame_rot = quat_to_mat(frame[3:])
        pose = self.object_pose()
        to_object = frame_rot.T @ (pose[:3] - state.tcp_pose[:3])
        to_container = frame_rot.T @ (self.release_point() - pose[:3])
        kind = np.zeros(len(self.config.objects))
        kind[self.object_index] = 1.0
        yaw_error = grasp_yaw_error(state.tcp_pose, pose, self.shape)
        return np.array([*to_object, *to_container, yaw_error, *kind], dtype=np.float32)

    def task_state_scale(self) -> np.ndarray:
        cfg = self.config
        position = [cfg.obs_position_scale_m] * 6
        ones = [1.0] * len(cfg.objects)
        return np.array([*position, cfg.obs_angle_scale_rad, *ones], dtype=np.float32)

    def inside(self, pose: np.ndarray) -> bool:
        cfg = self.config
        return inside_box(
            pose[:3],
            self.container_pose,
            cfg.container_inner_half_size_m,
            cfg.container_inner_half_size_m,
            cfg.container_wall_height_m,
        )

    def evaluate(self, state: RobotState) -> dict[str, object]:
        pose = self.object_pose()
        inside = self.inside(pose)
        speed = float(np.linalg.norm(self.world.body_velocity(object_body(self.object_name))[:3]))
        released = is_released(state.gripper_width_m, self.shape, self.config)
        distance = float(np.linalg.norm(self.release_point()[:2] - pose[:2]))
        to_go = (
            0.0
            if inside
            else distance_to_go(
                state.tcp_pose,
                state.gripper_width_m,
                pose,
                self.shape,
                self.release_point(),
                self.config,
            )
        )
        return {
            "success": inside and released and speed < self.config.rest_speed_m_per_s,
            "target_distance_m": distance,
            "distance_to_go_m": to_go,
            "object_inside": inside,
        }

    # ------------------------------------------------------------------ scripted expert
    def expert_action(self, state: RobotState, frame: np.ndarray) -> np.ndarray:
        pose = self.object_pose()
        goal = PickPlaceGoal(
            release_xyz_m=self.release_point(),
            release_yaw_rad=None,
            carry_height_m=TABLE_TOP_Z_M + self.config.expert_carry_height_m,
            placed=self.inside(pose),
        )
        return pick_place_action(
            state.tcp_pose, state.gripper_width_m, frame, pose, self.shape, goal, self.config
        )
