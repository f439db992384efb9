"""A numpy ring buffer of transitions, filled an episode at a time.

Camera frames are stored once: a run of T consecutive transitions writes its T + 1 frames
into a frame ring, and transition i refers to its frame by id; its next observation is the
frame with the next id (a reference, not a copy). The small state vector is kept per
transition for both observations.

For a policy that acts in H-step chunks (`label_chunk_steps=H > 1`), each transition also
keeps its chunk label: the H executed actions from its step on (`action_chunks`), with a mask
(`action_chunk_mask`) that is 0 past the episode end and, for human-controlled steps added
with `only`, from the first step nobody labelled (HG-DAgger learns only human actions); and
its decision (`data/chunk_transitions.py`): the k <= H steps it executes (`chunk_steps`), their
rewards (`chunk_rewards`), and as its next observation and terminal flag those after step t+k-1.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from userl.core.specs import ObservationSpec
from userl.core.types import Episode
from userl.data.chunk_transitions import CHUNK_FIELDS, chunk_transitions, one_step_decisions

STATE_KEY = "state"

FRAME_SLACK_FRACTION = 0.01
"""Frames kept beyond one per transition, as a share of the capacity: each run of consecutive
transitions (an episode, or an intervention segment) needs one extra frame, its last next
observation. 1 % fits 100-step episodes exactly; with shorter runs the oldest transitions
leave a little before the ring is full."""

ROW_ID_STRIDE = 2**40
"""Row ids per buffer: buffer n's w-th transition written has id n * ROW_ID_STRIDE + w."""
_BUFFER_NUMBERS = itertools.count()


