"""HG-DAgger (arXiv 1810.02890): behaviour cloning on the aggregate of demonstrations and
human-controlled steps.

The learner routes every intervened step to the demo buffer, and the preset's
`demo_fraction: 1.0` draws every batch from it, so the policy trains only on human labels
(never on its own actions). The loss is the policy's imitation loss: the tanh-Gaussian
negative log-likelihood for `mlp`/`cnn`, flow matching for `flow_g`/`flow_t`, and for a
policy acting in H-step chunks (`pi0`) flow matching on chunk labels: each human-controlled
step's next H executed actions, masked where no human chose them or past the episode end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from userl.algorithms.augment import augment_views
from userl.algorithms.base import AlgoConfig, Algorithm
from userl.core.registry import ALGORITHMS
from userl.core.specs import ObservationSpec
from userl.core.types import Batch
from userl.policies import build_policy

if TYPE_CHECKING:
    from userl.config.schema import Config


@dataclass
class HGDAggerConfig(AlgoConfig):
    """HG-DAgger: behaviour cloning on the demo buffer (demos + human-controlled steps)."""

    lr: float = 3e-4
    weight_decay: float = 0.0  # AdamW decoupled weight decay
    grad_clip_norm: float = 1.0  # 0 disables clipping
    demo_fraction: float = 1.0  # batches come only from the demo (aggregate) buffer
    demo_capacity: int = 200_000  # transitions


@ALGORITHMS.register("hg_dagger", config=HGDAggerConfig)
class HGDAgger(Algorithm):
    def __init__(self, cfg: Config, obs_spec: ObservationSpec, action_dim: int,
                 device: str = "cpu") -> None:
        algo: HGDAggerConfig = cfg.algo  # type: ignore[assignment]
        self.cfg = algo
        self.device = torch.device(device)
        self.policy = build_policy(cfg.policy, obs_spec, action_dim).to(self.device)
        self.params = [p for p in self.policy.parameters() if p.requires_grad]
        self.label_chunk_steps = self.policy.chunk_size
        self.optim = torch.optim.AdamW(self.params, lr=algo.lr, weight_decay=algo.weight_decay)
        self.grad_steps = 0

    def loss(self, batch: Batch) -> torch.Tensor:
        """The policy's imitation loss on the (DrQ-shifted) labelled batch."""
        obs = augment_views(batch.observations, self.cfg.image_shift_pixels)
        if batch.action_chunks is not None:
            return self.policy.imitation_loss(obs, batch.action_chunks,
                                              mask=batch.action_chunk_mask)
        return self.policy.imitation_loss(obs, batch.actions)

    def update(self, batch: Batch, metrics: bool = True) -> dict[str, float]:
        loss = self.loss(batch)
        self.optim.zero_grad(set_to_none=True)
        loss.backward()
        if self.cfg.grad_clip_norm > 0:
            nn.utils.clip_grad_norm_(self.params, self.cfg.grad_clip_norm)
        self.optim.step()
        self.grad_steps += 1
        if not metrics:
            return {}
        return {"train/bc_loss": loss.item(),
                "train/intervened_share": batch.intervened.mean().item()}

    def state_dict(self) -> dict[str, Any]:
        return {"policy": self.policy.state_dict(), "optim": self.optim.state_dict(),
                "grad_steps": self.grad_steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.policy.load_state_dict(state["policy"])
        self.optim.load_state_dict(state["optim"])
        self.grad_steps = int(state["grad_steps"])
