"""The reward-source interface and composition."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from userl.core.types import Observation


class RewardSource(Protocol):
    """`(obs, info) -> (reward, success)`. `info` carries the task's facts (`success`,
    `target_distance_m`, ...). Registered factories take the task config."""

    def __call__(self, obs: Observation, info: Mapping[str, Any]) -> tuple[float, bool]: ...


class CompositeReward:
    """A weighted sum of sources; the step counts as a success if any source says so."""

    def __init__(self, terms: Sequence[tuple[RewardSource, float]]) -> None:
        if not terms:
            raise ValueError("a composite reward needs at least one source")
        self.terms = list(terms)

    def __call__(self, obs: Observation, info: Mapping[str, Any]) -> tuple[float, bool]:
        total, success = 0.0, False
        for source, weight in self.terms:
            reward, source_success = source(obs, info)
            total += weight * reward
            success = success or source_success
        return total, success
