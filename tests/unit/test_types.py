"""Episode records: per-step robot id, policy version, executed vs proposed action, intervened."""

import dataclasses

import numpy as np

from userl.core.types import EpisodeBuilder


def test_transitions_carry_everything_per_step() -> None:
    builder = EpisodeBuilder("robot_7", "peg_insertion", {"state": np.zeros(3, np.float32)})
    for t in range(3):
        builder.add(
            action=np.full(7, t, np.float32),
            policy_action=np.full(7, -t, np.float32),
            reward=float(t),
            next_observation={"state": np.full(3, t + 1, np.float32)},
            terminated=t == 2,
            truncated=False,
            intervened=t == 1,
            policy_version=10 + t,
            success=t == 2,
        )
    episode = builder.build()
    assert len(episode) == 3 and episode.success and episode.intervened_steps == 1
    steps = list(episode.transitions())
    assert [s.policy_version for s in steps] == [10, 11, 12]
    assert [s.intervened for s in steps] == [False, True, False]
    assert all(s.robot_id == "robot_7" for s in steps)
    np.testing.assert_array_equal(steps[1].action, np.full(7, 1.0))
    np.testing.assert_array_equal(steps[1].policy_action, np.full(7, -1.0))
    for t, step in enumerate(steps):  # next observation of step t is the observation of t+1
        np.testing.assert_array_equal(step.observation["state"], np.full(3, t))
        np.testing.assert_array_equal(step.next_observation["state"], np.full(3, t + 1))
    assert [s.terminated for s in steps] == [False, False, True]


def test_takeovers_count_each_run_of_intervened_steps() -> None:
    builder = EpisodeBuilder("robot_0", "peg_insertion", {"state": np.zeros(3, np.float32)})
    pattern = [True, True, False, True, False, False, True, True]
    for t, intervened in enumerate(pattern):
        builder.add(
            action=np.zeros(7, np.float32),
            policy_action=np.zeros(7, np.float32),
            reward=0.0,
            next_observation={"state": np.full(3, t, np.float32)},
            terminated=False,
            truncated=t == len(pattern) - 1,
            intervened=intervened,
            policy_version=0,
            success=False,
        )
    episode = builder.build()
    assert episode.takeovers == 3 and episode.intervened_steps == 5
    untouched = dataclasses.replace(episode, intervened=np.zeros(len(pattern), bool))
    assert untouched.takeovers == 0
