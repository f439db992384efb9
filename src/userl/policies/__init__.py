"""Policies: a registry of `Policy` modules built from their config by name."""

from __future__ import annotations

from userl.config.schema import PolicyConfig
from userl.core.registry import POLICIES
from userl.core.specs import ObservationSpec
from userl.policies import flow, mlp  # noqa: F401  (register "mlp", "cnn", "flow_g", "flow_t")
from userl.policies.base import Policy, act_numpy, observation_to_torch


def build_policy(policy_cfg: PolicyConfig, obs_spec: ObservationSpec, action_dim: int) -> Policy:
    """Build the policy registered under `policy_cfg.name`."""
    return POLICIES.get(policy_cfg.name)(policy_cfg, obs_spec, action_dim)


__all__ = ["Policy", "act_numpy", "build_policy", "observation_to_torch"]
