"""Specs shared by every layer: what a robot is, what it observes, how it acts."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ACTION_DIM = 7
"""The common end-effector action `[dx dy dz drx dry drz gripper]`, each in [-1, 1]."""
GRIPPER_INDEX = 6
"""The gripper command's place in the action."""


@dataclass(frozen=True)
class WorkspaceBox:
    """An axis-aligned box for the TCP position (metres, robot base frame)."""

    low_m: tuple[float, float, float]
    high_m: tuple[float, float, float]

    def clip(self, xyz: np.ndarray) -> np.ndarray:
        return np.clip(xyz, np.asarray(self.low_m), np.asarray(self.high_m))

    def contains(self, xyz: np.ndarray, tolerance_m: float = 1e-6) -> bool:
        xyz = np.asarray(xyz)
        return bool(
            np.all(xyz >= np.asarray(self.low_m) - tolerance_m)
            and np.all(xyz <= np.asarray(self.high_m) + tolerance_m)
        )


@dataclass(frozen=True)
class RobotSpec:
    """What the layers above need to know of an arm."""

    name: str
    dof: int
    control_hz: float
    has_gripper: bool = True
    gripper_max_width_m: float = 0.08


@dataclass
class RobotState:
    """One reading of the robot. Poses are `xyz + quaternion (w, x, y, z)` in the base frame."""

    tcp_pose: np.ndarray  # (7,)
    tcp_velocity: np.ndarray  # (6,) linear m/s then angular rad/s
    joint_positions: np.ndarray  # (dof,) rad
    joint_velocities: np.ndarray  # (dof,) rad/s
    gripper_width_m: float
    wrench: np.ndarray  # (6,) force N then torque Nm at the TCP
    timestamp_s: float = 0.0

    def proprioception(self, gripper_max_width_m: float) -> np.ndarray:
        """The flat proprioceptive vector: tcp pose, tcp velocity, gripper (0..1), wrench."""
        return np.concatenate(
            [
                self.tcp_pose,
                self.tcp_velocity,
                [self.gripper_width_m / gripper_max_width_m],
                self.wrench,
            ]
        ).astype(np.float32)


@dataclass(frozen=True)
class ImageSpec:
    """One camera view as the policy sees it."""

    name: str
    height_px: int
    width_px: int


@dataclass(frozen=True)
class CellLayout:
    """How the states of several robot cells (tasks of different task-state sizes, arms of
    different proprioception) share one vector, so one policy trains on every cell's data:

        [state padded with zeros to `state_dim` | mask (1 where the cell has a value) |
         task id | embodiment id]

    The state encoder embeds the two ids (`policies/conditioning.py`)."""

    state_dim: int  # the largest cell's state
    task_names: tuple[str, ...]  # task id -> task
    instructions: tuple[str, ...]  # task id -> the task in words (language policies)
    embodiment_names: tuple[str, ...]  # embodiment id -> robot
    task_embedding_dim: int = 16
    embodiment_embedding_dim: int = 8

    @property
    def vector_dim(self) -> int:
        """The length of the padded state vector: values, mask and the two ids."""
        return 2 * self.state_dim + 2

    @property
    def task_id_index(self) -> int:
        return 2 * self.state_dim

    @property
    def embodiment_id_index(self) -> int:
        return 2 * self.state_dim + 1


@dataclass(frozen=True)
class ObservationSpec:
    """The observation dict: `state` (float32 vector) and one uint8 HxWx3 array per view."""

    state_dim: int
    images: tuple[ImageSpec, ...] = field(default_factory=tuple)
    instruction: str = ""  # the task in words, for language-conditioned policies
    cells: CellLayout | None = None  # several cells: `state` is laid out as this says

    @property
    def image_names(self) -> tuple[str, ...]:
        return tuple(view.name for view in self.images)
