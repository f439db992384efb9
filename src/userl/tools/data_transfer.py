"""`userl data export|import`: an episode store to a LeRobot dataset and back, with the
task's control rate, instruction and spaces read from its environment."""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from userl.config.loader import load_config
from userl.config.schema import RunConfig
from userl.core.errors import ConfigError
from userl.data.interop import Exporter, read_lerobot_report
from userl.data.store import EpisodeStore
from userl.telemetry.progress import CountProgress
from userl.tools.export_meaning import describe_task, export_meaning


def export_store(
    store: Path,
    out: Path,
    exporter: Exporter,
    fps: int | None = None,
    instruction: str | None = None,
    every_s: float = RunConfig.log_every_s,
    robot: str | None = None,
) -> dict[str, Any]:
    """Every readable episode of `store` written by `exporter` to the new folder `out`,
    with its progress on the console (a line at most every `every_s` off a terminal), the
    robot's kind (`robot`: a robot preset, for a store that is not a run's) and the state's
    and action's names."""
    if not store.is_dir():
        raise ConfigError(f"no episode store at {store}; give a folder written by userl")
    if out.exists():
        raise ConfigError(f"out={out} exists; give a new folder (nothing was overwritten)")
    report = EpisodeStore(store).load()
    report.refuse_nonfinite(store)
    if not report.episodes:
        raise ConfigError(f"{store} holds no readable episodes to export")
    tasks = sorted({e.task for e in report.episodes})
    if len(tasks) > 1:
        raise ConfigError(f"{store} mixes tasks {tasks}; export one task's episodes at a time")
    description = describe_task(tasks[0])
    meaning = export_meaning(store, report.episodes, description, robot)
    fps = fps or (description.fps if description else None)
    task_instruction = description.instruction if description else ""
    if not fps:
        raise ConfigError(f"task {tasks[0]!r} has no whole-number control rate here; give fps=N")
    started = time.monotonic()
    progress = CountProgress("export", len(report.episodes), "episodes written", every_s)
    try:
        result = exporter(
            report.episodes,
            out,
            fps,
            instruction or task_instruction,
            progress.on_item,
            meaning=meaning,
        )
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)  # a half-written export (out was new)
        raise
    finally:
        progress.close()
    result["export_s"] = round(time.monotonic() - started, 3)
    result["skipped_unreadable"] = len(report.unreadable)
    return result


def import_dataset(source: Path, out: Path, arguments: Sequence[str]) -> dict[str, Any]:
    """A LeRobot dataset into the episode store `out`; with `task=` checked against the
    task's observation and action spaces (building its environment once). Its progress is on
    the console, reading and then writing (a line at most every `run.log_every_s` off a
    terminal)."""
    from userl.data.lerobot_format import is_lerobot_dataset

    if not is_lerobot_dataset(source):
        raise ConfigError(f"{source} is not a LeRobot dataset (no meta/info.json)")
    config = load_config(arguments)
    spec, action_dim = None, None
    if any(a.startswith("task=") for a in arguments):
        from userl.envs.factory import make_env

        env = make_env(config)
        try:
            spec, action_dim = env.observation_spec, int(env.action_space.shape[0])
        finally:
            env.close()
    every_s = config.run.log_every_s
    with CountProgress("import", None, "episodes read", every_s) as reading:
        report = read_lerobot_report(
            source, config.demos.lerobot, spec, action_dim, reading.on_item
        )
    report.refuse_nonfinite(source)
    store = EpisodeStore(out).create()
    with CountProgress("import", len(report.episodes), "episodes written", every_s) as writing:
        for episode in report.episodes:
            store.write(episode)
            writing.advance()
    return {
        "out": str(out),
        "episodes": len(report.episodes),
        "transitions": sum(len(e) for e in report.episodes),
    }
