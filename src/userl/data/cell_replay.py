"""Replay keyed by robot cell: one ring buffer per cell (its robot and task), so each
cell's data survives however fast another cell produces, and batches are drawn fairly
across cells (`samplers.CellSampler`)."""

from __future__ import annotations

import numpy as np

from userl.core.specs import ObservationSpec
from userl.core.types import Episode
from userl.data.buffers import ReplayBuffer


class CellBuffers:
    """A `ReplayBuffer` per cell; the capacity is shared out equally between the cells."""

    def __init__(
        self,
        cells: int,
        capacity: int,
        obs_spec: ObservationSpec,
        action_dim: int,
        label_chunk_steps: int = 1,
    ) -> None:
        if cells < 1:
            raise ValueError(f"need at least one cell, got {cells}")
        self.buffers = [
            ReplayBuffer(
                max(1, capacity // cells), obs_spec, action_dim, label_chunk_steps=label_chunk_steps
            )
            for _ in range(cells)
        ]

    def __len__(self) -> int:
        return sum(len(buffer) for buffer in self.buffers)

    def __getitem__(self, cell: int) -> ReplayBuffer:
        return self.buffers[cell]

    def add_episode(self, episode: Episode, cell: int = 0, only: np.ndarray | None = None) -> None:
        self.buffers[cell].add_episode(episode, only=only)

    def sizes(self) -> list[int]:
        return [len(buffer) for buffer in self.buffers]
