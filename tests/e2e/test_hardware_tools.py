"""`userl doctor` and `userl record-pose` on the real vendor packages: the simulated robot,
a Franka on franky-sim, and every device absent (as on this machine) or a SpaceMouse plugged in
(scripted at its HID layer)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.devices import SPACEMOUSE_NAME, plug_in_spacemouse, write_video
from userl.cli import main
from userl.config.loader import load_config
from userl.hardware.vendor import HardwareUnavailable
from userl.tools.doctor import preflight

UNREACHABLE_IP = "127.0.254.254"  # loopback, nobody serves FCI there


def line_of(lines: list[str], name: str) -> str:
    return next(line for line in lines if f"] {name}" in line)


def test_doctor_with_the_simulated_robot_passes(capsys) -> None:
    assert main(["doctor"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert any(line.startswith("[  ok] robot sim_franka: reachable") for line in lines)
    assert any("python" in line for line in lines) and any("ray" in line for line in lines)


def test_doctor_without_any_device_reports_each_check_with_its_fix(capsys, monkeypatch) -> None:
    for module in ("franky", "pyrealsense2", "pyspacemouse"):
        pytest.importorskip(module)
    monkeypatch.setenv("USERL_CAMERA_SERIAL_FRONT", "111")
    monkeypatch.delenv("USERL_CAMERA_SERIAL_WRIST", raising=False)
    monkeypatch.delenv("USERL_CAMERA_SERIAL_SIDE", raising=False)
    code = main(
        [
            "doctor",
            "robot=franka",
            f"robot.ip={UNREACHABLE_IP}",
            "robot.realtime_config=ignore",
            "teleop=spacemouse",
            "robot.reward_camera_names=[wrist,side]",
        ]
    )  # a reward-only view checked too
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 1
    robot = line_of(lines, "robot franka")
    assert robot.startswith("[FAIL]") and UNREACHABLE_IP in robot and "FCI" in robot
    front = line_of(lines, "camera front")
    assert front.startswith("[FAIL]") and "RealSense 111" in front and "not connected" in front
    wrist = line_of(lines, "camera wrist")
    assert wrist.startswith("[FAIL]") and "USERL_CAMERA_SERIAL_WRIST" in wrist
    assert sum(line.startswith("[FAIL] camera wrist") for line in lines) == 1  # once
    side = line_of(lines, "camera side")
    assert side.startswith("[FAIL]") and "USERL_CAMERA_SERIAL_SIDE" in side
    assert line_of(lines, "realsense devices").startswith("[FAIL] realsense devices: none")
    mouse = line_of(lines, "spacemouse")
    assert mouse.startswith("[FAIL] spacemouse: none found") and "udev rule" in mouse


def test_doctor_without_a_spacemouse_that_is_not_configured_passes_that_check(capsys) -> None:
    pytest.importorskip("pyspacemouse")
    main(["doctor"])
    mouse = line_of(capsys.readouterr().out.strip().splitlines(), "spacemouse")
    assert mouse.startswith("[  ok] spacemouse: none found") and "(not configured)" in mouse


def test_doctor_with_a_franka_on_franky_sim_uvc_cameras_and_a_spacemouse(
    franky_sim: str, capsys, monkeypatch, tmp_path: Path
) -> None:
    plug_in_spacemouse(monkeypatch)
    video = write_video(tmp_path / "camera.avi")  # OpenCV reads it as it reads /dev/videoN
    monkeypatch.setenv("USERL_CAMERA_DEVICE_FRONT", video)  # as on the robot node
    monkeypatch.setenv("USERL_CAMERA_DEVICE_WRIST", video)
    code = main(
        [
            "doctor",
            "robot=franka",
            f"robot.ip={franky_sim}",
            "robot.realtime_config=ignore",
            "teleop=spacemouse",
            "robot.camera_driver=uvc",
        ]
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert line_of(lines, "robot franka").startswith("[  ok] robot franka: reachable; TCP at")
    assert line_of(lines, "camera front").startswith("[  ok] camera front: uvc, frame")
    assert line_of(lines, "camera wrist").startswith("[  ok] camera wrist: uvc, frame")
    assert f"[  ok] spacemouse: {SPACEMOUSE_NAME}" in lines
    assert code == 0, lines


def test_doctor_names_a_kernel_without_preempt_rt(franky_sim: str, capsys) -> None:
    import os

    if os.path.exists("/sys/kernel/realtime"):
        pytest.skip("this kernel is real-time")
    main(["doctor", "robot=franka", f"robot.ip={franky_sim}"])  # realtime_config=enforce
    robot = line_of(capsys.readouterr().out.strip().splitlines(), "robot franka")
    assert robot.startswith("[FAIL]") and "real-time kernel" in robot
    assert "network cable" not in robot


def test_record_pose_writes_the_sim_tcp_pose_into_a_task_file(tmp_path: Path, capsys) -> None:
    task = tmp_path / "my_peg.yaml"
    task.write_text("name: peg_insertion\nepisode_steps: 100\n")
    assert main(["record-pose", f"out={task}", "robot=sim_franka"]) == 0
    report = json.loads(capsys.readouterr().out)
    data = yaml.safe_load(task.read_text())
    assert data["name"] == "peg_insertion" and data["episode_steps"] == 100
    assert len(data["target_tcp_pose"]) == 7 and data["target_tcp_pose"] == report["value"]
    assert data["target_tcp_pose"][0] == pytest.approx(0.3069, abs=1e-3)  # the Panda's home
    assert main(["record-pose", f"out={task}", "field=hole_nominal_xy_m"]) == 0
    assert len(yaml.safe_load(task.read_text())["hole_nominal_xy_m"]) == 2


def test_record_pose_from_a_franka_on_franky_sim(franky_sim: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / "task.yaml"
    assert (
        main(
            [
                "record-pose",
                f"out={out}",
                "robot=franka",
                f"robot.ip={franky_sim}",
                "robot.realtime_config=ignore",
            ]
        )
        == 0
    )
    pose = yaml.safe_load(out.read_text())["target_tcp_pose"]
    assert len(pose) == 7 and pose == json.loads(capsys.readouterr().out)["value"]
    assert 0.2 < pose[0] < 0.9 and 0.0 < pose[2] < 1.0  # in front of the arm, above its base
    assert np.linalg.norm(pose[3:]) == pytest.approx(1.0, abs=1e-4)


def test_record_pose_errors_are_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    assert main(["record-pose"]) == 2
    monkeypatch.delenv("USERL_FRANKA_IP", raising=False)
    assert main(["record-pose", f"out={tmp_path / 'x.yaml'}", "robot=franka"]) == 1
    assert main(["record-pose", f"out={tmp_path / 'x.yaml'}", "field=a-b"]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 3 and "out=" in errors[0] and "USERL_FRANKA_IP" in errors[1]


def test_preflight_names_what_is_missing_for_a_real_robot(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "franky", None)
    with pytest.raises(HardwareUnavailable, match=r"userl\[franka\]") as error:
        preflight(load_config(["robot=franka", "robot.ip=10.0.0.2"]))
    assert "\n" not in str(error.value)
    preflight(load_config([]))  # the simulated robot needs nothing
