"""Algorithms: a registry of `Algorithm` classes built from the run config by name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from userl.algorithms import hg_dagger, sac, sac_flow  # noqa: F401  (register them)
from userl.algorithms.base import Algorithm
from userl.core.registry import ALGORITHMS
from userl.core.specs import ObservationSpec

if TYPE_CHECKING:
    from userl.config.schema import Config


def build_algorithm(
    cfg: Config, obs_spec: ObservationSpec, action_dim: int, device: str = "cpu"
) -> Algorithm:
    """Build the algorithm registered under `cfg.algo.name`, with its policy and critics."""
    return ALGORITHMS.get(cfg.algo.name)(cfg, obs_spec, action_dim, device)


__all__ = ["Algorithm", "build_algorithm"]
