"""An advantage label as a flow policy's input (RECAP, arXiv 2511.14759; `algo=recap`).

The label says whether a training row's action did better than the policy usually does
from there (1: positive, 0: not), or is dropped (2: none), so one network learns the
label-conditioned and the unconditioned flow. It enters as a learned embedding added to the
policy's state features; the embedding starts at zero, so a fresh label changes nothing. That
is also how a labelled flow starts from an unlabelled one (a behaviour-cloned run's export,
`policy.weights=DIR`): its tensors go under the wrapped field's names and the embedding is
zero, so with every label, positive included, the flow acts exactly as the one it came from
(`LabelledVelocity.labelled_state`).

Where a label travels: as one extra column appended to the features (`with_labels`), which
the wrapped velocity field (`LabelledVelocity`) splits off. Features
without that column are a robot's: the velocity is the positive label's, extrapolated away
from the unconditioned one by the guidance weight w (classifier-free guidance),

    v = v_none + w (v_positive - v_none)

w = 1 is the positive label's velocity itself (one forward pass; no extrapolation).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

NEGATIVE = 0
POSITIVE = 1
NONE = 2  # dropped: the unconditioned policy
LABELS = 3  # rows of the embedding


def guided_velocity(unconditioned: Tensor, positive: Tensor, weight: float) -> Tensor:
    """Classifier-free guidance: v_none + w (v_positive - v_none)."""
    return unconditioned + weight * (positive - unconditioned)


class LabelledVelocity(nn.Module):
    """A velocity field (`field`: features, A, t -> velocity, raw log-std) that also reads
    an advantage label: a learned embedding (zero at the start) added to its features."""

    def __init__(self, field: nn.Module, feature_dim: int, guidance: float) -> None:
        super().__init__()
        self.field = field
        self.feature_dim = feature_dim
        self.guidance = guidance
        self.embedding = nn.Embedding(LABELS, feature_dim)
        nn.init.zeros_(self.embedding.weight)

    def labelled_state(self, state: dict[str, Tensor], prefix: str) -> dict[str, Tensor]:
        """A policy state dict whose velocity (under `prefix`) may be an unlabelled field's:
        its tensors renamed under the wrapped field and the label embedding added at zero
        (a no-op for every label). A state that already holds the embedding is unchanged."""
        if f"{prefix}embedding.weight" in state:
            return state
        out = {
            f"{prefix}field.{key[len(prefix) :]}" if key.startswith(prefix) else key: value
            for key, value in state.items()
        }
        out[f"{prefix}embedding.weight"] = torch.zeros_like(self.embedding.weight)
        return out

    def conditioned(self, features: Tensor, label: Tensor) -> Tensor:
        """features (B, F) plus the embedding of each row's label (B,)."""
        return features + self.embedding(label.long())

    def forward(self, features: Tensor, actions: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        """The velocity and raw log-std for labelled features (F + 1 columns: each row's own
        label) or a robot's (F columns: the positive label, with guidance)."""
        if features.shape[-1] == self.feature_dim + 1:
            labels = features[..., -1].round()
            return self.field(self.conditioned(features[..., :-1], labels), actions, t)
        positive = torch.full(features.shape[:-1], POSITIVE, device=features.device)
        velocity, log_std = self.field(self.conditioned(features, positive), actions, t)
        if self.guidance == 1.0:
            return velocity, log_std
        none = torch.full_like(positive, NONE)
        unconditioned, _ = self.field(self.conditioned(features, none), actions, t)
        return guided_velocity(unconditioned, velocity, self.guidance), log_std


def with_labels(features: Tensor, labels: Tensor) -> Tensor:
    """features (B, F) and labels (B,) in {NEGATIVE, POSITIVE, NONE} -> (B, F + 1): what a
    `LabelledVelocity` reads as labelled rows."""
    return torch.cat([features, labels.to(features.dtype).unsqueeze(-1)], dim=-1)
