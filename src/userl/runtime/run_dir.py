"""A run's folder, `<run.root>/<run.name>/`: where a new run writes and a resumed one reads.

A new run never overwrites an existing one; its place is checked (a folder it may write in)
before anything is written, and its folder is created only once its demos are known to fit
and Ray is up. A start that fails before the run's first episode removes what it created,
so the same command, corrected, can run again under the same name.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from userl.config.loader import to_yaml
from userl.config.schema import Config
from userl.core.errors import ConfigError
from userl.runtime.start_checks import check_start


def new_run_dir(config: Config) -> Path:
    """`runs/<name>/` for a new run (named by the time if unnamed); an existing run is never
    overwritten, and the folder must be one this process can create. Nothing is created yet."""
    if not config.run.name:
        config.run.name = datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{config.task.name}"
    run_dir = Path(config.run.root) / config.run.name
    check_writable(run_dir)
    if run_dir.exists() and any(run_dir.iterdir()):
        raise ConfigError(
            f"run {run_dir} already exists; continue it with resume=true or choose another "
            "run.name= (nothing was overwritten)"
        )
    return run_dir


def check_writable(run_dir: Path) -> None:
    """A one-line `ConfigError` unless `run_dir` is a folder, or can be made one, that this
    process may write in: checked on the nearest existing folder, writing nothing."""
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(
            f"run.name: {run_dir} is a file, not a run folder; choose another run.name= "
            "(nothing was written)"
        )
    place = run_dir
    while not place.exists() and place != place.parent:
        place = place.parent
    if not place.is_dir():
        raise ConfigError(
            f"run.root: {place} is a file, so {run_dir} cannot be made; give run.root= a "
            "folder (nothing was written)"
        )
    if not os.access(place, os.W_OK | os.X_OK):
        raise ConfigError(
            f"run.root: cannot write in {place} (read-only or not yours); give run.root= a "
            "folder you can write in (nothing was written)"
        )


def create_run_dir(run_dir: Path, config: Config) -> None:
    """The run's folder with its config, once Ray is up (a failed start leaves nothing)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(to_yaml(config))


class StartUp:
    """A new run's start, until `done()` (its first episode or update is next): a failure
    before that removes what the start created in `run_dir`, never what was there before."""

    def __init__(self, run_dir: Path, fresh: bool) -> None:
        self.run_dir = run_dir
        self.fresh = fresh
        self.kept = not fresh
        self.made = [p for p in [run_dir, *run_dir.parents] if not p.exists()]  # deepest first
        self.had = set(run_dir.iterdir()) if run_dir.is_dir() else set()

    def done(self) -> None:
        """The run is under way: from here on a failure keeps its folder for resume=true."""
        self.kept = True

    def undo(self) -> None:
        """Remove what this start created: the run's folder (or, where an empty one was there
        before, what it put in it) and the parent folders it made."""
        if self.made and self.made[0] == self.run_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)
        elif self.run_dir.is_dir():
            for entry in set(self.run_dir.iterdir()) - self.had:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
        for folder in self.made[1:]:
            try:
                folder.rmdir()  # only while empty: something else may have appeared there
            except OSError:
                break


@contextmanager
def start_up(run_dir: Path, fresh: bool) -> Iterator[StartUp]:
    """`StartUp` for the length of a run: on any failure (or Ctrl-C) before `done()`, what a
    fresh run's start created is removed, and the failure goes on."""
    start = StartUp(run_dir, fresh)
    try:
        yield start
    except BaseException:
        if not start.kept:
            start.undo()
        raise


def existing_run_dir(config: Config) -> Path:
    """The folder of a run to resume; it must hold the run's config."""
    if not config.run.name:
        raise ConfigError("resume=true needs run.name= of the run to continue")
    run_dir = Path(config.run.root) / config.run.name
    if not (run_dir / "config.yaml").is_file():
        raise ConfigError(
            f"nothing to resume at {run_dir}: no config.yaml there; check run.name= and run.root="
        )
    return run_dir


def run_dir_for(config: Config) -> Path:
    """The folder this run works in: its own (`resume=true`) or a new one, in a place it can
    write; its demos and encoder weights must fit the run (`start_checks.check_start`)."""
    run_dir = existing_run_dir(config) if config.resume else new_run_dir(config)
    check_start(config)
    return run_dir