class ReplayBuffer:
    """Fixed-capacity ring buffer; the oldest transitions are overwritten first.

    `observations[STATE_KEY]` and `next_observations[STATE_KEY]` hold the float32 state per
    transition slot; camera views (uint8 HxWx3) live once each in `frames[view]`, a ring of
    `frame_capacity` frames addressed by `frame_ids` (next observation = id + 1). Sampled
    batches are dicts with keys: observations (dict), actions, rewards, next_observations
    (dict), terminated, intervened.
    """

    def __init__(
        self,
        capacity: int,
        obs_spec: ObservationSpec,
        action_dim: int,
        frame_slack_fraction: float = FRAME_SLACK_FRACTION,
        label_chunk_steps: int = 1,
    ) -> None:
        if capacity <= 0:
            raise ValueError(f"replay capacity must be > 0, got {capacity}")
        self.capacity = capacity
        self.obs_spec = obs_spec
        self.action_dim = action_dim
        state_shape = (capacity, obs_spec.state_dim)
        self.observations = {STATE_KEY: np.zeros(state_shape, np.float32)}
        self.next_observations = {STATE_KEY: np.zeros(state_shape, np.float32)}
        self.frame_capacity = capacity + 1 + int(capacity * frame_slack_fraction)
        self.frames = {
            view.name: np.zeros((self.frame_capacity, view.height_px, view.width_px, 3), np.uint8)
            for view in obs_spec.images
        }
        self.frame_ids = np.zeros(capacity, np.int64)  # global frame id of each observation
        self.frames_written = 0  # global ids handed out so far
        self.actions = np.zeros((capacity, action_dim), np.float32)
        self.rewards = np.zeros(capacity, np.float32)
        self.terminated = np.zeros(capacity, bool)
        self.intervened = np.zeros(capacity, bool)
        self.label_chunk_steps = label_chunk_steps
        steps = (label_chunk_steps,)
        shapes = {"action_chunks": (*steps, action_dim), "action_chunk_mask": steps}
        shapes |= {"chunk_steps": (), "chunk_rewards": steps}
        self.chunk_arrays: dict[str, np.ndarray] = {
            k: np.zeros((capacity, *shapes[k]), np.float32)
            for k in (CHUNK_FIELDS if label_chunk_steps > 1 else ())
        }
        self.position = 0  # the next slot to write
        self.size = 0
        self.written = 0  # transitions written since creation: the next row id's number
        self.first_row_id = next(_BUFFER_NUMBERS) * ROW_ID_STRIDE

    def __len__(self) -> int:
        return self.size

    @property
    def nbytes(self) -> int:
        """Bytes of every array the buffer holds (allocated, whether filled or not)."""
        arrays: list[np.ndarray] = [*self.observations.values(), *self.next_observations.values()]
        arrays += [*self.frames.values(), *self.chunk_arrays.values(), self.frame_ids]
        arrays += [self.actions, self.rewards, self.terminated, self.intervened]
        return int(sum(np.asarray(a).nbytes for a in arrays))

    @staticmethod
    def _frame_plan(chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For sorted step indices `chosen`: each transition's frame offset, and the episode
        row of every frame to write (each run of consecutive steps adds its final row)."""
        run = np.concatenate([[0], np.cumsum(np.diff(chosen) != 1)])
        offsets = np.arange(len(chosen)) + run
        rows = np.empty(len(chosen) + int(run[-1]) + 1, np.int64)
        rows[offsets] = chosen
        run_end = np.flatnonzero(np.append(np.diff(run) != 0, True))
        rows[offsets[run_end] + 1] = chosen[run_end] + 1
        return offsets, rows

    def add_episode(self, episode: Episode, only: np.ndarray | None = None) -> None:
        """Append the transitions of `episode` (T transitions from T+1 observation rows);
        with a boolean mask `only` (T,), just those steps (e.g. the human-controlled ones)."""
        steps = len(episode)
        if steps == 0:
            return
        for key in (STATE_KEY, *self.frames):
            if key not in episode.observations:
                raise ValueError(f"episode {episode.episode_id} lacks observation {key!r}")
        if episode.actions.shape[1:] != (self.action_dim,):
            raise ValueError(
                f"episode actions have shape {episode.actions.shape}, "
                f"expected (T, {self.action_dim})"
            )
        chosen = np.arange(steps) if only is None else np.flatnonzero(only)
        chosen = chosen[max(0, len(chosen) - self.capacity) :]  # over-long: keep the end
        if len(chosen) == 0:
            return
        if self.frames:
            offsets, rows = self._frame_plan(chosen)
            while len(rows) > self.frame_capacity:  # too many frames: keep the newest
                chosen = chosen[offsets >= len(rows) - self.frame_capacity]
                offsets, rows = self._frame_plan(chosen)
            frame_slots = (self.frames_written + np.arange(len(rows))) % self.frame_capacity
            for key, frames in self.frames.items():
                frames[frame_slots] = episode.observations[key][rows]
        count = len(chosen)
        slots = (self.position + np.arange(count)) % self.capacity
        last = chosen  # each transition's last step: its decision's, when chunked
        if self.chunk_arrays:
            fields, last = chunk_transitions(episode, chosen, self.label_chunk_steps, only)
            for name, values in fields.items():
                self.chunk_arrays[name][slots] = values
        if self.frames:
            self.frame_ids[slots] = self.frames_written + offsets
            self.frames_written += len(rows)
        states = episode.observations[STATE_KEY]
        self.observations[STATE_KEY][slots] = states[chosen]
        self.next_observations[STATE_KEY][slots] = states[last + 1]
        self.actions[slots] = episode.actions[chosen]
        self.rewards[slots] = episode.rewards[chosen]
        self.terminated[slots] = episode.terminated[last]
        self.intervened[slots] = episode.intervened[chosen]
        self.position = int((self.position + count) % self.capacity)
        self.size = min(self.size + count, self.capacity)
        self.written += count
        self._drop_overwritten_frames()

    def _drop_overwritten_frames(self) -> None:
        """Forget the oldest transitions whose frames the frame ring has overwritten."""
        if not self.frames or self.size == 0:
            return
        ids = self.frame_ids[self._live_slots()]
        self.size -= int(np.searchsorted(ids, self.frames_written - self.frame_capacity))

    def _live_slots(self) -> np.ndarray:
        """The filled slots, oldest first."""
        return (self.position - self.size + np.arange(self.size)) % self.capacity

    def row_ids(self, indices: np.ndarray) -> np.ndarray:
        """Each filled slot's row id: new for each transition written (an overwritten slot gets
        a new one), unique across buffers; what caches of values derived from a row key on."""
        back = (self.position - indices - 1) % self.capacity + 1  # 1: the newest slot
        return self.first_row_id + self.written - back

    def sample_indices(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """`n` slots drawn uniformly with replacement from the filled part."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        return (self.position - self.size + rng.integers(0, self.size, size=n)) % self.capacity

    def gather(self, indices: np.ndarray) -> dict:
        """The transitions at `indices`, as a batch dict of numpy arrays."""
        observations = {STATE_KEY: self.observations[STATE_KEY][indices]}
        next_observations = {STATE_KEY: self.next_observations[STATE_KEY][indices]}
        if self.frames:
            frame_slots = self.frame_ids[indices] % self.frame_capacity
            next_slots = (frame_slots + self._steps(indices)) % self.frame_capacity
            for key, frames in self.frames.items():
                observations[key] = frames[frame_slots]
                next_observations[key] = frames[next_slots]
        return {
            "observations": observations,
            "actions": self.actions[indices],
            "rewards": self.rewards[indices],
            "next_observations": next_observations,
            "terminated": self.terminated[indices],
            "intervened": self.intervened[indices],
            **{key: array[indices] for key, array in self.chunk_arrays.items()},
        }

    def _steps(self, indices: np.ndarray) -> np.ndarray | int:
        """How many frames on each transition's next observation is: its decision's k."""
        steps = self.chunk_arrays.get("chunk_steps")
        return 1 if steps is None else steps[indices].astype(np.int64)

    def sample(self, n: int, rng: np.random.Generator) -> dict:
        return self.gather(self.sample_indices(n, rng))

    def gather_into(self, indices: np.ndarray, out: dict, start: int = 0) -> None:
        """`gather(indices)` written in place into rows [start, start + len(indices)) of the
        preallocated arrays `out` (the batch dict's layout; flags as float32 0/1)."""
        rows = slice(start, start + len(indices))
        take = {"actions": self.actions, "rewards": self.rewards, **self.chunk_arrays}
        for key, source in take.items():
            np.take(source, indices, axis=0, out=out[key][rows], mode="clip")
        for key in ("terminated", "intervened"):
            out[key][rows] = getattr(self, key)[indices]
        if "row_ids" in out:
            out["row_ids"][rows] = self.row_ids(indices)
        for group, states in (
            ("observations", self.observations),
            ("next_observations", self.next_observations),
        ):
            np.take(
                states[STATE_KEY], indices, axis=0, out=out[group][STATE_KEY][rows], mode="clip"
            )
        if self.frames:
            frame_slots = self.frame_ids[indices] % self.frame_capacity
            next_slots = (frame_slots + self._steps(indices)) % self.frame_capacity
            for key, frames in self.frames.items():
                np.take(
                    frames, frame_slots, axis=0, out=out["observations"][key][rows], mode="clip"
                )
                np.take(
                    frames, next_slots, axis=0, out=out["next_observations"][key][rows], mode="clip"
                )

    # ------------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, np.ndarray]:
        """Flat arrays of the filled part (oldest first), ready for `np.savez`; each camera
        frame once (`frames.<view>`), with `frame_index` into them per transition."""
        order = self._live_slots()
        state = {
            f"observations.{STATE_KEY}": self.observations[STATE_KEY][order],
            f"next_observations.{STATE_KEY}": self.next_observations[STATE_KEY][order],
        }
        for name in ("actions", "rewards", "terminated", "intervened"):
            state[name] = getattr(self, name)[order]
        state |= {name: array[order] for name, array in self.chunk_arrays.items()}
        if self.frames:
            ids = self.frame_ids[order]
            first = int(ids[0]) if len(ids) else 0
            count = int(ids[-1]) + 2 - first if len(ids) else 0
            frame_slots = (first + np.arange(count)) % self.frame_capacity
            state |= {f"frames.{k}": v[frame_slots] for k, v in self.frames.items()}
            state["frame_index"] = ids - first
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Replace the contents with `state`; keeps the newest rows if it exceeds capacity."""
        size = int(state["actions"].shape[0])
        one_step_decisions(state, self.label_chunk_steps)
        keep = np.arange(max(0, size - self.capacity), size)
        if self.frames:
            index = state["frame_index"]
            frame_count = int(index[-1]) + 2 if size else 0
            keep = keep[index[keep] >= frame_count - self.frame_capacity]
            first = int(index[keep[0]]) if len(keep) else 0
            for key, frames in self.frames.items():
                kept = state[f"frames.{key}"][first:frame_count]
                frames[: len(kept)] = kept
            self.frame_ids[: len(keep)] = index[keep] - first
            self.frames_written = max(frame_count - first, 0)
        count = len(keep)
        self.observations[STATE_KEY][:count] = state[f"observations.{STATE_KEY}"][keep]
        self.next_observations[STATE_KEY][:count] = state[f"next_observations.{STATE_KEY}"][keep]
        for name in ("actions", "rewards", "terminated", "intervened"):
            getattr(self, name)[:count] = state[name][keep]
        for name, array in self.chunk_arrays.items():
            if name not in state:
                raise ValueError(
                    f"the saved buffer has no {name!r}: it was written without "
                    f"chunk labels (label_chunk_steps={self.label_chunk_steps})"
                )
            array[:count] = state[name][keep]
        self.size = count
        self.position = count % self.capacity
        self.written += count  # fresh ids: none of the rows held before

    def save(self, path: str | Path) -> None:
        """Write the buffer to an .npz file (uncompressed, so large buffers save fast)."""
        np.savez(path, **self.state_dict())  # type: ignore[arg-type]

    def load(self, path: str | Path) -> None:
        with np.load(path) as data:
            self.load_state_dict({key: data[key] for key in data.files})
