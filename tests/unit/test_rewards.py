"""Reward sources as plug-ins: each source, the composite, the gripper-toggle penalty, the
`reward` config group, and the keyboard source on a real pty (no physics)."""

from __future__ import annotations

import os
import select

import numpy as np
import pytest

from userl.config.loader import load_config
from userl.core.errors import ConfigError
from userl.core.registry import REWARDS
from userl.core.specs import GRIPPER_INDEX, ImageSpec, ObservationSpec, RobotState
from userl.rewards import RewardContext, RewardInput, build_reward
from userl.rewards.composite import CompositeRewardConfig
from userl.rewards.keyboard import KeyboardRewardConfig
from userl.rewards.pose import PoseRewardConfig
from userl.rewards.success import SuccessRewardConfig
from userl.tasks.peg_insertion import PegInsertionConfig

OBS = {"state": np.zeros(25, np.float32)}
CONTEXT = RewardContext(PegInsertionConfig(), ObservationSpec(state_dim=25))
TOOL_DOWN = [0.0, 1.0, 0.0, 0.0]  # wxyz: 180 degrees about x


def state_at(xyz: list[float], quat: list[float] = TOOL_DOWN) -> RobotState:
    return RobotState(
        tcp_pose=np.array([*xyz, *quat]),
        tcp_velocity=np.zeros(6),
        joint_positions=np.zeros(7),
        joint_velocities=np.zeros(7),
        gripper_width_m=0.0,
        wrench=np.zeros(6),
    )


def step(
    facts: dict | None = None, xyz: list[float] = (0.5, 0.0, 0.2), action: np.ndarray | None = None
) -> RewardInput:
    return RewardInput(OBS, state_at(list(xyz)), facts or {}, action)


def test_success_reward_is_sparse_and_reads_the_ground_truth():
    source = build_reward(SuccessRewardConfig(), CONTEXT)
    assert source.needs_ground_truth
    assert source(step({"success": True})).reward == 1.0
    verdict = source(step({"success": False}))
    assert (verdict.reward, verdict.success, verdict.failure) == (0.0, False, False)


def test_pose_reward_from_a_recorded_target_needs_no_ground_truth():
    config = PoseRewardConfig(target_tcp_pose=[0.5, 0.0, 0.2], tolerance_m=0.01)
    source = build_reward(config, CONTEXT)
    assert not source.needs_ground_truth
    inside = source(step(xyz=[0.505, 0.0, 0.2]))
    outside = source(step(xyz=[0.53, 0.0, 0.2]))
    assert inside.success and inside.reward == 1.0
    assert not outside.success and outside.reward == 0.0


def test_pose_reward_checks_the_orientation_of_a_seven_value_target():
    source = build_reward(
        PoseRewardConfig(target_tcp_pose=[0.5, 0.0, 0.2, *TOOL_DOWN], tolerance_deg=10.0), CONTEXT
    )
    assert source(step(xyz=[0.5, 0.0, 0.2])).success
    turned = RewardInput(OBS, state_at([0.5, 0.0, 0.2], [1.0, 0.0, 0.0, 0.0]))  # tool up
    assert not source(turned).success


def test_pose_reward_dense_term_and_the_tasks_own_target():
    source = build_reward(
        PoseRewardConfig(sparse_weight=0.0, dense_weight=1.0, dense_scale_per_m=10.0), CONTEXT
    )
    assert source.needs_ground_truth  # no recorded target: the task's own distance
    verdict = source(step({"success": False, "target_distance_m": 0.05}))
    assert verdict.reward == pytest.approx(-0.5) and not verdict.success


def test_composite_weights_and_success_rules():
    parts = {
        "success": {"weight": 2.0},
        "pose": {"weight": 0.5, "sparse_weight": 0.0, "dense_weight": 1.0},
    }
    facts = {"success": True, "target_distance_m": 0.02}
    anyone = build_reward(CompositeRewardConfig(parts=parts), CONTEXT)
    verdict = anyone(step(facts))
    assert verdict.reward == pytest.approx(2.0 - 0.5 * 10.0 * 0.02)
    assert verdict.success  # success said so (pose is not within its 1 cm)
    everyone = build_reward(CompositeRewardConfig(parts=parts, success_rule="all"), CONTEXT)
    assert not everyone(step(facts)).success


