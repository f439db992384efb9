"""The task interface: what to do, where, how success is judged, and a scripted expert."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from userl.core.registry import ComponentConfig
from userl.core.specs import RobotState
from userl.hardware.base import SceneControl, SceneFragment
from userl.tasks.workspace import Workspace


@dataclass
class TaskConfig(ComponentConfig):
    """Fields every task has."""

    ENV_BUILDER: ClassVar[str] = "robot"  # the registered environment builder (ENV_BUILDERS)

    episode_steps: int = 100  # steps per episode (then the episode is truncated)
    control_hz: float = 10.0  # control steps per second
    action_scale_m: float = 0.02  # metres per step at action 1.0
    action_scale_rad: float = 0.1  # radians per step at action 1.0
    terminate_on_success: bool = True  # an episode ends at its first successful step
    instruction: str = ""  # the language instruction (a VLA policy's prompt)
    obs_position_scale_m: float = 0.05  # the state vector's positions are given in this unit, so
    # its parts are of order 1

    obs_linear_velocity_scale_m_per_s: float = 0.1  # the state vector's linear velocities in this
    # unit

    obs_angular_velocity_scale_rad_per_s: float = 0.5  # the state vector's angular velocities in
    # this unit

    obs_force_scale_n: float = 10.0  # the state vector's forces in this unit
    obs_torque_scale_nm: float = 1.0  # the state vector's torques in this unit
    reading_outside_box_margin_m: float = 0.05  # a TCP reading this far outside the box: hold
    workspace_yaw_range_deg: float = 30.0  # the safety box's yaw limit, +- this about the task's
    # reference orientation (the target's yaw, or tool-down at yaw 0); a task that turns the hand
    # more widens it

    workspace_tilt_range_deg: float = 10.0  # roll/pitch within +- this


@dataclass
class TaskReset:
    """One episode's start: the TCP pose, the gripper width (m; None = fully open), the
    poses (7,) of the scene's mocap and free bodies by name, and the positions of its joints
    by name (a simulation places them, after the arm)."""

    tcp_pose: np.ndarray
    gripper_width_m: float | None = None
    body_poses: dict[str, np.ndarray] = field(default_factory=dict)
    joint_positions: dict[str, float] = field(default_factory=dict)


def uniform_in(rng: np.random.Generator, bounds: Sequence[float]) -> float:
    """A uniform draw within `[low, high]` given as a config's two-element range."""
    low, high = bounds
    return float(rng.uniform(low, high))


class Task(ABC):
    """A task. It is stateful per episode: `begin_episode` draws the episode's layout, and the
    other methods refer to it. Frames: `frame` is the TCP pose at reset (7,), in which the
    actions and the observation are expressed."""

    task_state_dim: int = 0

    def __init__(self, config: TaskConfig) -> None:
        self.config = config
        self._scene: SceneControl | None = None

    def attach_scene(self, scene: SceneControl) -> None:
        """Give the task read access to a simulated world (object poses, joint angles)."""
        self._scene = scene

    @property
    def world(self) -> SceneControl:
        """The attached simulated world; tasks with movable objects judge success from it."""
        if self._scene is None:
            raise RuntimeError(
                f"task {self.name!r} needs a simulated world to observe its "
                "objects; use robot=sim_franka or sim_arx_r5, or a learned "
                "reward"
            )
        return self._scene

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def instruction(self) -> str:
        return self.config.instruction

    @property
    def control_hz(self) -> float:
        return self.config.control_hz

    @property
    def episode_steps(self) -> int:
        return self.config.episode_steps

    @abstractmethod
    def scene(self) -> SceneFragment:
        """The task's objects for a simulated world."""

    @abstractmethod
    def begin_episode(self, rng: np.random.Generator) -> TaskReset:
        """Draw a new episode's layout and start pose from the reset distribution."""

    @abstractmethod
    def workspace(self) -> Workspace:
        """The safety workspace of the current episode."""

    @abstractmethod
    def task_state(self, state: RobotState, frame: np.ndarray) -> np.ndarray:
        """The task part of the state vector (`task_state_dim`,), float32."""

    def task_state_scale(self) -> np.ndarray:
        """The unit each task-state component is divided by before the policy sees it."""
        return np.ones(self.task_state_dim, dtype=np.float32)

    @abstractmethod
    def evaluate(self, state: RobotState) -> dict[str, Any]:
        """Facts for rewards and logs; at least `success` (bool) and `target_distance_m` (how
        far the task's object is from its goal). A task of several stages may add
        `distance_to_go_m`, what remains over every stage (reaching an object included): the
        simulated operator measures the policy's progress by it."""

    def success(self, state: RobotState) -> bool:
        return bool(self.evaluate(state)["success"])

    @abstractmethod
    def expert_action(self, state: RobotState, frame: np.ndarray) -> np.ndarray:
        """The scripted expert's normalised 7-D action (as a SpaceMouse operator would send)."""

    def gripper_width_m(self, gripper_action: float, max_width_m: float) -> float:
        """The gripper width the action's gripper value asks for: -1 fully open .. +1 closed."""
        return float(np.clip((1.0 - gripper_action) / 2.0, 0.0, 1.0)) * max_width_m
