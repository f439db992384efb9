"""The algorithm interface the learner drives: one gradient step per `update`."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from torch import Tensor

from userl.algorithms.finite import FiniteSteps
from userl.core.registry import ComponentConfig
from userl.core.types import Batch, Episode
from userl.policies.base import Policy


@dataclass
class AlgoConfig(ComponentConfig):
    """Fields every algorithm has, and what the learner reads of any algorithm."""

    POLICY_PRESET: ClassVar[str] = ""  # the policy preset it trains when the command line
    # names none ("": the default table's)

    POLICY_FIELDS: ClassVar[dict[str, Any]] = {}  # policy fields the algorithm needs set, which
    # the loader sets where the policy has them (before the command line's own overrides)

    batch_size: int = 256  # transitions per gradient step
    utd_max: float = 1.0  # ceiling: gradient steps per new environment step (update-to-data)
    utd_min: float = 0.0  # floor; a simulated robot not paced to real time waits for the learner to
    # keep at least this ratio; a real-time robot never waits (the lag is logged)

    warmup_env_steps: int = 0  # online transitions collected before the first update
    pretrain_updates: int = 0  # gradient steps on the demos alone before going online
    demo_fraction: float = 0.0  # share of each batch drawn from the demo buffer
    replay_capacity: int = 200_000  # transitions (online episodes)
    demo_capacity: int = 50_000  # transitions (demos and human-corrected steps)
    grad_clip_norm: float = 0.0  # 0 disables clipping
    max_nonfinite_updates: int = 100  # updates skipped in a row for a NaN or infinite loss or
    # gradient before the run stops

    image_shift_pixels: int = 4  # DrQ: views padded (edge) by this and randomly cropped; 0 = off
    act_deterministic: bool = False  # online episodes act with the policy's point estimate instead
    # of sampling from it; RL explores by sampling, so it keeps this off; HG-DAgger learns only from
    # the operator's labels, where sampling noise (for a flow policy, noise it never trained) only
    # adds failures for the operator to correct

    fused_optimizer: bool = True  # learner speed, same maths: one fused Adam kernel per optimiser
    # (False: PyTorch's per-tensor loop, bit-identical to the original update)

    host_memory_kept_mb: int = 1024  # learner speed, same maths: freed host memory the learner
    # process keeps for reuse instead of page-faulting it back each update (0: leave malloc alone)

    compile: Literal["off", "default", "reduce-overhead"] = "off"  # learner speed, same maths:
    # `torch.compile` of the update's element-wise blocks (reduce-overhead: CUDA graphs on a GPU)

    image_encoder_bf16: bool = False  # learner speed: bf16 autocast of the image encoder on a GPU
    # (ignored on a CPU)

    def pairing_problem(self, policy: Any, config: Any) -> str | None:
        """One line when this algorithm cannot train the run's policy config `policy` for a
        reason beyond its kind (which `config/compatibility.py` checks), such as an
        adapter's base trained on another task (`config`: the whole run's); None when it can."""
        return None


class Algorithm(abc.ABC):
    """Owns a policy, its critics and optimisers; knows nothing of Ray or robots."""

    policy: Policy
    grad_steps: int = 0
    finite: FiniteSteps
    """Guarded optimiser steps: updates skipped for non-finite losses (`finite.skipped`)."""
    label_chunk_steps: int = 1
    """Steps of action-chunk labels each training row needs (1: single actions)."""

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

    def observe_episode(self, episode: Episode) -> None:
        """Each episode the learner stores (online or demo), whole, as it arrives; most
        algorithms learn from the buffers' rows alone and ignore it."""
        return None

    def report(self) -> dict[str, Any]:
        """What summary.json records of the algorithm beyond the run's counters ({}: none)."""
        return {}

    @abc.abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume training exactly: networks, optimisers, counters."""

    @abc.abstractmethod
    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned."""
