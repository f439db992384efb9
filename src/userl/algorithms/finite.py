"""The guard on every optimiser step: a non-finite loss or gradient never reaches the weights.

One NaN in a batch (a faulty sensor, a broken reward) turns every weight it touches NaN, and
the robots would act on them. So each step checks its loss, and the gradient norm that
gradient clipping computes anyway, with one `torch.isfinite`; a failed check skips the
update, counts it, and after `algo.max_nonfinite_updates` skipped updates in a row stops the
run (the data or the learning rate needs fixing, retrying will not help).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor, nn

from userl.core.errors import TrainingDiverged

GradientReduce = Callable[[Tensor, list[Tensor]], Tensor]
"""(the step's loss, its parameters) -> the loss averaged over the ranks, after averaging the
parameters' gradients over the ranks in place."""

GradientClip = Callable[[list[Tensor], float], Tensor]
"""(the step's parameters, the largest norm) -> the gradients' norm, after scaling the
gradients in place so that their norm is at most the largest."""


class FiniteSteps:
    """Guarded optimiser steps and the count of updates skipped (`skipped`: all of them,
    `in_row`: since the last good one)."""

    def __init__(self, max_in_row: int) -> None:
        self.max_in_row = max_in_row
        self.skipped = 0
        self.in_row = 0
        self.reduce: GradientReduce | None = None
        """Data-parallel ranks: averages the step's gradients (and its loss, which is then
        checked) over the ranks between backward and clipping (`algorithms/data_parallel.py`)."""
        self.clip: GradientClip = nn.utils.clip_grad_norm_
        """Clips the gradients to a norm and returns their norm before; over sharded ranks,
        the norm of the whole model's gradients (`algorithms/fsdp.py`)."""

    def step(
        self, optim: torch.optim.Optimizer, loss: Tensor, params: Iterable[Tensor], clip: float
    ) -> bool:
        """Backpropagate `loss` and step `optim` unless the loss or the (clipped, if `clip` >
        0) gradient norm is NaN or infinite; returns whether it stepped."""
        tensors = list(params)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        checked = loss.detach().reshape(-1)
        if self.reduce is not None:  # every rank then decides alike on the averaged values
            checked = self.reduce(checked, tensors)
        if clip > 0:
            norm = self.clip(tensors, clip)
            checked = torch.cat((checked, norm.detach().reshape(-1).to(checked.dtype)))
        if not bool(torch.isfinite(checked).all()):  # one host read per step
            optim.zero_grad(set_to_none=True)
            return False
        optim.step()
        return True

    def passed(self) -> None:
        """A whole update went through: the run of skipped ones is over."""
        self.in_row = 0

    def skip(self, metrics: bool) -> dict[str, float]:
        """An update skipped: count it, stop the run after too many in a row; the metrics
        the update returns instead of its losses."""
        self.skipped += 1
        self.in_row += 1
        if self.in_row >= self.max_in_row:
            raise TrainingDiverged(
                f"training stopped: {self.in_row} updates in a row had a NaN or infinite loss "
                "or gradient; check the data (userl data stats) or lower the learning rates "
                "(algo.max_nonfinite_updates sets the limit)"
            )
        return self.scalars() if metrics else {}

    def scalars(self) -> dict[str, float]:
        """The TensorBoard figure a skipped update reports instead of its losses: updates
        skipped so far (the learner's stats carry it always)."""
        return {"train/nonfinite_updates": float(self.skipped)}


def all_finite(state: object) -> bool:
    """Whether every floating-point tensor in `state` (a state dict, nested dicts and lists
    of them, as optimisers keep) is finite: what may be published or checkpointed."""
    if isinstance(state, Tensor):
        return not state.is_floating_point() or bool(torch.isfinite(state).all())
    if isinstance(state, dict):
        return all(all_finite(value) for value in state.values())
    if isinstance(state, list | tuple):
        return all(all_finite(value) for value in state)
    return True


def refuse_nonfinite(state: object, what: str) -> bool:
    """True (and one line saying so) if `state` holds NaN or infinity: `what` (a weight
    publish, a checkpoint) is then not done, and the previous good one stays."""
    if all_finite(state):
        return False
    print(f"warning: {what} refused: NaN or infinite weights; the last good ones stay", flush=True)
    return True
