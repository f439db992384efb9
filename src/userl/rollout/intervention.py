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

from userl.core.registry import TELEOPS, Registry
from userl.core.types import Decision, Observation
from userl.hardware.teleop.base import Teleop, TeleopConfig


@dataclass
class ExpertOperatorConfig(TeleopConfig):
    """A simulated operator: the task's scripted expert takes over by a rule, within a budget."""

    takeover_rule: str = "no_progress"  # no_progress | per_episode (registered rules)
    no_progress_steps: int = 15  # no_progress: take over after this many steps without progress
    progress_threshold_m: float = 0.005  # progress: the task's distance to go shrinks by this
    per_episode_probability: float = 0.5  # per_episode: chance of one takeover per episode
    takeover_steps: int = 10  # the operator keeps driving this many steps once it takes over
    max_takeovers_per_episode: int = 2  # the simulated operator takes over at most this often per
    # episode


TAKEOVER_RULES: Registry = Registry("takeover rule")


class Operator(Protocol):
    """A person (or a stand-in) with an input device: `(action, active)` each step.
    `simulated`: a stand-in, whose demonstrations are the scripted expert's."""

    simulated: bool

    def read(self, observation: Observation) -> tuple[np.ndarray, bool]: ...

    def reset(self) -> None: ...


class InterventionSource:
    """Wraps an action source: the operator's input overrides the policy while active."""

    def __init__(
        self,
        policy_source: Any,
        operator: Operator,
        hold_after_input_steps: int,
        budget_steps: int = 0,
    ) -> None:
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

    @property
    def chunks(self) -> Any:
        """The policy source's chunk queue (its waits), when it has one."""
        return getattr(self.policy_source, "chunks", None)

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
        cut = getattr(self.policy_source, "cut", None)
        if cut is not None:  # the policy replans from where the person leaves off
            cut()
        self.spent_steps += 1
        return Decision(
            np.asarray(human_action, np.float32), proposed.action, proposed.version, intervened=True
        )


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


@TELEOPS.register("expert", config=ExpertOperatorConfig)
class ScriptedOperator:
    """The task's scripted expert as the operator, acting through the same 7-D action."""

    simulated = True

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
        facts = self.env.task.evaluate(self.env.robot.state())
        distance = float(facts.get("distance_to_go_m", facts["target_distance_m"]))
        if distance < self.best_distance_m - self.config.progress_threshold_m:
            self.best_distance_m = distance
            self.steps_without_progress = 0
        else:
            self.steps_without_progress += 1

    def read(self, observation: Observation) -> tuple[np.ndarray, bool]:
        self._observe_progress()
        if (
            self.driving_steps_left == 0
            and self.takeovers < self.config.max_takeovers_per_episode
            and self.rule(self)
        ):
            self.driving_steps_left = self.config.takeover_steps
            self.takeovers += 1
        self.step += 1
        action = np.asarray(self.env.expert_action(), np.float32)
        if self.driving_steps_left > 0:
            self.driving_steps_left -= 1
            self.steps_without_progress = 0
            return action, True
        # hands resting on the device: within the hold window the operator still steers, and
        # the gripper stays as the expert holds it (a zero action would open it half way)
        return action, False


# ----------------------------------------------------------------------------- a person
class DeviceOperator:
    """A person with a device (SpaceMouse, keyboard): its base-frame action is expressed in
    the env's reset frame; `hold` / `release` key events latch and clear the robot's hold."""

    EVENT_ACTIONS = {"hold": "latch_hold", "release": "clear_hold"}
    simulated = False

    def __init__(self, env: Any, device: Teleop) -> None:
        self.env = env
        self.device = device

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


@TELEOPS.register("none", config=TeleopConfig)
def no_operator(env: Any, config: TeleopConfig, seed: int) -> None:
    """`teleop=none`: nobody takes over."""
    return None


def build_operator(env: Any, config: TeleopConfig, seed: int) -> Operator | None:
    """The operator `config.name` registers: a stand-in from this module, or a person behind
    a registered device (`hardware/teleop`); None for `teleop=none`."""
    factory = TELEOPS.get(config.name)
    if isinstance(factory, type) and issubclass(factory, Teleop):
        device: Teleop = factory(config)  # type: ignore[call-arg]
        return DeviceOperator(env, device)
    return factory(env, config, seed)


def with_interventions(
    policy_source: Any, env: Any, config: TeleopConfig, control_hz: float, seed: int
) -> Any:
    """The policy source alone (`teleop=none`), or wrapped with the configured operator."""
    operator = build_operator(env, config, seed)
    if operator is None:
        return policy_source
    hold_steps = int(round(config.hold_after_input_s * control_hz))
    return InterventionSource(policy_source, operator, hold_steps, config.budget_steps)
