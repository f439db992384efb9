"""userl's FrankaRobot on the real franky-control, against franky-sim (a MuJoCo Franka behind
libfranka's network protocol) on loopback: connect, state, consecutive episodes at the control
rate in both motion types (commands, gripper mid-episode, hold, reset after asynchronous
motions), the real-time kernel error, the watchdog, and a clean close."""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from tests.robot_contract import check_robot_contract
from userl.hardware.robots.franka import FrankaConfig, FrankaRobot
from userl.hardware.safety import SafetyConfig, with_safety
from userl.hardware.vendor import HardwareUnavailable, answered_within

# past the suite's per-test bound: the first test's set-up waits up to the server's start bound
# (tests/franky_sim.py) before the test's own waits
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
CONTROL_HZ = 10.0
SETTLE_BOUND_S = 60.0  # generous bounds for waits on the simulated arm (a busy machine)
STEPS = 12
STILL_SPEED_M_PER_S = 0.002  # a settled TCP moves slower than this
STILL_WINDOW_S = 0.3  # and stays put (within STILL_DRIFT_M) across this long
STILL_DRIFT_M = 0.001
STEP_X_M = 0.005
HALFWAY_M = 0.5 * STEP_X_M * STEPS  # an episode's motion reaches at least this far along x


def wait_until(condition: Callable[[], bool], bound_s: float = SETTLE_BOUND_S) -> bool:
    deadline = time.monotonic() + bound_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def make_franka(franky_sim: str) -> Iterator[Callable[..., FrankaRobot]]:
    robots: list[FrankaRobot] = []

    def make(**overrides) -> FrankaRobot:
        settings = {
            "ip": franky_sim,
            "realtime_config": "ignore",
            "dynamics_fraction": 0.3,
            **overrides,
        }
        robot = FrankaRobot(FrankaConfig(**settings), control_hz=CONTROL_HZ)
        robot.connect()
        robots.append(robot)
        return robot

    yield make
    for robot in robots:
        robot.close()
    # franky drops a connection only when its object is freed, and franky-sim serves one client
    # at a time: a test's saved exception (its traceback holds the driver's frames, the arm
    # among their locals) is a reference cycle that would keep the arm connected, so the next
    # test's connect would wait on the sim forever.
    robots.clear()
    gc.collect()


def hold_target_until(
    robot: FrankaRobot, target: np.ndarray, opening: float, condition: Callable[[], bool]
) -> bool:
    """Keep commanding `target` at the control rate until `condition()` (the simulated arm
    runs late on a busy machine, and without commands the watchdog would hold it)."""
    deadline = time.monotonic() + SETTLE_BOUND_S
    while not condition():
        if time.monotonic() > deadline:
            return False
        robot.command(target, opening)
        robot.tick()
    return True


def start_pose(robot: FrankaRobot) -> np.ndarray:
    """10 cm below the simulated arm's home TCP pose, tool down."""
    pose = robot.state().tcp_pose.copy()
    pose[:3] = [0.55, 0.0, 0.42]
    return pose


def settled(robot: FrankaRobot) -> bool:
    """Slow at both ends of a window and put across it: one slow reading can be the instant
    a motion is replaced (a watchdog hold), with the arm still carrying on."""
    before = robot.state()
    if float(np.linalg.norm(before.tcp_velocity[:3])) >= STILL_SPEED_M_PER_S:
        return False
    time.sleep(STILL_WINDOW_S)
    after = robot.state()
    return (
        float(np.linalg.norm(after.tcp_velocity[:3])) < STILL_SPEED_M_PER_S
        and float(np.linalg.norm(after.tcp_pose[:3] - before.tcp_pose[:3])) < STILL_DRIFT_M
    )


def test_franka_reads_its_state_and_passes_the_driver_contract(make_franka) -> None:
    robot = make_franka()
    state = robot.state()
    assert state.joint_positions.shape == (7,) and np.all(np.isfinite(state.tcp_pose))
    assert 0.0 <= state.gripper_width_m <= 0.0801
    check_robot_contract(robot, start_pose(robot), tolerance_m=0.005)


