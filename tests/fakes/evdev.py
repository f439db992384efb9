"""A fake `evdev`: devices at DEVICES paths with queued key events."""

from __future__ import annotations

from collections import deque
from types import SimpleNamespace
from typing import Any

EV_KEY = 1
_NAMES = {"KEY_SPACE": 57, "KEY_S": 31, "KEY_F": 33, "KEY_G": 34, "KEY_P": 25, "KEY_R": 19,
          "KEY_A": 30}
ecodes = SimpleNamespace(EV_KEY=EV_KEY, KEY_SPACE=57, ecodes=_NAMES)
DEVICES: dict[str, dict[str, Any]] = {}  # path -> {"keys": [codes], "events": deque}


def list_devices() -> list[str]:
    return list(DEVICES)


class InputDevice:
    def __init__(self, path: str) -> None:
        self.path = path
        self.spec = DEVICES[path]

    def capabilities(self) -> dict[int, list[int]]:
        return {EV_KEY: self.spec["keys"]}

    def read_one(self) -> Any:
        events: deque = self.spec["events"]
        return events.popleft() if events else None

    def close(self) -> None:
        self.spec["closed"] = True


def add_device(path: str, keys: list[int]) -> deque:
    DEVICES[path] = {"keys": keys, "events": deque()}
    return DEVICES[path]["events"]


def key_event(code: int, value: int) -> Any:
    return SimpleNamespace(type=EV_KEY, code=code, value=value)


def reset() -> None:
    DEVICES.clear()
