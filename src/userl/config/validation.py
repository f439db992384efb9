"""Range and choice checks that types alone cannot express; each names the key."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import Field, fields, is_dataclass
from pathlib import Path
from typing import Any

from userl.config.compatibility import layered_policies, pair_problem
from userl.config.ranges import PAIRS, declared_range
from userl.config.schema import Config
from userl.hardware.robot_config import RENDER_VIEW


def _leaves(node: Any, prefix: str = "") -> Iterator[tuple[str, Field[Any], Any]]:
    """Every non-dataclass field under `node`: its dotted key, its field and its value; a
    cell of `cells` is walked as `cells.<name>.`, as its override keys spell it."""
    for item in fields(node):
        value = getattr(node, item.name)
        key = f"{prefix}{item.name}"
        if is_dataclass(value):
            yield from _leaves(value, key + ".")
        elif isinstance(value, list) and value and all(is_dataclass(v) for v in value):
            for index, child in enumerate(value):
                yield from _leaves(child, f"{key}.{getattr(child, 'name', '') or index}.")
        else:
            yield key, item, value


def range_problem(config: Any) -> str | None:
    """The first numeric value outside its declared range (`config/ranges.py`), or a
    low/high pair out of order, as one line naming the key; None when all are in range."""
    values: dict[str, Any] = {}
    for key, item, value in _leaves(config):
        values[key] = value
        declared = declared_range(item)
        if declared is None:
            continue
        entries = value.items() if isinstance(value, dict) else [("", value)]
        for sub, entry in entries:
            problem = declared.problem(entry)
            if problem:
                where = f"{key}.{sub}" if sub else key
                return f"bad value for {where!r}: {entry} {problem}"
    for key, value in values.items():
        for low_name, high_name in PAIRS:
            if not key.endswith("." + low_name):
                continue
            high_key = key[: -len(low_name)] + high_name
            high = values.get(high_key)
            if high is None or value is None:
                continue
            lows, highs = (value, high) if isinstance(value, list) else ([value], [high])
            if len(lows) == len(highs) and not all(a < b for a, b in zip(lows, highs, strict=True)):
                return f"bad value for {key!r}: {value} must be below {high_key}={high}"
    return None


def _plain_name(name: str) -> bool:
    """A single path component that stays inside its parent folder."""
    return name not in {".", ".."} and not any(c in name for c in "/\\\0")


def validate(config: Config, presets: Mapping[str, str] | None = None) -> str | None:
    """Return a one-line problem description, or None when the config is sound. `presets`:
    each group's preset as the command line chose it (`policy=cnn_small`), for the message."""
    problem = range_problem(config)
    if problem:
        return problem
    run = config.run
    if run.name and not _plain_name(run.name):
        return (
            f"bad value for 'run.name': {run.name!r} must be a plain folder name (no '/', "
            "'\\', '..' or absolute path): a run is written inside run.root"
        )
    if not (run.env_steps or run.grad_steps or run.episodes or run.wall_s):
        return (
            "the run has no budget: set run.env_steps=, run.grad_steps=, run.episodes= or "
            "run.wall_s= above 0"
        )
    if config.demos.path and not Path(config.demos.path).is_dir():
        return (
            f"bad value for 'demos.path': {config.demos.path} is not a folder; give an "
            "episode store written by `userl collect`, or set demos.episodes=N instead"
        )
    problem = pair_problem(config.algo.name, config.policy.name, presets)
    if problem:
        return problem
    if needs_views(config) and config.obs != "image":
        policy = (presets or {}).get("policy", config.policy.name)
        return f"policy={policy} needs camera views (obs={config.obs}); add obs=image"
    problem = path_problem(config)
    if problem:
        return problem
    algo = config.algo
    if algo.utd_min > algo.utd_max:
        return (
            f"bad value for 'algo.utd_min': {algo.utd_min} is above algo.utd_max={algo.utd_max}; "
            f"set algo.utd_min={algo.utd_max:g} or lower (0: the robot never waits for the learner)"
        )
    for component in config.components():
        problem = component.problem()
        if problem:
            return problem
    problem = config.algo.pairing_problem(config.policy, config)
    if problem:
        return problem
    return chunking_problem(config) or reward_problem(config) or sharding_problem(config, presets)


