"""The driver contract every `Robot` passes, simulated or real (behind a fake vendor module)."""

from __future__ import annotations

import numpy as np

from userl.hardware.base import Robot


def check_robot_contract(robot: Robot, reset_pose: np.ndarray, tolerance_m: float) -> None:
    """`robot` is connected; `reset_pose` is reachable. Asserts shapes, units and behaviour."""
    spec = robot.spec
    assert spec.dof > 0 and spec.control_hz > 0 and spec.gripper_max_width_m > 0
    state = robot.state()
    assert state.tcp_pose.shape == (7,) and np.isclose(np.linalg.norm(state.tcp_pose[3:]), 1.0)
    assert state.tcp_velocity.shape == (6,) and state.wrench.shape == (6,)
    assert state.joint_positions.shape == (spec.dof,)
    assert state.joint_velocities.shape == (spec.dof,)
    assert 0.0 <= state.gripper_width_m <= spec.gripper_max_width_m + 1e-6
    for part in (state.tcp_pose, state.tcp_velocity, state.joint_positions, state.wrench):
        assert np.all(np.isfinite(part))

    robot.reset(reset_pose, 1.0)
    state = robot.state()
    assert np.linalg.norm(state.tcp_pose[:3] - reset_pose[:3]) < tolerance_m
    assert abs(abs(float(np.dot(state.tcp_pose[3:], reset_pose[3:]))) - 1.0) < 1e-3

    target = reset_pose.copy()
    target[2] += 0.01
    robot.command(target, 1.0)  # returns at once
    robot.tick()
    robot.hold()
    held = robot.state().tcp_pose
    robot.tick()
    assert np.linalg.norm(robot.state().tcp_pose[:3] - held[:3]) < tolerance_m
    robot.close()
