"""Who chooses the action at each step: the learning policy, or the task's scripted expert."""

from __future__ import annotations

from collections import deque
from typing import Any, Protocol

import numpy as np
import torch

from userl.core.registry import Registry
from userl.core.types import Observation
from userl.policies.base import Policy
from userl.runtime.intervention import Decision

ACTION_SOURCES: Registry = Registry("action source")


class ActionSource(Protocol):
    source: str  # recorded in the episode: policy | expert | human

    def decide(self, observation: Observation) -> Decision:
        """The 7-D normalised action to execute, what the policy proposed, its version."""

    def reset(self) -> None: ...


@ACTION_SOURCES.register("expert")
class ExpertSource:
    """The task's scripted expert, acting through the same 7-D action as a person would."""

    source = "expert"

    def __init__(self, env: Any) -> None:
        self._env = env

    def decide(self, observation: Observation) -> Decision:
        action = np.asarray(self._env.expert_action(), dtype=np.float32)
        return Decision(action, action, -1)

    def reset(self) -> None:
        pass


@ACTION_SOURCES.register("policy")
class PolicySource:
    """A local copy of the policy that executes its action chunks step by step."""

    source = "policy"

    def __init__(self, policy: Policy, deterministic: bool = False) -> None:
        self.policy = policy.eval()
        self.deterministic = deterministic
        self.version = 0
        self._queue: deque[np.ndarray] = deque()

    def load_weights(self, version: int, state_dict: dict[str, torch.Tensor]) -> None:
        self.policy.load_state_dict(state_dict, strict=False)
        self.version = version
        self._queue.clear()

    def reset(self) -> None:
        self._queue.clear()

    @torch.inference_mode()
    def decide(self, observation: Observation) -> Decision:
        if not self._queue:
            batch = {k: torch.as_tensor(v).unsqueeze(0) for k, v in observation.items()}
            chunk = self.policy.act(batch, deterministic=self.deterministic)[0]
            self._queue.extend(chunk.cpu().numpy().astype(np.float32))
        action = self._queue.popleft()
        return Decision(action, action, self.version)


class HumanSource:
    """A person demonstrating through a device: every step's action is theirs."""

    source = "human"

    def __init__(self, operator: Any) -> None:
        self.operator = operator

    def reset(self) -> None:
        self.operator.reset()

    def decide(self, observation: Observation) -> Decision:
        action, _ = self.operator.read(observation)
        return Decision(action, action, -1)


def demonstrator(env: Any, config: Any) -> ActionSource:
    """Who records demonstrations: the scripted expert, or a person with `config.teleop`."""
    from userl.runtime.intervention import OPERATORS

    if config.teleop.name in ("none", "expert"):
        return ExpertSource(env)
    return HumanSource(OPERATORS.get(config.teleop.name)(env, config.teleop, config.run.seed))
