"""Record episodes into an episode store: demonstrations (a teleop device or the scripted
expert), a trained run's policy, or a registered action source (`random`, `noisy_expert`,
...), optionally with per-frame success labels and front-camera GIFs.

`userl collect` parses its arguments and calls `collection_config` and `collect`; the reward
tools (`tools/train_reward.py`) call the same two, so nothing below the command line calls
back into it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from userl.config.loader import load_config, load_config_file
from userl.config.schema import Config
from userl.core.errors import ConfigError

SEEDS_PER_RUN_SEED = 100_000  # episode i of a collection with run.seed=s has seed s * this + i

LABEL_REWARDS: dict[str, str] = {"auto": "success", "keyboard": "keyboard"}
"""`collect label=L`: the reward source whose per-step success labels the frames."""


def labelled_collection(arguments: Sequence[str], label: str) -> list[str]:
    """`label=auto` (the simulator's success) or `label=keyboard` (the operator's marks):
    that reward source, and episodes that go on after a success (more success frames to
    learn from) unless `task.terminate_on_success=` is given."""
    if label not in LABEL_REWARDS:
        raise ConfigError(
            f"label={label} is not a labeller; choose one of: {', '.join(LABEL_REWARDS)}"
        )
    extra = [f"reward={LABEL_REWARDS[label]}"]
    if not any(a.startswith("task.terminate_on_success=") for a in arguments):
        extra.append("task.terminate_on_success=false")
    return [*arguments, *extra]


def collection_config(
    arguments: Sequence[str],
    teleop: str = "expert",
    run: Path | None = None,
    label: str | None = None,
) -> Config:
    """The config a collection runs with: a trained run's own (`run`, nobody intervening),
    or the command line's with `teleop` demonstrating (expert: the scripted demonstrator);
    with `label`, its labelling reward source (`labelled_collection`)."""
    if label is not None:
        arguments = labelled_collection(arguments, label)
    if run is not None:
        return load_config_file(run / "config.yaml", [*arguments, "teleop=none"])
    return load_config([*arguments, f"teleop={teleop}"])


def cell_index(config: Config, name: str | None) -> int:
    """The index of the cell `name` of a multi-cell run (None: the first)."""
    names = [cell.name for cell in config.cells]
    if name is None:
        return 0
    if not names:
        raise ConfigError(f"cell={name}: the run has no cells; leave cell= out")
    if name not in names:
        raise ConfigError(
            f"cell={name}: the run has no such cell; its cells are {', '.join(names)}"
        )
    return names.index(name)


def collection_env(
    config: Config, cell: int, policy_of_run: bool, render_mode: str | None
) -> tuple[Any, Config]:
    """The environment to record in, and the config that describes it: a multi-cell run's
    policy acts on its cell's laid-out state; otherwise a cell records in its own
    environment (a cells run lays its demos out when it loads them)."""
    from userl.envs.factory import make_env

    if policy_of_run and config.cells:
        from userl.envs.cells import make_cell_env

        return make_cell_env(config, cell, seed=config.run.seed, render_mode=render_mode), config
    if config.cells:
        from userl.config.cells import cell_config

        config = cell_config(config, config.cells[cell])
    return make_env(config, seed=config.run.seed, render_mode=render_mode), config


def action_source(config: Config, env: Any, run: Path | None, source: str | None) -> Any:
    """Who acts: the run's policy, a registered action source, or the demonstrator."""
    from userl.rollout.action_sources import ACTION_SOURCES, demonstrator

    if run is not None:
        return ACTION_SOURCES.get("policy")(config, env, run)
    if source:
        return ACTION_SOURCES.get(source)(config, env, None)
    return demonstrator(env, config)


def collect(
    config: Config,
    out: Path,
    episodes: int,
    *,
    run: Path | None = None,
    source: str | None = None,
    cell: str | None = None,
    video: bool = False,
    label: str | None = None,
) -> dict[str, object]:
    """Record `episodes` episodes into a new episode store at `out` and report them: the
    successes, with `label` the labelled frames, with `video` the GIFs written."""
    from userl.data.store import EpisodeStore
    from userl.rollout.episode import run_episode
    from userl.telemetry.progress import CountProgress
    from userl.telemetry.video import write_gif
    from userl.tools.doctor import preflight

    preflight(config)
    store = EpisodeStore(out).create()
    seed_base = config.run.seed * SEEDS_PER_RUN_SEED
    render_mode = "rgb_array" if video else None
    env, config = collection_env(config, cell_index(config, cell), run is not None, render_mode)
    successes, positive_frames, frames, videos, rejected = 0, 0, 0, [], 0
    progress = CountProgress("collect", episodes, "episodes", config.run.log_every_s)
    try:
        actor = action_source(config, env, run, source)
        for index in range(episodes):
            episode = run_episode(
                env, actor, "robot_0", seed=seed_base + index, record_frames=video
            )
            if columns := episode.nonfinite_fields():  # never stored: it would poison training
                progress.note(f"warning: episode {index} not written: NaN or infinite {columns}")
                rejected += 1
            else:
                store.write(episode)
                successes += int(episode.success)
                if episode.step_success is not None:
                    positive_frames += int(episode.step_success.sum())
                frames += len(episode)
                if episode.frames:
                    path = out / "videos" / f"episode_{index:04d}.gif"
                    videos.append(str(write_gif(path, episode.frames, env.task.control_hz)))
            progress.advance(info=f"successes={successes} rejected={rejected}")
    finally:
        progress.close()
        env.close()
    report: dict[str, object] = {
        "out": str(out),
        "episodes": episodes - rejected,
        "successes": successes,
        "nonfinite_episodes": rejected,
    }
    if label is not None:
        report.update({"label": label, "frames": frames, "success_frames": positive_frames})
    if videos:
        report["videos"] = videos
    return report
