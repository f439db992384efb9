"""The simulated operator (`teleop=expert`) on a real MuJoCo task: when it takes over, what
it records, and how it measures the policy's progress."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from userl.config.loader import load_config
from userl.core.types import Decision
from userl.envs.factory import make_env
from userl.rollout.intervention import (
    ExpertOperatorConfig,
    InterventionSource,
    ScriptedOperator,
)


@dataclass
class StillPolicy:
    """A policy that asks the arm to stay where it is, gripper closed."""

    source: str = "policy"
    version: int = 0

    def decide(self, observation) -> Decision:
        action = np.zeros(7, np.float32)
        action[6] = 1.0
        return Decision(action, action, self.version)

    def reset(self) -> None:
        pass


@pytest.fixture(scope="module")
def pick_place():
    env = make_env(load_config(["task=pick_place"]), seed=0)
    yield env
    env.close()


def run_episode(env, source, steps: int) -> list[Decision]:
    observation, _ = env.reset(seed=3)
    source.reset()
    decisions = []
    for _ in range(steps):
        decision = source.decide(observation)
        decisions.append(decision)
        observation, _, terminated, truncated, _ = env.step(decision.action)
        if terminated or truncated:
            break
    return decisions


def test_the_hold_window_keeps_the_experts_action_and_grip(pick_place) -> None:
    """After its takeover ends, the operator's hand still rests on the device: the hold
    window's recorded actions are the expert's (a zero action would open the gripper half
    way and drop what the expert holds)."""
    config = ExpertOperatorConfig(
        no_progress_steps=3, takeover_steps=4, max_takeovers_per_episode=1
    )
    operator = ScriptedOperator(pick_place, config, seed=0)
    source = InterventionSource(StillPolicy(), operator, hold_after_input_steps=5)
    decisions = run_episode(pick_place, source, steps=30)
    intervened = [i for i, d in enumerate(decisions) if d.intervened]
    assert len(intervened) == 4 + 5  # the takeover, then the hold window
    assert intervened == list(range(intervened[0], intervened[0] + 9))
    hold = [decisions[i].action for i in intervened[4:]]
    assert all(abs(action[6]) == 1.0 for action in hold)  # the expert's open or closed


def test_pick_place_distance_to_go_falls_while_reaching(pick_place) -> None:
    """Reaching for the object is progress: the distance to go falls while the object's
    distance to the container does not move."""
    pick_place.reset(seed=3)
    facts = [pick_place.task.evaluate(pick_place.robot.state())]
    for _ in range(15):
        pick_place.step(pick_place.expert_action())
        facts.append(pick_place.task.evaluate(pick_place.robot.state()))
    assert facts[-1]["distance_to_go_m"] < facts[0]["distance_to_go_m"] - 0.05
    assert facts[-1]["target_distance_m"] == pytest.approx(facts[0]["target_distance_m"], abs=1e-3)


class ExpertPolicy:
    """The scripted expert as the policy: it always makes progress."""

    source = "policy"
    version = 0

    def __init__(self, env) -> None:
        self.env = env

    def decide(self, observation) -> Decision:
        action = self.env.expert_action()
        return Decision(action, action, self.version)

    def reset(self) -> None:
        pass


def test_an_expert_policy_is_never_taken_over_on_pick_place(pick_place) -> None:
    """The no-progress rule reads every stage: a policy that reaches, grasps and carries
    like the expert gives the operator no reason to step in."""
    operator = ScriptedOperator(pick_place, ExpertOperatorConfig(), seed=0)
    source = InterventionSource(ExpertPolicy(pick_place), operator, hold_after_input_steps=5)
    decisions = run_episode(pick_place, source, steps=200)
    assert not any(d.intervened for d in decisions)
    assert len(decisions) < 200  # it finished the task


def test_an_expert_policy_is_never_taken_over_on_table_cleanup() -> None:
    """Table clean-up's distance to go runs over every object's reach and carry and the lid's
    approach and push, so the expert's whole episode is progress; the objects' own distance
    stood still for 60+ steps while the hand reached and went to the lid, and the operator
    stepped in on a perfect policy."""
    env = make_env(load_config(["task=table_cleanup"]), seed=0)
    try:
        operator = ScriptedOperator(env, ExpertOperatorConfig(), seed=0)
        source = InterventionSource(ExpertPolicy(env), operator, hold_after_input_steps=5)
        decisions = run_episode(env, source, steps=env.task.config.episode_steps)
        assert not any(d.intervened for d in decisions)
        assert len(decisions) < env.task.config.episode_steps  # it finished the task
    finally:
        env.close()
