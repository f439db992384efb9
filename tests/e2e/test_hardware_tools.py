"""`userl doctor` and `userl record-pose` with the simulated robot and fake vendor modules."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from tests.fakes import franky as fake_franky
from tests.fakes import pyrealsense2 as fake_rs
from tests.fakes import pyspacemouse as fake_mouse
from userl.cli import main
from userl.config.loader import load_config
from userl.hardware.vendor import HardwareUnavailable
from userl.tools.doctor import preflight


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (fake_franky, fake_rs, fake_mouse):
        module.reset()
    monkeypatch.setitem(sys.modules, "franky", fake_franky)
    monkeypatch.setitem(sys.modules, "pyrealsense2", fake_rs)
    monkeypatch.setitem(sys.modules, "pyspacemouse", fake_mouse)


def test_doctor_with_the_simulated_robot_passes(capsys) -> None:
    assert main(["doctor"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert any(line.startswith("[  ok] robot sim_franka: reachable") for line in lines)
    assert any("python" in line for line in lines) and any("ray" in line for line in lines)


def test_doctor_reports_each_franka_check_with_its_fix(fakes, capsys, monkeypatch) -> None:
    import numpy as np

    fake_rs.DEVICES["111"] = np.zeros((480, 640, 3), np.uint8)
    monkeypatch.setenv("USERL_CAMERA_SERIAL_FRONT", "111")
    monkeypatch.delenv("USERL_CAMERA_SERIAL_WRIST", raising=False)
    fake_franky.UNREACHABLE.append("10.0.0.2")
    code = main(["doctor", "robot=franka", "robot.ip=10.0.0.2", "teleop=spacemouse"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 1
    robot = next(line for line in lines if "robot franka" in line)
    assert robot.startswith("[FAIL]") and "10.0.0.2" in robot and "FCI" in robot
    assert any(line.startswith("[  ok] camera front") for line in lines)
    wrist = next(line for line in lines if "camera wrist" in line)
    assert wrist.startswith("[FAIL]") and "USERL_CAMERA_SERIAL_WRIST" in wrist
    assert "[  ok] realsense serials: 111" in lines
    assert "[  ok] spacemouse: SpaceMouse Compact" in lines


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


def test_record_pose_from_a_franka_behind_a_fake_franky(fakes, tmp_path: Path, capsys) -> None:
    out = tmp_path / "task.yaml"
    assert main(["record-pose", f"out={out}", "robot=franka", "robot.ip=1.2.3.4"]) == 0
    assert yaml.safe_load(out.read_text())["target_tcp_pose"] == [0.4, 0.0, 0.3, 0.0, 1.0, 0.0,
                                                                   0.0]


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
