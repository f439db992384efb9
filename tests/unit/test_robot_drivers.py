"""Franka driver pieces on the real franky-control (no robot needed: motions, poses, config
errors, the gripper worker); the ARX R5 driver against the fake `arx_r5_sdk` written from its
source (tests/fakes/arx_r5_sdk.py). The Franka on franky-sim: tests/integration."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from tests.fakes import arx_r5_sdk as fake_arx
from tests.robot_contract import check_robot_contract
from userl.hardware.robots.arx_r5 import ArxR5Config, ArxR5Robot, R5Projection
from userl.hardware.robots.franka import (
    FRANKA_MOTIONS,
    FrankaConfig,
    FrankaRobot,
    from_affine,
    motion_bound_s,
    rotation_angle_rad,
    to_affine,
)
from userl.hardware.robots.gripper_worker import GripperWorker
from userl.hardware.vendor import HardwareUnavailable

TOOL_DOWN = np.array([0.0, 1.0, 0.0, 0.0])
WAIT_BOUND_S = 30.0


@pytest.fixture
def franky():
    return pytest.importorskip("franky", reason="franky-control is not installed")


@pytest.fixture
def arx(monkeypatch: pytest.MonkeyPatch):
    fake_arx.reset()
    monkeypatch.setitem(__import__("sys").modules, "arx_r5_sdk", fake_arx)
    return fake_arx


# ----------------------------------------------------------------------------- franka
def test_franka_motions_build_on_franky_2(franky) -> None:
    """franky-control 2.x's CartesianImpedanceMotion has no duration (the motion's lifetime is
    the driver's); both motion types build with the configured stiffness."""
    target = to_affine(franky, np.concatenate([[0.45, 0.0, 0.25], TOOL_DOWN]))
    config = FrankaConfig(translational_stiffness_n_per_m=1500.0)
    impedance = FRANKA_MOTIONS.get("impedance")(franky, target, config)
    assert isinstance(impedance, franky.CartesianImpedanceMotion)
    assert isinstance(
        FRANKA_MOTIONS.get("waypoint")(franky, target, config), franky.CartesianMotion
    )


def test_franka_ip_from_the_robot_node_environment(franky, monkeypatch) -> None:
    monkeypatch.setenv("USERL_FRANKA_IP", "10.0.0.7")
    assert FrankaRobot(FrankaConfig(), control_hz=10.0).ip == "10.0.0.7"


def test_franka_without_ip_or_franky_or_with_a_bad_realtime_config_fails_in_one_line(
    monkeypatch,
) -> None:
    monkeypatch.delenv("USERL_FRANKA_IP", raising=False)
    with pytest.raises(HardwareUnavailable, match="USERL_FRANKA_IP"):
        FrankaRobot(FrankaConfig())
    with pytest.raises(HardwareUnavailable, match="robot.realtime_config='soft'"):
        FrankaRobot(FrankaConfig(ip="1.2.3.4", realtime_config="soft"))
    monkeypatch.setitem(__import__("sys").modules, "franky", None)  # not installed
    with pytest.raises(HardwareUnavailable, match=r"userl\[franka\]") as error:
        FrankaRobot(FrankaConfig(ip="1.2.3.4"))
    assert "\n" not in str(error.value)


def test_pose_conversion_round_trips_wxyz_and_xyzw(franky) -> None:
    pose = np.array([0.1, 0.2, 0.3, 0.5, 0.5, -0.5, 0.5])
    affine = to_affine(franky, pose)
    assert np.allclose(affine.quaternion, [0.5, -0.5, 0.5, 0.5])  # x y z w
    assert np.allclose(affine.translation, [0.1, 0.2, 0.3])
    assert np.allclose(from_affine(affine), pose)


