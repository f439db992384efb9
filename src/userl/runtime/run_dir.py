"""A run's folder, `<run.root>/<run.name>/`: where a new run writes and a resumed one reads.

A new run never overwrites an existing one, and its folder is created only once Ray is up and
its demos are known to be finite (a failed start leaves nothing behind); a resumed run must
find its own config there.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from userl.config.loader import to_yaml
from userl.config.schema import Config
from userl.core.errors import ConfigError
from userl.data.store import EpisodeStore


def new_run_dir(config: Config) -> Path:
    """`runs/<name>/` for a new run (named by the time if unnamed); an existing run is never
    overwritten. Nothing is created yet."""
    if not config.run.name:
        config.run.name = datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{config.task.name}"
    run_dir = Path(config.run.root) / config.run.name
    if run_dir.exists() and any(run_dir.iterdir()):
        raise ConfigError(
            f"run {run_dir} already exists; continue it with resume=true or choose another "
            "run.name= (nothing was overwritten)"
        )
    return run_dir


def create_run_dir(run_dir: Path, config: Config) -> None:
    """The run's folder with its config, once Ray is up (a failed start leaves nothing)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(to_yaml(config))


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


def check_demo_files(config: Config) -> None:
    """Every demos folder that is an episode store holds finite episodes only
    (`LoadReport.refuse_nonfinite`: a `ConfigError` naming the file), checked before the
    run's folder exists; a LeRobot dataset is checked as it is read."""
    paths = [config.demos.path, *(cell.demos_path for cell in config.cells)]
    for path in filter(None, paths):
        store = EpisodeStore(path)
        if store.is_store():
            store.load().refuse_nonfinite(Path(path))


def run_dir_for(config: Config) -> Path:
    """The folder this run works in: its own (`resume=true`) or a new one, whose demos must
    be finite (`check_demo_files`)."""
    if config.resume:
        return existing_run_dir(config)
    check_demo_files(config)
    return new_run_dir(config)
