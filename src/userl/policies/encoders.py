"""Observation encoders: an observation dict -> one feature vector per sample.

`StateEncoder` passes the state vector through. `ImageEncoder` runs one ResNet-10-style
trunk (GroupNorm, so a sample's features never depend on the rest of the batch) per camera
view, pools its feature map with a learned spatial pooling, projects it to a small latent
(Linear -> LayerNorm -> tanh) and concatenates the views' latents with the state vector.

A pretrained trunk can be loaded from a local file (`policy.encoder_weights=PATH`, a
`torch.save`d state_dict of `ResNet10` with the preset's widths) and kept frozen.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from userl.core.errors import ConfigError
from userl.core.registry import Registry
from userl.core.specs import ObservationSpec
from userl.policies.base import Encoder
from userl.policies.conditioning import StateFeatures

if TYPE_CHECKING:  # the config module imports this one
    from userl.policies.cnn import CNNPolicyConfig

STATE_KEY = "state"
POOLINGS: Registry = Registry("spatial pooling")


class EncoderWeightsError(ConfigError):
    """A pretrained-weights file that is missing or does not fit the trunk (one line)."""


class StateEncoder(Encoder):
    """The state vector itself (no parameters), or with several cells its task-conditioned
    features (`conditioning.py`)."""

    def __init__(self, obs_spec: ObservationSpec) -> None:
        super().__init__()
        self.state = StateFeatures(obs_spec)
        self.feature_dim = self.state.feature_dim

    def forward(self, obs: dict[str, Tensor]) -> Tensor:
        return self.state(obs[STATE_KEY])


def group_norm(channels: int, groups: int) -> nn.GroupNorm:
    """GroupNorm with `groups` groups, or fewer when `channels` is not divisible by it."""
    groups = max(g for g in range(1, min(groups, channels) + 1) if channels % g == 0)
    return nn.GroupNorm(groups, channels)


class BasicBlock(nn.Module):
    """conv3x3 -> GN -> ReLU -> conv3x3 -> GN, plus a (projected) shortcut, -> ReLU."""

    def __init__(self, in_channels: int, channels: int, stride: int, groups: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride, 1, bias=False)
        self.norm1 = group_norm(channels, groups)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.norm2 = group_norm(channels, groups)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride, bias=False),
                group_norm(channels, groups),
            )

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.norm1(self.conv1(x)))
        out = self.norm2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet10(nn.Module):
    """Stem (conv, GN, ReLU, max-pool) and one basic block per stage: 10 layers with weights
    at four stages (1 + 4 x 2 + the head the policy adds)."""

    def __init__(
        self,
        widths: Sequence[int],
        strides: Sequence[int],
        stem_kernel_size: int,
        stem_stride: int,
        stem_pool: bool,
        groups: int,
    ) -> None:
        super().__init__()
        if len(widths) != len(strides):
            raise ValueError(
                f"encoder widths {list(widths)} and strides {list(strides)} "
                "must have the same length"
            )
        stem: list[nn.Module] = [
            nn.Conv2d(
                3, widths[0], stem_kernel_size, stem_stride, stem_kernel_size // 2, bias=False
            ),
            group_norm(widths[0], groups),
            nn.ReLU(),
        ]
        if stem_pool:
            stem.append(nn.MaxPool2d(3, 2, 1))
        self.stem = nn.Sequential(*stem)
        blocks, channels = [], widths[0]
        for width, stride in zip(widths, strides, strict=True):
            blocks.append(BasicBlock(channels, width, stride, groups))
            channels = width
        self.stages = nn.Sequential(*blocks)
        self.out_channels = channels

    def forward(self, x: Tensor) -> Tensor:
        return self.stages(self.stem(x))


# ----------------------------------------------------------------------------- pooling
@POOLINGS.register("spatial_softmax")
class SpatialSoftmax(nn.Module):
    """Per channel, a softmax over positions (learned temperature) -> expected (x, y):
    2 C keypoint coordinates in [-1, 1]."""

    grid: Tensor

    def __init__(self, channels: int, height: int, width: int, cfg: CNNPolicyConfig) -> None:
        super().__init__()
        ys, xs = torch.meshgrid(
            torch.linspace(-1, 1, height), torch.linspace(-1, 1, width), indexing="ij"
        )
        self.register_buffer("grid", torch.stack([xs.flatten(), ys.flatten()], dim=-1))
        self.log_temperature = nn.Parameter(torch.zeros(()))
        self.out_dim = 2 * channels

    def forward(self, x: Tensor) -> Tensor:
        weights = torch.softmax(x.flatten(2) / self.log_temperature.exp(), dim=-1)  # (B, C, HW)
        return (weights @ self.grid).flatten(1)  # (B, C * 2)


@POOLINGS.register("attention")
class AttentionPooling(nn.Module):
    """`pool_queries` learned queries attend over the positions (keys: features plus a learned
    position embedding); each query returns a weighted sum of the features."""

    def __init__(self, channels: int, height: int, width: int, cfg: CNNPolicyConfig) -> None:
        super().__init__()
        self.position = nn.Parameter(0.02 * torch.randn(height * width, channels))
        self.queries = nn.Parameter(0.02 * torch.randn(cfg.pool_queries, channels))
        self.key = nn.Linear(channels, channels)
        self.scale = channels**-0.5
        self.out_dim = cfg.pool_queries * channels

    def forward(self, x: Tensor) -> Tensor:
        tokens = x.flatten(2).transpose(1, 2)  # (B, HW, C)
        keys = self.key(tokens + self.position)
        weights = torch.softmax(keys @ self.queries.T * self.scale, dim=1)  # (B, HW, Q)
        return (weights.transpose(1, 2) @ tokens).flatten(1)  # (B, Q * C)


# ----------------------------------------------------------------------------- encoders
class ViewEncoder(nn.Module):
    """One camera view: uint8 (B, H, W, 3) -> normalised -> trunk -> pooling -> latent."""

    mean: Tensor
    std: Tensor
    trunk: nn.Module

    def __init__(self, cfg: CNNPolicyConfig, height: int, width: int) -> None:
        super().__init__()
        self.size = (cfg.image_size_px, cfg.image_size_px) if cfg.image_size_px else (height, width)
        self.register_buffer("mean", torch.tensor(cfg.image_mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(cfg.image_std).view(1, 3, 1, 1))
        self.trunk = ResNet10(
            cfg.encoder_widths,
            cfg.encoder_strides,
            cfg.stem_kernel_size,
            cfg.stem_stride,
            cfg.stem_pool,
            cfg.group_norm_groups,
        )
        with torch.no_grad():
            _, channels, h, w = self.trunk(torch.zeros(1, 3, *self.size)).shape
        self.pool = POOLINGS.get(cfg.pooling)(channels, h, w, cfg)
        self.project = nn.Sequential(
            nn.Linear(self.pool.out_dim, cfg.view_latent_dim),
            nn.LayerNorm(cfg.view_latent_dim),
            nn.Tanh(),
        )

    def forward(self, image: Tensor) -> Tensor:
        # NCHW in memory, not a channels-last view: oneDNN's channels-last convolution
        # backward corrupts the heap for few input channels on some CPUs (seen on AMD EPYC
        # with a 1x1 stride-2 shortcut, torch 2.13).
        x = image.permute(0, 3, 1, 2).contiguous().float().div_(255.0)
        if tuple(x.shape[-2:]) != self.size:
            x = F.interpolate(
                x, size=self.size, mode="bilinear", antialias=True, align_corners=False
            )
        x = (x - self.mean) / self.std
        return self.project(self.pool(self.trunk(x)))


class ImageEncoder(Encoder):
    """Every camera view through its own `ViewEncoder`, concatenated with the state vector."""

    def __init__(self, cfg: CNNPolicyConfig, obs_spec: ObservationSpec) -> None:
        super().__init__()
        if not obs_spec.images:
            raise ValueError(f"policy {cfg.name!r} needs camera views; train with obs=image")
        self.views = nn.ModuleDict(
            {view.name: ViewEncoder(cfg, view.height_px, view.width_px) for view in obs_spec.images}
        )
        self.state = StateFeatures(obs_spec)
        self.feature_dim = len(self.views) * cfg.view_latent_dim + self.state.feature_dim
        if cfg.encoder_weights:
            for view in self.views.values():
                assert isinstance(view, ViewEncoder)
                load_trunk_weights(view.trunk, cfg.encoder_weights)
                view.trunk.requires_grad_(not cfg.encoder_frozen)

    def forward(self, obs: dict[str, Tensor]) -> Tensor:
        latents = [encoder(obs[name]) for name, encoder in self.views.items()]
        return torch.cat([*latents, self.state(obs[STATE_KEY])], dim=-1)


def load_trunk_weights(trunk: nn.Module, path: str) -> None:
    """Load a `torch.save`d state_dict into `trunk`; any problem is one `EncoderWeightsError`
    line naming the file and what to fix."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise EncoderWeightsError(
            f"policy.encoder_weights={path}: no such file; give a local file holding a "
            "ResNet10 trunk state_dict (torch.save(trunk.state_dict(), PATH)), or leave it empty"
        )
    try:
        with warnings.catch_warnings():  # torch warns of a pickle protocol before refusing it
            warnings.simplefilter("ignore")
            state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 (any unreadable file gets the same one line)
        raise EncoderWeightsError(
            f"policy.encoder_weights={path}: not a torch state_dict file "
            f"({type(error).__name__}; tensors only, pickled objects are refused); give a file "
            "written by torch.save(trunk.state_dict(), PATH), or leave it empty"
        ) from None
    if not isinstance(state, dict):
        raise EncoderWeightsError(
            f"policy.encoder_weights={path}: holds a {type(state).__name__}, expected a state_dict"
        )
    own = trunk.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [
        f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}"
        for k, v in own.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    if missing or unexpected or shapes:
        details = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing[:3])}" if missing else "",
                f"unexpected {', '.join(unexpected[:3])}" if unexpected else "",
                f"shape {', '.join(shapes[:3])}" if shapes else "",
            )
            if part
        )
        raise EncoderWeightsError(
            f"policy.encoder_weights={path} does not match the trunk of this policy preset "
            f"({details}); check policy.encoder_widths / encoder_strides"
        )
    trunk.load_state_dict(state)
