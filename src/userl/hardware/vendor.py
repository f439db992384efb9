"""What every real driver needs: its vendor module (imported only when used), settings that may
come from the robot node's environment, one-line errors, and wall-clock pacing."""

from __future__ import annotations

import importlib
import os
import time
from types import ModuleType


class HardwareUnavailable(RuntimeError):
    """A robot, camera or input device that cannot be used; the message is one line with the fix."""


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def import_vendor(module: str, extra: str, needed_by: str) -> ModuleType:
    """`import module`, or a one-line error naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise HardwareUnavailable(
            f"{needed_by} needs the Python module {module!r} ({first_line(error)}); install it on "
            f"the node that drives the hardware: pip install 'userl[{extra}]'") from None


def setting(value: str, env_var: str, key: str) -> str:
    """A config value, else the environment variable on the node where the driver runs."""
    resolved = value or os.environ.get(env_var, "")
    if not resolved:
        raise HardwareUnavailable(f"{key} is not set; pass {key}=... or export {env_var}=... on "
                                  "the robot node")
    return resolved


class Pacer:
    """Blocks until the next control tick; deadlines advance by the period (work time is not
    added), and a tick later than one whole period restarts the schedule."""

    def __init__(self, control_hz: float) -> None:
        self.period_s = 1.0 / control_hz
        self._deadline_s: float | None = None
        self.late_ticks = 0

    def restart(self) -> None:
        self._deadline_s = None

    def wait(self) -> None:
        now = time.monotonic()
        if self._deadline_s is None or now > self._deadline_s + self.period_s:
            if self._deadline_s is not None:
                self.late_ticks += 1
            self._deadline_s = now + self.period_s
        else:
            self._deadline_s += self.period_s
        delay = self._deadline_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)
