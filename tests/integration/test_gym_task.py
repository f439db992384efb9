"""`task=gym:<id>` on gymnasium's own MuJoCo environments (a package userl does not write)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from tests.gym_registrations import PIXELS_ID, PIXELS_SIDE_PX
from userl.cli import main
from userl.config.loader import ConfigError, load_config
from userl.data.store import EpisodeStore
from userl.envs.factory import make_env
from userl.envs.gym_env import GymTaskEnv
from userl.policies import build_policy
from userl.rollout.action_sources import ExpertSource, PolicySource
from userl.rollout.episode import run_episode
from userl.runtime.train import train

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("shared_ray")]

REACHER = "task=gym:Reacher-v5"
SMALL = [
    "run.env_steps=200",
    "run.grad_steps=0",
    "eval.episodes=2",
    "algo.batch_size=32",
    "algo.utd_max=1",
    "pipeline=sync",
]
SMALL_NETS = ["algo.critic_hidden_dims=[32,32]", "policy.hidden_dims=[32,32]"]


class RandomSource:
    """Uniform random actions in [-1, 1]: demonstrations for tests that need some."""

    source = "human"

    def __init__(self, dim: int, seed: int) -> None:
        self.rng, self.dim = np.random.default_rng(seed), dim

    def reset(self) -> None:
        pass

    def decide(self, observation):
        from userl.rollout.intervention import Decision

        action = self.rng.uniform(-1, 1, self.dim).astype(np.float32)
        return Decision(action, action, -1)


def test_adapters_on_pusher() -> None:
    env = make_env(load_config(["task=gym:Pusher-v5"]), seed=1)
    try:
        assert isinstance(env, GymTaskEnv)
        assert env.task.name == "gym:Pusher-v5" and env.task.episode_steps == 100
        assert env.task.control_hz == pytest.approx(20.0)  # 1 / Pusher's dt of 0.05 s
        assert env.action_space.shape == (7,) and env.observation_spec.state_dim == 23
        np.testing.assert_allclose(env.env_action(np.ones(7))[0], np.full(7, 2.0))  # Box high
        np.testing.assert_allclose(env.env_action(-np.ones(7))[0], np.full(7, -2.0))
        held, refused = env.env_action(np.full(7, np.nan))
        assert refused and np.all(held == 0.0)
        observation, _ = env.reset(seed=5)
        assert observation["state"].dtype == np.float32 and observation["state"].shape == (23,)
        _, reward, terminated, truncated, info = env.step(np.ones(7) * 3)
        np.testing.assert_allclose(info["executed_action"], np.ones(7))  # normalised, clipped
        assert np.isfinite(reward) and not terminated and not truncated
    finally:
        env.close()


def test_success_from_info_and_reward_kwargs_and_length() -> None:
    config = load_config(
        [
            REACHER,
            "task.success_key=reward_dist",
            "task.success_min=-1.0",
            "task.kwargs.reward_control_weight=0",
            "task.episode_steps=12",
        ]
    )
    env = make_env(config, seed=0)
    try:
        episode = run_episode(env, RandomSource(2, 0), "robot_0", seed=3)
    finally:
        env.close()
    assert len(episode) == 12 and episode.truncated[-1]  # task.episode_steps beats the limit
    assert episode.success  # every fingertip distance is below 1 m
    env = make_env(
        load_config(
            [
                REACHER,
                "task.kwargs.reward_control_weight=0",
                "task.success_from=reward",
                "task.success_min=0.5",
            ]
        ),
        seed=0,
    )
    try:
        episode = run_episode(env, RandomSource(2, 0), "robot_0", seed=3)
        _, reward, _, _, info = env.step(np.zeros(2))
    finally:
        env.close()
    assert reward == pytest.approx(info["reward_dist"])  # the kwarg reached the constructor
    paced = make_env(
        load_config(
            [REACHER, "task.rate_from_env=false", "task.control_hz=40", "task.realtime=true"]
        )
    )
    try:
        assert paced.task.control_hz == 40.0 and paced._pacer.period_s == pytest.approx(0.025)
    finally:
        paced.close()
    assert len(episode) == 50 and not episode.success  # Reacher's time limit; reward < 0
    assert env.task.control_hz == pytest.approx(50.0)  # 1 / Reacher's dt


def test_dict_observation_with_images_from_a_module(tmp_path: Path) -> None:
    config = load_config([f"task=gym:{PIXELS_ID}", "task.module=tests.gym_registrations"])
    env = make_env(config, seed=0)
    try:
        assert env.observation_spec.state_dim == 10
        assert [(v.name, v.height_px) for v in env.observation_spec.images] == [
            ("pixels", PIXELS_SIDE_PX)
        ]
        episode = run_episode(env, RandomSource(2, 1), "robot_0", seed=0)
    finally:
        env.close()
    assert len(episode) == 30  # the registered time limit
    assert episode.observations["pixels"].shape == (31, PIXELS_SIDE_PX, PIXELS_SIDE_PX, 3)
    assert episode.observations["pixels"].dtype == np.uint8
    assert episode.observations["pixels"].std() > 0  # a rendered scene, not a blank


def test_obs_image_renders_a_view_an_image_policy_acts_on() -> None:
    config = load_config([REACHER, "obs=image", "policy=cnn_small", "task.episode_steps=3"])
    env = make_env(config, seed=0)
    try:
        policy = build_policy(config.policy, env.observation_spec, env.action_space.shape[0])
        episode = run_episode(env, PolicySource(policy), "robot_0", seed=1)
    finally:
        env.close()
    assert episode.observations["front"].shape == (4, 64, 64, 3)  # cnn_small's view size
    assert len(episode) == 3


@pytest.mark.parametrize(
    "arguments, named",
    [
        (["task=gym"], "task.id"),
        (["task=gym:NoSuchEnv-v0"], "NoSuchEnv"),
        (["task=gym:CartPole-v1"], "Discrete"),
        ([REACHER, "task.module=no_such_package"], "no_such_package"),
        ([REACHER, "teleop=expert"], "teleop=expert"),
        ([REACHER, "task.kwargs.no_such_argument=1"], "no_such_argument"),
        ([REACHER, "task.success_from=vibes"], "task.success_from"),
    ],
)
def test_bad_gym_tasks_are_named(arguments, named) -> None:
    with pytest.raises(ConfigError, match=named):
        make_env(load_config(arguments))


def test_no_expert_is_one_line(capsys, tmp_path: Path) -> None:
    assert main(["eval", "task=gym:NoSuchEnv-v0", "policy=expert", "episodes=1"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    for bad in (["task=gym:NoSuchEnv-v0", "demos.episodes=0"], [REACHER]):  # before Ray starts
        assert main(["train", *bad, f"run.root={tmp_path}", "run.name=bad"]) == 2
        error = capsys.readouterr().err.strip()
        assert len(error.splitlines()) == 1 and (
            "NoSuchEnv" in error or "demos.episodes=0" in error
        ), error
    code = main(["collect", REACHER, "episodes=1", f"out={tmp_path / 'd'}"])
    error = capsys.readouterr().err.strip()
    assert code == 2 and len(error.splitlines()) == 1 and "no scripted expert" in error
    with pytest.raises(ConfigError, match="demos.episodes=0"):
        env = make_env(load_config([REACHER]))
        try:
            ExpertSource(env).decide({})
        finally:
            env.close()


def random_demos(tmp_path: Path, episodes: int = 3) -> Path:
    """Random-action Reacher episodes, exported as a LeRobot dataset: demos.path= reads it."""
    store = EpisodeStore(tmp_path / "demo-store").create()
    env = make_env(load_config([REACHER]), seed=0)
    try:
        for index in range(episodes):
            store.write(run_episode(env, RandomSource(2, index), "robot_0", seed=index))
    finally:
        env.close()
    out = tmp_path / "demos-lerobot"
    assert main(["data", "export", str(store.root), f"out={out}", "format=lerobot"]) == 0
    assert json.loads((out / "meta/info.json").read_text())["fps"] == 50  # Reacher's rate
    return out


@pytest.mark.parametrize(
    "algo, extra",
    [
        ("sac", ["demos.episodes=0", "pipeline=async", *SMALL_NETS]),
        ("rlpd", ["demos.only_successful=false", *SMALL_NETS]),
        ("sac_flow", ["demos.episodes=0", "policy=flow_g", *SMALL_NETS]),
        (
            "hg_dagger",
            [
                "demos.only_successful=false",
                "algo.pretrain_updates=20",
                "policy.hidden_dims=[32,32]",
            ],
        ),
    ],
)
def test_trains_with_every_algorithm(tmp_path: Path, algo: str, extra: list[str]) -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    demos = [] if "demos.episodes=0" in extra else [f"demos.path={random_demos(tmp_path)}"]
    config = load_config(
        [REACHER, f"algo={algo}", *SMALL, *extra, *demos, f"run.root={tmp_path}", "run.name=gym"]
    )
    summary = train(config)
    run_dir = tmp_path / "gym"
    written = json.loads((run_dir / "summary.json").read_text())
    assert written["env_steps"] >= 200 and written["grad_steps"] > 0
    assert written["eval_episodes"] == 2
    assert summary["eval_success_rate"] == written["eval_success_rate"]
    stored = EpisodeStore(run_dir / "episodes").load().episodes
    assert sum(len(e) for e in stored) == written["env_steps"]
    assert {e.task for e in stored} == {"gym:Reacher-v5"}
    assert all(e.actions.shape[1] == 2 and e.observations["state"].shape[1] == 10 for e in stored)
    if demos:
        assert written["demo_transitions"] == 3 * 50  # every imported demo transition
    if algo == "sac":  # the trained run evaluates and collects from its folder
        report = tmp_path / "eval.json"
        assert main(["eval", f"run={run_dir}", "episodes=2", f"out={report}"]) == 0
        assert json.loads(report.read_text())["episodes"] == 2
        assert (
            main(["collect", f"run={run_dir}", "episodes=2", f"out={tmp_path / 'collected'}"]) == 0
        )
        collected = EpisodeStore(tmp_path / "collected").load().episodes
        assert len(collected) == 2 and all(e.source == "policy" for e in collected)


PENDULUM_STEPS = 15_000  # past where SAC learns to balance gymnasium's InvertedPendulum-v5
PENDULUM_CURVE_EVERY_STEPS = 2_500
PENDULUM_LEARNED_RETURN = 500.0  # steps balanced, of the time limit's 1,000


@pytest.mark.slow
def test_sac_learns_a_gymnasium_task(tmp_path: Path) -> None:
    """The best learning-curve evaluation, not the last: SAC on this task is known to
    collapse after it has learned (its return can fall from the time limit back to near zero
    within a few thousand steps)."""
    config = load_config(
        [
            "task=gym:InvertedPendulum-v5",
            "algo=sac",
            "demos.episodes=0",
            "pipeline=sync",
            f"run.env_steps={PENDULUM_STEPS}",
            "run.grad_steps=0",
            "run.wall_s=0",
            f"eval.curve_every_env_steps={PENDULUM_CURVE_EVERY_STEPS}",
            "eval.curve_episodes=5",
            "eval.episodes=5",
            "eval.at_start=true",
            f"run.root={tmp_path}",
            "run.name=pendulum",
            "algo.bf16_matmuls=off",  # the threshold holds at float32, on any CPU
        ]
    )
    summary = train(config)
    best = max(point["mean_return"] for point in summary["eval_curve"])
    assert best >= PENDULUM_LEARNED_RETURN, summary["eval_curve"]
    assert best >= 5 * summary["initial_eval_mean_return"], summary["eval_curve"]