@pytest.mark.parametrize("motion", ["impedance", "waypoint"])
def test_consecutive_episodes_with_gripper_commands_hold_and_reset(
    make_franka, motion: str
) -> None:
    """Every reset follows asynchronous motions (and every other one moves the joints home
    first): franky refuses a new motion type while one runs unless the driver stops it."""
    robot = make_franka(motion=motion, joint_reset_every_episodes=2)
    start = start_pose(robot)
    for episode in range(3):
        robot.reset(start, 1.0)
        state = robot.state()
        assert np.linalg.norm(state.tcp_pose[:3] - start[:3]) < 0.005, episode
        assert state.gripper_width_m > 0.075  # open, waited for by the reset
        for step in range(STEPS):
            target = start.copy()
            target[0] += STEP_X_M * (step + 1)
            # close, open on the very next tick (while the grasp still runs), close again
            opening = 1.0 if step < 3 or 4 <= step < 7 else 0.0
            robot.command(target, opening)
            if step == 3:  # the grasp runs on the gripper's thread; the loop went on
                assert not robot._gripper_worker.wait_idle(0.0)
            robot.tick()
        assert hold_target_until(
            robot, target, opening, lambda: robot.state().tcp_pose[0] - start[0] > HALFWAY_M
        ), episode
        robot.hold()
        assert wait_until(lambda: settled(robot)), episode
        moved = robot.state().tcp_pose[0] - start[0]
        assert moved > HALFWAY_M, (episode, moved)
        assert robot._gripper_worker.wait_idle(SETTLE_BOUND_S)
        assert robot.state().gripper_width_m < 0.01  # the newest command (close) won
    assert robot.episodes == 3 and robot.motions_stopped >= 2
    assert robot._gripper_worker.completed >= 3 * 3


def test_a_kernel_without_preempt_rt_is_named_in_one_line(franky_sim: str) -> None:
    if os.path.exists("/sys/kernel/realtime"):
        pytest.skip("this kernel is real-time: libfranka accepts it")
    robot = FrankaRobot(FrankaConfig(ip=franky_sim, realtime_config="enforce"))
    with pytest.raises(HardwareUnavailable, match="real-time kernel") as error:
        robot.connect()
    message = str(error.value)
    assert "\n" not in message and "PREEMPT_RT" in message
    assert "realtime_config=ignore" in message and "network cable" not in message


def test_unreachable_address_is_one_line_with_the_fix() -> None:
    pytest.importorskip("franky")
    robot = FrankaRobot(FrankaConfig(ip="127.0.254.254", realtime_config="ignore"))
    with pytest.raises(HardwareUnavailable, match="cannot reach the Franka .*FCI") as error:
        robot.connect()
    assert "\n" not in str(error.value)


@pytest.mark.timeout(300)
def test_watchdog_holds_the_arm_short_of_a_target_when_commands_stop(make_franka) -> None:
    robot = make_franka(motion="waypoint", dynamics_fraction=0.1)
    start = start_pose(robot)
    robot.reset(start, 1.0)
    safe = with_safety(
        robot, SafetyConfig(watchdog_timeout_s=0.3, max_step_m=0.15, max_linear_speed_m_per_s=2.0)
    )
    try:
        target = start.copy()
        target[0] += 0.15
        safe.command(target, 1.0)  # then silence: the learner vanished
        assert wait_until(lambda: safe.watchdog_holds >= 1)
        assert wait_until(lambda: settled(robot))
        rest = robot.state().tcp_pose[:3]
        assert np.linalg.norm(rest - target[:3]) > 0.03  # held, not carried on to the target
        time.sleep(0.5)
        assert np.linalg.norm(robot.state().tcp_pose[:3] - rest) < 0.003
    finally:
        safe.close()


def test_safety_clips_an_out_of_box_target_before_franky(make_franka) -> None:
    robot = make_franka(motion="waypoint")
    start = start_pose(robot)
    robot.reset(start, 1.0)
    safe = with_safety(
        robot,
        SafetyConfig(
            watchdog_timeout_s=0.0,
            max_step_m=1.0,
            max_linear_speed_m_per_s=1000.0,
            workspace_high_m=[0.9, 0.5, 0.45],
        ),
    )
    high = start.copy()
    high[2] = 3.0
    safe.command(high, 1.0)
    assert wait_until(lambda: settled(robot) and robot.state().tcp_pose[2] > 0.44)
    assert robot.state().tcp_pose[2] == pytest.approx(0.45, abs=0.005)
    safe.close()


def test_close_stops_the_arm_and_the_sim_accepts_the_next_driver(
    make_franka, franky_sim: str
) -> None:
    robot = make_franka()
    start = start_pose(robot)
    robot.reset(start, 1.0)
    target = start.copy()
    target[1] += 0.03
    robot.command(target, 0.0)  # an impedance motion and a grasp in flight
    worker = robot._gripper_worker
    robot.close()
    robot.close()  # twice is fine
    assert not worker._thread.is_alive()
    with pytest.raises(HardwareUnavailable, match="not connected"):
        robot.state()
    again = make_franka()
    again.reset(start, 1.0)
    assert np.linalg.norm(again.state().tcp_pose[:3] - start[:3]) < 0.005


class FailingMoves:
    """The real franky arm, whose next `move` calls raise the given franky exceptions."""

    def __init__(self, arm, errors: list[Exception]) -> None:
        self.arm, self.errors = arm, errors

    def move(self, *args, **kwargs):
        if self.errors:
            raise self.errors.pop(0)
        return self.arm.move(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.arm, name)


