"""Human interventions: an operator may take over from the policy at any step.

When the operator's device is active (or for `hold_after_input_s` after its last input)
the operator's action is executed and recorded with `intervened=True`, and the policy's
proposal is kept beside it. The simulated operator (`teleop=expert`) is the task's
scripted expert with a takeover rule and a budget, so all of this runs without a person.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from userl.config.schema import ExpertOperatorConfig, TeleopConfig
from userl.core.registry import Registry
from userl.core.types import Observation

OPERATORS: Registry = Registry("operator")
TAKEOVER_RULES: Registry = Registry("takeover rule")


@dataclass
class Decision:
    """What happens at one step: the executed action, and what the policy proposed."""

    action: np.ndarray
    policy_action: np.ndarray
    version: int
    intervened: bool = False


class Operator(Protocol):
    """A person (or a stand-in) with an input device: `(action, active)` each step."""

    def read(self, observation: Observation) -> tuple[np.ndarray, bool]: ...

    def reset(self) -> None: ...


class InterventionSource:
    """Wraps an action source: the operator's input overrides the policy while active."""

    def __init__(self, policy_source: Any, operator: Operator, hold_after_input_steps: int,
                 budget_steps: int = 0) -> None:
        self.policy_source = policy_source
        self.operator = operator
        self.hold_after_input_steps = hold_after_input_steps
        self.budget_steps = budget_steps  # 0: unlimited
        self.spent_steps = 0
        self.source = policy_source.source
        self._steps_since_input = math.inf

    @property
    def version(self) -> int:
        return self.policy_source.version

    def reset(self) -> None:
        self.policy_source.reset()
        self.operator.reset()
        self._steps_since_input = math.inf

    def decide(self, observation: Observation) -> Decision:
        proposed = self.policy_source.decide(observation)
        human_action, active = self.operator.read(observation)
        exhausted = 0 < self.budget_steps <= self.spent_steps
        self._steps_since_input = 0 if active and not exhausted else self._steps_since_input + 1
        if self._steps_since_input > self.hold_after_input_steps:
            return proposed
        self.spent_steps += 1
        return Decision(np.asarray(human_action, np.float32), proposed.action,
                        proposed.version, intervened=True)


# ----------------------------------------------------------------------------- simulated operator
TakeoverRule = Callable[["ScriptedOperator"], bool]


@TAKEOVER_RULES.register("no_progress")
def no_progress(operator: ScriptedOperator) -> bool:
    """Take over after `no_progress_steps` steps in which the target got no closer."""
    return operator.steps_without_progress >= operator.config.no_progress_steps


@TAKEOVER_RULES.register("per_episode")
def per_episode(operator: ScriptedOperator) -> bool:
    """Take over once, at a random step, in a `per_episode_probability` share of episodes."""
    return operator.step == operator.planned_takeover_step


@OPERATORS.register("expert")
class ScriptedOperator:
    """The task's scripted expert as the operator, acting through the same 7-D action."""

    def __init__(self, env: Any, config: ExpertOperatorConfig, seed: int) -> None:
        self.env = env
        self.config = config
        self.rule: TakeoverRule = TAKEOVER_RULES.get(config.takeover_rule)
        self.rng = np.random.default_rng(seed)
        self.reset()

    def reset(self) -> None:
        self.step = 0
        self.takeovers = 0
        self.driving_steps_left = 0
        self.steps_without_progress = 0
        self.best_distance_m = math.inf
        wants = self.rng.random() < self.config.per_episode_probability
        horizon = max(1, self.env.task.episode_steps // 2)
        self.planned_takeover_step = int(self.rng.integers(0, horizon)) if wants else -1

    def _observe_progress(self) -> None:
        distance = float(self.env.task.evaluate(self.env.robot.state())["target_distance_m"])
        if distance < self.best_distance_m - self.config.progress_threshold_m:
            self.best_distance_m = distance
            self.steps_without_progress = 0
        else:
            self.steps_without_progress += 1

    def read(self, observation: Observation) -> tuple[np.ndarray, bool]:
        self._observe_progress()
        if (self.driving_steps_left == 0 and self.takeovers < self.config.max_takeovers_per_episode
                and self.rule(self)):
            self.driving_steps_left = self.config.takeover_steps
            self.takeovers += 1
        self.step += 1
        if self.driving_steps_left > 0:
            self.driving_steps_left -= 1
            self.steps_without_progress = 0
            return np.asarray(self.env.expert_action(), np.float32), True
        return np.zeros(7, np.float32), False  # hands off the device


# ----------------------------------------------------------------------------- a person
class DeviceOperator:
    """A person with a device (SpaceMouse, keyboard): its base-frame action is expressed in
    the env's reset frame; `hold` / `release` key events latch and clear the robot's hold."""

    EVENT_ACTIONS = {"hold": "latch_hold", "release": "clear_hold"}

    def __init__(self, env: Any, config: TeleopConfig, seed: int) -> None:
        import userl.hardware.teleop  # noqa: F401  (registers the devices)
        from userl.core.registry import TELEOPS

        self.env = env
        self.device = TELEOPS.get(config.name)(config)

    def reset(self) -> None:
        pass

    def read(self, observation: Observation) -> tuple[np.ndarray, bool]:
        command = self.device.read()
        for event in command.events:
            method = getattr(self.env.robot, self.EVENT_ACTIONS.get(event, ""), None)
            if method is not None:
                method()
        return base_to_reset_frame(command.action, self.env.reset_frame), bool(command.active)


def base_to_reset_frame(action: np.ndarray, reset_frame: np.ndarray) -> np.ndarray:
    """A 7-D action given in the robot base frame, re-expressed in the TCP's reset frame."""
    from userl.geometry import quat_to_mat

    rotation = quat_to_mat(np.asarray(reset_frame)[3:])
    converted = np.asarray(action, np.float32).copy()
    converted[:3] = np.clip(rotation.T @ converted[:3], -1.0, 1.0)
    converted[3:6] = np.clip(rotation.T @ converted[3:6], -1.0, 1.0)
    return converted


for _device in ("spacemouse", "keyboard"):
    OPERATORS.register(_device)(DeviceOperator)


def with_interventions(policy_source: Any, env: Any, config: TeleopConfig,
                       control_hz: float, seed: int) -> Any:
    """The policy source alone (`teleop=none`), or wrapped with the configured operator."""
    if config.name == "none":
        return policy_source
    operator = OPERATORS.get(config.name)(env, config, seed)
    hold_steps = int(round(config.hold_after_input_s * control_hz))
    budget = getattr(config, "budget_steps", 0)
    return InterventionSource(policy_source, operator, hold_steps, budget)
