"""A run's checkpoints by name: `latest` (what a resume continues from, with `previous.pt`
behind it), `best` (the policy of the best evaluation so far) and `step_<grad steps>` (the
periodic ones, the newest `run.checkpoints_kept` of them kept). `userl eval run=...
checkpoint=NAME` picks one of these names; anything else is one line listing those the run
has, so no path is ever built from what was typed."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from userl.core.errors import ConfigError
from userl.core.files import PARTIAL_SUFFIX, fsync_directory
from userl.data.checkpoint import load_checkpoint, load_latest, previous_of

CHECKPOINTS_DIR = "checkpoints"
LATEST = "latest"
BEST = "best"
SUFFIX = ".pt"
STEP_PREFIX = "step_"
STEP_FILE = re.compile(rf"^{STEP_PREFIX}(\d+){re.escape(SUFFIX)}$")
EVAL_FIX = "choose another of {folder} with checkpoint=best or checkpoint=step_N"


def checkpoint_file(folder: Path, name: str) -> Path:
    """The file of the checkpoint called `name` (`latest`, `best`, `step_N`) in `folder`."""
    return folder / f"{name}{SUFFIX}"


def step_name(grad_steps: int) -> str:
    """The periodic checkpoint's name at `grad_steps` gradient steps: `step_<grad_steps>`."""
    return f"{STEP_PREFIX}{int(grad_steps)}"


def periodic_files(folder: Path) -> list[tuple[int, Path]]:
    """The periodic checkpoints in `folder` as (gradient steps, file), oldest first."""
    if not folder.is_dir():
        return []
    found = ((STEP_FILE.match(p.name), p) for p in folder.iterdir() if p.is_file())
    return sorted((int(match.group(1)), path) for match, path in found if match)


def available(folder: Path) -> list[str]:
    """The checkpoint names a run's `folder` holds: latest (or its previous one), best, then
    each periodic one, oldest first."""
    latest = checkpoint_file(folder, LATEST)
    names = [LATEST] if latest.is_file() or previous_of(latest).is_file() else []
    names += [BEST] if checkpoint_file(folder, BEST).is_file() else []
    return names + [step_name(steps) for steps, _ in periodic_files(folder)]


def chosen_checkpoint(run_dir: Path, name: str) -> Path:
    """The file of `run_dir`'s checkpoint `name`; ConfigError in one line when the run has
    none, or none of that name (listing those it has)."""
    folder = run_dir / CHECKPOINTS_DIR
    names = available(folder)
    if not names:
        raise ConfigError(f"no checkpoint in {folder}; train first or pass another run=")
    if name not in names:
        raise ConfigError(
            f"checkpoint={name}: {folder} has no such checkpoint; choose one of {', '.join(names)}"
        )
    return checkpoint_file(folder, name)


def load_chosen(run_dir: Path, name: str) -> dict[str, Any]:
    """The state of `run_dir`'s checkpoint `name`, read only: `latest` falls back to
    `previous.pt` with one warning when it is damaged (`load_latest`); the others have no
    fallback (one line naming the file)."""
    path = chosen_checkpoint(run_dir, name)
    if name != LATEST:
        return load_checkpoint(path)
    loaded = load_latest(path, doing="evaluating", fix=EVAL_FIX, tidy=False)
    if loaded is None:  # chosen_checkpoint saw it a moment ago
        raise ConfigError(f"no checkpoint in {path.parent}; train first or pass another run=")
    return loaded[0]


def keep_copy(source: Path, target: Path) -> str | None:
    """`target` as a whole copy of `source` (a hard link where the file system has them, so a
    periodic checkpoint costs no space while it is also the latest); None, or why it could
    not be made (then no half-made `target` is left)."""
    temporary = target.with_name(target.name + PARTIAL_SUFFIX)
    temporary.unlink(missing_ok=True)
    try:
        try:
            os.link(source, temporary)
        except OSError:  # no hard links here: a real copy
            shutil.copyfile(source, temporary)
        os.replace(temporary, target)
        fsync_directory(target.parent)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        return f"{type(error).__name__}: {error}"
    return None


def prune_periodic(folder: Path, kept: int) -> list[Path]:
    """Delete all but the newest `kept` periodic checkpoints in `folder`; returns those
    deleted."""
    files = [path for _, path in periodic_files(folder)]
    old = files[: max(len(files) - kept, 0)]
    for path in old:
        path.unlink(missing_ok=True)
    return old
