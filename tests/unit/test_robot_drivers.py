"""Franka (franky) and ARX R5 (arx_r5_sdk) drivers against fake vendor modules: exact calls."""

from __future__ import annotations

import numpy as np
import pytest

from tests.fakes import arx_r5_sdk as fake_arx
from tests.fakes import franky as fake_franky
from tests.robot_contract import check_robot_contract
from userl.hardware.robots.arx_r5 import ArxR5Config, ArxR5Robot, R5Projection
from userl.hardware.robots.franka import FrankaConfig, FrankaRobot, from_affine, to_affine
from userl.hardware.safety import SafetyConfig, with_safety
from userl.hardware.vendor import HardwareUnavailable

TOOL_DOWN = np.array([0.0, 1.0, 0.0, 0.0])


@pytest.fixture
def franky(monkeypatch: pytest.MonkeyPatch):
    fake_franky.reset()
    monkeypatch.setitem(__import__("sys").modules, "franky", fake_franky)
    return fake_franky


@pytest.fixture
def arx(monkeypatch: pytest.MonkeyPatch):
    fake_arx.reset()
    monkeypatch.setitem(__import__("sys").modules, "arx_r5_sdk", fake_arx)
    return fake_arx


def franka(**overrides) -> FrankaRobot:
    robot = FrankaRobot(FrankaConfig(ip="172.16.0.2", **overrides), control_hz=1000.0)
    robot.connect()
    return robot


# ----------------------------------------------------------------------------- franka
def test_franka_connects_with_configured_limits(franky) -> None:
    robot = franka(dynamics_fraction=0.2)
    assert franky.calls("Robot") == ["172.16.0.2"] and franky.calls("Gripper") == ["172.16.0.2"]
    assert franky.calls("recover_from_errors") == [None]
    assert franky.calls("set_collision_behavior") == [(20.0, 30.0)]
    assert robot._arm.relative_dynamics_factor == 0.2


def test_franka_ip_from_the_robot_node_environment(franky, monkeypatch) -> None:
    monkeypatch.setenv("USERL_FRANKA_IP", "10.0.0.7")
    FrankaRobot(FrankaConfig(), control_hz=10.0).connect()
    assert franky.calls("Robot") == ["10.0.0.7"]


def test_franka_without_ip_or_franky_fails_in_one_line(monkeypatch) -> None:
    monkeypatch.delenv("USERL_FRANKA_IP", raising=False)
    with pytest.raises(HardwareUnavailable, match="USERL_FRANKA_IP"):
        FrankaRobot(FrankaConfig())
    monkeypatch.setitem(__import__("sys").modules, "franky", None)  # not installed
    with pytest.raises(HardwareUnavailable, match=r"userl\[franka\]") as error:
        FrankaRobot(FrankaConfig(ip="1.2.3.4"))
    assert "\n" not in str(error.value)


def test_franka_unreachable_is_one_line_with_the_fix(franky) -> None:
    franky.UNREACHABLE.append("172.16.0.2")
    with pytest.raises(HardwareUnavailable, match="FCI") as error:
        franka()
    assert "\n" not in str(error.value)


def test_pose_conversion_round_trips_wxyz_and_xyzw(franky) -> None:
    pose = np.array([0.1, 0.2, 0.3, 0.5, 0.5, -0.5, 0.5])
    affine = to_affine(franky, pose)
    assert np.allclose(affine.quaternion, [0.5, -0.5, 0.5, 0.5])  # x y z w
    assert np.allclose(from_affine(affine), pose)


def test_franka_state_reads_pose_velocity_joints_wrench_gripper(franky) -> None:
    state = franka().state()
    assert np.allclose(state.tcp_pose, [0.4, 0.0, 0.3, 0.0, 1.0, 0.0, 0.0])
    assert np.allclose(state.tcp_velocity, [0.01, 0, 0, 0, 0, 0])
    assert np.allclose(state.wrench, np.arange(6)) and state.gripper_width_m == 0.08
    assert state.joint_positions.shape == (7,)


def test_franka_impedance_command_preempts_asynchronously(franky) -> None:
    robot = franka(translational_stiffness_n_per_m=1500.0)
    target = np.concatenate([[0.45, 0.0, 0.25], TOOL_DOWN])
    robot.command(target, 1.0)
    motion, asynchronous = franky.calls("move")[-1]
    assert isinstance(motion, franky.CartesianImpedanceMotion) and asynchronous
    assert motion.translational_stiffness == 1500.0
    assert motion.target_type == franky.ReferenceType.Absolute
    assert np.allclose(motion.target.translation, [0.45, 0.0, 0.25])
    assert np.allclose(motion.target.quaternion, [1.0, 0.0, 0.0, 0.0])


def test_franka_waypoint_motion_is_selectable(franky) -> None:
    robot = franka(motion="waypoint")
    robot.command(np.concatenate([[0.45, 0.0, 0.25], TOOL_DOWN]), 1.0)
    assert isinstance(franky.calls("move")[-1][0], franky.CartesianMotion)


def test_franka_gripper_grasps_with_force_and_opens_by_width(franky) -> None:
    robot = franka(gripper_force_n=25.0)
    pose = robot.state().tcp_pose
    robot.command(pose, 0.0)
    robot.command(pose, 0.01)  # within the dead band: not sent again
    robot.command(pose, 1.0)
    assert franky.calls("gripper.grasp_async") == [(0.0, 0.1, 25.0, 0.08)]
    assert franky.calls("gripper.move_async") == [(0.08, 0.1)]


