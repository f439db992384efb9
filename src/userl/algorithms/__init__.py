"""Algorithms: a registry of `Algorithm` classes, each built from its own config by name."""

from __future__ import annotations

from userl.algorithms import (  # noqa: F401  (register them)
    dsrl,
    hg_dagger,
    recap,
    residual_sac,
    sac,
    sac_flow,
)
from userl.algorithms.base import AlgoConfig, Algorithm
from userl.core.registry import ALGORITHMS
from userl.core.specs import ObservationSpec
from userl.policies.base import PolicyConfig


def build_algorithm(
    algo: AlgoConfig,
    policy: PolicyConfig,
    obs_spec: ObservationSpec,
    action_dim: int,
    device: str = "cpu",
) -> Algorithm:
    """The algorithm registered under `algo.name`, with the policy `policy` configures (on
    `device`) and the algorithm's own networks; the loader has validated both configs."""
    algorithm: Algorithm = ALGORITHMS.build(algo, policy, obs_spec, action_dim, device)
    return algorithm


__all__ = ["Algorithm", "build_algorithm"]
