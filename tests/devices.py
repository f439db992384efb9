"""Input devices for tests on machines without them. The vendor modules are the real ones
(pyspacemouse, evdev); only the device at the end of the cable is scripted: its state objects
are the vendor's own types (`pyspacemouse.SpaceMouseState`, `evdev.InputEvent`)."""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest

SPACEMOUSE_NAME = "SpaceMouse Compact"


class ScriptedSpaceMouse:
    """What `pyspacemouse.open()` returns for a plugged-in device: `read()` gives `state`."""

    def __init__(self, pyspacemouse: Any) -> None:
        self.state = pyspacemouse.SpaceMouseState(buttons=[0, 0])
        self.closed = False
        self.open_kwargs: dict[str, Any] = {}

    def read(self) -> Any:
        return self.state

    def close(self) -> None:
        self.closed = True


def plug_in_spacemouse(monkeypatch: pytest.MonkeyPatch) -> ScriptedSpaceMouse:
    """The real pyspacemouse, seeing one connected device (the HID layer is scripted)."""
    pyspacemouse = pytest.importorskip("pyspacemouse")
    device = ScriptedSpaceMouse(pyspacemouse)

    def open_device(**kwargs: Any) -> ScriptedSpaceMouse:
        device.open_kwargs = kwargs
        return device

    monkeypatch.setattr(pyspacemouse, "get_connected_devices", lambda: [SPACEMOUSE_NAME])
    monkeypatch.setattr(pyspacemouse, "open", open_device)
    return device


class ScriptedKeyboard:
    """What `evdev.InputDevice(path)` returns for a keyboard: its key capabilities, and the
    queued `evdev.InputEvent`s."""

    def __init__(self, evdev: Any, keys: list[int]) -> None:
        self.evdev = evdev
        self.keys = keys
        self.events: deque = deque()
        self.closed = False

    def capabilities(self) -> dict[int, list[int]]:
        return {self.evdev.ecodes.EV_KEY: self.keys}

    def read_one(self) -> Any:
        return self.events.popleft() if self.events else None

    def press(self, code: int, value: int) -> None:
        self.events.append(self.evdev.InputEvent(0, 0, self.evdev.ecodes.EV_KEY, code, value))

    def close(self) -> None:
        self.closed = True


def plug_in_keyboards(
    monkeypatch: pytest.MonkeyPatch, devices: dict[str, list[int]]
) -> dict[str, ScriptedKeyboard]:
    """The real evdev, seeing input devices at the given paths with the given key codes."""
    evdev = pytest.importorskip("evdev")
    plugged = {path: ScriptedKeyboard(evdev, keys) for path, keys in devices.items()}

    def input_device(path: str) -> ScriptedKeyboard:
        if path not in plugged:
            raise FileNotFoundError(2, "No such file or directory", path)
        return plugged[path]

    monkeypatch.setattr(evdev, "list_devices", lambda: list(plugged))
    monkeypatch.setattr(evdev, "InputDevice", input_device)
    return plugged


def write_video(path: Any, frames: int = 60, bgr: tuple[int, int, int] = (200, 0, 0)) -> str:
    """A short MJPG video of one colour that OpenCV opens as it opens /dev/videoN."""
    cv2 = pytest.importorskip("cv2")
    import numpy as np

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (64, 48))
    frame = np.zeros((48, 64, 3), np.uint8)
    frame[...] = bgr
    for _ in range(frames):
        writer.write(frame)
    writer.release()
    return str(path)
