"""The hardware interfaces: a robot arm with a gripper, and a camera (docs/design.md, section 4).

Conventions: poses are `xyz (m) + quaternion (w, x, y, z)` in the robot base frame; the
gripper command is the opening as a fraction of the maximum width (0 = closed, 1 = open).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from userl.core.specs import RobotSpec, RobotState


@dataclass(frozen=True)
class SceneFragment:
    """What a task adds to a simulated world (MJCF text). Real robots ignore it.

    `worldbody_xml` goes into `<worldbody>`; `tcp_xml` is placed in the TCP frame (z along the
    tool axis, pointing out of the gripper), e.g. a peg held between the fingers;
    `asset_xml` goes into `<asset>`. `mocap_bodies` names worldbody bodies the task poses at
    each reset. Movable objects are worldbody bodies with a free joint (`OBJECT_CONTACT`).
    """

    worldbody_xml: str = ""
    tcp_xml: str = ""
    asset_xml: str = ""
    mocap_bodies: tuple[str, ...] = field(default_factory=tuple)


class Robot(ABC):
    """An arm with a parallel gripper under a Cartesian impedance controller."""

    spec: RobotSpec
    paced_to_real_time: bool = True  # a real arm always is; a simulation may run faster

    @abstractmethod
    def connect(self) -> None:
        """Open the connection (a no-op for a simulation)."""

    @abstractmethod
    def state(self) -> RobotState:
        """The latest reading; never blocks on the control loop."""

    @abstractmethod
    def command(self, target_tcp_pose: np.ndarray, gripper: float) -> None:
        """Set the impedance target (7,) and the gripper opening in [0, 1]; returns at once."""

    @abstractmethod
    def tick(self) -> None:
        """Block until the next control tick (a simulation advances one control period)."""

    @abstractmethod
    def reset(self, tcp_pose: np.ndarray, gripper: float) -> None:
        """Move to `tcp_pose` with the gripper at `gripper`; returns when there."""

    @abstractmethod
    def hold(self) -> None:
        """Make the current pose the target, so the arm stays where it is."""

    @abstractmethod
    def close(self) -> None:
        """Release the hardware."""


@runtime_checkable
class SceneControl(Protocol):
    """A robot whose world the task may arrange and read (a simulation): poses and velocities
    of named bodies (mocap or free), positions of named hinge/slide joints."""

    def set_body_pose(self, name: str, pose: np.ndarray) -> None: ...

    def body_pose(self, name: str) -> np.ndarray: ...

    def body_velocity(self, name: str) -> np.ndarray: ...

    def joint_position(self, name: str) -> float: ...

    def set_joint_position(self, name: str, value: float) -> None: ...


class Camera(ABC):
    """An RGB camera delivering frames of `height_px` x `width_px`."""

    name: str
    height_px: int
    width_px: int
    simulated: ClassVar[bool] = False  # rendered by a simulation: no device to check

    @abstractmethod
    def read(self) -> np.ndarray:
        """The latest frame, uint8 (H, W, 3)."""

    @classmethod
    def connected_devices(cls) -> list[str] | None:
        """The devices of this driver plugged into this machine, or None when the driver
        cannot list them (each view is then checked by opening it)."""
        return None

    def close(self) -> None:  # noqa: B027 - optional for drivers without resources
        """Release the device."""
