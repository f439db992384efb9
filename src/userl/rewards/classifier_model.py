"""The success classifier: the policies' camera encoders (`policies/encoders.py`, one
ResNet-10-style trunk per view) and a small head giving the logit of "this frame shows
success". Saved as tensors and plain values only, loaded with `weights_only=True`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from userl.core.errors import ConfigError
from userl.data.checkpoint import load_checkpoint, plain
from userl.policies.cnn import CNNPolicyConfig
from userl.policies.encoders import ViewEncoder

CHECKPOINT_FORMAT = "userl-reward-classifier"
CHECKPOINT_VERSION = 1


class SuccessClassifier(nn.Module):
    """uint8 views (B, H, W, 3) by camera name -> success logits (B,)."""

    def __init__(
        self,
        encoder: CNNPolicyConfig,
        cameras: list[str],
        height_px: int,
        width_px: int,
        hidden_dim: int,
    ) -> None:
        super().__init__()
        self.cameras = list(cameras)
        self.views = nn.ModuleDict(
            {name: ViewEncoder(encoder, height_px, width_px) for name in self.cameras}
        )
        self.head = nn.Sequential(
            nn.Linear(len(self.cameras) * encoder.view_latent_dim, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, 1),
        )

    def forward(self, images: dict[str, Tensor]) -> Tensor:
        latents = [self.views[name](images[name]) for name in self.cameras]
        return self.head(torch.cat(latents, dim=-1)).squeeze(-1)


@dataclasses.dataclass
class ClassifierCheckpoint:
    """A trained classifier and what it was trained on."""

    model: SuccessClassifier
    task: str
    cameras: list[str]
    height_px: int
    width_px: int
    metrics: dict[str, Any]


def save_classifier(
    path: Path,
    model: SuccessClassifier,
    encoder: CNNPolicyConfig,
    task: str,
    height_px: int,
    width_px: int,
    hidden_dim: int,
    metrics: dict[str, Any],
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "task": task,
            "cameras": list(model.cameras),
            "image_height_px": int(height_px),
            "image_width_px": int(width_px),
            "hidden_dim": int(hidden_dim),
            "encoder": plain(dataclasses.asdict(encoder)),
            "metrics": plain(metrics),
            "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        },
        path,
    )
    return path


def load_classifier(path: Path) -> ClassifierCheckpoint:
    """The classifier at `path` (weights_only); a missing or foreign file is one line."""
    if not path.is_file():
        raise ConfigError(
            f"reward.checkpoint={path}: no such file; train one with "
            "`userl train-reward task=T data=DIR out=FILE.pt`"
        )
    state = load_checkpoint(path)
    if state.get("format") != CHECKPOINT_FORMAT:
        raise ConfigError(
            f"reward.checkpoint={path} is not a reward classifier (written by `userl train-reward`)"
        )
    encoder = CNNPolicyConfig(**state["encoder"])
    model = SuccessClassifier(
        encoder,
        state["cameras"],
        state["image_height_px"],
        state["image_width_px"],
        state["hidden_dim"],
    )
    model.load_state_dict(state["state_dict"])
    return ClassifierCheckpoint(
        model.eval(),
        state["task"],
        list(state["cameras"]),
        int(state["image_height_px"]),
        int(state["image_width_px"]),
        dict(state.get("metrics", {})),
    )