def test_franka_motion_bound_scales_with_distance_and_dynamics_and_keeps_its_floor() -> None:
    config = FrankaConfig(
        dynamics_fraction=0.1,
        motion_timeout_floor_s=2.0,
        motion_timeout_margin=3.0,
        max_translation_speed_m_per_s=1.0,
        max_rotation_speed_rad_per_s=2.0,
        max_joint_speed_rad_per_s=4.0,
    )
    assert motion_bound_s(config) == 2.0  # no travel: the floor
    assert motion_bound_s(config, distance_m=0.01) == 2.0  # 0.1 s at 0.1 m/s, x3: the floor
    assert motion_bound_s(config, distance_m=0.5) == pytest.approx(15.0)  # 5 s x 3
    assert motion_bound_s(config, angle_rad=1.0) == pytest.approx(15.0)  # 1 rad at 0.2 rad/s
    assert motion_bound_s(config, joint_rad=2.0) == pytest.approx(15.0)  # 2 rad at 0.4 rad/s
    # the slowest of the three sets the bound; half the dynamics fraction doubles it
    assert motion_bound_s(config, distance_m=0.5, angle_rad=2.0) == pytest.approx(30.0)
    config.dynamics_fraction = 0.05
    assert motion_bound_s(config, distance_m=0.5) == pytest.approx(30.0)
    assert rotation_angle_rad(TOOL_DOWN, -TOOL_DOWN) == pytest.approx(0.0, abs=1e-6)
    quarter = np.array([np.cos(np.pi / 4), np.sin(np.pi / 4), 0.0, 0.0])
    assert rotation_angle_rad(np.array([1.0, 0.0, 0.0, 0.0]), quarter) == pytest.approx(np.pi / 2)


