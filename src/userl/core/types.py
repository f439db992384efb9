"""Records that travel between layers: transitions, episodes and training batches."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Observation = dict[str, np.ndarray]
"""`state`: float32 (D,); each camera view by name: uint8 (H, W, 3)."""


@dataclass
class Transition:
    """One step as the learner sees it."""

    observation: Observation
    action: np.ndarray  # executed action, normalised to [-1, 1]
    reward: float
    next_observation: Observation
    terminated: bool
    truncated: bool
    intervened: bool
    policy_action: np.ndarray  # what the policy proposed (equals `action` unless intervened)
    policy_version: int
    robot_id: str


@dataclass
class Decision:
    """What an action source decides at one step: the executed action, and what the policy
    proposed."""

    action: np.ndarray
    policy_action: np.ndarray
    version: int
    intervened: bool = False
    chunk_id: int = -1  # the policy chunk the action came from (-1: none, e.g. a person's)
    chunk_delay: int = -1  # the steps that chunk arrived after it was asked for (-1: none)


def new_episode_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Episode:
    """A whole episode, stored column-wise: `observations[k]` has T+1 rows, the rest T rows."""

    robot_id: str
    task: str
    observations: dict[str, np.ndarray]
    actions: np.ndarray  # (T, 7) float32, executed
    policy_actions: np.ndarray  # (T, 7) float32, proposed by the policy
    rewards: np.ndarray  # (T,) float32
    terminated: np.ndarray  # (T,) bool
    truncated: np.ndarray  # (T,) bool
    intervened: np.ndarray  # (T,) bool
    policy_versions: np.ndarray  # (T,) int64; -1 for a scripted or human source
    success: bool
    episode_id: str = field(default_factory=new_episode_id)
    source: str = "policy"  # policy | expert | human
    info: dict[str, Any] = field(default_factory=dict)  # episode statistics (floats, strings)
    # (T,) bool: the reward source's success after each step, the per-frame labels of the
    # next observations (`userl collect label=...`, `userl train-reward`); None if not recorded
    step_success: np.ndarray | None = None
    # (T,) int64 each: the policy chunk each executed action came from, and the steps that
    # chunk arrived after it was asked for (the realised inference delay d); -1 where no
    # chunk chose the action; None in episodes recorded before they were kept
    chunk_ids: np.ndarray | None = None
    chunk_delays: np.ndarray | None = None
    # rendered frames (uint8 H x W x 3) when recorded for a video; never stored or trained on
    frames: list[np.ndarray] = field(default_factory=list, repr=False, compare=False)

    def __len__(self) -> int:
        return int(self.actions.shape[0])

    @property
    def episode_return(self) -> float:
        return float(np.sum(self.rewards))

    @property
    def intervened_steps(self) -> int:
        return int(np.sum(self.intervened))

    @property
    def takeovers(self) -> int:
        """How many times a human took the robot over (runs of intervened steps)."""
        flags = np.asarray(self.intervened, dtype=bool)
        before = np.concatenate(([False], flags[:-1]))
        return int(np.count_nonzero(flags & ~before))

    def nonfinite_fields(self) -> list[str]:
        """The float columns holding NaN or infinity (observations by key, actions, policy
        actions, rewards): such an episode would turn every weight trained on it NaN, so
        every place episodes enter refuses it. Empty for a healthy episode."""
        columns = {f"observations.{key}": value for key, value in self.observations.items()}
        columns.update(
            actions=self.actions, policy_actions=self.policy_actions, rewards=self.rewards
        )
        return [
            name
            for name, value in columns.items()
            if np.issubdtype(np.asarray(value).dtype, np.floating) and not np.isfinite(value).all()
        ]

    def observation_at(self, index: int) -> dict[str, np.ndarray]:
        return {key: value[index] for key, value in self.observations.items()}

    def transitions(self) -> Iterator[Transition]:
        for t in range(len(self)):
            yield Transition(
                observation=self.observation_at(t),
                action=self.actions[t],
                reward=float(self.rewards[t]),
                next_observation=self.observation_at(t + 1),
                terminated=bool(self.terminated[t]),
                truncated=bool(self.truncated[t]),
                intervened=bool(self.intervened[t]),
                policy_action=self.policy_actions[t],
                policy_version=int(self.policy_versions[t]),
                robot_id=self.robot_id,
            )


class EpisodeBuilder:
    """Accumulates steps of one episode and freezes them into an `Episode`."""

    def __init__(
        self, robot_id: str, task: str, first_observation: Observation, source: str = "policy"
    ) -> None:
        self.robot_id = robot_id
        self.task = task
        self.source = source
        self._observations: list[Observation] = [first_observation]
        self._actions: list[np.ndarray] = []
        self._policy_actions: list[np.ndarray] = []
        self._rewards: list[float] = []
        self._terminated: list[bool] = []
        self._truncated: list[bool] = []
        self._intervened: list[bool] = []
        self._versions: list[int] = []
        self._step_success: list[bool] = []
        self._chunk_ids: list[int] = []
        self._chunk_delays: list[int] = []
        self.success = False

    def __len__(self) -> int:
        return len(self._actions)

    def add(
        self,
        *,
        action: np.ndarray,
        policy_action: np.ndarray,
        reward: float,
        next_observation: Observation,
        terminated: bool,
        truncated: bool,
        intervened: bool,
        policy_version: int,
        success: bool,
        chunk_id: int = -1,
        chunk_delay: int = -1,
    ) -> None:
        self._actions.append(np.asarray(action, dtype=np.float32))
        self._policy_actions.append(np.asarray(policy_action, dtype=np.float32))
        self._rewards.append(float(reward))
        self._observations.append(next_observation)
        self._terminated.append(bool(terminated))
        self._truncated.append(bool(truncated))
        self._intervened.append(bool(intervened))
        self._versions.append(int(policy_version))
        self._step_success.append(bool(success))
        self._chunk_ids.append(int(chunk_id))
        self._chunk_delays.append(int(chunk_delay))
        self.success = self.success or bool(success)

    def build(self, info: dict[str, Any] | None = None) -> Episode:
        keys = self._observations[0].keys()
        return Episode(
            robot_id=self.robot_id,
            task=self.task,
            observations={k: np.stack([o[k] for o in self._observations]) for k in keys},
            actions=np.stack(self._actions).astype(np.float32),
            policy_actions=np.stack(self._policy_actions).astype(np.float32),
            rewards=np.asarray(self._rewards, dtype=np.float32),
            terminated=np.asarray(self._terminated, dtype=bool),
            truncated=np.asarray(self._truncated, dtype=bool),
            intervened=np.asarray(self._intervened, dtype=bool),
            policy_versions=np.asarray(self._versions, dtype=np.int64),
            success=self.success,
            source=self.source,
            info=dict(info or {}),
            step_success=np.asarray(self._step_success, dtype=bool),
            chunk_ids=np.asarray(self._chunk_ids, dtype=np.int64),
            chunk_delays=np.asarray(self._chunk_delays, dtype=np.int64),
        )


@dataclass
class Batch:
    """A training batch of torch tensors (first dimension = batch)."""

    observations: dict[str, Any]
    actions: Any
    rewards: Any
    next_observations: dict[str, Any]
    terminated: Any  # float 1.0 where the episode ended in a terminal state (no bootstrap)
    intervened: Any
    action_chunks: Any = None  # (B, H, A) chunk labels, for policies acting in chunks
    action_chunk_mask: Any = None  # (B, H) 1.0 where the chunk label is a real (human) action
    from_demos: Any = None  # (B,) 1.0 where the row was drawn from the demo buffer
    chunk_steps: Any = None  # (B,) k: the steps the row's decision executed (1..H), its next
    # observation is s_{t+k}; None: every row is one step (algorithms/chunk_td.py)
    chunk_rewards: Any = None  # (B, H) the rewards of the row's k steps in order, 0 past k
    row_ids: Any = None  # (B,) int64 identity of each row's stored transition: unique across
    # buffers, new each time a slot is written (ReplayBuffer.row_ids); None: not from a buffer
