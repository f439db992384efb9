"""Untrustworthy robot readings are refused, naming what is wrong."""

import numpy as np
import pytest

from userl.core.specs import RobotState, WorkspaceBox
from userl.envs.reading_check import UnsafeReading, check_reading

BOX = WorkspaceBox((0.5, -0.05, 0.0), (0.6, 0.05, 0.1))


def reading(xyz=(0.55, 0.0, 0.05), **changes) -> RobotState:
    state = RobotState(
        tcp_pose=np.array([*xyz, 1.0, 0.0, 0.0, 0.0]),
        tcp_velocity=np.zeros(6),
        joint_positions=np.zeros(7),
        joint_velocities=np.zeros(7),
        gripper_width_m=0.04,
        wrench=np.zeros(6),
    )
    for name, value in changes.items():
        setattr(state, name, value)
    return state


def test_sound_reading_passes() -> None:
    check_reading(reading(), BOX, 0.05, "robot_0")
    check_reading(reading((0.64, 0.0, 0.05)), BOX, 0.05, "robot_0")  # within the margin


def test_non_finite_field_is_named() -> None:
    wrench = np.zeros(6)
    wrench[2] = np.nan
    with pytest.raises(UnsafeReading, match=r"robot_0: non-finite wrench\[2\]"):
        check_reading(reading(wrench=wrench), BOX, 0.05, "robot_0")


def test_far_outside_the_box_is_refused() -> None:
    with pytest.raises(UnsafeReading, match="outside the workspace"):
        check_reading(reading((0.9, 0.0, 0.05)), BOX, 0.05, "robot_0")