class NeverFinishingArm:
    """A franky arm whose motions never finish: `join_motion` waits out its timeout."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.joins: list[float | None] = []

    def move(self, motion, asynchronous: bool = False) -> None:
        assert asynchronous, "a blocking move must not wait without a bound"
        self.calls.append("move")

    def join_motion(self, timeout: float | None = None) -> bool:
        assert timeout is not None, "join_motion without a timeout waits forever"
        self.joins.append(timeout)
        return len(self.joins) % 2 == 0  # every overrun's stop is joined at once

    def stop(self) -> None:
        self.calls.append("stop")

    def recover_from_errors(self) -> bool:
        self.calls.append("recover")
        return True


def test_franka_blocking_move_that_overruns_is_stopped_recovered_then_one_line(franky) -> None:
    robot = FrankaRobot(
        FrankaConfig(ip="1.2.3.4", max_error_recoveries=2, motion_stop_timeout_s=1.5),
        control_hz=10.0,
    )
    arm = NeverFinishingArm()
    robot._arm = arm
    with pytest.raises(HardwareUnavailable, match=r"did not finish within 0\.2 s") as error:
        robot._move_within(
            lambda: franky.JointMotion([0.0] * 7), 0.2, "the home joints", lambda: True
        )
    message = str(error.value)
    assert "\n" not in message and "after 2 recoveries" in message
    assert "the home joints" in message and "robot.motion_timeout_floor_s" in message
    assert arm.calls == ["move", "stop", "recover"] * 2 + ["move", "stop"]
    assert arm.joins == [0.2, 1.5] * 3  # each move joined within its bound, each stop within its
    assert robot.recoveries == 0 and robot._running is None


class ArmThatHangsWhenFreed(NeverFinishingArm):
    """A franky arm whose destructor waits on its control loop, which never ends (as franky's
    `~Robot` did on franky-sim once): freeing it blocks until `let_go` is set."""

    def __init__(self, let_go: threading.Event, freed: threading.Event) -> None:
        super().__init__()
        self.let_go, self.freed = let_go, freed

    def join_motion(self, timeout: float | None = None) -> bool:
        return True

    def __del__(self) -> None:
        self.freed.set()
        self.let_go.wait(WAIT_BOUND_S)


def test_franka_close_never_hangs_on_an_arm_franky_cannot_free(franky, capsys) -> None:
    robot = FrankaRobot(FrankaConfig(ip="1.2.3.4", release_timeout_s=0.2), control_hz=10.0)
    let_go, freed = threading.Event(), threading.Event()
    robot._arm = ArmThatHangsWhenFreed(let_go, freed)
    try:
        robot.close()  # returns after the bound, the destructor still waiting on its thread
        assert freed.wait(WAIT_BOUND_S) and not let_go.is_set()
        warning = capsys.readouterr().out.strip()
        assert warning.startswith("warning: letting go of the Franka at 1.2.3.4")
        assert "within 0.2 s" in warning and "\n" not in warning
        assert robot._arm is None
        robot.close()  # safe to call twice
    finally:
        let_go.set()


class StoppedShortArm(NeverFinishingArm):
    """A franky arm whose motions end at once (preempted or aborted), wherever the arm is."""

    def join_motion(self, timeout: float | None = None) -> bool:
        assert timeout is not None, "join_motion without a timeout waits forever"
        self.joins.append(timeout)
        return True


def test_franka_blocking_move_that_ends_short_of_its_target_is_sent_again(franky) -> None:
    robot = FrankaRobot(FrankaConfig(ip="1.2.3.4", max_error_recoveries=2), control_hz=10.0)
    arm = StoppedShortArm()
    robot._arm = arm
    arrivals = iter([False, True])  # short of the target the first time, there the second
    robot._move_within(
        lambda: franky.JointMotion([0.0] * 7), 0.2, "the home joints", lambda: next(arrivals)
    )
    assert arm.calls == ["move", "recover", "move"] and robot.recoveries == 0
    arm.calls.clear()
    with pytest.raises(HardwareUnavailable, match="ended short of its target"):
        robot._move_within(
            lambda: franky.JointMotion([0.0] * 7), 0.2, "the home joints", lambda: False
        )
    assert arm.calls == ["move", "recover"] * 2 + ["move"]


def test_gripper_worker_runs_one_call_at_a_time_and_the_newest_replaces_a_pending_one() -> None:
    worker = GripperWorker("test")
    release = threading.Event()
    started = threading.Event()
    ran: list[str] = []

    def first() -> None:
        started.set()
        release.wait(WAIT_BOUND_S)
        ran.append("first")

    worker.submit(first)
    assert started.wait(WAIT_BOUND_S)
    worker.submit(lambda: ran.append("second"))  # returns while `first` still runs
    worker.submit(lambda: ran.append("third"))  # replaces `second`, still pending
    assert not worker.wait_idle(0.0)
    release.set()
    assert worker.wait_idle(WAIT_BOUND_S)
    assert ran == ["first", "third"] and worker.replaced == 1 and worker.completed == 2
    worker.close(WAIT_BOUND_S)


def test_gripper_worker_reports_a_failed_call_once_in_one_line() -> None:
    worker = GripperWorker("test")

    def fail() -> None:
        raise RuntimeError("libfranka gripper: command failed\ndetails")

    worker.submit(fail)
    assert worker.wait_idle(WAIT_BOUND_S)
    assert worker.take_error() == "libfranka gripper: command failed"
    assert worker.take_error() is None
    worker.close(WAIT_BOUND_S)
    assert not worker._thread.is_alive()


# ----------------------------------------------------------------------------- arx r5
def r5(**overrides) -> ArxR5Robot:
    robot = ArxR5Robot(
        ArxR5Config(can_port="can1", reset_poll_s=0.0, reset_timeout_s=0.2, **overrides),
        control_hz=1000.0,
    )
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


def test_r5_that_sends_no_pose_is_reported_in_one_line(arx) -> None:
    """The SDK's native interface reads zeros until the arm's first CAN frame."""
    arx.SILENT.append(True)
    with pytest.raises(HardwareUnavailable, match="sends no pose") as error:
        r5(first_state_timeout_s=0.05)
    assert "\n" not in str(error.value)


def test_r5_reads_six_joints_of_the_sdks_seven_values(arx) -> None:
    state = r5().state()
    assert state.joint_positions.shape == (6,) and state.joint_velocities.shape == (6,)
