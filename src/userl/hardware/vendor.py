"""What every real driver needs: its vendor module (imported only when used), settings that may
come from the robot node's environment, one-line errors, and wall-clock pacing."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

from userl.hardware.pacing import Pacer  # noqa: F401  (the drivers' control-tick pacer)


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
