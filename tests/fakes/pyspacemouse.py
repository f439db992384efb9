"""A fake `pyspacemouse`: `open()` returns a device whose `read()` gives STATE."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

CALLS: list[tuple[str, Any]] = []
PRESENT: list[bool] = [True]
STATE = SimpleNamespace(t=0.0, x=0.0, y=0.0, z=0.0, roll=0.0, pitch=0.0, yaw=0.0, buttons=[0, 0])


class _Device:
    def read(self) -> Any:
        return SimpleNamespace(**vars(STATE))

    def close(self) -> None:
        CALLS.append(("close", None))


def open(device: str | None = None) -> Any:  # noqa: A001 - the vendor's name
    CALLS.append(("open", device))
    return _Device() if PRESENT[0] else None


def list_devices() -> list[str]:
    return ["SpaceMouse Compact"] if PRESENT[0] else []


def reset() -> None:
    CALLS.clear()
    PRESENT[:] = [True]
    for axis in ("x", "y", "z", "roll", "pitch", "yaw"):
        setattr(STATE, axis, 0.0)
    STATE.buttons = [0, 0]
