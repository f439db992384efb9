"""Policies: a registry of `Policy` modules built from their config by name."""

from __future__ import annotations

from userl.core.registry import POLICIES
from userl.core.specs import ObservationSpec
from userl.policies import (  # noqa: F401  (register their policies)
    adapters,
    cnn,
    flow,
    mlp,
    pi0,
    residual_adapter,
)
from userl.policies.base import Policy, PolicyConfig, act_numpy, observation_to_torch
from userl.policies.exported import EXPORT_FORMAT, load_exported
from userl.policies.sharding import shard_built


def build_policy(policy_cfg: PolicyConfig, obs_spec: ObservationSpec, action_dim: int) -> Policy:
    """Build the policy registered under `policy_cfg.name`; with `policy.weights` naming a
    `userl export-policy` folder, with that export's tensors (a policy whose config reads
    its own `weights`, pi0, loads them as it is built)."""
    policy: Policy = POLICIES.build(policy_cfg, obs_spec, action_dim)
    if policy_cfg.weights and policy_cfg.WEIGHTS_FORMAT == EXPORT_FORMAT:
        load_exported(policy, policy_cfg.weights, obs_spec, action_dim)
    shard_built(policy)  # a data-parallel rank sharding its policy (`policies/sharding.py`)
    return policy


__all__ = ["Policy", "act_numpy", "build_policy", "observation_to_torch"]
