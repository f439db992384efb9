"""The algorithm interface the learner drives: one gradient step per `update`."""

from __future__ import annotations

import abc
from typing import Any

from torch import Tensor

from userl.core.types import Batch
from userl.policies.base import Policy


class Algorithm(abc.ABC):
    """Owns a policy, its critics and optimisers; knows nothing of Ray or robots."""

    policy: Policy
    grad_steps: int = 0

    @abc.abstractmethod
    def update(self, batch: Batch, metrics: bool = True) -> dict[str, float]:
        """Take one gradient step on `batch`; return metrics named `train/...` (with
        `metrics=False`, {}: the losses are not read back, which would wait for a GPU)."""

    def policy_state_dict(self) -> dict[str, Tensor]:
        """The policy's trainable tensors, detached on the CPU: what is synced to robots."""
        trainable = {name for name, p in self.policy.named_parameters() if p.requires_grad}
        return {
            name: tensor.detach().cpu().clone()
            for name, tensor in self.policy.state_dict().items()
            if name in trainable
        }

    @abc.abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume training exactly: networks, optimisers, counters."""

    @abc.abstractmethod
    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned."""
