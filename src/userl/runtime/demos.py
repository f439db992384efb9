"""Demonstrations into the learner before the run goes online, and pretraining on them.

Demos come from a folder (an episode store written by `userl collect`, or a LeRobot dataset)
or from the scripted expert on the env workers; with several cells each cell gets its own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import ray

from userl.config.schema import Config
from userl.core.errors import ConfigError
from userl.envs.cells import cell_bindings, lay_out_episode
from userl.runtime.cluster import Cluster
from userl.runtime.remote import call

PRETRAIN_CHUNK_UPDATES = 100  # pretraining asks the learner for this many at a time


def load_demos(config: Config, cluster: Cluster) -> int:
    """Demonstrations from `demos.path`, else `demos.episodes` scripted-expert episodes;
    with several cells, each cell's own (its `demos_path`, else `demos.episodes` by its own
    expert)."""
    if not config.cells:
        return load_cell_demos(config, cluster, config.demos.path, cluster.workers, None)
    cells = list(zip(config.cells, cluster.workers, strict=True))
    collecting = [
        worker.collect.remote(config.demos.episodes, "expert")  # all cells at once
        for cell, worker in cells
        if not cell.demos_path and config.demos.episodes
    ]
    added = sum(
        load_cell_demos(config, cluster, cell.demos_path, [worker], index)
        for index, (cell, worker) in enumerate(cells)
        if cell.demos_path
    )
    for episodes in ray.get(collecting):  # each worker's episodes carry its cell
        added += call(cluster.learner.add_demos, episodes, timeout_s=config.run.remote_timeout_s)
    return added


def load_cell_demos(
    config: Config, cluster: Cluster, demos_path: str, workers: list[Any], cell: int | None
) -> int:
    """One cell's demonstrations: from `demos_path`, or collected by its workers' expert."""
    timeout_s = config.run.remote_timeout_s
    if demos_path:
        return read_cell_demos(config, cluster, Path(demos_path), workers[0], cell)
    if config.demos.episodes <= 0:
        return 0
    shares = np.array_split(np.arange(config.demos.episodes), len(workers))
    calls = [
        w.collect.remote(len(s), "expert") for w, s in zip(workers, shares, strict=True) if len(s)
    ]
    episodes = [e for batch in ray.get(calls) for e in batch]
    return int(call(cluster.learner.add_demos, episodes, timeout_s=timeout_s))


def read_cell_demos(
    config: Config, cluster: Cluster, path: Path, worker: Any, cell: int | None
) -> int:
    """One cell's demonstrations from a folder, laid out as the cell's worker observes."""
    if not path.is_dir():
        raise ConfigError(
            f"demos path {path} is not a folder; give an episode store "
            "written by `userl collect` or a LeRobot dataset, or set "
            "demos.episodes=N instead"
        )
    from userl.data.interop import read_episodes  # a store or a LeRobot dataset

    timeout_s = config.run.remote_timeout_s
    spec = call(worker.observation_spec, timeout_s=timeout_s)
    action_dim = call(worker.action_dim, timeout_s=timeout_s)
    try:
        report = read_episodes(path, config.demos.lerobot, spec, action_dim)
    except ConfigError as error:  # e.g. a LeRobot feature of another size: name the dataset
        if str(path) in str(error):
            raise
        raise ConfigError(f"demos {path}: {error}") from None
    report.refuse_nonfinite(path)
    for name, reason in report.unreadable:
        print(f"warning: skipped unreadable demo file {name}: {reason}")
    bindings = cell_bindings(config)
    episodes = (
        report.episodes
        if bindings is None or cell is None
        else [lay_out_episode(episode, bindings[cell]) for episode in report.episodes]
    )
    return int(call(cluster.learner.add_demos, episodes, cell, timeout_s=timeout_s))


def pretrain(config: Config, cluster: Cluster) -> int:
    """`algo.pretrain_updates` on the demos before going online, in chunks (bounded waits)."""
    done = 0
    while chunk := call(
        cluster.learner.pretrain, PRETRAIN_CHUNK_UPDATES, timeout_s=config.run.remote_timeout_s
    ):
        done += chunk
    if done:
        print(f"pretrained on the demos: {done} updates", flush=True)
    return done


def collects_expert_demos(config: Config) -> bool:
    """Whether `load_demos` has a scripted expert act on a robot (no demos folder for a cell
    and `demos.episodes` above 0): its episodes are the run's first."""
    if config.demos.episodes <= 0:
        return False
    if not config.cells:
        return not config.demos.path
    return any(not cell.demos_path for cell in config.cells)


def demos_and_pretraining(
    config: Config, cluster: Cluster, started: Callable[[], None] = lambda: None
) -> int:
    """Load the demos unless the learner has them already (a resumed run reloads its own
    from the run's store), then pretrain; returns the demo transitions added now. `started`
    is called before the run's first episode or update: before an expert collects demos,
    else once the demos are read."""
    has_demos = call(cluster.learner.has_demos, timeout_s=config.run.remote_timeout_s)
    if has_demos or collects_expert_demos(config):
        started()
    added = 0 if has_demos else load_demos(config, cluster)
    print(f"demo transitions added: {added}", flush=True)
    started()
    pretrain(config, cluster)
    return added