@pytest.mark.parametrize(
    "parts, named",
    [
        ({"nope": {}}, "reward.parts.nope"),
        ({"pose": {"tolerance": 1}}, "reward.parts.pose.tolerance"),
        ({"success": 3}, "reward.parts.success"),
        ({"success": {"weight": "x"}}, "reward.parts.success.weight"),
        ({}, "reward.parts"),
    ],
)
def test_a_bad_composite_is_one_line_naming_the_part(parts, named):
    problem = CompositeRewardConfig(parts=parts).problem()
    assert problem is not None and named in problem and "\n" not in problem


def test_gripper_toggle_penalty_counts_sign_changes():
    config = SuccessRewardConfig(gripper_toggle_penalty=0.25)
    source = build_reward(config, CONTEXT)
    gripper = [-1.0, -1.0, 1.0, 1.0, -0.5]  # one close, one open
    rewards = [
        source(step({"success": False}, action=np.array([0] * 6 + [g]))).reward for g in gripper
    ]
    assert rewards == [0.0, 0.0, -0.25, 0.0, -0.25]
    source.reset()
    assert source(step({"success": False}, action=np.array([0] * 6 + [1.0]))).reward == 0.0


def test_reward_group_on_the_command_line(tmp_path):
    assert load_config([]).reward.name == "success"
    config = load_config(
        ["reward=classifier", f"reward.checkpoint={tmp_path}/c.pt", "reward.hold_steps=3"]
    )
    assert config.reward.name == "classifier" and config.reward.hold_steps == 3
    composite = load_config(["reward=composite", "reward.success_rule=all"])
    assert set(composite.reward.parts) == {"success", "pose"}
    assert load_config(
        ["reward=pose", "reward.target_tcp_pose=[0.5,0,0.2]"]
    ).reward.target_tcp_pose == [0.5, 0.0, 0.2]


@pytest.mark.parametrize(
    "arguments, named",
    [
        (["reward=nope"], "reward preset 'nope'"),
        (["reward=classifier"], "reward.checkpoint"),
        (["reward=pose", "reward.target_tcp_pose=[1,2]"], "reward.target_tcp_pose"),
        (["reward=pose", "reward.tolerance_m=-1"], "reward.tolerance_m"),
        (["reward=success", "reward.bogus=1"], "reward.bogus"),
        (["task=gym:Reacher-v5", "reward=pose"], "reward=pose"),
        (["reward=keyboard", "teleop=keyboard"], "reward.device_path"),
        (["reward=composite", "reward.success_rule=most"], "reward.success_rule"),
    ],
)
def test_bad_reward_config_is_one_line(arguments, named):
    with pytest.raises(ConfigError) as caught:
        load_config(arguments)
    assert named in str(caught.value) and "\n" not in str(caught.value)


def test_every_reward_preset_names_a_registered_source():
    for name in ("success", "pose", "keyboard", "classifier", "composite"):
        assert name in REWARDS


class Pty:
    """A real pseudo-terminal: the keyboard reward reads its slave, the test types."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())
        assert select.select([self.slave], [], [], 10.0)[0], "the pty never delivered"

    def close(self) -> None:
        os.close(self.master)
        os.close(self.slave)


def test_keyboard_reward_marks_success_until_failure_on_a_real_pty():
    pty = Pty()
    try:
        source = build_reward(KeyboardRewardConfig(device_path=pty.path), CONTEXT)
        pty.type("s")  # pressed before the episode: not a mark of it
        source.reset()
        assert not source(step()).success
        pty.type("xs")  # an unbound key, then success
        assert [source(step()).success for _ in range(2)] == [True, True]  # held
        pty.type("f")
        verdict = source(step())
        assert verdict.failure and not verdict.success and verdict.reward == 0.0
        source.close()
    finally:
        pty.close()


def test_keyboard_reward_with_the_same_key_twice_is_refused():
    assert "reward.key_success" in KeyboardRewardConfig(key_failure="s").problem()


def test_views_of_a_context_come_from_the_config():
    from userl.envs.factory import expected_observation_spec
    from userl.tasks.peg_insertion import PegInsertion

    config = load_config(["obs=image", "robot.image_height_px=32", "robot.image_width_px=24"])
    spec = expected_observation_spec(config, PegInsertion(config.task))
    assert spec.images == (ImageSpec("front", 32, 24), ImageSpec("wrist", 32, 24))
    assert expected_observation_spec(load_config([]), PegInsertion(config.task)).images == ()


@pytest.mark.parametrize(
    "arguments, policy, reward_only",
    [
        (["robot.reward_camera_names=[hole_side]"], [], ["hole_side"]),
        (
            ["obs=image", "robot.reward_camera_names=[hole_side,front]"],
            ["front", "wrist"],
            ["hole_side"],
        ),  # a policy view is read once and seen by both
        (["robot.reward_camera_names=[front]"], [], ["front"]),  # obs=state: the reward's alone
    ],
)
def test_reward_only_views_are_the_reward_cameras_the_policy_does_not_get(
    arguments, policy, reward_only
):
    from userl.envs.factory import policy_view_names, reward_only_view_names

    config = load_config(arguments)
    assert policy_view_names(config) == policy
    assert reward_only_view_names(config) == reward_only


class ExpertStandIn:
    """What the failure sources use of an env: its scripted expert's action."""

    action_space = type("Box", (), {"shape": (7,)})()

    def expert_action(self) -> np.ndarray:
        return np.array([0.5, -0.5, 0.0, 0.0, 0.0, 0.0, 1.0], np.float32)


