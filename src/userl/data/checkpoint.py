"""Loading checkpoints safely: a run folder may come from someone else, and `torch.load` with
`weights_only=False` runs whatever its pickle holds. Checkpoints hold only tensors and plain
Python types (RNG states included), so they load with `weights_only=True`; anything else is
refused in one line."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from userl.core.errors import ConfigError


class CheckpointRefused(ConfigError):
    """A checkpoint that holds more than tensors and plain types; the message is one line."""


def plain(value: Any) -> Any:
    """`value` with numpy scalars and arrays as Python numbers and lists, recursively, so a
    checkpoint loads with `weights_only=True`."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(plain(item) for item in value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def load_checkpoint(path: Path) -> dict[str, Any]:
    """The checkpoint at `path`, loaded with `weights_only=True` (no code runs)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        reason = next(
            (line for line in lines if "GLOBAL" in line or "WeightsUnpickler" in line),
            lines[-1] if lines else "not a checkpoint",
        ).rstrip(".")
        raise CheckpointRefused(
            f"refusing checkpoint {path}: it holds more than tensors and plain values "
            f"({reason}); it may run code when loaded, so it is not opened: train it yourself "
            "or get the run from someone you trust"
        ) from None
    if not isinstance(state, dict):
        raise CheckpointRefused(
            f"refusing checkpoint {path}: not a userl checkpoint (a {type(state).__name__})"
        )
    return state
