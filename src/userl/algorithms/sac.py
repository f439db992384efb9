"""Soft actor-critic; RLPD is its options (critic ensemble, random target subset, LayerNorm).

One `update` = one critic step (+ Polyak target update); every `critic_actor_ratio`-th
update also steps the actor and the temperature. Image batches get DrQ random shifts
(observations and next observations independently). The policy's encoder is shared with the
critic the SERL way: the critic's loss trains it and the actor sees detached features. Next
observations are encoded once, without gradients, by that same encoder for both the next
actions and the target heads (DrQ-v2's choice: no target encoder to average, one encoder
pass fewer per update); only the critic heads have Polyak targets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from userl.algorithms.augment import augment_views
from userl.algorithms.base import AlgoConfig, Algorithm
from userl.algorithms.chunk_td import batch_td_target
from userl.algorithms.critics import EnsembleCritic
from userl.algorithms.finite import FiniteSteps
from userl.algorithms.precision import bf16_matmuls_enabled
from userl.core.registry import ALGORITHMS
from userl.core.shards import mean_denominator
from userl.core.specs import ObservationSpec
from userl.core.types import Batch
from userl.policies import build_policy
from userl.policies.base import PolicyConfig


@dataclass
class SACConfig(AlgoConfig):
    """SAC; RLPD is its options (ensemble, subset, LayerNorm, symmetric sampling, UTD)."""

    POLICIES: ClassVar[tuple[str, ...]] = ("mlp", "cnn")  # the registered policies it trains
    # (config/compatibility.py): a tanh-Gaussian's reparameterised sample and likelihood

    gamma: float = 0.97  # discount per step
    tau: float = 0.005  # target critics' Polyak averaging rate per update
    actor_lr: float = 3e-4  # Adam learning rate of the policy
    critic_lr: float = 3e-4  # Adam learning rate of the critics
    temperature_lr: float = 3e-4  # Adam learning rate of the entropy temperature
    init_temperature: float = 0.01  # the entropy temperature (alpha) at the start
    target_entropy: float | None = None  # None: -|A|/2
    num_critics: int = 2  # Q heads in the critic ensemble
    critic_subset: int = 2  # target = min over this many heads drawn without replacement
    critic_hidden_dims: list[int] = field(default_factory=lambda: [256, 256])  # hidden layer widths
    # of each Q head

    critic_layer_norm: bool = True  # LayerNorm after each hidden layer of the Q heads
    backup_entropy: bool = False  # include the entropy term in the target backup
    critic_actor_ratio: int = 1  # critic updates per actor update
    critic_activation: str = "tanh"  # critic hidden activation: tanh | relu | gelu | silu | elu
    demo_bc_weight: float = 0.0  # weight of a Q-filtered behaviour-cloning term on the batch's demo
    # rows in the actor loss (Nair et al. 2018): a demo action is imitated only where the critic
    # values it above the policy's own; 0: RLPD as published

    bf16_matmuls: Literal["auto", "on", "off"] = "auto"  # the hidden layers' matrix products
    # (critic heads, actor trunk) in bfloat16 autocast during updates; weights, optimiser state,
    # output layers, losses and the image encoder stay float32. auto: on where the device multiplies
    # bfloat16 natively (a CPU with AVX512-BF16 or AMX), off elsewhere; acting is always float32

    def problem(self) -> str | None:
        if self.demo_bc_weight < 0:
            return f"bad value for 'algo.demo_bc_weight': {self.demo_bc_weight} must be >= 0"
        if not 1 <= self.critic_subset <= self.num_critics:
            return (
                f"bad value for 'algo.critic_subset': {self.critic_subset} must be within "
                f"[1, algo.num_critics={self.num_critics}]"
            )
        return None


def adam(params: Sequence[Tensor], lr: float, fused: bool) -> torch.optim.Adam:
    """Adam as one fused kernel over every tensor (`fused`), or PyTorch's per-tensor loop."""
    return (
        torch.optim.Adam(params, lr=lr, fused=True)
        if fused
        else torch.optim.Adam(params, lr=lr, foreach=False)
    )


