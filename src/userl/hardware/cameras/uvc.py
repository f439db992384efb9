"""A generic UVC (USB video class) camera through OpenCV's `cv2.VideoCapture` (`uvc`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from userl.core.registry import CAMERAS
from userl.hardware.base import Robot
from userl.hardware.cameras.threaded import ThreadedCamera, device_setting
from userl.hardware.vendor import HardwareUnavailable, import_vendor

if TYPE_CHECKING:
    from userl.hardware.robot_config import RobotConfig


@CAMERAS.register("uvc")
class UVCCamera(ThreadedCamera):
    """The view's device (`robot.cameras.uvc_devices.VIEW` or `$USERL_CAMERA_DEVICE_VIEW`: an
    index such as 0 or a path such as /dev/video2); OpenCV's BGR frames become RGB."""

    def __init__(self, name: str, robot: Robot, config: RobotConfig) -> None:
        devices = config.cameras
        super().__init__(name, config.image_height_px, config.image_width_px, devices)
        cv2 = import_vendor("cv2", "uvc", "camera driver 'uvc'")
        device = device_setting(devices.uvc_devices, devices.device_env_prefix, name, "uvc_devices")
        self.device = int(device) if device.isdigit() else device
        self.capture: Any = cv2.VideoCapture(self.device)
        if not self.capture.isOpened():
            raise HardwareUnavailable(
                f"UVC camera {device} (view {name!r}) cannot be opened; "
                "check `ls /dev/video*` and that you are in the video group"
            )
        self.capture.set(cv2.CAP_PROP_FRAME_WIDTH, devices.capture_width_px)
        self.capture.set(cv2.CAP_PROP_FRAME_HEIGHT, devices.capture_height_px)
        self.capture.set(cv2.CAP_PROP_FPS, devices.capture_fps)
        self.start()

    def grab(self) -> np.ndarray:
        ok, frame = self.capture.read()
        if not ok or frame is None:
            raise HardwareUnavailable(
                f"UVC camera {self.device} (view {self.name!r}) gave no frame; check its cable"
            )
        return np.ascontiguousarray(frame[..., ::-1])

    def release(self) -> None:
        self.capture.release()
