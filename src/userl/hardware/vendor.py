"""What every real driver needs: its vendor module (imported only when used), settings that may
come from the robot node's environment, one-line errors, and wall-clock pacing."""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from types import ModuleType
from typing import TypeVar

from userl.hardware.pacing import Pacer  # noqa: F401  (the drivers' control-tick pacer)

T = TypeVar("T")


class HardwareUnavailable(RuntimeError):
    """A robot, camera or input device that cannot be used; the message is one line with the fix."""


class NoAnswer(TimeoutError):
    """A vendor call that did not return within its bound."""


def answered_within(call: Callable[[], T], timeout_s: float, what: str) -> T:
    """`call()`'s result, or `NoAnswer` once `timeout_s` passes. A vendor's blocking C++ call
    (a connect to a device that never answers) cannot be interrupted: it runs on a daemon
    thread, which is left behind if it never returns."""
    outcome: dict[str, object] = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the caller
            outcome["error"] = error
        finally:
            done.set()

    threading.Thread(target=run, name=f"vendor-{what}", daemon=True).start()
    if not done.wait(timeout_s):
        raise NoAnswer(f"{what} did not answer within {timeout_s} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


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
            f"the node that drives the hardware: pip install 'userl[{extra}]'"
        ) from None


def setting(value: str, env_var: str, key: str) -> str:
    """A config value, else the environment variable on the node where the driver runs."""
    resolved = value or os.environ.get(env_var, "")
    if not resolved:
        raise HardwareUnavailable(
            f"{key} is not set; pass {key}=... or export {env_var}=... on the robot node"
        )
    return resolved