@ALGORITHMS.register("sac", config=SACConfig)
class SAC(Algorithm):
    def __init__(
        self,
        algo: SACConfig,
        policy: PolicyConfig,
        obs_spec: ObservationSpec,
        action_dim: int,
        device: str = "cpu",
    ) -> None:
        self.cfg = algo
        self.device = torch.device(device)
        self.policy = build_policy(policy, obs_spec, action_dim).to(self.device)
        sampled = int(getattr(self.policy, "latent_dim", action_dim))  # what `sample` gives
        self.target_entropy = (
            -sampled / 2.0 if algo.target_entropy is None else float(algo.target_entropy)
        )
        self.critic = EnsembleCritic(
            algo.num_critics,
            self.policy.encoder,
            sampled,
            algo.critic_hidden_dims,
            algo.critic_layer_norm,
            algo.critic_activation,
        ).to(self.device)
        self.target_critic = self.critic.target_copy()
        self.log_temperature = nn.Parameter(
            torch.tensor(math.log(algo.init_temperature), device=self.device)
        )

        encoder_ids = {id(p) for p in self.policy.encoder.parameters()}
        self.actor_params = [
            p for p in self.policy.parameters() if p.requires_grad and id(p) not in encoder_ids
        ]
        self.critic_params = [p for p in self.critic.parameters() if p.requires_grad]
        fused = algo.fused_optimizer
        self.actor_optim = adam(self.actor_params, algo.actor_lr, fused)
        self.critic_optim = adam(self.critic_params, algo.critic_lr, fused)
        self.temperature_optim = adam([self.log_temperature], algo.temperature_lr, fused)
        self._compile(algo.compile)
        self.bf16_matmuls = bf16_matmuls_enabled(algo.bf16_matmuls, self.device)
        self._encoder_bf16 = (
            algo.image_encoder_bf16 and self.device.type == "cuda" and bool(obs_spec.images)
        )
        # Polyak pairs, listed once: one foreach lerp per update over every target tensor.
        self._target_tensors: list[Tensor] = list(self.target_critic.net.parameters())
        self._online_tensors: list[Tensor] = [p.detach() for p in self.critic.net.parameters()]

        self.grad_steps = 0
        self.finite = FiniteSteps(algo.max_nonfinite_updates)
        self.actor_steps = 0
        self.last_target_heads: Tensor | None = None  # the subset drawn by the last update
        self.demo_bc_kept: Tensor | float = 0.0  # share of demo rows the Q filter last kept

    def _compile(self, mode: str) -> None:
        """`torch.compile` the critic ensemble (online and target) and the actor's MLP trunk:
        their element-wise layer work (LayerNorm, affine, activation) fuses into one kernel
        per layer, forward and backward; "reduce-overhead" replays them as CUDA graphs on a
        GPU. The policy module itself is unchanged (its weights sync as before)."""
        if mode == "off":
            return
        modules: list[nn.Module] = [self.critic.net, self.target_critic.net]
        trunk = getattr(self.policy, "trunk", None)
        if isinstance(trunk, nn.Sequential) and len(trunk) > 0:
            modules.append(trunk)
        for module in modules:  # an instance attribute: state_dict and weights unchanged
            module.forward = torch.compile(module.forward, mode=mode, dynamic=False)

    def _features(self, obs: dict[str, Tensor]) -> Tensor:
        """The shared encoder's features, in float32 also inside `bf16_matmuls` regions (on
        a CPU bfloat16 convolutions measured no faster); with `algo.image_encoder_bf16` on a
        GPU its convolutions run in bfloat16 autocast and the features come back as float32."""
        if not self._encoder_bf16:
            with torch.autocast(self.device.type, enabled=False):
                return self.policy.encoder(obs)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            features = self.policy.encoder(obs)
        return features.float()

    def _low_precision(self) -> torch.autocast:
        """The update's forward passes: bfloat16 matrix products where `bf16_matmuls`."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16_matmuls)

    @property
    def temperature(self) -> Tensor:
        return self.log_temperature.exp()

    # ------------------------------------------------------------------ losses
    def augment(self, obs: dict[str, Tensor]) -> dict[str, Tensor]:
        """DrQ random shift of the camera views (a no-op for state-only batches)."""
        return augment_views(obs, self.cfg.image_shift_pixels)

    def critic_loss(self, batch: Batch) -> tuple[Tensor, dict[str, float]]:
        """Mean over heads of the TD error against min over a random subset of target heads."""
        loss, values, _ = self._critic_terms(batch, batch.observations, batch.next_observations)
        return loss, {name: value.item() for name, value in values.items()}

    def _critic_terms(
        self, batch: Batch, obs: dict[str, Tensor], next_obs: dict[str, Tensor]
    ) -> tuple[Tensor, dict[str, Tensor], Tensor]:
        """The critic loss on (augmented) `obs`/`next_obs`, its metrics as detached scalar
        tensors, and the encoder's features of `obs`, detached, for the actor. The target
        (the next actions and the drawn subset of target heads, only those evaluated) is
        computed in one pass without gradients."""
        features = self._features(obs)  # the critic's gradients train the encoder
        with torch.no_grad():
            next_features = self._features(next_obs)
            next_actions, next_log_prob = self.policy.sample(next_obs, next_features)
            heads = torch.randperm(self.critic.num_heads, device=self.device)
            heads = heads[: self.cfg.critic_subset]
            self.last_target_heads = heads
            next_q = self.target_critic(next_obs, next_actions, heads, features=next_features)
            next_q = next_q.min(dim=0).values
            if self.cfg.backup_entropy:
                next_q = next_q - self.temperature * next_log_prob
            target = batch_td_target(batch, next_q, self.cfg.gamma)  # k steps per row
        q = self.critic(obs, batch.actions, features=features)  # (E, B)
        loss = F.mse_loss(q, target.unsqueeze(0).expand_as(q))
        values = {"train/q_mean": q.detach().mean(), "train/target_q": target.mean()}
        return loss, values, features.detach()

    def actor_loss(
        self, batch: Batch, obs: dict[str, Tensor] | None = None, features: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """E[alpha log pi(a|s) - mean_heads Q(s, a)]; gradients reach the policy's heads only
        (the encoder's features are detached)."""
        obs = batch.observations if obs is None else obs
        if features is None:
            with torch.no_grad():
                features = self._features(obs)
        actions, log_prob = self.policy.sample(obs, features)
        q = self.critic(obs, actions, detach=True, features=features).mean(dim=0)
        loss = (self.temperature.detach() * log_prob - q).mean()
        if self.cfg.demo_bc_weight > 0 and batch.from_demos is not None:
            loss = loss + self.cfg.demo_bc_weight * self.demo_bc_loss(
                batch, obs, features, actions, q.detach()
            )
        return loss, log_prob

    def demo_bc_loss(
        self,
        batch: Batch,
        obs: dict[str, Tensor],
        features: Tensor,
        actions: Tensor,
        policy_q: Tensor,
    ) -> Tensor:
        """The squared error between the policy's sampled `actions` and the demo actions, on
        the demo rows whose action the critic values above the policy's (the Q filter),
        summed and divided by the demo rows: it fades as the policy overtakes the demos.
        (The sampled action's error is the mean's plus the variance: a kept demo action
        is imitated precisely, whatever the policy's family.)"""
        demos = batch.from_demos > 0.5
        with torch.no_grad():
            demo_q = self.critic(obs, batch.actions, detach=True, features=features).mean(0)
            kept = (demos & (demo_q > policy_q)).float()
        self.demo_bc_kept = kept.sum() / demos.sum().clamp(min=1)
        error = (actions - batch.actions).pow(2).sum(-1)
        return (error * kept).sum() / mean_denominator(demos.sum(), 1)

    def temperature_loss(self, log_prob: Tensor) -> Tensor:
        """Raises the temperature while the entropy is below target, lowers it above."""
        entropy = -log_prob.detach().mean()
        return self.temperature * (entropy - self.target_entropy)

    # ------------------------------------------------------------------ update
    def _step(self, optim: torch.optim.Optimizer, loss: Tensor, params: Any) -> bool:
        """One guarded optimiser step (`FiniteSteps.step`); whether it stepped."""
        return self.finite.step(optim, loss, params, self.cfg.grad_clip_norm)

    @torch.no_grad()
    def _update_target(self) -> None:
        torch._foreach_lerp_(self._target_tensors, self._online_tensors, self.cfg.tau)

    def update(self, batch: Batch, metrics: bool = True) -> dict[str, float]:
        """One gradient step. `metrics=False` skips reading the losses back (each read is a
        host synchronisation on a GPU) and returns {}."""
        obs, next_obs = self.augment(batch.observations), self.augment(batch.next_observations)
        with self._low_precision():
            critic_loss, values, features = self._critic_terms(batch, obs, next_obs)
        if not self._step(self.critic_optim, critic_loss, self.critic_params):
            return self.finite.skip(metrics)  # nothing changed
        self._update_target()
        values["train/critic_loss"] = critic_loss.detach()

        if self.grad_steps % self.cfg.critic_actor_ratio == 0:
            with self._low_precision():
                actor_loss, log_prob = self.actor_loss(batch, obs, features)
            if not self._step(self.actor_optim, actor_loss, self.actor_params):
                return self.finite.skip(metrics)  # the critic stepped, the actor did not
            temperature_loss = self.temperature_loss(log_prob)
            self._step(self.temperature_optim, temperature_loss, [self.log_temperature])
            self.actor_steps += 1
            values["train/actor_loss"] = actor_loss.detach()
            values["train/entropy"] = -log_prob.detach().mean()
            if self.cfg.demo_bc_weight > 0:
                values["train/demo_bc_kept"] = torch.as_tensor(self.demo_bc_kept)
        self.grad_steps += 1
        self.finite.passed()
        if not metrics:
            return {}
        values["train/temperature"] = self.temperature.detach()
        return {name: value.item() for name, value in values.items()}

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy.state_dict(),
            "critic": self.critic.state_dict(),
            "target_critic": self.target_critic.state_dict(),
            "log_temperature": self.log_temperature.detach().clone(),
            "actor_optim": self.actor_optim.state_dict(),
            "critic_optim": self.critic_optim.state_dict(),
            "temperature_optim": self.temperature_optim.state_dict(),
            "grad_steps": self.grad_steps,
            "actor_steps": self.actor_steps,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.policy.load_state_dict(state["policy"])
        self.critic.load_state_dict(state["critic"])
        self.target_critic.load_state_dict(state["target_critic"])
        with torch.no_grad():
            self.log_temperature.copy_(state["log_temperature"])
        self.actor_optim.load_state_dict(state["actor_optim"])
        self.critic_optim.load_state_dict(state["critic_optim"])
        self.temperature_optim.load_state_dict(state["temperature_optim"])
        self.grad_steps = int(state["grad_steps"])
        self.actor_steps = int(state["actor_steps"])
