"""RECAP (pi*0.6, arXiv 2511.14759), online: advantage-conditioned flow matching.

The policy keeps its own imitation loss (flow matching, as HG-DAgger trains it) on every
stored step (demos, autonomous episodes, human corrections: the online replay and the demo
buffer, mixed by `demo_fraction`) and changes only what it is told: each row's advantage
label (`algorithms/advantage_labels.py`), from a distributional value function of the task's
progress trained on the same rows (`algorithms/recap_value.py`). The label is dropped with
`label_dropout`, so the flow also learns the unconditioned policy; robots act with the
positive label and `policy.guidance` (`policies/advantage_label.py`).

Each update: (1) V takes one step toward its n-step targets (a Polyak target V bootstraps);
(2) the labelling V, refreshed every `relabel_every_updates`, gives each row its advantage
and label; (3) the policy takes one flow-matching step on the labelled rows. Labels are
computed per batch from the stored rows, never stored, so no transition's label is older than
the labelling V (`recap/label_age_updates`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import torch
from torch import Tensor

from userl.algorithms.advantage_labels import QuantileLabeller
from userl.algorithms.augment import augment_views
from userl.algorithms.base import AlgoConfig, Algorithm
from userl.algorithms.finite import FiniteSteps
from userl.algorithms.recap_value import (
    CalibrationSet,
    DistributionalValue,
    monte_carlo_returns,
    n_step_return,
    value_loss,
)
from userl.core.registry import ALGORITHMS
from userl.core.shards import row_draw
from userl.core.specs import ObservationSpec
from userl.core.types import Batch, Episode
from userl.policies import build_policy
from userl.policies.advantage_label import NONE, POSITIVE, LabelledVelocity, with_labels
from userl.policies.base import PolicyConfig
from userl.policies.conditioning import cell_ids
from userl.policies.flow import FlowPolicy


@dataclass
class RecapConfig(AlgoConfig):
    """RECAP: a value of the task's progress labels each chunk by its advantage; the flow
    policy learns flow matching conditioned on that label and acts with the positive one."""

    POLICIES: ClassVar[tuple[str, ...]] = ("flow_g", "flow_t")  # the registered policies it
    # trains (config/compatibility.py): flows that can read an advantage label

    POLICY_FIELDS: ClassVar[dict[str, Any]] = {"advantage_labels": True}  # the policy reads
    # its label (the loader sets it; config/loader.py)

    lr: float = 3e-4  # AdamW learning rate of the policy
    weight_decay: float = 0.0  # AdamW decoupled weight decay of the policy
    grad_clip_norm: float = 1.0  # 0 disables clipping (policy and value)
    demo_fraction: float = 0.5  # share of each batch from the demo buffer (demos and
    # human-corrected steps); the rest from the online replay (every autonomous step)

    demo_capacity: int = 200_000  # transitions
    value_lr: float = 3e-4  # Adam learning rate of the value function
    value_hidden_dims: list[int] = field(default_factory=lambda: [256, 256])  # its hidden widths
    value_bins: int = 51  # C: bins of the value's distribution over the return in [-1, 0]
    return_horizon_steps: int = 200  # T: every step costs -1/T of the normalised return
    failure_penalty: float = 1.0  # normalised return a failure's terminal costs (clipped at -1)
    success_reward_min: float = 0.5  # a terminal whose last task reward is at least this is a
    # success (no penalty); below it, a failure

    gamma: float = 1.0  # discount of the value's n-step targets
    tau: float = 0.005  # Polyak rate of the value's target network
    advantage_steps: int = 10  # n: steps of the n-step return (a chunked policy: its chunk)
    positive_quantile: float = 0.7  # a row is positive above this quantile of its task's
    # recent advantages

    quantile_window: int = 4096  # recent advantages kept per task for the quantile
    corrections_positive: bool = True  # human-corrected rows are always positive (False: the
    # ablation, corrections labelled by their advantage like any row)

    label_dropout: float = 0.3  # probability a row's label is dropped (the unconditioned flow)
    relabel_every_updates: int = 100  # the labelling V is the trained V's copy, this often
    calibration_states: int = 2048  # newest states of stored episodes that ended in a terminal
    # kept with their Monte-Carlo returns, against which V's calibration is measured

    def pairing_problem(self, policy: Any, config: Any) -> str | None:
        if not getattr(policy, "advantage_labels", False):
            return (
                f"algo=recap needs a policy that reads advantage labels: set "
                f"policy.advantage_labels=true (policy={policy.name})"
            )
        devices = getattr(getattr(config, "learner", None), "devices", 1)
        if devices != 1:
            return (
                f"algo=recap runs on one learner device (its advantage quantiles are the "
                f"learner's own); set learner.devices=1 (got {devices})"
            )
        return None


@ALGORITHMS.register("recap", config=RecapConfig)
class Recap(Algorithm):
    policy: FlowPolicy

    def __init__(
        self,
        algo: RecapConfig,
        policy: PolicyConfig,
        obs_spec: ObservationSpec,
        action_dim: int,
        device: str = "cpu",
    ) -> None:
        self.cfg = algo
        self.device = torch.device(device)
        self.policy = build_policy(policy, obs_spec, action_dim).to(self.device)  # type: ignore[assignment]
        if not isinstance(getattr(self.policy, "velocity", None), LabelledVelocity):
            raise ValueError(str(algo.pairing_problem(policy, None)))
        chunk = self.policy.chunk_size
        self.label_chunk_steps = chunk if chunk > 1 else algo.advantage_steps
        self.params = [p for p in self.policy.parameters() if p.requires_grad]
        self.optim = torch.optim.AdamW(self.params, lr=algo.lr, weight_decay=algo.weight_decay)
        self.value = DistributionalValue(obs_spec, algo.value_hidden_dims, algo.value_bins).to(
            self.device
        )
        self.value_target = copy.deepcopy(self.value).requires_grad_(False)
        self.label_value = copy.deepcopy(self.value).requires_grad_(False)
        self.value_optim = torch.optim.Adam(self.value.parameters(), lr=algo.value_lr)
        self.layout = obs_spec.cells
        tasks = 1 if self.layout is None else len(self.layout.task_names)
        self.labeller = QuantileLabeller(
            tasks,
            algo.quantile_window,
            algo.positive_quantile,
            algo.corrections_positive,
            self.device,
        )
        self.calibration = CalibrationSet(algo.calibration_states, obs_spec.state_dim)
        self.label_version = 0
        self.grad_steps = 0
        self.finite = FiniteSteps(algo.max_nonfinite_updates)

    def observe_episode(self, episode: Episode) -> None:
        """An episode that ended in a terminal joins the calibration set with its
        Monte-Carlo returns (one cut off by the time limit has none: V bootstraps there)."""
        if len(episode) == 0 or not episode.terminated[-1]:
            return
        cfg = self.cfg
        failure = bool(episode.rewards[-1] < cfg.success_reward_min)
        returns = monte_carlo_returns(
            episode.rewards, failure, cfg.gamma, cfg.return_horizon_steps, cfg.failure_penalty
        )
        self.calibration.add(episode.observations["state"][:-1], returns)

    def task_ids(self, obs: dict[str, Tensor]) -> Tensor:
        state = obs["state"]
        if self.layout is None:
            return torch.zeros(len(state), dtype=torch.long, device=state.device)
        return cell_ids(state, self.layout.task_id_index)[0]

    def returns(self, batch: Batch, value: DistributionalValue) -> Tensor:
        """Each row's normalised n-step return, bootstrapped with `value`."""
        cfg = self.cfg
        with torch.no_grad():
            next_value = value(batch.next_observations)
        return n_step_return(
            batch,
            next_value,
            cfg.gamma,
            cfg.return_horizon_steps,
            cfg.failure_penalty,
            cfg.success_reward_min,
        )

    def update(self, batch: Batch, metrics: bool = True) -> dict[str, float]:
        batch = with_decisions(batch)
        obs = augment_views(batch.observations, self.cfg.image_shift_pixels)
        target = self.returns(batch, self.value_target)
        v_loss = value_loss(self.value, obs, target)
        if not self.finite.step(
            self.value_optim, v_loss, self.value.parameters(), self.cfg.grad_clip_norm
        ):
            return self.finite.skip(metrics)
        with torch.no_grad():
            torch._foreach_lerp_(
                list(self.value_target.parameters()), list(self.value.parameters()), self.cfg.tau
            )
        if self.grad_steps - self.label_version >= self.cfg.relabel_every_updates:
            self.label_value.load_state_dict(self.value.state_dict())
            self.label_version = self.grad_steps
        with torch.no_grad():
            advantage = self.returns(batch, self.label_value) - self.label_value(obs)
        labels = self.labeller.labels(advantage, self.task_ids(obs), batch.intervened)
        shown = drop_labels(labels, self.cfg.label_dropout)
        features = with_labels(self.policy.encoder(obs), shown)
        actions, mask = batch.actions, None
        if self.policy.chunk_size > 1:
            actions, mask = batch.action_chunks, batch.action_chunk_mask
        bc_loss = self.policy.imitation_loss(obs, actions, features=features, mask=mask)
        if not self.finite.step(self.optim, bc_loss, self.params, self.cfg.grad_clip_norm):
            return self.finite.skip(metrics)
        self.finite.passed()
        self.grad_steps += 1
        if not metrics:
            return {}
        return self.metrics(batch, obs, target, v_loss, bc_loss, labels)

    def metrics(
        self,
        batch: Batch,
        obs: dict[str, Tensor],
        target: Tensor,
        v_loss: Tensor,
        bc_loss: Tensor,
        labels: Tensor,
    ) -> dict[str, float]:
        """TensorBoard figures: losses, the positive share, the labels' age, V's calibration
        against the Monte-Carlo returns of stored episodes, and its error on the batch's rows
        whose n-step target is one (their decision reaches the episode's terminal)."""
        out = {
            "train/bc_loss": bc_loss.item(),
            "train/value_loss": v_loss.item(),
            "train/intervened_share": batch.intervened.mean().item(),
            "recap/positive_fraction": (labels == POSITIVE).float().mean().item(),
            "recap/label_version": float(self.label_version),
            "recap/label_age_updates": float(self.grad_steps - self.label_version),
        }
        terminal = batch.terminated > 0.5
        if bool(terminal.any()):
            with torch.no_grad():
                error = (self.value(obs) - target)[terminal].abs().mean()
            out["recap/value_terminal_error"] = error.item()
        calibration = self.calibration.error(self.value, self.device)
        if calibration is not None:
            out["recap/value_calibration_error"] = calibration
        return out

    def state_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy.state_dict(),
            "optim": self.optim.state_dict(),
            "value": self.value.state_dict(),
            "value_target": self.value_target.state_dict(),
            "label_value": self.label_value.state_dict(),
            "value_optim": self.value_optim.state_dict(),
            "labeller": self.labeller.state_dict(),
            "label_version": self.label_version,
            "grad_steps": self.grad_steps,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.policy.load_state_dict(state["policy"])
        self.optim.load_state_dict(state["optim"])
        self.value.load_state_dict(state["value"])
        self.value_target.load_state_dict(state["value_target"])
        self.label_value.load_state_dict(state["label_value"])
        self.value_optim.load_state_dict(state["value_optim"])
        self.labeller.load_state_dict(state["labeller"])
        self.label_version = int(state["label_version"])
        self.grad_steps = int(state["grad_steps"])


def drop_labels(labels: Tensor, probability: float) -> Tensor:
    """Each row's label, or NONE with `probability` (drawn per row of the global batch)."""
    draws = row_draw(len(labels), lambda n: torch.rand(n, device=labels.device))
    return torch.where(draws < probability, NONE, labels)


def with_decisions(batch: Batch) -> Batch:
    """The batch with each row's decision fields; a batch of single steps (n = 1) gets
    k = 1 and its one reward."""
    if batch.chunk_steps is not None:
        return batch
    return replace(
        batch, chunk_steps=torch.ones_like(batch.rewards), chunk_rewards=batch.rewards.unsqueeze(1)
    )
