"""The simulated manipulation tasks: gymnasium contract, seeded resets, scripted experts."""

import math

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from userl.config.loader import load_config
from userl.core.registry import TASKS
from userl.envs.factory import make_env

pytestmark = pytest.mark.integration

NEW_TASKS = ["charger", "pick_place", "cap_tightening", "table_cleanup"]


def make(task: str, obs: str = "state", **kwargs):
    return make_env(load_config([f"task={task}", f"obs={obs}"]), seed=0, **kwargs)


def test_every_task_is_registered_with_a_preset():
    for task in NEW_TASKS:
        assert task in TASKS
        config = load_config([f"task={task}"])
        assert config.task.name == task and config.task.instruction.endswith(".")


@pytest.mark.parametrize("obs", ["state", "image"])
@pytest.mark.parametrize("task", NEW_TASKS)
def test_check_env(task, obs):
    env = make(task, obs)
    check_env(env, skip_render_check=True)
    observation, _ = env.reset(seed=1)
    assert observation["state"].shape == (env.observation_spec.state_dim,)
    assert np.all(np.abs(observation["state"]) < 20.0)  # scaled to order 1
    if obs == "image":
        assert observation["front"].shape == (128, 128, 3)
        assert observation["wrist"].dtype == np.uint8 and observation["front"].std() > 0
    env.close()


@pytest.mark.parametrize("task", NEW_TASKS)
def test_seeded_reset_is_reproducible(task):
    env = make(task)
    first, _ = env.reset(seed=7)
    frame = env.reset_frame
    other, _ = env.reset(seed=8)
    assert not np.allclose(other["state"], first["state"])
    again, _ = env.reset(seed=7)
    np.testing.assert_allclose(again["state"], first["state"], atol=1e-6)
    np.testing.assert_allclose(env.reset_frame, frame, atol=1e-9)
    assert env.task.workspace().contains(env.robot.state().tcp_pose, tolerance=1e-3)
    env.close()


@pytest.mark.parametrize("task", NEW_TASKS)
def test_expert_succeeds_on_5_seeded_episodes(task, expert_success_rate):
    assert expert_success_rate(task, 5) == 1.0


@pytest.mark.slow
@pytest.mark.parametrize("task", NEW_TASKS)
def test_expert_succeeds_on_50_seeded_episodes(task, expert_success_rate):
    assert expert_success_rate(task, 50) >= 0.95


def test_charger_with_the_wrong_yaw_does_not_plug_in():
    """The slots are tight: pushing straight down 25 degrees off their yaw stops on top."""
    env = make("charger")
    env.reset(seed=3)
    task = env.task
    for _ in range(40):
        action = env.expert_action()
        tcp = env.robot.state().tcp_pose
        error = task.yaw_error(tcp) + math.radians(25.0)  # aim 25 degrees off
        action[3:6] = 0.0
        action[5] = np.clip(-error / task.config.action_scale_rad, -1, 1)  # tool axis is down
        _, _, terminated, _, info = env.step(action)
        assert not terminated
    assert task.plug_tip(env.robot.state().tcp_pose)[2] > task.surface_z_m - 0.004
    env.close()


def test_cap_joint_stops_at_its_end():
    env = make("cap_tightening")
    env.reset(seed=0)
    stop = math.radians(env.task.config.cap_stop_angle_deg)
    env.robot.set_joint_position("cap", stop + 1.0)
    for _ in range(3):
        env.step(np.zeros(7, np.float32))
    assert env.task.cap_angle() <= stop + 0.05
    env.close()


def test_render_returns_the_front_view_in_state_mode():
    env = make("pick_place", render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    config = env.task.config
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.std() > 0
    assert env.observation_space["state"].shape[0] == env.observation_spec.state_dim
    assert "front" not in env.reset(seed=0)[0]
    assert config.name == "pick_place"
    env.close()


def test_table_cleanup_state_names_the_next_object_then_the_lid():
    """The stage block repeats the next object's block (the expert's order) with a one-hot
    of which it is, and is all zeros once every object lies in the box."""
    from userl.tasks.table_cleanup import PER_OBJECT_STATE, object_body

    env = make("table_cleanup")
    env.reset(seed=3)
    task = env.task
    count = len(task.shapes)

    def stage() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        values = task.task_state(env.robot.state(), env.reset_frame)
        blocks = values[: PER_OBJECT_STATE * count].reshape(count, PER_OBJECT_STATE)
        start = PER_OBJECT_STATE * count
        block = values[start : start + PER_OBJECT_STATE]
        return blocks, block, values[start + PER_OBJECT_STATE : start + PER_OBJECT_STATE + count]

    blocks, block, which = stage()
    assert which.tolist() == [1.0, 0.0, 0.0] and np.allclose(block, blocks[0])
    for index in range(count):  # put each object down inside the box, in its slot
        slot = task.slot(index)
        env.robot.set_body_pose(object_body(index), np.array([*slot, 1.0, 0.0, 0.0, 0.0]))
        blocks, block, which = stage()
        if index + 1 < count:
            assert np.argmax(which) == index + 1 and np.allclose(block, blocks[index + 1])
    assert not which.any() and not block.any()
    assert task.evaluate(env.robot.state())["objects_inside"] == count
    env.close()
