"""Human input devices behind the `Teleop` interface; importing this package registers them
(vendor modules load on use)."""

from userl.hardware.teleop import keyboard, spacemouse  # noqa: F401
from userl.hardware.teleop.base import Teleop, TeleopCommand

__all__ = ["Teleop", "TeleopCommand"]
