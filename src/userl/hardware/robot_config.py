"""What every robot driver is configured with: views, camera devices and the safety layer."""

from __future__ import annotations

from dataclasses import dataclass, field

from userl.core.registry import ComponentConfig
from userl.hardware.cameras.threaded import CameraDevicesConfig
from userl.hardware.safety import SafetyConfig

RENDER_VIEW = "front"  # the camera view env.render() and evaluation videos show


@dataclass
class RobotConfig(ComponentConfig):
    realtime: bool = False  # pace the control loop to wall-clock time
    image_height_px: int = 128  # height of each camera view the policy sees
    image_width_px: int = 128  # width of each camera view the policy sees
    camera_names: list[str] = field(default_factory=lambda: ["front", "wrist"])  # the camera views
    # read under obs=image

    reward_camera_names: list[str] = field(default_factory=list)  # views read only for the reward
    # (a success classifier's), whatever `obs=`; the policy never sees them (a name also in
    # camera_names under obs=image is read once, for both)

    camera_driver: str = "sim"  # a registered camera driver (CAMERAS)
    render_height_px: int = 240  # env.render() and episode videos: the front camera's frame
    render_width_px: int = 320  # env.render() and episode videos: the front camera's frame width
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    cameras: CameraDevicesConfig = field(default_factory=CameraDevicesConfig)

    def problem(self) -> str | None:
        return self.safety.problem()
