"""Loading checkpoints safely: a run folder may come from someone else, and `torch.load` with
`weights_only=False` runs whatever its pickle holds. Checkpoints hold only tensors and plain
Python types (RNG states included), so they load with `weights_only=True`; anything else is
refused in one line. A file that is damaged (cut short by a full disk, not a checkpoint at
all) is `CheckpointUnreadable`, also one line naming the file."""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from userl.core.errors import ConfigError
from userl.core.files import PARTIAL_SUFFIX, fsync_directory
from userl.data.file_kind import file_not_a_zip


class CheckpointRefused(ConfigError):
    """A checkpoint that holds more than tensors and plain types; the message is one line."""


class CheckpointUnreadable(CheckpointRefused):
    """A checkpoint file that cannot be read (truncated, damaged, not a checkpoint); one line
    naming the file. A resumed run falls back to the previous checkpoint (`checkpoints.py`)."""


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
    """The checkpoint at `path`, loaded with `weights_only=True` (no code runs). Raises
    `CheckpointRefused` (it holds code) or `CheckpointUnreadable` (damaged), one line each."""
    try:
        kind = file_not_a_zip(path)
    except OSError as error:
        raise CheckpointUnreadable(f"cannot read checkpoint {path}: {error}") from None
    if kind is not None:  # torch would read it as a legacy pickle: say what it is instead
        raise CheckpointUnreadable(f"checkpoint {path} is not a PyTorch checkpoint: it is {kind}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (EOFError, OSError, RuntimeError, zipfile.BadZipFile) as error:
        reason = str(error).strip().split(".")[0].splitlines()[0] if str(error).strip() else ""
        raise CheckpointUnreadable(
            f"checkpoint {path} is unreadable, damaged or cut short "
            f"({type(error).__name__}{': ' + reason if reason else ''})"
        ) from None
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


def previous_of(path: Path) -> Path:
    """Where the checkpoint before `path` is kept (`latest.pt` -> `previous.pt`)."""
    return path.with_name(f"previous{path.suffix}")


def write_checkpoint(path: Path, state: dict[str, Any], keep_previous: bool = True) -> str | None:
    """Write `state` to `path`: the new one goes to `path.partial`, is fsynced, and only then
    takes `path`'s name; with `keep_previous`, the one it replaces first moves aside to
    `previous_of(path)`. Returns None, or why it could not be written (a full disk): then
    nothing half-written is left and the checkpoints already there stay as they were."""
    temporary = path.with_name(path.name + PARTIAL_SUFFIX)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(temporary, "wb") as handle:
            torch.save(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        temporary.unlink(missing_ok=True)
        return f"{type(error).__name__}: {error}"
    if keep_previous and path.is_file():
        os.replace(path, previous_of(path))
    os.replace(temporary, path)
    fsync_directory(path.parent)
    return None


RESUME_FIX = "move {folder} aside to resume from the stored episodes alone (fresh weights)"


def load_latest(
    path: Path, doing: str = "resuming", fix: str = RESUME_FIX, tidy: bool = True
) -> tuple[dict[str, Any], Path] | None:
    """The newest readable checkpoint: `path`, else (with a one-line warning that says what
    is `doing` from it) the previous one; None when neither exists. With `tidy`, a leftover
    `path.partial` (an interrupted write) is removed; a read-only command passes False.
    Raises `CheckpointUnreadable` naming `path` and the `fix` ({folder}: its folder) when no
    existing one is readable, and `CheckpointRefused` at once for one that holds code (no
    fallback around that)."""
    previous = previous_of(path)
    if tidy:
        path.with_name(path.name + PARTIAL_SUFFIX).unlink(missing_ok=True)
    if not path.is_file() and not previous.is_file():
        return None
    first: CheckpointUnreadable | None = None
    for candidate in (path, previous):
        if not candidate.is_file():
            continue
        try:
            state = load_checkpoint(candidate)
        except CheckpointUnreadable as error:
            first = first or error
            continue
        if candidate != path:
            why = str(first) if first else f"{path} is missing"
            print(f"warning: {why}; {doing} from the previous checkpoint {candidate}", flush=True)
        return state, candidate
    assert first is not None
    raise CheckpointUnreadable(
        f"{first}, and there is no readable previous checkpoint ({previous.name}); "
        + fix.format(folder=path.parent)
    )