def test_a_control_error_or_planner_failure_is_recovered_and_repeated_ones_give_up(
    make_franka,
) -> None:
    import franky

    robot = make_franka(max_error_recoveries=2)
    start = start_pose(robot)
    robot.reset(start, 1.0)
    real_arm = robot._arm
    # libfranky's own message when Ruckig fails (seen on franky-sim under a heavy load): it
    # ends the motion, so the reset's move is recovered and sent again
    robot._arm = FailingMoves(
        real_arm, [RuntimeError("Motion planner failed with error code -111")]
    )
    robot.reset(start, 1.0)
    assert robot.recoveries == 0
    assert np.linalg.norm(robot.state().tcp_pose[:3] - start[:3]) < 0.005
    robot._arm = real_arm
    robot._arm = FailingMoves(real_arm, [franky.ControlException("cartesian_reflex")])
    robot.command(start, 1.0)  # recovered, then sent
    assert robot.recoveries == 0 and robot._running is not None
    robot._arm = FailingMoves(real_arm, [franky.ControlException("reflex")] * 3)
    with pytest.raises(HardwareUnavailable, match="after 2 recoveries") as error:
        robot.command(start, 1.0)
    assert "\n" not in str(error.value)
    robot._arm = real_arm


# the failing reset's own bounds: a tiny move bound, then the stop's join, per attempt
OVERRUN_BOUND_S = 0.05
OVERRUN_STOP_S = 10.0


@pytest.mark.timeout(300)
def test_a_reset_that_overruns_its_bound_stops_in_one_line_and_the_arm_moves_again(
    make_franka,
) -> None:
    """A blocking reset is joined within its bound: one that cannot finish in time (here a far
    pose under a tiny floor, with the speed limit the bound assumes far too high) is stopped,
    recovered, tried again, then reported in one line, and the next reset with the normal
    bounds reaches its pose."""
    robot = make_franka(
        motion="waypoint",
        dynamics_fraction=0.1,
        joint_reset_every_episodes=0,
        max_error_recoveries=1,
        motion_stop_timeout_s=OVERRUN_STOP_S,
    )
    start = start_pose(robot)
    robot.reset(start, 1.0)
    config = robot.config
    normal = (config.motion_timeout_floor_s, config.max_translation_speed_m_per_s)
    # the bound believes in an arm a thousand times faster: the reset's bound is the tiny floor
    config.motion_timeout_floor_s = OVERRUN_BOUND_S
    config.max_translation_speed_m_per_s = 1000 * normal[1]
    far = start.copy()
    far[0] -= 0.15
    began = time.monotonic()
    with pytest.raises(HardwareUnavailable, match="did not finish within 0.05 s") as error:
        robot.reset(far, 1.0)
    elapsed = time.monotonic() - began
    message = str(error.value)
    assert "\n" not in message and "after 1 recoveries" in message
    assert "the reset pose [0.4" in message and "robot.motion_timeout_floor_s" in message
    assert elapsed < 2 * (OVERRUN_BOUND_S + OVERRUN_STOP_S) + SETTLE_BOUND_S, elapsed
    assert robot.recoveries == 0 and robot._running is None
    del error
    config.motion_timeout_floor_s, config.max_translation_speed_m_per_s = normal
    robot.reset(start, 1.0)
    assert np.linalg.norm(robot.state().tcp_pose[:3] - start[:3]) < 0.005


def test_a_franka_held_by_another_client_is_one_line_not_a_hang(make_franka) -> None:
    """libfranka's connect waits for an answer that a robot serving another client never sends
    (franky-sim serves one client at a time): the bound turns that into one line naming the
    likely holder, and once the holder lets go the next connect works."""
    holder = make_franka()
    with pytest.raises(
        HardwareUnavailable,
        match="took the connection but the connect did not answer within 3.0 s: another program",
    ) as error:
        make_franka(connect_timeout_s=3.0)
    assert "\n" not in str(error.value)
    del error
    holder.close()
    del holder
    gc.collect()
    robot = make_franka()  # connects: the holder let go
    # a reading of the hand, not a default: within its range (the fingers' physics may settle a
    # fraction of a millimetre past the open limit)
    assert 0.0 <= robot.state().gripper_width_m <= robot.config.gripper_max_width_m + 1e-4


def test_a_gripper_that_never_answers_is_one_line_not_a_hang(make_franka, monkeypatch) -> None:
    """The gripper's connect is bounded the same way (here a gripper that never answers)."""
    import franky

    never = threading.Event()
    monkeypatch.setattr(franky, "Gripper", lambda ip: never.wait())
    bound_s = 5.0  # the real arm's connect, before it, takes milliseconds
    with pytest.raises(
        HardwareUnavailable,
        match=f"gripper did not: the gripper connect did not answer within {bound_s} s",
    ):
        make_franka(connect_timeout_s=bound_s)
    never.set()


def test_a_vendor_call_within_its_bound_returns_or_raises_its_own_error() -> None:
    assert answered_within(lambda: 7, 60.0, "a call") == 7
    with pytest.raises(ValueError, match="bad"):
        answered_within(lambda: (_ for _ in ()).throw(ValueError("bad")), 60.0, "a call")
