"""RECAP's labels: which chunks did better than the policy usually does.

A row's advantage is its n-step return minus V at the chunk's start. A row is positive when
its advantage is above the `quantile` of the recent advantages of its own task (a window of
the last `window` per task, so a hard task's chunks are judged against that task's); a
human-corrected row is always positive (with `corrections_positive`): the person acted because
the policy would not have. The labelling value is a copy of V refreshed every
`relabel_every_updates` updates; its version (the update it was copied at) is each batch's
label version, and how far behind the trained V it is, the labels' age.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from userl.policies.advantage_label import NEGATIVE, POSITIVE


class QuantileLabeller:
    """Per-task windows of recent advantages and the labels they give."""

    def __init__(
        self, tasks: int, window: int, quantile: float, corrections_positive: bool, device: Any
    ) -> None:
        self.quantile = quantile
        self.corrections_positive = corrections_positive
        self.window = window
        self.advantages = torch.zeros(tasks, window, device=device)
        self.filled = torch.zeros(tasks, dtype=torch.long, device=device)
        self.position = torch.zeros(tasks, dtype=torch.long, device=device)

    def remember(self, advantages: Tensor, task_ids: Tensor) -> None:
        """Add the batch's advantages (B,) to their tasks' windows (the oldest leave)."""
        for task in task_ids.unique().tolist():
            values = advantages[task_ids == task][-self.window :]
            slots = (self.position[task] + torch.arange(len(values), device=values.device)) % (
                self.window
            )
            self.advantages[task, slots] = values.to(self.advantages.dtype)
            self.position[task] = (self.position[task] + len(values)) % self.window
            self.filled[task] = torch.clamp(self.filled[task] + len(values), max=self.window)

    def thresholds(self) -> Tensor:
        """(tasks,) the `quantile` of each task's window (+inf for a task with none yet)."""
        out = torch.full((len(self.filled),), float("inf"), device=self.advantages.device)
        for task, count in enumerate(self.filled.tolist()):
            if count:
                out[task] = torch.quantile(self.advantages[task, :count], self.quantile)
        return out

    def labels(self, advantages: Tensor, task_ids: Tensor, corrected: Tensor) -> Tensor:
        """(B,) POSITIVE or NEGATIVE: advantage above its task's threshold, or corrected by a
        person (1.0 in `corrected`) when corrections count as positive. Remembers the batch
        first, so the first batch of a task has a threshold."""
        self.remember(advantages.detach(), task_ids)
        above = advantages > self.thresholds()[task_ids]
        if self.corrections_positive:
            above = above | (corrected > 0.5)
        return torch.where(above, POSITIVE, NEGATIVE)

    def state_dict(self) -> dict[str, Tensor]:
        return {"advantages": self.advantages, "filled": self.filled, "position": self.position}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        for name in ("advantages", "filled", "position"):
            getattr(self, name).copy_(state[name])
