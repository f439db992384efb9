"""What the simulated world needs of an arm: its joints, home pose, link chain and gripper."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from userl.geometry import mat_to_quat
from userl.hardware.sim.config import SimArmConfig


def quat_of(rotation: np.ndarray) -> tuple[float, float, float, float]:
    """The (w, x, y, z) quaternion of a rotation matrix, as a plain tuple."""
    w, x, y, z = (float(v) for v in mat_to_quat(rotation))
    return w, x, y, z


@dataclass(frozen=True)
class GripperGeometry:
    """A parallel gripper on the arm's last link: the hand's frame is placed at `mount_pos_m`
    / `mount_quat` in the last link (its z axis is the tool axis, the fingers slide along its
    y axis); the TCP lies `tcp_offset_m` along z, between the fingertips."""

    mount_pos_m: tuple[float, float, float]
    mount_quat: tuple[float, float, float, float]  # w x y z
    tcp_offset_m: float
    max_width_m: float
    hand_mass_kg: float
    hand_com_z_m: float  # the hand's centre of mass along the tool axis
    finger_mass_kg: float
    hand_half_size_m: tuple[float, float, float]  # the hand's collision box
    hand_center_z_m: float  # ... centred this far along the tool axis


class SimArm(ABC):
    """An arm the MuJoCo world builds: hinge joints `joint1..N` from the root body `link0`
    (placed at the config's `base_position_m`), motors on each, a gripper on the last link."""

    name: str
    home_q: np.ndarray  # (dofs,) rad: the start of every inverse kinematics solve
    lower_rad: np.ndarray
    upper_rad: np.ndarray
    torque_limits_nm: np.ndarray
    gripper: GripperGeometry

    @property
    def dofs(self) -> int:
        return len(self.home_q)

    @abstractmethod
    def links_xml(self, cfg: SimArmConfig, hand_xml: str) -> str:
        """The MJCF of `link0` and its nested links; `hand_xml` goes into the last link."""
