"""Range and choice checks that types alone cannot express; each names the key."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from userl.config.schema import Config

# Suffix rules: a field whose name ends like this must satisfy the check.
_SUFFIX_RULES: list[tuple[str, Callable[[Any], bool], str]] = [
    ("_hz", lambda v: v > 0, "must be > 0"),
    ("_dt_s", lambda v: v > 0, "must be > 0"),
    ("_px", lambda v: v >= 8, "must be >= 8 pixels"),
    ("_fraction", lambda v: 0.0 <= v <= 1.0, "must be within [0, 1]"),
    ("_probability", lambda v: 0.0 <= v <= 1.0, "must be within [0, 1]"),
    ("_capacity", lambda v: v > 0, "must be > 0"),
    ("_steps", lambda v: v >= 0, "must be >= 0"),
    ("_episodes", lambda v: v >= 0, "must be >= 0"),
    ("_s", lambda v: v >= 0, "must be >= 0 seconds"),
    ("_m", lambda v: v >= 0, "must be >= 0 metres"),
    ("_lr", lambda v: v > 0, "must be > 0"),
]
_NAMED_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "batch_size": (lambda v: v > 0, "must be > 0"),
    "utd_max": (lambda v: v > 0, "must be > 0"),
    "utd_min": (lambda v: v >= 0, "must be >= 0"),
    "gamma": (lambda v: 0.0 < v <= 1.0, "must be within (0, 1]"),
    "tau": (lambda v: 0.0 < v <= 1.0, "must be within (0, 1]"),
    "num_critics": (lambda v: v >= 1, "must be >= 1"),
    "critic_actor_ratio": (lambda v: v >= 1, "must be >= 1"),
    "episodes": (lambda v: v >= 0, "must be >= 0"),
    "num_robots": (lambda v: v >= 1, "must be >= 1"),
    "torch_threads": (lambda v: v >= 1, "must be >= 1"),
}


def _leaves(node: Any, prefix: str = "") -> Iterator[tuple[str, str, Any]]:
    for item in fields(node):
        value = getattr(node, item.name)
        key = f"{prefix}{item.name}"
        if is_dataclass(value):
            yield from _leaves(value, key + ".")
        else:
            yield key, item.name, value


def _plain_name(name: str) -> bool:
    """A single path component that stays inside its parent folder."""
    return name not in {".", ".."} and not any(c in name for c in "/\\\0")


def validate(config: Config) -> str | None:
    """Return a one-line problem description, or None when the config is sound."""
    for key, name, value in _leaves(config):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        if not math.isfinite(value):
            return f"bad value for {key!r}: {value} must be a finite number"
        rule = _NAMED_RULES.get(name)
        if rule is None:
            rule = next(((c, m) for s, c, m in _SUFFIX_RULES if name.endswith(s)), None)
        if rule is not None and not rule[0](value):
            return f"bad value for {key!r}: {value} {rule[1]}"
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
