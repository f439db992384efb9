"""RealSense and UVC drivers against fake vendor modules: serials, crop, resize, errors."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tests.fakes import cv2 as fake_cv2
from tests.fakes import pyrealsense2 as fake_rs
from userl.hardware.cameras.realsense import RealSenseCamera, realsense_serials
from userl.hardware.cameras.threaded import (
    CameraDevicesConfig,
    centred_crop,
    crop_and_resize,
    resize_bilinear,
)
from userl.hardware.cameras.uvc import UVCCamera
from userl.hardware.robots.franka import FrankaConfig
from userl.hardware.vendor import HardwareUnavailable


@pytest.fixture(autouse=True)
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_rs.reset()
    fake_cv2.reset()
    monkeypatch.setitem(sys.modules, "pyrealsense2", fake_rs)
    monkeypatch.setitem(sys.modules, "cv2", fake_cv2)


def pattern(height: int, width: int) -> np.ndarray:
    """Each pixel encodes its row in red and its column in green."""
    rows, cols = np.mgrid[0:height, 0:width]
    return np.stack([rows % 256, cols % 256, np.zeros_like(rows)], axis=-1).astype(np.uint8)


def robot_config(**cameras) -> FrankaConfig:
    return FrankaConfig(ip="x", image_height_px=32, image_width_px=32,
                        cameras=CameraDevicesConfig(capture_width_px=64, capture_height_px=48,
                                                    **cameras))


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


def test_realsense_opens_by_serial_and_crops_and_resizes_as_configured() -> None:
    fake_rs.DEVICES["1234"] = pattern(48, 64)
    config = robot_config(serials={"front": "1234"}, crops={"front": [8, 16, 32, 32]})
    camera = RealSenseCamera("front", None, config)  # type: ignore[arg-type]
    frame = camera.read()
    camera.close()
    assert ("enable_device", "1234") in fake_rs.CALLS
    assert ("enable_stream", ("color", 64, 48, "rgb8", 30)) in fake_rs.CALLS
    assert frame.shape == (32, 32, 3) and frame.dtype == np.uint8
    assert np.array_equal(frame[:, :, 0], np.repeat(np.arange(8, 40)[:, None], 32, 1))
    assert np.array_equal(frame[:, :, 1], np.repeat(np.arange(16, 48)[None, :], 32, 0))
    assert ("stop", "1234") in fake_rs.CALLS
    assert realsense_serials() == ["1234"]


def test_realsense_serial_from_the_robot_node_environment(monkeypatch) -> None:
    fake_rs.DEVICES["999"] = pattern(48, 64)
    monkeypatch.setenv("USERL_CAMERA_SERIAL_WRIST", "999")
    camera = RealSenseCamera("wrist", None, robot_config())  # type: ignore[arg-type]
    assert camera.read().shape == (32, 32, 3)  # centred crop 48x48, resized
    camera.close()


def test_realsense_missing_serial_or_device_is_one_line(monkeypatch) -> None:
    monkeypatch.delenv("USERL_CAMERA_SERIAL_FRONT", raising=False)
    with pytest.raises(HardwareUnavailable, match="USERL_CAMERA_SERIAL_FRONT"):
        RealSenseCamera("front", None, robot_config())  # type: ignore[arg-type]
    with pytest.raises(HardwareUnavailable, match="RealSense 42 .*userl doctor") as error:
        RealSenseCamera("front", None, robot_config(serials={"front": "42"}))  # type: ignore
    assert "\n" not in str(error.value)


def test_uvc_reads_bgr_as_rgb_by_index() -> None:
    bgr = np.zeros((48, 64, 3), np.uint8)
    bgr[..., 0] = 200  # blue
    fake_cv2.DEVICES[2] = bgr
    camera = UVCCamera("front", None, robot_config(uvc_devices={"front": "2"}))  # type: ignore
    frame = camera.read()
    camera.close()
    assert ("VideoCapture", 2) in fake_cv2.CALLS and ("set", (3, 64)) in fake_cv2.CALLS
    assert frame.shape == (32, 32, 3)
    assert np.all(frame[..., 2] == 200) and np.all(frame[..., 0] == 0)


def test_uvc_device_that_does_not_open_is_one_line() -> None:
    with pytest.raises(HardwareUnavailable, match="/dev/video7 .*cannot be opened"):
        UVCCamera("front", None, robot_config(uvc_devices={"front": "/dev/video7"}))  # type: ignore


def test_missing_vendor_module_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.raises(HardwareUnavailable, match=r"userl\[uvc\]"):
        UVCCamera("front", None, robot_config(uvc_devices={"front": "0"}))  # type: ignore
