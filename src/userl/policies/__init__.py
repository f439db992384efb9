"""Policies: a registry of `Policy` modules built from their config by name."""

from __future__ import annotations

from userl.core.registry import POLICIES
from userl.core.specs import ObservationSpec
from userl.policies import cnn, flow, mlp, pi0  # noqa: F401  (register their policies)
from userl.policies.base import Policy, PolicyConfig, act_numpy, observation_to_torch


def build_policy(policy_cfg: PolicyConfig, obs_spec: ObservationSpec, action_dim: int) -> Policy:
    """Build the policy registered under `policy_cfg.name`."""
    return POLICIES.build(policy_cfg, obs_spec, action_dim)


__all__ = ["Policy", "act_numpy", "build_policy", "observation_to_torch"]
