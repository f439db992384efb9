"""Per-transition fields of a policy that acts in H-step chunks: the chunk label that
behaviour cloning learns from, and the decision that chunk-level temporal difference backs
up (`algorithms/chunk_td.py`).

A decision from step t executes k <= H actions: it runs while the steps stay in the episode,
stay chosen (with `only`, the steps added), and stay on the same side of an intervention (a
person taking over cuts the policy's chunk; letting go ends the person's run). Its
transition is s_t -> s_{t+k}, with the k rewards in order and the episode's end (terminal)
only when it happens at step t+k-1.
"""

from __future__ import annotations

import numpy as np

from userl.core.types import Episode

CHUNK_FIELDS = ("action_chunks", "action_chunk_mask", "chunk_steps", "chunk_rewards")
"""The chunk arrays a buffer keeps per transition when `label_chunk_steps` > 1."""


def chunk_labels(
    actions: np.ndarray, chosen: np.ndarray, steps: int, only: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """For each chosen step i of an episode's actions (T, A): actions[i:i+steps] and a 0/1
    mask, 0 (and the action zeroed) from the first step past the end or, with `only`, the
    first step `only` leaves out: a label is one uninterrupted run of chosen actions."""
    length = len(actions)
    index = chosen[:, None] + np.arange(steps)[None, :]
    inside = index < length
    clipped = np.minimum(index, length - 1)
    labelled = inside & (np.asarray(only, bool)[clipped] if only is not None else True)
    mask = np.cumprod(labelled, axis=1).astype(bool)  # up to the first unlabelled step
    chunks = np.where(mask[..., None], actions[clipped], 0.0).astype(np.float32)
    return chunks, mask.astype(np.float32)


def decision_steps(
    intervened: np.ndarray, chosen: np.ndarray, steps: int, only: np.ndarray | None
) -> np.ndarray:
    """k (int64, 1..steps) for each chosen step: how many steps its decision executes."""
    length = len(intervened)
    index = chosen[:, None] + np.arange(steps)[None, :]
    clipped = np.minimum(index, length - 1)
    flags = np.asarray(intervened, bool)
    kept = (index < length) & (flags[clipped] == flags[chosen][:, None])
    if only is not None:
        kept &= np.asarray(only, bool)[clipped]
    return np.cumprod(kept, axis=1).sum(axis=1).astype(np.int64)


def chunk_transitions(
    episode: Episode, chosen: np.ndarray, steps: int, only: np.ndarray | None
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The chunk arrays (`CHUNK_FIELDS`) of the chosen steps, and each one's last step
    t + k - 1 (whose terminal flag is the decision's; its next observation is the
    decision's)."""
    chunks, mask = chunk_labels(episode.actions, chosen, steps, only)
    k = decision_steps(episode.intervened, chosen, steps, only)
    index = np.minimum(chosen[:, None] + np.arange(steps)[None, :], len(episode) - 1)
    counted = np.arange(steps)[None, :] < k[:, None]
    rewards = np.where(counted, episode.rewards[index], 0.0).astype(np.float32)
    fields = {
        "action_chunks": chunks,
        "action_chunk_mask": mask,
        "chunk_steps": k.astype(np.float32),
        "chunk_rewards": rewards,
    }
    return fields, chosen + k - 1


def one_step_decisions(state: dict[str, np.ndarray], steps: int) -> None:
    """Fill in, for a buffer saved before decisions were kept, the decisions its rows hold:
    one step each (their next observations are one step on), their reward first."""
    if "chunk_steps" in state or "action_chunks" not in state:
        return
    rewards = np.zeros((len(state["rewards"]), steps), np.float32)
    rewards[:, 0] = state["rewards"]
    state["chunk_steps"] = np.ones(len(state["rewards"]), np.float32)
    state["chunk_rewards"] = rewards
