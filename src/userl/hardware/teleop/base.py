"""The teleoperation interface: what a human's device says at one control step."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from userl.core.registry import ComponentConfig
from userl.core.specs import ACTION_DIM


@dataclass
class TeleopConfig(ComponentConfig):
    """Who may take over from the policy during training; `none`: nobody."""

    hold_after_input_s: float = 0.5  # the human keeps control this long after the last input
    budget_steps: int = 0  # intervened steps allowed over the whole run; 0: no limit


LABELS = ("success", "failure", "start", "stop", "hold", "release")
"""Events a device may report: episode marks, start/stop, emergency hold and its release."""


@dataclass
class TeleopCommand:
    """`action`: the common 7-D action `[dx dy dz drx dry drz gripper]` in [-1, 1] in the robot
    base frame (gripper -1 open .. +1 closed); `active`: the human is giving input (|a| above
    the device's threshold, or a button); `events`: labels since the last read (LABELS)."""

    action: np.ndarray = field(default_factory=lambda: np.zeros(ACTION_DIM, np.float32))
    active: bool = False
    buttons: tuple[bool, ...] = ()
    events: tuple[str, ...] = ()


class Teleop(ABC):
    """A device polled once per control step; never blocks."""

    @abstractmethod
    def read(self) -> TeleopCommand:
        """The device's state now."""

    @abstractmethod
    def close(self) -> None:
        """Release the device."""
