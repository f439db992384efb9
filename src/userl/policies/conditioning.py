"""Task conditioning: the state part of every encoder's features. A single-cell run passes
its state through unchanged; a multi-cell run's state (`core/specs.py` `CellLayout`: padded
values, mask, task id, embodiment id) becomes values, mask and a learned embedding of each
id, so one policy (and its critics, which share the encoder) serves every cell."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from userl.core.specs import ObservationSpec


class StateFeatures(nn.Module):
    """state (B, D) -> features (B, feature_dim)."""

    def __init__(self, obs_spec: ObservationSpec) -> None:
        super().__init__()
        self.layout = obs_spec.cells
        if self.layout is None:
            self.feature_dim = obs_spec.state_dim
            return
        layout = self.layout
        self.task_embedding = nn.Embedding(len(layout.task_names), layout.task_embedding_dim)
        self.embodiment_embedding = nn.Embedding(
            len(layout.embodiment_names), layout.embodiment_embedding_dim
        )
        self.feature_dim = (
            2 * layout.state_dim + layout.task_embedding_dim + layout.embodiment_embedding_dim
        )

    def forward(self, state: Tensor) -> Tensor:
        if self.layout is None:
            return state
        task_ids, embodiment_ids = cell_ids(state, self.layout.task_id_index)
        return torch.cat(
            [
                state[..., : self.layout.task_id_index],
                self.task_embedding(task_ids),
                self.embodiment_embedding(embodiment_ids),
            ],
            dim=-1,
        )


def cell_ids(state: Tensor, task_id_index: int) -> tuple[Tensor, Tensor]:
    """The task ids and embodiment ids (B,) of laid-out states."""
    ids = state[..., task_id_index : task_id_index + 2].round().long()
    return ids[..., 0], ids[..., 1]
