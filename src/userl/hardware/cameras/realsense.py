"""Intel RealSense colour stream through pyrealsense2, by serial number (`realsense`). The
serial is looked up with `query_devices()` (milliseconds) before `pipeline.start()` (which
takes 15 s to fail without the device); a frame timeout is retried by the capture thread."""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from userl.core.registry import CAMERAS
from userl.hardware.base import Robot
from userl.hardware.cameras.threaded import ThreadedCamera, device_setting
from userl.hardware.vendor import HardwareUnavailable, first_line, import_vendor

if TYPE_CHECKING:
    from userl.hardware.robot_config import RobotConfig


def realsense_module() -> ModuleType:
    return import_vendor("pyrealsense2", "realsense", "camera driver 'realsense'")


def realsense_serials() -> list[str]:
    """Serial numbers of the RealSense devices on this machine."""
    rs = realsense_module()
    return [
        device.get_info(rs.camera_info.serial_number) for device in rs.context().query_devices()
    ]


@CAMERAS.register("realsense")
class RealSenseCamera(ThreadedCamera):
    @classmethod
    def connected_devices(cls) -> list[str] | None:
        """Serial numbers of the RealSense cameras on this machine."""
        return realsense_serials()

    """The view's RealSense (`robot.cameras.serials.VIEW` or `$USERL_CAMERA_SERIAL_VIEW`),
    streaming RGB at the capture size; frames are cropped and resized to the policy's size."""

    def __init__(self, name: str, robot: Robot, config: RobotConfig) -> None:
        devices = config.cameras
        super().__init__(name, config.image_height_px, config.image_width_px, devices)
        self.rs = realsense_module()
        self.serial = device_setting(devices.serials, devices.serial_env_prefix, name, "serials")
        rs = self.rs
        connected = realsense_serials()  # answers at once; a start without the device takes 15 s
        if self.serial not in connected:
            raise HardwareUnavailable(
                f"RealSense {self.serial} (view {name!r}) is not connected (connected: "
                f"{', '.join(connected) or 'none'}); check the serial (`userl doctor` lists them) "
                "and the USB 3 cable"
            )
        stream = rs.config()
        stream.enable_device(self.serial)
        stream.enable_stream(
            rs.stream.color,
            devices.capture_width_px,
            devices.capture_height_px,
            rs.format.rgb8,
            devices.capture_fps,
        )
        self.pipeline: Any = rs.pipeline()
        try:
            self.pipeline.start(stream)
        except Exception as error:  # the SDK raises RuntimeError for a missing device
            raise HardwareUnavailable(
                f"RealSense {self.serial} (view {name!r}) cannot start: {first_line(error)}; "
                "check the serial (`userl doctor` lists connected ones) and the USB 3 cable"
            ) from None
        self.start()

    def grab(self) -> np.ndarray | None:
        frames = self.pipeline.wait_for_frames(int(self.devices.frame_wait_s * 1000))
        color = frames.get_color_frame()
        if not color:
            return None
        return np.asanyarray(color.get_data())

    def release(self) -> None:
        self.pipeline.stop()
