"""HG-DAgger (arXiv 1810.02890): behaviour cloning on the aggregate of demonstrations and
human-controlled steps.

The learner routes every intervened step to the demo buffer, and the preset's
`demo_fraction: 1.0` draws every batch from it, so the policy trains only on human labels
(never on its own actions). The loss is the policy's imitation loss: the tanh-Gaussian
negative log-likelihood for `mlp`/`cnn`, flow matching for `flow_g`/`flow_t`, and for a
policy acting in H-step chunks (`pi0`) flow matching on chunk labels: each human-controlled
step's next H executed actions, masked where no human chose them or past the episode end.

With `ema_decay` > 0 the robots act with, evaluation scores and checkpoints keep a Polyak
average of the trained weights (as diffusion and flow imitation usually do): a flow policy's
single-batch steps are noisy, and one update can move the point estimate a robot acts with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from userl.algorithms.augment import augment_views
from userl.algorithms.base import AlgoConfig, Algorithm
from userl.algorithms.finite import FiniteSteps
from userl.core.registry import ALGORITHMS
from userl.core.specs import ObservationSpec
from userl.core.types import Batch
from userl.policies import build_policy
from userl.policies.base import PolicyConfig


@dataclass
class HGDAggerConfig(AlgoConfig):
    """HG-DAgger: behaviour cloning on the demo buffer (demos + human-controlled steps)."""

    POLICIES: ClassVar[tuple[str, ...]] = ("mlp", "cnn", "flow_g", "flow_t", "pi0")  # the
    # registered policies it trains (config/compatibility.py): any with an imitation loss

    lr: float = 3e-4  # AdamW learning rate of the policy
    weight_decay: float = 0.0  # AdamW decoupled weight decay
    grad_clip_norm: float = 1.0  # 0 disables clipping
    demo_fraction: float = 1.0  # batches come only from the demo (aggregate) buffer
    demo_capacity: int = 200_000  # transitions
    ema_decay: float = 0.0  # robots act with (and evaluation and checkpoints use) an exponential
    # moving average of the trained weights: ema <- d * ema + (1 - d) * weights after every update,
    # d = min(ema_decay, (1 + n) / (ema_warmup_updates + n)) at update n; 0: the trained weights

    ema_warmup_updates: int = 10  # the moving average's warm-up (see ema_decay), so it does not
    # start anchored to the random initialisation

    def problem(self) -> str | None:
        if not 0.0 <= self.ema_decay < 1.0:
            return (
                f"bad value for 'algo.ema_decay': {self.ema_decay} must be within [0, 1) "
                f"(0 turns the moving average off)"
            )
        if self.ema_warmup_updates < 1:
            return (
                f"bad value for 'algo.ema_warmup_updates': {self.ema_warmup_updates} must be >= 1"
            )
        return None


@ALGORITHMS.register("hg_dagger", config=HGDAggerConfig)
class HGDAgger(Algorithm):
    def __init__(
        self,
        algo: HGDAggerConfig,
        policy: PolicyConfig,
        obs_spec: ObservationSpec,
        action_dim: int,
        device: str = "cpu",
    ) -> None:
        self.cfg = algo
        self.device = torch.device(device)
        self.policy = build_policy(policy, obs_spec, action_dim).to(self.device)
        self.params = [p for p in self.policy.parameters() if p.requires_grad]
        self.label_chunk_steps = self.policy.chunk_size
        self.optim = torch.optim.AdamW(self.params, lr=algo.lr, weight_decay=algo.weight_decay)
        self.grad_steps = 0
        self.finite = FiniteSteps(algo.max_nonfinite_updates)
        # the moving average of the trainable tensors (frozen ones never change), by name
        self.ema: dict[str, torch.Tensor] = {}
        if algo.ema_decay > 0:
            trainable = {
                name: p.detach() for name, p in self.policy.named_parameters() if p.requires_grad
            }
            self.ema = {name: tensor.clone() for name, tensor in trainable.items()}
            # (average, trained) pairs, listed once: one foreach lerp per update
            self._average_tensors = list(self.ema.values())
            self._trained_tensors = list(trainable.values())

    def ema_weight(self) -> float:
        """The share of the newest weights in the average at this update."""
        n = self.grad_steps
        decay = min(self.cfg.ema_decay, (1 + n) / (self.cfg.ema_warmup_updates + n))
        return 1.0 - decay

    @torch.no_grad()
    def _update_average(self) -> None:
        torch._foreach_lerp_(self._average_tensors, self._trained_tensors, self.ema_weight())

    def loss(self, batch: Batch) -> torch.Tensor:
        """The policy's imitation loss on the (DrQ-shifted) labelled batch."""
        obs = augment_views(batch.observations, self.cfg.image_shift_pixels)
        if batch.action_chunks is not None:
            return self.policy.imitation_loss(
                obs, batch.action_chunks, mask=batch.action_chunk_mask
            )
        return self.policy.imitation_loss(obs, batch.actions)

    def update(self, batch: Batch, metrics: bool = True) -> dict[str, float]:
        loss = self.loss(batch)
        if not self.finite.step(self.optim, loss, self.params, self.cfg.grad_clip_norm):
            return self.finite.skip(metrics)  # nothing changed
        self.finite.passed()
        if self.ema:
            self._update_average()
        self.grad_steps += 1
        if not metrics:
            return {}
        return {
            "train/bc_loss": loss.item(),
            "train/intervened_share": batch.intervened.mean().item(),
        }

    def policy_state_dict(self) -> dict[str, torch.Tensor]:
        """What robots act with: the moving average when `ema_decay` > 0."""
        if not self.ema:
            return super().policy_state_dict()
        return {name: tensor.cpu().clone() for name, tensor in self.ema.items()}

    def state_dict(self) -> dict[str, Any]:
        state = {
            "policy": self.policy.state_dict(),
            "optim": self.optim.state_dict(),
            "grad_steps": self.grad_steps,
        }
        if self.ema:
            state["ema"] = dict(self.ema)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.policy.load_state_dict(state["policy"])
        self.optim.load_state_dict(state["optim"])
        self.grad_steps = int(state["grad_steps"])
        if self.ema:
            # a run that turned the average on at resume starts it from the trained weights
            saved = state.get("ema") or state["policy"]
            for name, tensor in self.ema.items():
                tensor.copy_(saved[name])
