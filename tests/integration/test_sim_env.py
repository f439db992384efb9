"""The simulated RobotEnv: gymnasium contract, safety, seeding and kinematics."""

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from userl.config.schema import Config
from userl.envs.factory import make_env
from userl.geometry import quat_to_mat
from userl.hardware.base import SceneFragment
from userl.hardware.sim.config import SimFrankaConfig
from userl.hardware.sim.franka import SimFranka
from userl.hardware.sim.panda import PANDA_HOME_Q, forward_kinematics

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def env():
    environment = make_env(Config(), seed=0)
    yield environment
    environment.close()


@pytest.mark.parametrize("obs", ["state", "image"])
def test_check_env(obs):
    environment = make_env(Config(obs=obs), seed=0)
    check_env(environment, skip_render_check=True)
    observation, _ = environment.reset(seed=1)
    assert observation["state"].shape == (environment.observation_spec.state_dim,)
    if obs == "image":
        assert observation["front"].shape == (128, 128, 3)
        assert observation["wrist"].dtype == np.uint8
        assert observation["front"].std() > 0  # something was rendered
    environment.close()


def test_nan_action_holds_and_is_refused(env, monkeypatch):
    env.reset(seed=2)
    for _ in range(3):
        env.step(np.zeros(7, np.float32))
    before = env.robot.state().tcp_pose
    commands = []
    monkeypatch.setattr(env.robot, "command", lambda *args: commands.append(args))
    for bad in (np.nan, np.inf):
        action = np.zeros(7, np.float32)
        action[0] = bad
        observation, _, _, _, info = env.step(action)
        assert info["refused"] is True
        assert np.all(np.isfinite(info["executed_action"]))
        assert np.all(np.isfinite(observation["state"]))
    assert commands == []
    np.testing.assert_allclose(env.robot.state().tcp_pose[:3], before[:3], atol=2e-3)


def test_targets_never_leave_the_workspace(env):
    env.reset(seed=3)
    env.action_space.seed(3)
    space = env.task.workspace()
    for _ in range(60):
        action = env.action_space.sample() * 3.0  # out of range on purpose
        _, _, terminated, truncated, info = env.step(action)
        assert space.contains(env.last_target)
        assert info["refused"] is False
        assert np.all(np.abs(info["executed_action"]) <= 1.0)
        if terminated or truncated:
            break


def test_seeded_reset_is_reproducible(env):
    first, _ = env.reset(seed=7)
    hole, frame = env.task.target_tip(), env.reset_frame
    env.reset(seed=8)
    assert not np.allclose(env.task.target_tip(), hole)
    second, _ = env.reset(seed=7)
    np.testing.assert_allclose(env.task.target_tip(), hole)
    np.testing.assert_allclose(env.reset_frame, frame)
    np.testing.assert_allclose(first["state"], second["state"])


def test_reset_starts_inside_the_workspace_above_the_hole(env):
    for seed in range(10):
        env.reset(seed=seed)
        tcp = env.robot.state().tcp_pose
        assert env.task.workspace().contains(tcp, tolerance=1e-4)
        assert env.task.peg_tip(tcp)[2] > env.task.surface_z_m


def test_mjcf_arm_matches_dh_forward_kinematics():
    robot = SimFranka(SimFrankaConfig(), SceneFragment())
    pose = robot.state().tcp_pose
    expected = forward_kinematics(PANDA_HOME_Q)
    np.testing.assert_allclose(pose[:3], expected[:3, 3], atol=1e-6)
    np.testing.assert_allclose(quat_to_mat(pose[3:]), expected[:3, :3], atol=1e-6)
    rng = np.random.default_rng(0)
    for _ in range(5):
        q = PANDA_HOME_Q + rng.uniform(-0.3, 0.3, 7)
        robot.world.reset_joints(q, 1.0)
        np.testing.assert_allclose(
            robot.state().tcp_pose[:3], forward_kinematics(q)[:3, 3], atol=1e-6
        )


def test_pressing_on_the_board_reads_an_upward_force(env):
    """The peg cannot pass through the board: a misaligned descent stops on the surface."""
    env.reset(seed=4)
    frame_rot = quat_to_mat(env.reset_frame[3:])
    offset = np.array([0.01, 0.01, 0.0])
    for _ in range(40):
        tip = env.task.peg_tip(env.robot.state().tcp_pose)
        error = env.task.target_tip() + offset - tip
        action = np.zeros(7, np.float32)
        action[:3] = np.clip(frame_rot.T @ error / 0.02, -1, 1)
        env.step(action)
    state = env.robot.state()
    assert env.task.peg_tip(state.tcp_pose)[2] > env.task.surface_z_m - 1e-3
    world_force = quat_to_mat(state.tcp_pose[3:]) @ state.wrench[:3]
    assert world_force[2] > 1.0


def test_non_finite_reading_holds_the_arm_and_raises(monkeypatch) -> None:
    from userl.config.loader import load_config
    from userl.envs.factory import make_env
    from userl.envs.reading_check import UnsafeReading

    env = make_env(load_config([]), seed=0)
    env.reset(seed=0)
    good = env.robot.state()
    bad = good.__class__(**{**good.__dict__, "tcp_pose": good.tcp_pose * np.nan})
    commands, holds = [], []
    monkeypatch.setattr(env.robot, "state", lambda: bad)
    monkeypatch.setattr(env.robot, "command", lambda *a: commands.append(a))
    monkeypatch.setattr(env.robot, "hold", lambda: holds.append(True))
    with pytest.raises(UnsafeReading, match="non-finite tcp_pose"):
        env.step(np.zeros(7, np.float32))
    assert holds and not commands  # nothing computed from the bad reading reached the robot
    env.close()
