"""The tanh-Gaussian policy on camera views (one ResNet-10-style trunk per view) and the
state vector: `policy=cnn` (128 px) and its CPU preset `cnn_small` (64 px)."""

from __future__ import annotations

from dataclasses import dataclass, field

from userl.core.registry import POLICIES
from userl.core.specs import ObservationSpec
from userl.policies.encoders import ImageEncoder
from userl.policies.mlp import GaussianPolicy, MLPPolicyConfig


@dataclass
class CNNPolicyConfig(MLPPolicyConfig):
    """Tanh-Gaussian head on camera views (one ResNet-10-style GroupNorm trunk per view,
    learned spatial pooling) and the state vector."""

    image_size_px: int = 128  # views are resized to this square size when they differ
    encoder_widths: list[int] = field(default_factory=lambda: [64, 128, 256, 512])  # channels of
    # each trunk stage

    encoder_strides: list[int] = field(default_factory=lambda: [1, 2, 2, 2])  # per stage
    stem_kernel_size: int = 7  # the stem convolution's kernel size (px)
    stem_stride: int = 2  # the stem convolution's stride (px)
    stem_pool: bool = True  # 3x3 stride-2 max-pool after the stem
    group_norm_groups: int = 8  # GroupNorm groups per layer
    pooling: str = "spatial_softmax"  # spatial_softmax | attention (registered poolings)
    pool_queries: int = 4  # attention pooling: learned queries per view
    view_latent_dim: int = 64  # each view is projected to this (Linear, LayerNorm, tanh)
    image_mean: list[float] = field(default_factory=lambda: [0.485, 0.456, 0.406])  # per-channel
    # mean subtracted from the views (ImageNet's)

    image_std: list[float] = field(default_factory=lambda: [0.229, 0.224, 0.225])  # per-channel std
    # the views are divided by (ImageNet's)

    encoder_weights: str = ""  # local file with a pretrained trunk state_dict; "" = random init
    encoder_frozen: bool = True  # with encoder_weights: keep the loaded trunk fixed

    def view_size_px(self) -> int:
        return self.image_size_px


@POLICIES.register("cnn", config=CNNPolicyConfig)
class CNNPolicy(GaussianPolicy):
    """The tanh-Gaussian policy on camera views (ResNet-10-style encoders) and the state."""

    def __init__(self, cfg: CNNPolicyConfig, obs_spec: ObservationSpec, action_dim: int) -> None:
        super().__init__(cfg, ImageEncoder(cfg, obs_spec), action_dim)
