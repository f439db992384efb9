"""DrQ image augmentation, applied by algorithms to training batches (never when acting)."""

from __future__ import annotations

import torch
from torch import Tensor

from userl.core.shards import row_draw
from userl.policies.base import STATE_KEY


def random_shift(images: Tensor, pad_pixels: int) -> Tensor:
    """Shift each image of (B, H, W, C) by an independent random offset within
    +-`pad_pixels` per axis, filling with the edge pixels: the same as DrQ's edge padding by
    `pad_pixels` followed by a random HxW crop. Works on uint8 and float; one gather."""
    if pad_pixels <= 0:
        return images
    batch, height, width = images.shape[:3]
    device = images.device
    shifts = row_draw(
        batch, lambda n: torch.randint(-pad_pixels, pad_pixels + 1, (n, 2), device=device)
    )
    rows = (torch.arange(height, device=device) + shifts[:, :1]).clamp_(0, height - 1)
    cols = (torch.arange(width, device=device) + shifts[:, 1:]).clamp_(0, width - 1)
    index = torch.arange(batch, device=device)[:, None, None]
    return images[index, rows[:, :, None], cols[:, None, :]]


def augment_views(obs: dict[str, Tensor], pad_pixels: int) -> dict[str, Tensor]:
    """Every camera view of `obs` randomly shifted (independently per sample); the state
    vector untouched. Without views or with `pad_pixels` 0, `obs` itself."""
    if pad_pixels <= 0 or all(key == STATE_KEY for key in obs):
        return obs
    return {
        key: value if key == STATE_KEY else random_shift(value, pad_pixels)
        for key, value in obs.items()
    }
