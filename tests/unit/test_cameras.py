"""Camera drivers on the real vendor packages (pyrealsense2 and OpenCV; no camera here): the
capture thread against a scripted device, a RealSense that is not connected, and a UVC camera
that OpenCV reads from a video file."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from userl.hardware.cameras.realsense import RealSenseCamera, realsense_serials
from userl.hardware.cameras.threaded import (
    CameraDevicesConfig,
    ThreadedCamera,
    centred_crop,
    crop_and_resize,
    resize_bilinear,
)
from userl.hardware.cameras.uvc import UVCCamera
from userl.hardware.robots.franka import FrankaConfig
from userl.hardware.vendor import HardwareUnavailable

WAIT_BOUND_S = 30.0
FRAME_TIMEOUT = "Frame didn't arrive within 1000"  # pyrealsense2's wait_for_frames timeout


def pattern(height: int, width: int) -> np.ndarray:
    """Each pixel encodes its row in red and its column in green."""
    rows, cols = np.mgrid[0:height, 0:width]
    return np.stack([rows % 256, cols % 256, np.zeros_like(rows)], axis=-1).astype(np.uint8)


def robot_config(**cameras) -> FrankaConfig:
    return FrankaConfig(
        ip="x",
        image_height_px=32,
        image_width_px=32,
        cameras=CameraDevicesConfig(capture_width_px=64, capture_height_px=48, **cameras),
    )


def test_centred_crop_keeps_the_output_aspect_ratio() -> None:
    assert centred_crop(480, 640, 128, 128) == [0, 80, 480, 480]
    assert centred_crop(480, 640, 60, 160) == [120, 0, 240, 640]


def test_resize_is_exact_for_constant_images_and_identity_at_same_size() -> None:
    image = np.full((40, 60, 3), 77, np.uint8)
    assert np.all(resize_bilinear(image, 10, 13) == 77)
    assert np.array_equal(resize_bilinear(pattern(8, 8), 8, 8), pattern(8, 8))


def test_crop_outside_the_frame_is_an_error_naming_the_key() -> None:
    with pytest.raises(HardwareUnavailable, match="robot.cameras.crops"):
        crop_and_resize(pattern(48, 64), [40, 0, 20, 20], 8, 8)


class ScriptedCamera(ThreadedCamera):
    """A device whose grabs follow `script` (a frame, or an exception to raise), then repeat
    its last entry."""

    def __init__(self, script: list, devices: CameraDevicesConfig, size: int = 32) -> None:
        super().__init__("front", size, size, devices)
        self.script = list(script)
        self.released = False
        self.start()

    def grab(self) -> np.ndarray | None:
        item = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(item, Exception):
            time.sleep(0.01)
            raise item
        return item

    def release(self) -> None:
        self.released = True


def wait_until(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + WAIT_BOUND_S
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_capture_crops_and_resizes_as_configured() -> None:
    devices = CameraDevicesConfig(crops={"front": [8, 16, 32, 32]})
    camera = ScriptedCamera([pattern(48, 64)], devices)
    frame = camera.read()
    camera.close()
    assert frame.shape == (32, 32, 3) and frame.dtype == np.uint8
    assert np.array_equal(frame[:, :, 0], np.repeat(np.arange(8, 40)[:, None], 32, 1))
    assert np.array_equal(frame[:, :, 1], np.repeat(np.arange(16, 48)[None, :], 32, 0))
    assert camera.released


def test_capture_thread_survives_frame_timeouts_and_counts_them() -> None:
    """A frame timeout used to end the capture thread for good."""
    timeout = RuntimeError(FRAME_TIMEOUT)
    camera = ScriptedCamera(
        [pattern(48, 64), timeout, timeout, timeout, pattern(48, 64)], CameraDevicesConfig()
    )
    assert wait_until(lambda: camera.frames >= 2)  # frames again after the timeouts
    assert camera.failed_grabs == 3
    assert camera.read().shape == (32, 32, 3)
    camera.close()


def test_a_camera_that_stays_silent_is_reported_as_a_fault_in_one_line() -> None:
    devices = CameraDevicesConfig(silent_fault_s=0.2)
    camera = ScriptedCamera([pattern(48, 64), RuntimeError(FRAME_TIMEOUT + "\ndetail")], devices)

    def faulty() -> bool:
        try:
            camera.read()
        except HardwareUnavailable:
            return True
        return False

    assert wait_until(faulty)
    with pytest.raises(
        HardwareUnavailable, match="no frame for .*failed grabs, last: Frame didn't arrive"
    ) as error:
        camera.read()
    assert "\n" not in str(error.value) and camera.failed_grabs >= 1
    camera.close()


def test_a_camera_without_a_first_frame_is_one_line() -> None:
    devices = CameraDevicesConfig(first_frame_timeout_s=0.2)
    with pytest.raises(HardwareUnavailable, match="delivered no frame within") as error:
        ScriptedCamera([RuntimeError(FRAME_TIMEOUT)], devices)
    assert "\n" not in str(error.value)


@pytest.fixture
def realsense():
    rs = pytest.importorskip("pyrealsense2", reason="pyrealsense2 is not installed")
    if realsense_serials():
        pytest.skip("a RealSense is connected to this machine")
    return rs


def test_realsense_lists_no_device_here(realsense) -> None:
    assert realsense_serials() == []


def test_realsense_not_connected_is_found_before_starting_the_pipeline(realsense) -> None:
    """`query_devices()` answers at once; `pipeline.start()` took 15 s to fail."""
    config = robot_config(serials={"front": "123456789012"})
    with pytest.raises(
        HardwareUnavailable,
        match=r"RealSense 123456789012 \(view 'front'\) is "
        r"not connected \(connected: none\).*userl doctor",
    ) as error:
        RealSenseCamera("front", None, config)  # type: ignore[arg-type]
    assert "\n" not in str(error.value)


def test_realsense_missing_serial_is_one_line(realsense, monkeypatch) -> None:
    monkeypatch.delenv("USERL_CAMERA_SERIAL_FRONT", raising=False)
    with pytest.raises(HardwareUnavailable, match="USERL_CAMERA_SERIAL_FRONT") as error:
        RealSenseCamera("front", None, robot_config())  # type: ignore[arg-type]
    assert "\n" not in str(error.value)


@pytest.fixture
def cv2():
    return pytest.importorskip("cv2", reason="opencv-python-headless is not installed")


def test_uvc_reads_bgr_as_rgb_through_opencv(cv2, tmp_path: Path) -> None:
    """OpenCV opens a video file as it opens /dev/videoN: the same capture path."""
    video = tmp_path / "blue.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 30, (64, 48))
    bgr = np.zeros((48, 64, 3), np.uint8)
    bgr[..., 0] = 200  # blue
    for _ in range(30):
        writer.write(bgr)
    writer.release()
    camera = UVCCamera("front", None, robot_config(uvc_devices={"front": str(video)}))  # type: ignore
    frame = camera.read()
    camera.close()
    assert frame.shape == (32, 32, 3)
    assert np.all(np.abs(frame[..., 2].astype(int) - 200) <= 3) and np.all(frame[..., 0] <= 3)


def test_uvc_device_that_does_not_open_is_one_line(cv2) -> None:
    with pytest.raises(HardwareUnavailable, match="/dev/video77 .*cannot be opened"):
        UVCCamera("front", None, robot_config(uvc_devices={"front": "/dev/video77"}))  # type: ignore


def test_missing_vendor_module_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.raises(HardwareUnavailable, match=r"userl\[uvc\]"):
        UVCCamera("front", None, robot_config(uvc_devices={"front": "0"}))  # type: ignore
