"""A 3Dconnexion SpaceMouse through pyspacemouse 2.x (`spacemouse`): six axes, read in an
explicit axis convention (`teleop.axis_convention`), become the base-frame motion of the
action; two buttons close and open the gripper. Every "no device" path is a one-line
`HardwareUnavailable`."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from userl.core.registry import TELEOPS
from userl.core.specs import ACTION_DIM
from userl.hardware.teleop.base import Teleop, TeleopCommand, TeleopConfig
from userl.hardware.vendor import HardwareUnavailable, first_line, import_vendor


@dataclass
class SpaceMouseConfig(TeleopConfig):
    """A 3Dconnexion SpaceMouse through pyspacemouse (`hardware/teleop/spacemouse.py`)."""

    device: str = ""  # pyspacemouse device name; empty: the first one found
    dead_zone_fraction: float = 0.05  # axis deflections below this share of full scale read 0
    translation_scale: float = 1.0  # action per full deflection, translation axes
    rotation_scale: float = 1.0  # action per full deflection, rotation axes
    active_threshold: float = 0.001  # |action| above this counts as human input
    axis_convention: str = "hid_z_up"  # pyspacemouse's axis convention (not its deprecated `legacy`
    # one); hid_z_up: x right, y away from the operator, z up, rotations right-handed about those
    # axes

    axis_map: list[int] = field(default_factory=lambda: [1, 0, 2, 4, 3, 5])  # device axis (x y z
    # roll pitch yaw) feeding each base-frame action axis (dx dy dz drx dry drz), for an operator
    # facing the robot (base x away from them, y to their left)

    axis_signs: list[float] = field(
        default_factory=lambda: [1.0, -1.0, 1.0, 1.0, -1.0, 1.0]
    )  # the sign applied to each mapped device axis, for the operator placement of axis_map

    close_button: int = 0  # button index that closes the gripper
    open_button: int = 1  # button index that opens it


AXES = ("x", "y", "z", "roll", "pitch", "yaw")
GRIPPER_CLOSED, GRIPPER_OPEN = 1.0, -1.0  # the action's gripper convention
LEGACY = "legacy"  # pyspacemouse's deprecated axis convention


def shape_axes(raw: np.ndarray, config: SpaceMouseConfig) -> np.ndarray:
    """Device axes in [-1, 1] -> base-frame motion: axis map and signs, dead zone (rescaled so
    the output starts at 0 at its edge), scale, clip."""
    mapped = raw[np.asarray(config.axis_map)] * np.asarray(config.axis_signs)
    dead = config.dead_zone_fraction
    magnitude = np.clip((np.abs(mapped) - dead) / (1.0 - dead), 0.0, None)
    shaped = np.sign(mapped) * magnitude
    shaped[:3] *= config.translation_scale
    shaped[3:] *= config.rotation_scale
    return np.clip(shaped, -1.0, 1.0)


def axis_convention(pyspacemouse: ModuleType, name: str) -> Any:
    """pyspacemouse's AxisConvention named `name`; its deprecated `legacy` one is refused."""
    conventions = {c.value: c for c in pyspacemouse.AxisConvention if c.value != LEGACY}
    if name not in conventions:
        raise HardwareUnavailable(
            f"teleop.axis_convention={name!r} is not one of "
            f"{', '.join(conventions)} (pyspacemouse's {LEGACY!r} one is "
            "deprecated); the default is hid_z_up"
        )
    return conventions[name]


def connected_spacemice(pyspacemouse: ModuleType) -> list[str]:
    """Names of the connected SpaceMice; `[]` when none is, a one-line error without HID."""
    try:
        return list(pyspacemouse.get_connected_devices())
    except (RuntimeError, OSError) as error:  # no HID library, or no hidraw access
        raise HardwareUnavailable(
            f"cannot list SpaceMice ({first_line(error)}); install the HID library "
            "(apt-get install libhidapi-hidraw0) and the udev rule from docs/real-robot.md"
        ) from None


@TELEOPS.register("spacemouse", config=SpaceMouseConfig)
class SpaceMouseTeleop(Teleop):
    """The gripper value holds the last button pressed (closed or open) between presses."""

    def __init__(self, config: SpaceMouseConfig) -> None:
        if len(config.axis_map) != 6 or sorted(config.axis_map) != list(range(6)):
            raise HardwareUnavailable(
                f"teleop.axis_map={config.axis_map} must order the six device axes 0..5, each once"
            )
        self.config = config
        self.pyspacemouse = import_vendor("pyspacemouse", "teleop", "teleop 'spacemouse'")
        convention = axis_convention(self.pyspacemouse, config.axis_convention)
        found = connected_spacemice(self.pyspacemouse)
        if not found:
            raise HardwareUnavailable(
                "no SpaceMouse found; plug it in, install the udev rule from docs/real-robot.md "
                "(hidraw access), and check `userl doctor`"
            )
        if config.device and config.device not in found:
            raise HardwareUnavailable(
                f"SpaceMouse {config.device!r} (teleop.device) is not connected; connected: "
                f"{', '.join(found) or 'none'}"
            )
        try:
            self.device: Any = self.pyspacemouse.open(
                device=config.device or None, axis_convention=convention
            )
        except (RuntimeError, OSError) as error:  # pyspacemouse's "no device", HID access
            raise HardwareUnavailable(
                f"cannot open the SpaceMouse ({first_line(error)}); check the udev rule from "
                "docs/real-robot.md (hidraw access) and `userl doctor`"
            ) from None
        self.gripper = GRIPPER_OPEN

    def read(self) -> TeleopCommand:
        state = self.device.read()
        raw = np.array([float(getattr(state, axis)) for axis in AXES])
        buttons = tuple(bool(b) for b in getattr(state, "buttons", ()))
        motion = shape_axes(raw, self.config)
        pressed = False
        for index, value in (
            (self.config.close_button, GRIPPER_CLOSED),
            (self.config.open_button, GRIPPER_OPEN),
        ):
            if index < len(buttons) and buttons[index]:
                self.gripper, pressed = value, True
        action = np.zeros(ACTION_DIM, np.float32)
        action[:6], action[6] = motion, self.gripper
        active = pressed or bool(np.max(np.abs(motion)) > self.config.active_threshold)
        return TeleopCommand(action=action, active=active, buttons=buttons)

    def close(self) -> None:
        self.device.close()