def test_failure_sources_for_classifier_data():
    from userl.rollout.action_sources import NoisyExpertSource, RandomSource

    env = ExpertStandIn()
    exact = NoisyExpertSource(env, std=0.0, seed=0).decide(OBS)
    np.testing.assert_array_equal(exact.action, env.expert_action())
    noisy = [NoisyExpertSource(env, std=1.0, seed=0).decide(OBS).action for _ in range(2)]
    np.testing.assert_array_equal(noisy[0], noisy[1])  # seeded
    assert not np.allclose(noisy[0], env.expert_action()) and np.all(np.abs(noisy[0]) <= 1)
    actions = np.stack(
        [RandomSource(7, seed=0).decide(OBS).action, RandomSource(7, seed=1).decide(OBS).action]
    )
    assert actions.shape == (2, 7) and np.all(np.abs(actions) <= 1)
    assert not np.allclose(actions[0], actions[1])


def test_halting_expert_follows_the_expert_then_holds_still_with_its_gripper():
    from userl.rollout.action_sources import HaltingExpertSource

    env = ExpertStandIn()
    runs = []
    for _ in range(2):
        source = HaltingExpertSource(env, halt_probability=0.2, seed=5)
        runs.append(np.stack([source.decide(OBS).action for _ in range(40)]))
    np.testing.assert_array_equal(runs[0], runs[1])  # seeded
    moving = np.all(runs[0] == env.expert_action(), axis=1)
    halt = int(np.argmin(moving))  # the first step that is not the expert's
    assert 0 < halt < 40 and moving[:halt].all() and not moving[halt:].any()
    held = np.zeros(7, np.float32)
    held[GRIPPER_INDEX] = env.expert_action()[GRIPPER_INDEX]
    np.testing.assert_array_equal(runs[0][halt:], np.tile(held, (40 - halt, 1)))
    source.reset()  # a new episode starts with the expert again
    assert source.halted is None
    np.testing.assert_array_equal(
        HaltingExpertSource(env, halt_probability=1e-9, seed=0).decide(OBS).action,
        env.expert_action(),
    )
    with pytest.raises(ConfigError, match="demos.halting_expert_probability"):
        HaltingExpertSource(env, halt_probability=0.0, seed=0)


@pytest.mark.parametrize(
    "task_keys, reward",
    [
        ({}, {"name": "success"}),
        ({"reward": "success", "dense_reward_weight": 0.0}, {"name": "success"}),
        (
            {"reward": "pose_distance", "dense_reward_scale_per_m": 5.0},
            {"name": "pose", "dense_weight": 1.0, "dense_scale_per_m": 5.0},
        ),
        ({"reward": "success", "dense_reward_weight": 0.2}, {"name": "composite"}),
    ],
)
def test_a_run_saved_before_the_reward_group_still_loads(tmp_path, task_keys, reward):
    import yaml

    from userl.config.loader import load_config_file, to_yaml

    saved = yaml.safe_load(to_yaml(load_config([])))
    del saved["reward"]
    saved["task"].update(task_keys)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(saved))
    config = load_config_file(path)
    assert all(getattr(config.reward, key) == value for key, value in reward.items())
    if reward["name"] == "composite":
        assert config.reward.parts["pose"]["weight"] == 0.2
