"""A camera whose capture thread keeps only the latest frame, cropped and resized to the
policy's size, so `read()` never waits on the device. A failed grab (a frame timeout, a USB
hiccup) is counted and retried; a camera with no new frame for `silent_fault_s` is reported by
`read()` as a fault, with its count of failed grabs and the last error."""

from __future__ import annotations

import os
import threading
import time
from abc import abstractmethod
from dataclasses import dataclass, field

import numpy as np

from userl.hardware.base import Camera
from userl.hardware.vendor import HardwareUnavailable, first_line


@dataclass
class CameraDevicesConfig:
    """Real cameras: which device is which view, capture size, and the crop to the policy's."""

    serials: dict[str, str] = field(default_factory=dict)  # view -> RealSense serial number
    uvc_devices: dict[str, str] = field(default_factory=dict)  # view -> OpenCV index or path
    serial_env_prefix: str = "USERL_CAMERA_SERIAL_"  # + VIEW (upper case): serial on the node
    device_env_prefix: str = "USERL_CAMERA_DEVICE_"  # + VIEW (upper case): UVC device on the node
    capture_width_px: int = 640  # frame width the camera captures (before the crop and resize)
    capture_height_px: int = 480  # frame height the camera captures
    capture_fps: int = 30  # frames per second the camera captures
    crops: dict[str, list[int]] = field(default_factory=dict)  # view -> [top, left, h, w] px;
    # absent: the largest centred crop with the output's aspect ratio

    first_frame_timeout_s: float = 5.0  # a camera that delivers nothing this long is an error
    frame_wait_s: float = 1.0  # the capture thread waits this long for each frame
    silent_fault_s: float = 2.0  # no new frame this long (timeouts retried): the camera is faulty
    retry_wait_s: float = 0.05  # after a failed grab the capture thread waits this long


def centred_crop(height: int, width: int, out_height: int, out_width: int) -> list[int]:
    """`[top, left, h, w]`: the largest centred window with the output's aspect ratio."""
    scale = min(height / out_height, width / out_width)
    h, w = int(round(out_height * scale)), int(round(out_width * scale))
    return [(height - h) // 2, (width - w) // 2, h, w]


def resize_bilinear(image: np.ndarray, out_height: int, out_width: int) -> np.ndarray:
    """Bilinear resize of a uint8 (H, W, C) image (pixel centres aligned), in numpy."""
    height, width = image.shape[:2]
    if (height, width) == (out_height, out_width):
        return image.copy()
    ys = np.clip((np.arange(out_height) + 0.5) * height / out_height - 0.5, 0, height - 1)
    xs = np.clip((np.arange(out_width) + 0.5) * width / out_width - 0.5, 0, width - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, height - 1), np.minimum(x0 + 1, width - 1)
    wy, wx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    data = image.astype(np.float32)
    top = data[y0][:, x0] * (1 - wx) + data[y0][:, x1] * wx
    bottom = data[y1][:, x0] * (1 - wx) + data[y1][:, x1] * wx
    return np.clip(np.rint(top * (1 - wy) + bottom * wy), 0, 255).astype(np.uint8)


def crop_and_resize(
    frame: np.ndarray, crop: list[int] | None, out_height: int, out_width: int
) -> np.ndarray:
    """The `[top, left, h, w]` window (or the centred one) resized to the output size."""
    top, left, h, w = crop or centred_crop(frame.shape[0], frame.shape[1], out_height, out_width)
    window = frame[top : top + h, left : left + w]
    if window.shape[0] != h or window.shape[1] != w:
        raise HardwareUnavailable(
            f"crop {[top, left, h, w]} lies outside the {frame.shape[1]}x"
            f"{frame.shape[0]} frame; fix robot.cameras.crops"
        )
    return resize_bilinear(window, out_height, out_width)


def device_setting(table: dict[str, str], env_prefix: str, view: str, key: str) -> str:
    """A view's device from the config table, else `$<env_prefix><VIEW>` on the robot node."""
    env_var = env_prefix + view.upper()
    value = table.get(view) or os.environ.get(env_var, "")
    if not value:
        raise HardwareUnavailable(
            f"no device for camera view {view!r}; set "
            f"robot.cameras.{key}.{view}=... or export {env_var}=... on the "
            "robot node (`userl doctor` lists the connected cameras)"
        )
    return value


class ThreadedCamera(Camera):
    """Subclasses open the device, then call `start()`; `grab()` returns one RGB frame."""

    def __init__(
        self, name: str, height_px: int, width_px: int, devices: CameraDevicesConfig
    ) -> None:
        self.name, self.height_px, self.width_px = name, height_px, width_px
        self.devices = devices
        self.crop = devices.crops.get(name)
        self.frames = 0  # frames captured so far
        self.failed_grabs = 0  # grabs that raised (timeouts included), each retried
        self._latest: np.ndarray | None = None
        self._latest_s = 0.0  # monotonic time of the latest frame
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ready = threading.Event()  # set by the first frame or the first error
        self._thread: threading.Thread | None = None

    @abstractmethod
    def grab(self) -> np.ndarray | None:
        """The next RGB uint8 frame from the device (blocking up to `frame_wait_s`), or None."""

    @abstractmethod
    def release(self) -> None:
        """Close the device."""

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._capture, name=f"camera-{self.name}", daemon=True
        )
        self._thread.start()
        self._ready.wait(self.devices.first_frame_timeout_s)
        if self._latest is None:
            self.close()
            reason = f": {first_line(self._error)}" if self._error else ""
            raise HardwareUnavailable(
                f"camera {self.name!r} delivered no frame within "
                f"{self.devices.first_frame_timeout_s} s{reason}; check its cable (USB 3 for a "
                "RealSense) and that no other program holds it"
            )

    def _capture(self) -> None:
        while not self._stop.is_set():
            try:
                frame = self.grab()
            except Exception as error:  # counted and retried; read() reports a silent camera
                with self._lock:
                    self._error = error
                    self.failed_grabs += 1
                self._stop.wait(self.devices.retry_wait_s)
                continue
            if frame is None:
                continue
            try:
                image = crop_and_resize(frame, self.crop, self.height_px, self.width_px)
            except HardwareUnavailable as error:  # a crop outside the frame never heals
                self._error = error
                self._ready.set()
                return
            with self._lock:
                self._latest = image
                self._latest_s = time.monotonic()
                self.frames += 1
            self._ready.set()

    def read(self) -> np.ndarray:
        with self._lock:
            latest, latest_s, error = self._latest, self._latest_s, self._error
        silent_s = time.monotonic() - latest_s
        if latest is None or silent_s > self.devices.silent_fault_s:
            raise HardwareUnavailable(
                f"camera {self.name!r} delivered no frame for {silent_s:.1f} s "
                f"({self.failed_grabs} failed grabs, last: {first_line(error) if error else '-'})"
                "; check its cable and restart"
            )
        return latest.copy()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.devices.frame_wait_s * 2)
        self.release()