def sharding_problem(config: Config, presets: Mapping[str, str] | None = None) -> str | None:
    """`learner.sharding=fsdp` shards a policy's transformer layers over the learner's ranks:
    it needs two ranks or more and a policy that has such layers."""
    learner = config.learner
    if learner.sharding == "replicate":
        return None
    if learner.devices < 2:
        return (
            f"learner.sharding={learner.sharding} shards the policy over the learner's ranks, "
            f"and learner.devices={learner.devices}; set learner.devices=2 or more, or "
            "learner.sharding=replicate"
        )
    if not config.policy.SHARDS_LAYERS:
        policy = (presets or {}).get("policy", config.policy.name).partition(":")[0]
        return (
            f"learner.sharding={learner.sharding} shards a policy's transformer layers and "
            f"policy={policy} has none; it takes policy={'|'.join(layered_policies())}, "
            "or set learner.sharding=replicate"
        )
    return None


def chunking_problem(config: Config) -> str | None:
    """Real-time chunking guides a flow that generates chunks of several steps."""
    chunk = int(getattr(config.policy, "chunk_size", 1))
    if config.pipeline.chunking == "rtc" and chunk < 2:
        return (
            f"pipeline.chunking=rtc needs a flow policy acting in chunks (policy=pi0_tiny, "
            f"pi0, or flow_g/flow_t with policy.chunk_size=2 or more; policy={config.policy.name} "
            f"acts in chunks of {chunk}); set pipeline.chunking=prefetch"
        )
    return None


def reward_problem(config: Config) -> str | None:
    """A reward source the task cannot use, or a keyboard both teleop and reward read."""
    if config.task.ENV_BUILDER != "robot" and config.reward.name != "success":
        return (
            f"reward={config.reward.name}: task={config.task.name} keeps its environment's "
            "own reward; remove reward= (or use a robot task)"
        )
    from userl.hardware.teleop.keyboard import KeyboardConfig
    from userl.rewards.keyboard import KeyboardRewardConfig

    reward, teleop = config.reward, config.teleop
    if (
        isinstance(reward, KeyboardRewardConfig)
        and isinstance(teleop, KeyboardConfig)
        and (reward.backend, reward.device_path) == (teleop.backend, teleop.device_path)
    ):
        return (
            "reward=keyboard and teleop=keyboard would read the same keyboard and split "
            "its keys; give reward.device_path= another keyboard (evdev), or use "
            "teleop=spacemouse"
        )
    return None


def needs_views(config: Config) -> bool:
    """Whether the policy cannot act without camera views: it says so (`NEEDS_VIEWS`), or
    it asks for its views at a size (an image encoder)."""
    return config.policy.NEEDS_VIEWS or config.policy.view_size_px() > 0


PATH_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("policy", "encoder_weights", "file"),
    ("policy", "weights", "folder"),
    ("policy", "tokenizer", "folder"),
)
"""(group, field, kind) of the config's local files and folders read once the run has
started (its policy is built in each worker): one missing is refused before anything runs."""


def path_problem(config: Config) -> str | None:
    """A file or folder in `PATH_FIELDS` that is set but not there, naming its key."""
    for group, name, kind in PATH_FIELDS:
        value = getattr(getattr(config, group), name, "")
        if not value:
            continue
        path = Path(value)
        if not (path.is_file() if kind == "file" else path.is_dir()):
            return f"{group}.{name}={value}: no such {kind}; give a local {kind} or leave it empty"
    return None


def preset_name_problem(
    group: str, preset: str, preset_name: str, value: object, key: str
) -> str | None:
    """`task.name=charger` over `task=peg_insertion`: the fields are the preset's, so a
    different name cannot apply; the group's preset picks the component."""
    if str(value) == preset_name:
        return None
    from userl.config.preset_files import preset_names

    names = preset_names(group)
    fix = (
        f"choose the preset instead: {group}={value}"
        if str(value) in names
        else f"choose a preset with {group}=NAME ({', '.join(names)})"
    )
    named = "" if preset == preset_name else f" (a {preset_name})"
    return f"{key}={value}: the {group}'s fields come from {group}={preset}{named}; {fix}"


def has_video_view(config: Config) -> bool:
    """Whether evaluation videos have something to show without a camera the config does
    not set up: a gymnasium task's own `render()`, a simulated camera, or the view videos
    show (`RENDER_VIEW`) among the policy's own camera views (a real device the run opens
    anyway)."""
    from userl.core.registry import CAMERAS, UnknownNameError

    if config.task.ENV_BUILDER != "robot":
        return True
    try:
        simulated = bool(getattr(CAMERAS.get(config.robot.camera_driver), "simulated", False))
    except UnknownNameError:
        return False
    return simulated or (config.obs == "image" and RENDER_VIEW in config.robot.camera_names)


def videos_by_default(config: Config, given: Sequence[str]) -> None:
    """Evaluation videos are off unless asked for (`eval.video_every_s` in `given`) where
    the robot has no view for them (`has_video_view`): a state-only real arm would need a
    camera the user never configured."""
    if "eval.video_every_s" not in given and not has_video_view(config):
        config.eval.video_every_s = 0.0
