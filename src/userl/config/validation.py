"""Range and choice checks that types alone cannot express; each names the key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import Field, fields, is_dataclass
from pathlib import Path
from typing import Any

from userl.config.ranges import PAIRS, declared_range
from userl.config.schema import Config


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


def validate(config: Config) -> str | None:
    """Return a one-line problem description, or None when the config is sound."""
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
    if config.policy.NEEDS_VIEWS and config.obs != "image":
        return f"policy={config.policy.name} needs camera views; set obs=image (obs={config.obs})"
    algo = config.algo
    if algo.utd_min > algo.utd_max:
        return f"bad value for 'algo.utd_min': {algo.utd_min} is above algo.utd_max={algo.utd_max}"
    for component in config.components():
        problem = component.problem()
        if problem:
            return problem
    return reward_problem(config)


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
