"""The safety layer is safe by construction: whatever floats a policy or a bad config sends,
the robot receives only finite targets inside the workspace box and within the step limits,
or nothing (it holds); settings that would switch a limit off or invert it are refused."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from userl.core.specs import RobotSpec, RobotState
from userl.geometry import mat_to_rotvec, quat_to_mat
from userl.hardware.base import Robot
from userl.hardware.safety import SafeRobot, SafetyConfig, unit_quaternion

TOOL_DOWN = np.array([0.0, 1.0, 0.0, 0.0])
START = np.concatenate([[0.5, 0.0, 0.3], TOOL_DOWN])
CONTROL_HZ = 10.0


class RecordingRobot(Robot):
    """An arm that stands at `START` and records every command and hold it receives."""

    def __init__(self) -> None:
        self.spec = RobotSpec("recording", dof=7, control_hz=CONTROL_HZ)
        self.commands: list[np.ndarray] = []
        self.holds = 0

    def connect(self) -> None:
        pass

    def state(self) -> RobotState:
        zeros = np.zeros(6)
        return RobotState(START.copy(), zeros, np.zeros(7), np.zeros(7), 0.04, zeros)

    def command(self, target_tcp_pose: np.ndarray, gripper: float) -> None:
        self.commands.append(np.array(target_tcp_pose, dtype=np.float64))

    def tick(self) -> None:
        pass

    def reset(self, tcp_pose: np.ndarray, gripper: float) -> None:
        pass

    def hold(self) -> None:
        self.holds += 1

    def close(self) -> None:
        pass


def wrapped() -> tuple[SafeRobot, RecordingRobot]:
    inner = RecordingRobot()
    return SafeRobot(inner, SafetyConfig(watchdog_timeout_s=0.0)), inner


EXTREME = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e308, max_value=1e308),
    st.floats(min_value=-1e-300, max_value=1e-300),
    st.sampled_from([0.0, -0.0, 1e-320, -1e-320, 1e200, -1e200, math.inf, math.nan]),
)


# Extreme floats mixed with plausible ones, so many commands pass the checks and reach the arm.
VALUE = st.one_of(EXTREME, st.floats(min_value=-2.0, max_value=2.0))


@settings(max_examples=600, deadline=None)
@given(target=st.lists(VALUE, min_size=7, max_size=7), gripper=VALUE)
def test_the_robot_receives_finite_bounded_targets_or_nothing(
    target: list[float], gripper: float
) -> None:
    robot, inner = wrapped()
    config = robot.config
    robot.command(np.array(target), gripper)
    if not inner.commands:
        assert inner.holds == 1 and robot.refused_commands == 1
        return
    (sent,) = inner.commands
    assert np.all(np.isfinite(sent))
    assert robot.box.contains(sent[:3])
    assert np.linalg.norm(sent[:3] - START[:3]) <= robot.max_step_m + 1e-9
    assert np.linalg.norm(sent[3:]) == pytest.approx(1.0)
    turn = mat_to_rotvec(quat_to_mat(sent[3:]) @ quat_to_mat(START[3:]).T)
    assert np.linalg.norm(turn) <= robot.max_step_rad + 1e-6
    assert robot.max_step_m <= config.max_step_m


def test_a_huge_quaternion_is_normalised_not_turned_into_nan() -> None:
    robot, inner = wrapped()
    robot.command(np.array([0.5, 0.0, 0.3, 1e200, 1e200, 0.0, 0.0]), 1.0)
    (sent,) = inner.commands
    assert np.all(np.isfinite(sent)) and robot.refused_commands == 0
    assert unit_quaternion(np.array([1e200, 1e200, 0.0, 0.0])) == pytest.approx(
        [math.sqrt(0.5), math.sqrt(0.5), 0.0, 0.0]
    )


def test_a_zero_or_subnormal_only_quaternion_is_refused() -> None:
    robot, inner = wrapped()
    robot.command(np.array([0.5, 0.0, 0.3, 0.0, 0.0, 0.0, 0.0]), 1.0)
    assert unit_quaternion(np.array([1e-320, 0.0, 0.0, 0.0])) == pytest.approx([1, 0, 0, 0])
    assert not inner.commands and robot.refused_commands == 1


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"max_step_rad": -1.0}, "max_step_rad"),
        ({"max_step_rad": math.nan}, "max_step_rad"),
        ({"max_step_m": math.inf}, "max_step_m"),
        ({"max_linear_speed_m_per_s": math.inf}, "max_linear_speed_m_per_s"),
        ({"max_angular_speed_rad_per_s": 0.0}, "max_angular_speed_rad_per_s"),
        ({"workspace_low_m": [2.0, 2.0, 2.0]}, "workspace_low_m"),
        ({"workspace_low_m": [math.nan, math.nan, math.nan]}, "workspace_low_m"),
        ({"workspace_high_m": [0.9, 0.5]}, "workspace_high_m"),
        ({"watchdog_timeout_s": math.inf}, "watchdog_timeout_s"),
        ({"watchdog_check_hz": -5.0}, "watchdog_check_hz"),
    ],
)
def test_settings_that_would_switch_a_limit_off_are_refused(
    overrides: dict[str, object], named: str
) -> None:
    config = SafetyConfig(**overrides)  # type: ignore[arg-type]
    problem = config.problem()
    assert problem is not None and f"robot.safety.{named}" in problem
    with pytest.raises(ValueError, match=named):
        SafeRobot(RecordingRobot(), config)


def test_the_default_settings_are_sound() -> None:
    assert SafetyConfig().problem() is None


@settings(max_examples=200, deadline=None)
@given(target=st.lists(st.floats(min_value=-2.0, max_value=2.0), min_size=7, max_size=7))
def test_finite_commands_with_an_orientation_always_reach_the_arm(target: list[float]) -> None:
    robot, inner = wrapped()
    if unit_quaternion(np.array(target[3:])) is None:
        return
    robot.command(np.array(target), 0.5)
    assert len(inner.commands) == 1 and robot.refused_commands == 0
