"""The robot-side safety layer around the simulated Franka: box, step, refusal, watchdog, latch."""

from __future__ import annotations

import threading
import time
from collections import Counter

import numpy as np
import pytest

from userl.hardware import safety
from userl.hardware.base import SceneControl
from userl.hardware.safety import SafeRobot, SafeSceneRobot, SafetyConfig, limit_step, with_safety
from userl.hardware.sim.config import SimFrankaConfig
from userl.hardware.sim.franka import SimFranka

pytestmark = pytest.mark.integration  # MuJoCo physics; no hardware

TOOL_DOWN = np.array([0.0, 1.0, 0.0, 0.0])
WAIT_BOUND_S = 30.0  # generous: a thread on a busy machine may wait long for a core


class CountingSim(SimFranka):
    """SimFranka that records what reaches it."""

    def __init__(self) -> None:
        super().__init__(SimFrankaConfig(), control_hz=10.0)
        self.commands: list[np.ndarray] = []
        self.holds = 0
        self.held = threading.Event()

    def command(self, target_tcp_pose: np.ndarray, gripper: float) -> None:
        self.commands.append(np.asarray(target_tcp_pose).copy())
        super().command(target_tcp_pose, gripper)

    def hold(self) -> None:
        self.holds += 1
        self.held.set()
        super().hold()


def safe(**overrides: float) -> tuple[SafeRobot, CountingSim]:
    robot = CountingSim()
    robot.connect()
    config = SafetyConfig(**{"watchdog_timeout_s": 0.0, **overrides})
    wrapped = with_safety(robot, config)
    assert isinstance(wrapped, SafeRobot)
    return wrapped, robot


def test_limit_step_moves_target_toward_current() -> None:
    current = np.concatenate([[0.5, 0.0, 0.2], TOOL_DOWN])
    target = np.concatenate([[0.7, 0.0, 0.2], TOOL_DOWN])
    limited = limit_step(current, target, 0.05, 0.1)
    assert np.allclose(limited[:3], [0.55, 0.0, 0.2])


def test_out_of_box_target_is_clipped_before_the_robot_sees_it() -> None:
    robot, inner = safe(max_step_m=1.0, max_linear_speed_m_per_s=100.0)
    start = robot.state().tcp_pose
    robot.command(np.concatenate([[start[0], start[1], 5.0], start[3:]]), 1.0)
    assert inner.commands[-1][2] == pytest.approx(0.7)  # workspace_high_m z
    assert robot.limited_commands == 1
    robot.close()


def test_step_and_speed_limits_bound_each_command() -> None:
    robot, inner = safe(max_step_m=0.03, max_linear_speed_m_per_s=0.2)  # 0.02 m at 10 Hz
    start = robot.state().tcp_pose
    robot.command(np.concatenate([start[:3] + [0.0, 0.1, 0.0], start[3:]]), 1.0)
    sent = inner.commands[-1]
    assert np.linalg.norm(sent[:3] - start[:3]) == pytest.approx(0.02, abs=1e-9)
    robot.close()


def test_rotation_step_is_limited() -> None:
    robot, inner = safe(max_step_rad=0.1)
    start = robot.state().tcp_pose
    turned = np.concatenate([start[:3], [0.0, 0.0, 1.0, 0.0]])  # half a turn about z
    robot.command(turned, 1.0)
    sent = inner.commands[-1]
    angle = 2 * np.arccos(min(1.0, abs(float(np.dot(sent[3:], start[3:])))))
    assert angle == pytest.approx(0.1, abs=1e-6)
    robot.close()


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_target_is_refused_and_the_arm_holds(bad: float) -> None:
    robot, inner = safe()
    target = robot.state().tcp_pose.copy()
    target[0] = bad
    robot.command(target, 1.0)
    robot.command(robot.state().tcp_pose, float("nan"))
    assert inner.commands == [] and inner.holds == 2 and robot.refused_commands == 2
    robot.close()


class ObservedClock:
    """The safety module's `time`, counting what its threads do with it: the watchdog reads
    `monotonic()` once per check, and a reset waiting on the latch `sleep()`s once per poll.
    A test waits for a number of those instead of sleeping a fixed time and hoping they ran."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._changed = threading.Condition()

    def _count(self, name: str) -> None:
        with self._changed:
            self.calls[name] += 1
            self._changed.notify_all()

    def monotonic(self) -> float:
        self._count("monotonic")
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        self._count("sleep")
        time.sleep(seconds)

    def wait_for(self, name: str, count: int) -> bool:
        """Whether `name` was called `count` times in all within a generous bound."""
        with self._changed:
            return self._changed.wait_for(lambda: self.calls[name] >= count, WAIT_BOUND_S)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ObservedClock:
    observed = ObservedClock()
    monkeypatch.setattr(safety, "time", observed)
    return observed


def test_watchdog_holds_after_the_timeout_once(clock: ObservedClock) -> None:
    """Once per silence: the watchdog's further checks of the same silence hold no more."""
    robot, inner = safe(watchdog_timeout_s=0.05, watchdog_check_hz=200.0)
    robot.command(robot.state().tcp_pose, 1.0)
    assert inner.held.wait(timeout=WAIT_BOUND_S)
    checks = clock.calls["monotonic"]
    assert clock.wait_for("monotonic", checks + 10)  # ten more checks of a silent arm
    assert robot.watchdog_holds == 1 and inner.holds == 1
    robot.command(robot.state().tcp_pose, 1.0)  # commands are accepted again
    assert len(inner.commands) == 2
    robot.close()


def test_hold_latch_ignores_commands_and_reset_waits_until_cleared(clock: ObservedClock) -> None:
    robot, inner = safe(latch_poll_s=0.01)
    robot.latch_hold()
    assert robot.hold_latched and inner.holds == 1
    robot.command(robot.state().tcp_pose + np.r_[0.01, 0, 0, 0, 0, 0, 0], 1.0)
    assert inner.commands == []
    pose = robot.state().tcp_pose
    done = threading.Event()
    worker = threading.Thread(target=lambda: (robot.reset(pose, 1.0), done.set()))
    worker.start()
    assert clock.wait_for("sleep", 5)  # the reset found the latch set five times
    assert not done.is_set()
    robot.clear_hold()
    assert done.wait(timeout=WAIT_BOUND_S)
    worker.join()
    assert not robot.hold_latched
    robot.close()


def test_simulation_keeps_scene_control_and_its_world() -> None:
    robot, inner = safe()
    assert isinstance(robot, SafeSceneRobot) and isinstance(robot, SceneControl)
    assert robot.world is inner.world
    assert with_safety(inner, SafetyConfig(enabled=False)) is inner
    robot.close()


def test_safe_sim_passes_the_driver_contract() -> None:
    from tests.robot_contract import check_robot_contract

    robot, _ = safe()
    check_robot_contract(robot, np.concatenate([[0.5, 0.0, 0.25], TOOL_DOWN]), 0.01)


def test_bare_sim_passes_the_driver_contract() -> None:
    from tests.robot_contract import check_robot_contract

    robot = SimFranka(SimFrankaConfig(), control_hz=10.0)
    robot.connect()
    check_robot_contract(robot, np.concatenate([[0.5, 0.0, 0.25], TOOL_DOWN]), 0.01)
