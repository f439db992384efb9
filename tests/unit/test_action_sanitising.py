"""Action sanitising and workspace clipping (pure numpy, no physics)."""

import math

import numpy as np
import pytest

from userl.core.specs import WorkspaceBox
from userl.envs.action import delta_target, safe_target, sanitise_action
from userl.geometry import make_pose, mat_to_euler_zyx, quat_to_mat, yaw_rotation
from userl.tasks.workspace import Workspace

DOWN = np.diag([1.0, -1.0, -1.0])


def workspace() -> Workspace:
    return Workspace(
        box=WorkspaceBox((0.5, -0.05, 0.03), (0.6, 0.05, 0.13)),
        reference_quat=make_pose(np.zeros(3), DOWN)[3:],
        max_tilt_rad=math.radians(10),
        max_yaw_rad=math.radians(30),
    )


def test_finite_actions_are_clipped_to_unit_box():
    clipped, refused = sanitise_action(np.array([2.0, -3.0, 0.5, 1.0, -1.0, 10.0, -0.2]))
    assert not refused
    np.testing.assert_allclose(clipped, [1.0, -1.0, 0.5, 1.0, -1.0, 1.0, -0.2])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_actions_are_refused(bad):
    action = np.zeros(7)
    action[3] = bad
    clipped, refused = sanitise_action(action)
    assert refused and clipped is None


def test_wrong_shape_is_an_error():
    with pytest.raises(ValueError, match="7 values"):
        sanitise_action(np.zeros(6))


def test_delta_is_scaled_and_expressed_in_the_reset_frame():
    frame = make_pose([0.55, 0.0, 0.1], yaw_rotation(math.pi / 2) @ DOWN)
    target = delta_target(frame, np.array([1.0, 0, 0.5, 0, 0, 0, 0]), frame, 0.02, 0.1)
    # the frame's x axis is world +y; its z axis points down
    np.testing.assert_allclose(target[:3], [0.55, 0.02, 0.09], atol=1e-12)


def test_rotation_delta_about_the_tool_axis():
    frame = make_pose([0.55, 0.0, 0.1], DOWN)
    target = delta_target(frame, np.array([0, 0, 0, 0, 0, 1.0, 0]), frame, 0.02, 0.1)
    relative = mat_to_euler_zyx(DOWN.T @ quat_to_mat(target[3:]))
    np.testing.assert_allclose(relative, [0.0, 0.0, 0.1], atol=1e-9)


def test_targets_are_clipped_to_the_workspace():
    space = workspace()
    rng = np.random.default_rng(0)
    pose = make_pose([0.55, 0.0, 0.08], DOWN)
    for _ in range(500):
        action = rng.uniform(-1, 1, 7)
        pose = safe_target(pose, action, make_pose([0.55, 0, 0.08], DOWN), 0.02, 0.1, space)
        assert space.contains(pose)


def test_workspace_clip_is_identity_inside_and_projects_outside():
    space = workspace()
    inside = make_pose([0.55, 0.01, 0.05], yaw_rotation(0.2) @ DOWN)
    np.testing.assert_allclose(space.clip(inside), inside, atol=1e-12)
    outside = make_pose([0.9, -0.2, 0.0], yaw_rotation(1.5) @ DOWN)
    clipped = space.clip(outside)
    np.testing.assert_allclose(clipped[:3], [0.6, -0.05, 0.03])
    yaw = mat_to_euler_zyx(DOWN.T @ quat_to_mat(clipped[3:]))[2]
    assert abs(abs(yaw) - math.radians(30)) < 1e-9
