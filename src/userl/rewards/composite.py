"""`reward=composite`: a weighted sum of other sources; the step succeeds when any (or all)
of them say so. `reward.parts` maps a registered source to its fields and its `weight`:

    name: composite
    parts:
      success: {weight: 1.0}
      pose: {weight: 0.1, sparse_weight: 0.0, dense_weight: 1.0}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from userl.core.errors import ConfigError
from userl.core.registry import REWARDS, Registry, UnknownNameError
from userl.rewards.base import (
    RewardConfig,
    RewardContext,
    RewardInput,
    RewardSource,
    RewardStep,
)

SUCCESS_RULES: Registry = Registry("composite success rule")
SUCCESS_RULES.register("any")(any)
SUCCESS_RULES.register("all")(all)
WEIGHT_KEY = "weight"


@dataclass
class CompositeRewardConfig(RewardConfig):
    """A weighted sum of sources (`parts`: name -> {weight, fields}); success any | all."""

    parts: dict[str, Any] = field(default_factory=dict)  # name -> {weight, fields} of each source
    success_rule: str = "any"  # any | all of the parts' successes

    def problem(self) -> str | None:
        if self.success_rule not in SUCCESS_RULES:
            return (
                f"bad value for 'reward.success_rule': {self.success_rule!r}; choose one "
                f"of: {', '.join(SUCCESS_RULES.names())}"
            )
        try:
            part_configs(self)
        except ConfigError as error:
            return str(error)
        return None


def part_configs(config: CompositeRewardConfig) -> list[tuple[RewardConfig, float]]:
    """Each part's config and weight; an unknown source or field is one-line ConfigError."""
    if not config.parts:
        raise ConfigError(
            "reward=composite needs reward.parts, e.g. "
            "parts: {success: {weight: 1.0}, pose: {weight: 0.1}}"
        )
    built: list[tuple[RewardConfig, float]] = []
    for name, given in config.parts.items():
        if not isinstance(given, dict | None):
            raise ConfigError(
                f"bad value for 'reward.parts.{name}': {given!r}; give a mapping "
                "of its fields and weight, e.g. {weight: 0.5}"
            )
        values = dict(given or {})
        weight = values.pop(WEIGHT_KEY, 1.0)
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise ConfigError(
                f"bad value for 'reward.parts.{name}.weight': {weight!r} is not a number"
            )
        if name == config.registered_name:
            raise ConfigError("reward.parts: a composite cannot contain a composite")
        try:
            schema = REWARDS.config(name)
        except UnknownNameError as error:
            raise ConfigError(f"reward.parts.{name}: {error}") from None
        known = {f.name for f in fields(schema)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"unknown config key 'reward.parts.{name}.{unknown[0]}'; "
                f"{name} has: {', '.join(sorted(known - {'name'}))}, weight"
            )
        part = schema(**values)
        assert isinstance(part, RewardConfig)
        problem = part.problem()
        if problem:
            raise ConfigError(f"reward.parts.{name}: {problem}")
        built.append((part, float(weight)))
    return built


@REWARDS.register("composite", config=CompositeRewardConfig)
class CompositeReward(RewardSource):
    """Sum of `weight * reward`; success by the rule; a failure from any part ends it."""

    def __init__(
        self,
        config: CompositeRewardConfig,
        context: RewardContext,
        build: Callable[[RewardConfig, RewardContext], RewardSource] | None = None,
    ) -> None:
        from userl.rewards.factory import build_reward

        make = build or build_reward
        self.terms = [(make(part, context), weight) for part, weight in part_configs(config)]
        self.rule = SUCCESS_RULES.get(config.success_rule)
        self.needs_ground_truth = any(s.needs_ground_truth for s, _ in self.terms)

    def reset(self) -> None:
        for source, _ in self.terms:
            source.reset()

    def __call__(self, step: RewardInput) -> RewardStep:
        results = [(source(step), weight) for source, weight in self.terms]
        probabilities = [r.probability for r, _ in results if r.probability is not None]
        return RewardStep(
            sum(weight * r.reward for r, weight in results),
            bool(self.rule(r.success for r, _ in results)),
            failure=any(r.failure for r, _ in results),
            probability=probabilities[0] if probabilities else None,
        )

    def close(self) -> None:
        for source, _ in self.terms:
            source.close()
