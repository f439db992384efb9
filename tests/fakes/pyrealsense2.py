"""A fake `pyrealsense2`: one device per serial in DEVICES, delivering a fixed test pattern."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

CALLS: list[tuple[str, Any]] = []
DEVICES: dict[str, np.ndarray] = {}  # serial -> the RGB frame it delivers

stream = SimpleNamespace(color="color")
format = SimpleNamespace(rgb8="rgb8")  # noqa: A001 - the vendor's name
camera_info = SimpleNamespace(serial_number="serial_number")


class _Device:
    def __init__(self, serial: str) -> None:
        self.serial = serial

    def get_info(self, key: str) -> str:
        return self.serial


class context:  # noqa: N801 - the vendor's name
    def query_devices(self) -> list[_Device]:
        return [_Device(serial) for serial in DEVICES]


class config:  # noqa: N801
    def __init__(self) -> None:
        self.serial: str | None = None

    def enable_device(self, serial: str) -> None:
        CALLS.append(("enable_device", serial))
        self.serial = serial

    def enable_stream(self, kind: str, width: int, height: int, fmt: str, fps: int) -> None:
        CALLS.append(("enable_stream", (kind, width, height, fmt, fps)))


class _Frame:
    def __init__(self, image: np.ndarray) -> None:
        self.image = image

    def get_data(self) -> np.ndarray:
        return self.image

    def __bool__(self) -> bool:
        return True


class pipeline:  # noqa: N801
    def __init__(self) -> None:
        self.serial: str | None = None

    def start(self, cfg: config) -> None:
        if cfg.serial not in DEVICES:
            raise RuntimeError("No device connected")
        CALLS.append(("start", cfg.serial))
        self.serial = cfg.serial

    def wait_for_frames(self, timeout_ms: int) -> Any:
        image = DEVICES[self.serial]
        return SimpleNamespace(get_color_frame=lambda: _Frame(image))

    def stop(self) -> None:
        CALLS.append(("stop", self.serial))


def reset() -> None:
    CALLS.clear()
    DEVICES.clear()
