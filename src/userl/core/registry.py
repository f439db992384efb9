"""Named registries: a new robot, task, policy or algorithm is one module plus one entry.

A component registers once, under its name, together with its config class:

    @TASKS.register("peg_insertion", config=PegInsertionConfig)
    class PegInsertion(Task): ...

The config class then knows its name (`PegInsertionConfig().name == "peg_insertion"`), and the
config loader finds the class a preset needs from the group's registry (`GROUPS`).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
    """Raised when a name is not registered; the message lists the known names."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the plain sentence
        return str(self.args[0])


@dataclass
class ComponentConfig:
    """Base of every registered component's config: `name` is the name it was registered
    under, filled in from the registration (a preset or a saved config may also set it)."""

    name: str = ""  # the registered component this config builds
    registered_name: ClassVar[str] = ""
    PRESET_ARGUMENT: ClassVar[str] = ""  # `group=preset:argument` sets this field (e.g.
    # `task=gym:Reacher-v5` sets task.id)

    def __post_init__(self) -> None:
        if not self.name:
            self.name = self.registered_name

    def problem(self) -> str | None:
        """One line on a combination of values that types and ranges cannot check, or None."""
        return None


def close_matches(word: str, candidates: list[str]) -> str:
    """'; did you mean a, b?' for the closest candidates, or ''."""
    matches = difflib.get_close_matches(word, candidates, n=3, cutoff=0.6)
    return f"; did you mean {', '.join(matches)}?" if matches else ""


class Registry(Generic[T]):
    """A mapping from a name to a factory (a class or a function), and its config class."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._configs: dict[str, type[ComponentConfig]] = {}

    def register(self, name: str, config: type[ComponentConfig] | None = None) -> Callable[[T], T]:
        """Decorator: register `entry` under `name`, with the config class that builds it."""

        def decorate(entry: T) -> T:
            if name in self._entries and self._entries[name] is not entry:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = entry
            if config is not None:
                self.register_config(name, config)
            return entry

        return decorate

    def register_config(self, name: str, config: type[ComponentConfig]) -> None:
        """Register the config class of `name` on its own, for a component whose code a
        config must load without (a pipeline's Ray code registers its entry later)."""
        if config.__dict__.get("registered_name", name) != name:
            raise ValueError(
                f"{config.__name__} is registered as {config.registered_name!r} already"
            )
        if self._configs.get(name, config) is not config:
            raise ValueError(f"{self.kind} {name!r} has two config classes")
        config.registered_name = name
        self._configs[name] = config

    def _unknown(self, name: str) -> UnknownNameError:
        known = ", ".join(self.names()) or "none"
        return UnknownNameError(f"unknown {self.kind} {name!r}; choose one of: {known}")

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            raise self._unknown(name) from None

    def config(self, name: str) -> type[ComponentConfig]:
        """The config class registered with `name`."""
        if name not in self._configs:
            raise self._unknown(name)
        return self._configs[name]

    def build(self, config: ComponentConfig, *args: Any, **kwargs: Any) -> Any:
        """The component `config.name` names, called with `config` first."""
        return self.get(config.name)(config, *args, **kwargs)  # type: ignore[operator]

    def names(self) -> list[str]:
        """Every registered name, also one whose config alone is registered so far."""
        return sorted(set(self._entries) | set(self._configs))

    def __contains__(self, name: object) -> bool:
        return name in self._entries


ROBOTS: Registry = Registry("robot")
CAMERAS: Registry = Registry("camera")
TASKS: Registry = Registry("task")
POLICIES: Registry = Registry("policy")
ALGORITHMS: Registry = Registry("algorithm")
REWARDS: Registry = Registry("reward source")
TELEOPS: Registry = Registry("teleop")
PIPELINES: Registry = Registry("pipeline")
ENV_BUILDERS: Registry = Registry("environment builder")  # a task config's ENV_BUILDER

# Config groups: `task=peg_insertion` on the command line picks `presets/task/peg_insertion.yaml`,
# whose `name` picks the config class registered in the group's registry.
GROUPS: dict[str, Registry] = {
    "task": TASKS,
    "robot": ROBOTS,
    "algo": ALGORITHMS,
    "policy": POLICIES,
    "pipeline": PIPELINES,
    "teleop": TELEOPS,
    "reward": REWARDS,
}

# The modules whose import registers every component (its config at least). Importing them
# loads no Ray, so a config loads without it. Plug-ins add theirs here.
COMPONENT_MODULES: tuple[str, ...] = (
    "userl.tasks",
    "userl.hardware.sim.franka",
    "userl.hardware.sim.arx_r5",
    "userl.hardware.sim.camera",
    "userl.hardware.robots",
    "userl.hardware.cameras",
    "userl.hardware.teleop",
    "userl.policies",
    "userl.algorithms",
    "userl.rewards",
    "userl.envs",
    "userl.envs.gym_env",
    "userl.rollout",
    "userl.config.pipelines",  # the pipeline modes' configs; their Ray code registers later
)


def load_components() -> None:
    """Import every component module once, so each registry is complete."""
    for module in COMPONENT_MODULES:
        importlib.import_module(module)
