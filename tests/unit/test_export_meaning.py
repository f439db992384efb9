"""The names an export gives the state and action follow the observation layout, and the
robot kind comes from the config that recorded the episodes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from userl.config.loader import load_config, to_yaml
from userl.core.specs import ACTION_DIM, RobotState
from userl.core.types import Episode
from userl.data.dataset_meaning import DatasetMeaning
from userl.tools.export_meaning import (
    ACTION_NAMES,
    PROPRIOCEPTION_NAMES,
    gym_task_names,
    robot_kinds,
    robot_task_names,
)

GRIPPER_MAX_M = 0.08


def test_proprioception_names_follow_the_state_vector() -> None:
    """Each name sits where `RobotState.proprioception` puts its value."""
    state = RobotState(
        tcp_pose=np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]),
        tcp_velocity=np.array([11.0, 12.0, 13.0, 14.0, 15.0, 16.0]),
        joint_positions=np.zeros(7),
        joint_velocities=np.zeros(7),
        gripper_width_m=GRIPPER_MAX_M / 4,
        wrench=np.array([21.0, 22.0, 23.0, 24.0, 25.0, 26.0]),
    )
    vector = state.proprioception(GRIPPER_MAX_M)
    assert len(PROPRIOCEPTION_NAMES) == len(vector) == len(set(PROPRIOCEPTION_NAMES))
    value = dict(zip(PROPRIOCEPTION_NAMES, vector.tolist(), strict=True))
    assert (value["tcp_x"], value["tcp_z"], value["tcp_qw"], value["tcp_qz"]) == (1, 3, 4, 7)
    assert (value["tcp_vx"], value["tcp_wz"], value["gripper_opening"]) == (11, 16, 0.25)
    assert (value["force_x"], value["torque_z"]) == (21, 26)


def test_names_by_environment_builder() -> None:
    state, action = robot_task_names(len(PROPRIOCEPTION_NAMES) + 2, 2, ACTION_DIM)
    assert state[-2:] == ("task_state_0", "task_state_1") and action == ACTION_NAMES
    assert robot_task_names(5, 2, ACTION_DIM)[0] == ()  # not the layout: no names
    assert gym_task_names(3, 0, 2) == (("state_0", "state_1", "state_2"), ("action_0", "action_1"))
    meaning = DatasetMeaning("franka", ("a", "b"), ACTION_NAMES)
    assert meaning.state_names_for(2) == ["a", "b"] and meaning.state_names_for(3) is None
    assert meaning.action_names_for(ACTION_DIM) == list(ACTION_NAMES)


def episode(robot_id: str, task: str = "pick_place") -> Episode:
    return Episode(
        robot_id=robot_id,
        task=task,
        observations={"state": np.zeros((2, 3), np.float32)},
        actions=np.zeros((1, ACTION_DIM), np.float32),
        policy_actions=np.zeros((1, ACTION_DIM), np.float32),
        rewards=np.zeros(1, np.float32),
        terminated=np.ones(1, bool),
        truncated=np.zeros(1, bool),
        intervened=np.zeros(1, bool),
        policy_versions=np.zeros(1, np.int64),
        success=True,
    )


def test_the_robot_kind_comes_from_the_run_then_the_command_line(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "episodes").mkdir(parents=True)
    (run / "config.yaml").write_text(to_yaml(load_config(["task=pick_place", "robot=sim_arx_r5"])))
    episodes = [episode("robot_0"), episode("robot_1")]
    assert robot_kinds(run / "episodes", episodes, None) == "sim_arx_r5"
    assert robot_kinds(run / "episodes", episodes, "franka") == "franka"
    alone = tmp_path / "demos"
    alone.mkdir()
    default = load_config(["task=pick_place"]).robot.name
    assert robot_kinds(alone, episodes, None) == default
