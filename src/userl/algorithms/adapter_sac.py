"""SAC on an adapter policy over a frozen base (`policies/adapters.py`,
`policies/residual_adapter.py`): what DSRL and residual SAC share.

The adapter policy holds its frozen base as the submodule `base`. Only the adapter's tensors
are trainable, so SAC's optimisers never hold the base and `policy_state_dict` (what weight
sync and the checkpoint's `policy` carry) never includes it. The algorithm's own state
leaves the base's tensors out too (the base run holds them) and records their hash: a
resume onto a base whose weights changed is refused. `report` gives summary.json the
adapter's size against the base's and the base's hash at the start and now (equal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from userl.algorithms.sac import SAC, SACConfig
from userl.core.errors import ConfigError
from userl.core.specs import ObservationSpec
from userl.policies.base import PolicyConfig
from userl.policies.frozen_base import base_sha256, base_task_problem, parameter_count

BASE_PREFIX = "base."  # the frozen base's keys in the adapter policy's state


@dataclass
class AdapterSACConfig(SACConfig):
    """SAC on an adapter over a frozen base (`policy.base=RUN_DIR`)."""

    def pairing_problem(self, policy: Any, config: Any) -> str | None:
        base = getattr(policy, "base", "")
        return base_task_problem(base, config) if base else None


class AdapterSAC(SAC):
    """SAC whose policy is an adapter with a frozen `base` submodule."""

    def __init__(
        self,
        algo: AdapterSACConfig,
        policy: PolicyConfig,
        obs_spec: ObservationSpec,
        action_dim: int,
        device: str = "cpu",
    ) -> None:
        super().__init__(algo, policy, obs_spec, action_dim, device)
        self.base_name = str(getattr(policy, "base", ""))
        self.base_sha256_start = base_sha256(self.base)
        self.trainable_fraction = parameter_count(
            self.policy, trainable_only=True
        ) / parameter_count(self.base)

    @property
    def base(self) -> Any:
        return self.policy.base

    def report(self) -> dict[str, Any]:
        """The adapter's size against its base's and the base's hash at the start and now."""
        end = base_sha256(self.base)
        return {
            "adapter": {
                "algorithm": self.cfg.name,
                "base": self.base_name,
                "trainable_parameters": parameter_count(self.policy, trainable_only=True),
                "critic_parameters": parameter_count(self.critic.net),
                "base_parameters": parameter_count(self.base),
                "trainable_fraction": self.trainable_fraction,
                "base_sha256_start": self.base_sha256_start,
                "base_sha256_end": end,
                "base_unchanged": end == self.base_sha256_start,
            }
        }

    def state_dict(self) -> dict[str, Any]:
        """SAC's state without the base's tensors (the base run holds them) and with their
        hash, which a resume checks."""
        state = super().state_dict()
        state["policy"] = {
            k: v for k, v in state["policy"].items() if not k.startswith(BASE_PREFIX)
        }
        state["base_sha256"] = self.base_sha256_start
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        saved = state.get("base_sha256")
        if saved is not None and saved != self.base_sha256_start:
            raise ConfigError(
                f"policy.base={self.base_name}: its weights changed since this run started; "
                "resume with the base it started from, or start a new run"
            )
        base = {BASE_PREFIX + k: v for k, v in self.base.state_dict().items()}
        super().load_state_dict({**state, "policy": {**state["policy"], **base}})
