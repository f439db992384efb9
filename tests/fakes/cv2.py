"""A fake `cv2` with `VideoCapture` over DEVICES (index or path -> BGR frame)."""

from __future__ import annotations

from typing import Any

import numpy as np

CALLS: list[tuple[str, Any]] = []
DEVICES: dict[Any, np.ndarray] = {}
CAP_PROP_FRAME_WIDTH, CAP_PROP_FRAME_HEIGHT, CAP_PROP_FPS = 3, 4, 5


class VideoCapture:
    def __init__(self, device: Any) -> None:
        CALLS.append(("VideoCapture", device))
        self.device = device

    def isOpened(self) -> bool:  # noqa: N802 - the vendor's name
        return self.device in DEVICES

    def set(self, prop: int, value: float) -> bool:
        CALLS.append(("set", (prop, value)))
        return True

    def read(self) -> tuple[bool, np.ndarray | None]:
        frame = DEVICES.get(self.device)
        return frame is not None, frame

    def release(self) -> None:
        CALLS.append(("release", self.device))


def reset() -> None:
    CALLS.clear()
    DEVICES.clear()
