"""The intervention layer: the operator's input overrides the policy, with a hold window."""

import numpy as np

from userl.core.types import Decision
from userl.rollout.intervention import InterventionSource


class FixedPolicy:
    source = "policy"
    version = 3

    def decide(self, observation):
        return Decision(np.full(7, 0.5, np.float32), np.full(7, 0.5, np.float32), self.version)

    def reset(self):
        pass


class ScriptedDevice:
    """Active on the listed steps, idle otherwise."""

    def __init__(self, active_steps):
        self.active_steps, self.step = set(active_steps), 0

    def read(self, observation):
        active = self.step in self.active_steps
        self.step += 1
        return (np.full(7, -1.0 if active else 0.0, np.float32), active)

    def reset(self):
        self.step = 0


def run(source, steps=10):
    return [source.decide({}) for _ in range(steps)]


def test_operator_input_takes_over_and_holds_for_the_window():
    decisions = run(InterventionSource(FixedPolicy(), ScriptedDevice({2, 3}), 2))
    assert [d.intervened for d in decisions] == [
        False,
        False,
        True,
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    human = decisions[2]
    np.testing.assert_array_equal(human.action, np.full(7, -1.0))
    np.testing.assert_array_equal(human.policy_action, np.full(7, 0.5))  # kept beside it
    assert human.version == 3
    np.testing.assert_array_equal(decisions[5].action, np.zeros(7))  # hands off, still held
    np.testing.assert_array_equal(decisions[6].action, np.full(7, 0.5))


def test_budget_limits_intervened_steps():
    source = InterventionSource(FixedPolicy(), ScriptedDevice(range(10)), 0, budget_steps=4)
    assert sum(d.intervened for d in run(source)) == 4
