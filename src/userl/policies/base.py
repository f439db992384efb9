"""The policy interface every learner and env worker talks to, plus observation helpers."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from userl.core.registry import ComponentConfig
from userl.policies.exported import EXPORT_FORMAT, config_problem

if TYPE_CHECKING:
    from userl.policies.sharding import ShardUnit


@dataclass
class PolicyConfig(ComponentConfig):
    """Fields of every policy (each policy's config subclasses this beside its code)."""

    NEEDS_VIEWS: ClassVar[bool] = False  # True: cannot act without camera views (obs=image)
    WEIGHTS_FORMAT: ClassVar[str] = EXPORT_FORMAT  # how `weights` is read (exported.py)
    GROWS_FROM: ClassVar[dict[str, object]] = {}  # fields an export may hold at these values
    # whatever this config sets: the policy adds parameters that start as no-ops
    # (`Policy.grown_state`; a flow without advantage labels into RECAP's labelled flow)

    SHARDS_LAYERS: ClassVar[bool] = False  # True: the policy has transformer layers that
    # `learner.sharding=fsdp` shards over the learner's ranks (`Policy.shard_units`)

    weights: str = ""  # a `userl export-policy` folder to start from; "" = random init

    def problem(self) -> str | None:
        """With `weights`: whether this config builds the policy that export holds."""
        if not self.weights or self.WEIGHTS_FORMAT != EXPORT_FORMAT:
            return None
        return config_problem(self)

    def view_size_px(self) -> int:
        """The square size the policy wants its camera views at; 0: it takes what comes."""
        return 0


STATE_KEY = "state"
"""The proprioceptive float vector in every observation dict; other keys are camera views."""


class Encoder(nn.Module):
    """Observation dict -> features (B, feature_dim)."""

    feature_dim: int


class Policy(nn.Module, abc.ABC):
    """Maps an observation dict to actions in [-1, 1].

    `act` serves the robot (an action chunk of `chunk_size` steps); `sample` serves SAC
    (a reparameterised, tanh-squashed sample and its log-probability).
    """

    action_dim: int
    chunk_size: int = 1
    encoder: Encoder
    """Observation dict -> features (B, feature_dim); shared with the critics, which train it
    (the actor's losses see detached features, as in SERL/DrQ)."""

    @property
    def feature_dim(self) -> int:
        return self.encoder.feature_dim

    @abc.abstractmethod
    def act(self, obs: dict[str, Tensor], deterministic: bool = False) -> Tensor:
        """Return an action chunk of shape (B, chunk_size, action_dim), each in [-1, 1]."""

    @abc.abstractmethod
    def sample(
        self, obs: dict[str, Tensor], features: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Return reparameterised actions (B, action_dim) and their log-probabilities (B,).

        `features`, when given, replaces `encoder(obs)` (e.g. detached, computed once)."""

    def shard_units(self) -> list[ShardUnit]:
        """The modules `learner.sharding=fsdp` shards, innermost first (each transformer
        layer, then the module whose forward runs them: `policies/sharding.py`); a policy
        whose config sets `SHARDS_LAYERS` returns them, any other has none."""
        return []

    def grown_state(self, state: dict[str, Tensor]) -> dict[str, Tensor]:
        """`state`, saved from this policy built with the `GROWS_FROM` values (without the
        parameters those fields add), under this policy's names with the added parameters
        at their no-op start; a state of this policy's own form comes back unchanged."""
        return state

    def imitation_loss(
        self,
        obs: dict[str, Tensor],
        actions: Tensor,
        features: Tensor | None = None,
        mask: Tensor | None = None,
    ) -> Tensor:
        """Behaviour-cloning loss of the labelled `actions` (B, action_dim), a scalar; a policy
        acting in chunks takes chunk labels (B, H, action_dim) with a 0/1 `mask` (B, H)."""
        raise NotImplementedError(f"policy {type(self).__name__} has no imitation loss")


def observation_to_torch(
    obs: Mapping[str, np.ndarray], device: str | torch.device = "cpu"
) -> dict[str, Tensor]:
    """Turn a numpy observation dict (one observation or a batch) into batched tensors.

    A single observation (state of shape (D,), views (H, W, 3)) gains a leading batch axis.
    The state becomes float32; camera views stay uint8 (encoders normalise them).
    """
    single = np.ndim(obs[STATE_KEY]) == 1
    out: dict[str, Tensor] = {}
    for key, value in obs.items():
        array = np.asarray(value, dtype=np.float32 if key == STATE_KEY else None)
        tensor = torch.as_tensor(array, device=device)
        out[key] = tensor.unsqueeze(0) if single else tensor
    return out


@torch.no_grad()
def act_numpy(
    policy: Policy, obs: Mapping[str, np.ndarray], deterministic: bool = False
) -> np.ndarray:
    """Act on a numpy observation: (chunk_size, A) for one observation, (B, chunk_size, A)
    for a batch."""
    device = next(policy.parameters()).device
    chunk = policy.act(observation_to_torch(obs, device), deterministic).cpu().numpy()
    return chunk[0] if np.ndim(obs[STATE_KEY]) == 1 else chunk
