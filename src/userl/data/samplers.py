"""Batch samplers over replay buffers, and the numpy -> torch batch conversion."""

from __future__ import annotations

import numpy as np
import torch

from userl.core.types import Batch
from userl.data.buffers import ReplayBuffer


def _concat(parts: list[dict]) -> dict:
    if len(parts) == 1:
        return parts[0]
    out: dict = {}
    for key, value in parts[0].items():
        if isinstance(value, dict):
            out[key] = {k: np.concatenate([p[key][k] for p in parts]) for k in value}
        else:
            out[key] = np.concatenate([p[key] for p in parts])
    return out


class SymmetricSampler:
    """RLPD's symmetric sampling: each batch takes round(demo_fraction * B) rows from the demo
    buffer and the rest from the online buffer (demo rows first).

    When the demo buffer is missing or empty every row is online; when the online buffer is
    empty every row is a demo.
    """

    def __init__(self, online: ReplayBuffer, demo: ReplayBuffer | None,
                 demo_fraction: float) -> None:
        if not 0.0 <= demo_fraction <= 1.0:
            raise ValueError(f"demo_fraction must be within [0, 1], got {demo_fraction}")
        self.online = online
        self.demo = demo
        self.demo_fraction = demo_fraction

    def demo_rows(self, batch_size: int) -> int:
        """How many of `batch_size` rows come from the demo buffer right now."""
        if self.demo is None or len(self.demo) == 0:
            return 0
        if len(self.online) == 0:
            return batch_size
        return int(round(self.demo_fraction * batch_size))

    def sample(self, batch_size: int, rng: np.random.Generator) -> dict:
        n_demo = self.demo_rows(batch_size)
        parts = []
        if n_demo > 0:
            assert self.demo is not None
            parts.append(self.demo.sample(n_demo, rng))
        if batch_size - n_demo > 0:
            parts.append(self.online.sample(batch_size - n_demo, rng))
        return _concat(parts)


def to_torch(batch: dict, device: str | torch.device = "cpu") -> Batch:
    """A numpy batch dict -> `Batch`. States, actions and rewards become float32; views stay
    uint8; `terminated` and `intervened` become float32 0/1 (masks or weights)."""

    def tensor(array: np.ndarray, dtype: torch.dtype | None = None) -> torch.Tensor:
        return torch.as_tensor(array, device=device, dtype=dtype)

    def obs(group: dict) -> dict:
        return {k: tensor(v, torch.float32 if v.dtype != np.uint8 else None)
                for k, v in group.items()}

    return Batch(
        observations=obs(batch["observations"]),
        actions=tensor(batch["actions"], torch.float32),
        rewards=tensor(batch["rewards"], torch.float32),
        next_observations=obs(batch["next_observations"]),
        terminated=tensor(batch["terminated"], torch.float32),
        intervened=tensor(batch["intervened"], torch.float32),
    )
