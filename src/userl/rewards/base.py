"""The reward-source interface: what a source sees each step and what it says."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from userl.core.errors import RewardFailed  # noqa: F401 (raised by the env around a source)
from userl.core.registry import ComponentConfig
from userl.core.specs import ObservationSpec, RobotState
from userl.core.types import Observation


@dataclass
class RewardConfig(ComponentConfig):
    """Fields every reward source has (`reward=NAME` picks one; presets/reward/*.yaml)."""

    gripper_toggle_penalty: float = 0.0  # subtracted each step the gripper command flips


@dataclass
class RewardContext:
    """What a source may check when it is built, before the robot moves: the task's config
    and the observation the env will give (its camera views and their sizes)."""

    task: Any  # the TaskConfig
    observation_spec: ObservationSpec


@dataclass
class RewardInput:
    """One step: the observation after it, the robot's reading, the task's own facts
    (`task.evaluate`; empty where no ground truth is available) and the executed action
    (None right after a reset)."""

    observation: Observation
    state: RobotState
    facts: Mapping[str, Any] = field(default_factory=dict)
    action: np.ndarray | None = None


@dataclass
class RewardStep:
    """A source's verdict: the reward, whether the step counts as a success, whether the
    episode ends as a failure (an operator's mark), and a learned model's probability."""

    reward: float
    success: bool
    failure: bool = False
    probability: float | None = None


class RewardSource(ABC):
    """Registered in `REWARDS` with its config: `cls(config, context)`."""

    needs_ground_truth: bool = False  # reads `RewardInput.facts` (a simulator or a state task)

    def reset(self) -> None:  # noqa: B027 (most sources keep no state between episodes)
        """A new episode starts."""

    @abstractmethod
    def __call__(self, step: RewardInput) -> RewardStep: ...

    def close(self) -> None:  # noqa: B027 (most sources hold nothing to release)
        """Release a device or a model."""
