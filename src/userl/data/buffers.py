"""A numpy ring buffer of transitions, filled an episode at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from userl.core.specs import ObservationSpec
from userl.core.types import Episode

STATE_KEY = "state"


class ReplayBuffer:
    """Fixed-capacity ring buffer; the oldest transitions are overwritten first.

    Observation t and t+1 are both stored per transition (state float32, views uint8
    HxWx3). Sampled batches are dicts with keys: observations (dict), actions, rewards,
    next_observations (dict), terminated, intervened.
    """

    def __init__(self, capacity: int, obs_spec: ObservationSpec, action_dim: int) -> None:
        if capacity <= 0:
            raise ValueError(f"replay capacity must be > 0, got {capacity}")
        self.capacity = capacity
        self.obs_spec = obs_spec
        self.action_dim = action_dim
        shapes: dict[str, tuple[tuple[int, ...], type]] = {
            STATE_KEY: ((obs_spec.state_dim,), np.float32)}
        for view in obs_spec.images:
            shapes[view.name] = ((view.height_px, view.width_px, 3), np.uint8)
        self.observations = {k: np.zeros((capacity, *s), d) for k, (s, d) in shapes.items()}
        self.next_observations = {k: np.zeros((capacity, *s), d) for k, (s, d) in shapes.items()}
        self.actions = np.zeros((capacity, action_dim), np.float32)
        self.rewards = np.zeros(capacity, np.float32)
        self.terminated = np.zeros(capacity, bool)
        self.intervened = np.zeros(capacity, bool)
        self.position = 0  # the next slot to write
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add_episode(self, episode: Episode, only: np.ndarray | None = None) -> None:
        """Append the transitions of `episode` (T transitions from T+1 observation rows);
        with a boolean mask `only` (T,), just those steps (e.g. the human-controlled ones)."""
        steps = len(episode)
        if steps == 0:
            return
        for key in self.observations:
            if key not in episode.observations:
                raise ValueError(f"episode {episode.episode_id} lacks observation {key!r}")
        if episode.actions.shape[1:] != (self.action_dim,):
            raise ValueError(f"episode actions have shape {episode.actions.shape}, "
                             f"expected (T, {self.action_dim})")
        chosen = np.arange(steps) if only is None else np.flatnonzero(only)
        chosen = chosen[max(0, len(chosen) - self.capacity):]  # over-long: keep the end
        count = len(chosen)
        if count == 0:
            return
        slots = (self.position + np.arange(count)) % self.capacity
        for key, rows in episode.observations.items():
            if key in self.observations:
                self.observations[key][slots] = rows[chosen]
                self.next_observations[key][slots] = rows[chosen + 1]
        self.actions[slots] = episode.actions[chosen]
        self.rewards[slots] = episode.rewards[chosen]
        self.terminated[slots] = episode.terminated[chosen]
        self.intervened[slots] = episode.intervened[chosen]
        self.position = int((self.position + count) % self.capacity)
        self.size = min(self.size + count, self.capacity)

    def sample_indices(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """`n` slots drawn uniformly with replacement from the filled part."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        return rng.integers(0, self.size, size=n)

    def gather(self, indices: np.ndarray) -> dict:
        """The transitions at `indices`, as a batch dict of numpy arrays."""
        return {
            "observations": {k: v[indices] for k, v in self.observations.items()},
            "actions": self.actions[indices],
            "rewards": self.rewards[indices],
            "next_observations": {k: v[indices] for k, v in self.next_observations.items()},
            "terminated": self.terminated[indices],
            "intervened": self.intervened[indices],
        }

    def sample(self, n: int, rng: np.random.Generator) -> dict:
        return self.gather(self.sample_indices(n, rng))

    # ------------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, np.ndarray]:
        """Flat arrays of the filled part (oldest first), ready for `np.savez`."""
        order = (np.arange(self.size) + (self.position if self.size == self.capacity else 0)) \
            % self.capacity
        batch = self.gather(order)
        state = {f"observations.{k}": v for k, v in batch.pop("observations").items()}
        state |= {f"next_observations.{k}": v for k, v in batch.pop("next_observations").items()}
        state |= batch
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Replace the contents with `state`; keeps the newest rows if it exceeds capacity."""
        size = int(state["actions"].shape[0])
        keep = slice(max(0, size - self.capacity), size)
        count = keep.stop - keep.start
        for key in self.observations:
            self.observations[key][:count] = state[f"observations.{key}"][keep]
            self.next_observations[key][:count] = state[f"next_observations.{key}"][keep]
        for name in ("actions", "rewards", "terminated", "intervened"):
            getattr(self, name)[:count] = state[name][keep]
        self.size = count
        self.position = count % self.capacity

    def save(self, path: str | Path) -> None:
        """Write the buffer to an .npz file (uncompressed, so large buffers save fast)."""
        np.savez(path, **self.state_dict())

    def load(self, path: str | Path) -> None:
        with np.load(path) as data:
            self.load_state_dict({key: data[key] for key in data.files})
