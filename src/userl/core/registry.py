"""Named registries: a new robot, task, policy or algorithm is one module plus one entry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
    """Raised when a name is not registered; the message lists the known names."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the plain sentence
        return str(self.args[0])


class Registry(Generic[T]):
    """A mapping from a name to a factory (a class or a function), filled by decorators."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorate(entry: T) -> T:
            if name in self._entries and self._entries[name] is not entry:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = entry
            return entry

        return decorate

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "none"
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}; choose one of: {known}"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._entries)

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