def test_franka_recovers_from_a_control_error_and_gives_up_after_the_limit(franky) -> None:
    robot = franka(max_error_recoveries=2)
    pose = robot.state().tcp_pose
    franky.FAIL_NEXT_MOVES.append(franky.ControlException("cartesian_reflex"))
    robot.command(pose, 1.0)
    assert len(franky.calls("recover_from_errors")) == 2 and len(franky.calls("move")) == 2
    franky.FAIL_NEXT_MOVES.extend([franky.ControlException("reflex")] * 3)
    with pytest.raises(HardwareUnavailable, match="after 2 recoveries"):
        robot.command(pose, 1.0)


def test_franka_joint_reset_every_n_episodes_then_randomised_pose(franky) -> None:
    robot = franka(joint_reset_every_episodes=2, reset_xy_noise_m=0.02, reset_yaw_noise_deg=10.0)
    pose = np.concatenate([[0.5, 0.0, 0.2], TOOL_DOWN])
    for _ in range(3):
        robot.reset(pose, 1.0)
    moves = [motion for motion, _ in franky.calls("move")]
    kinds = [type(m).__name__ for m in moves]
    assert kinds == ["JointMotion", "CartesianMotion", "CartesianMotion", "JointMotion",
                     "CartesianMotion"]
    assert moves[0].target == pytest.approx(FrankaConfig().home_joints_rad)
    targets = [m.target.translation for m in moves if isinstance(m, franky.CartesianMotion)]
    for target in targets:
        assert np.all(np.abs(target[:2] - pose[:2]) <= 0.02) and target[2] == 0.2
    assert not np.allclose(targets[0], targets[1])
    assert all(not asynchronous for _, asynchronous in franky.calls("move"))  # blocking


def test_franka_behind_safety_clips_out_of_box_targets_before_franky(franky) -> None:
    robot = with_safety(franka(), SafetyConfig(watchdog_timeout_s=0.0, max_step_m=1.0,
                                               max_linear_speed_m_per_s=1000.0))
    robot.command(np.concatenate([[0.4, 0.0, 3.0], TOOL_DOWN]), 1.0)
    motion, _ = franky.calls("move")[-1]
    assert motion.target.translation[2] == pytest.approx(0.7)
    robot.close()


def test_franka_passes_the_driver_contract(franky) -> None:
    check_robot_contract(franka(), np.concatenate([[0.5, 0.0, 0.25], TOOL_DOWN]), 1e-6)
    assert franky.calls("stop") == [None]


# ----------------------------------------------------------------------------- arx r5
def r5(**overrides) -> ArxR5Robot:
    robot = ArxR5Robot(ArxR5Config(can_port="can1", reset_poll_s=0.0, reset_timeout_s=0.2,
                                   **overrides), control_hz=1000.0)
    robot.connect()
    return robot


def test_r5_opens_its_can_port_and_sends_pose_and_gripper(arx) -> None:
    robot = r5()
    assert arx.calls("SingleArm") == [{"can_port": "can1", "type": 1, "dt": 0.05}]
    robot.command(np.array([0.3, 0.0, 0.25, 1.0, 0.0, 0.0, 0.0]), 0.5)
    assert arx.calls("set_ee_pose")[-1] == ([0.3, 0.0, 0.25], [1.0, 0.0, 0.0, 0.0])
    assert arx.calls("set_catch_pos")[-1] == pytest.approx(2.5)
    assert robot.state().gripper_width_m == pytest.approx(0.04)


def test_r5_missing_can_port_or_sdk_fails_in_one_line(arx, monkeypatch) -> None:
    monkeypatch.delenv("USERL_ARX_CAN_PORT", raising=False)
    with pytest.raises(HardwareUnavailable, match="USERL_ARX_CAN_PORT"):
        ArxR5Robot(ArxR5Config())
    arx.FAIL_OPEN.append("can1")
    with pytest.raises(HardwareUnavailable, match="ip link set can1 up"):
        r5()


def test_r5_projection_keeps_reach_and_orientation_limits() -> None:
    projection = R5Projection(ArxR5Config(max_reach_m=0.5, max_tilt_deg=10.0, max_yaw_deg=45.0))
    far = projection(np.array([1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]))
    assert np.allclose(far[:3], [0.5, 0.0, 0.0])
    half_turn_about_x = np.array([0.3, 0.0, 0.2, 0.0, 1.0, 0.0, 0.0])
    tilted = projection(half_turn_about_x)
    angle = 2 * np.degrees(np.arccos(min(1.0, abs(tilted[3]))))
    assert angle == pytest.approx(10.0, abs=1e-6)
    reachable = np.array([0.3, 0.0, 0.2, np.cos(0.2), 0.0, 0.0, np.sin(0.2)])  # 23 deg yaw
    assert np.allclose(projection(reachable), reachable)


def test_r5_reports_how_far_a_command_was_projected(arx) -> None:
    robot = r5(max_reach_m=0.4)
    robot.command(np.array([0.6, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]), 1.0)
    assert robot.last_projection_m == pytest.approx(0.2)
    assert arx.calls("set_ee_pose")[-1][0] == pytest.approx([0.4, 0.0, 0.0])


def test_r5_joint_reset_every_n_and_a_stuck_arm_is_reported(arx) -> None:
    robot = r5(joint_reset_every_episodes=2)
    pose = np.array([0.3, 0.0, 0.2, 1.0, 0.0, 0.0, 0.0])
    for _ in range(3):
        robot.reset(pose, 1.0)
    assert len(arx.calls("set_joint_positions")) == 2
    arx.STUCK.append(True)
    with pytest.raises(HardwareUnavailable, match="did not reach the reset pose"):
        robot.reset(np.array([0.35, 0.05, 0.2, 1.0, 0.0, 0.0, 0.0]), 1.0)


def test_r5_passes_the_driver_contract(arx) -> None:
    check_robot_contract(r5(), np.array([0.3, 0.05, 0.2, 1.0, 0.0, 0.0, 0.0]), 1e-6)
