"""A new run's inputs checked before anything is written: demo stores that are finite and
have the dimensions the task and policy expect, and encoder weights the policy can load.

Found later, each would end the run after its folder exists (a half-made run that blocks the
name), or inside a Ray actor (its description, not the file); here it is one `ConfigError`
naming the file, the field and the fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from userl.config.cells import cell_config
from userl.config.schema import Config
from userl.core.errors import ConfigError
from userl.core.registry import TASKS
from userl.core.specs import ACTION_DIM, ObservationSpec
from userl.core.types import Episode
from userl.data.store import EpisodeStore

STATE_KEY = "state"


def demo_folders(config: Config) -> Iterator[tuple[str, str, Config]]:
    """(key, folder, the config its episodes are for) of every demos folder the run loads."""
    if config.demos.path:
        yield "demos.path", config.demos.path, config
    for cell in config.cells:
        if cell.demos_path:
            yield f"cell {cell.name!r} demos_path", cell.demos_path, cell_config(config, cell)


def expected_spec(config: Config) -> ObservationSpec | None:
    """The observation a robot task's env gives (known from the config alone); None for other
    environments, whose episodes are checked as the learner receives them."""
    if config.task.ENV_BUILDER != "robot":
        return None
    from userl.envs.factory import expected_observation_spec

    return expected_observation_spec(config, TASKS.build(config.task))


def expected_shapes(spec: ObservationSpec) -> dict[str, tuple[int, ...]]:
    """Each column's shape past its time axis: `obs.<key>` for observations, `actions`."""
    shapes: dict[str, tuple[int, ...]] = {f"obs.{STATE_KEY}": (spec.state_dim,)}
    for view in spec.images:
        shapes[f"obs.{view.name}"] = (view.height_px, view.width_px, 3)
    shapes["actions"] = (ACTION_DIM,)
    return shapes


def shape_problem(episode: Episode, shapes: dict[str, tuple[int, ...]]) -> str | None:
    """The first column of `episode` whose shape differs from `shapes` ('field: expected
    (...), found (...)'), or None."""
    for field, shape in shapes.items():
        key = field.removeprefix("obs.")
        column = episode.actions if field == "actions" else episode.observations.get(key)
        expected = f"expected (steps, {', '.join(map(str, shape))})"
        if column is None:
            return f"{field}: {expected}, found no such column"
        if tuple(np.shape(column)[1:]) != shape:
            return f"{field}: {expected}, found {np.shape(column)}"
    return None


def check_demo_files(config: Config) -> None:
    """Every demos folder that is an episode store holds finite episodes only
    (`LoadReport.refuse_nonfinite`) of the dimensions its task and policy expect: a
    `ConfigError` naming the store and the episode otherwise. A LeRobot dataset is checked
    against the same spec as it is read."""
    for key, path, cell in demo_folders(config):
        store = EpisodeStore(path)
        if not store.is_store():
            continue
        report = store.load()
        report.refuse_nonfinite(Path(path))
        spec = expected_spec(cell)
        if spec is None:
            continue
        shapes = expected_shapes(spec)
        for episode in report.episodes:
            problem = shape_problem(episode, shapes)
            if problem:
                raise ConfigError(
                    f"{key}={path}: episode {episode.episode_id} does not fit task="
                    f"{cell.task.name} obs={cell.obs} ({problem}); give demos recorded with "
                    "this task and robot (userl collect task=... out=DIR)"
                )


def check_encoder_weights(config: Config) -> None:
    """`policy.encoder_weights`, when set, loads into the preset's trunk (a one-line
    `EncoderWeightsError` naming the file otherwise), checked here so that a refused file is
    not first found inside the learner's actor, where it shows as Ray's `ActorDiedError`."""
    from userl.policies.cnn import CNNPolicyConfig

    cfg = config.policy
    if not isinstance(cfg, CNNPolicyConfig) or not cfg.encoder_weights:
        return
    from userl.policies.encoders import ResNet10, load_trunk_weights

    trunk = ResNet10(
        cfg.encoder_widths,
        cfg.encoder_strides,
        cfg.stem_kernel_size,
        cfg.stem_stride,
        cfg.stem_pool,
        cfg.group_norm_groups,
    )
    load_trunk_weights(trunk, cfg.encoder_weights)


def check_start(config: Config) -> None:
    """Every check a run's inputs get before Ray starts (a new run's: before its folder is
    created); a resumed run reloads its demos from its own store."""
    if not config.resume:
        check_demo_files(config)
    check_encoder_weights(config)
