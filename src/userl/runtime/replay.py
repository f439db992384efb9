"""The learner's training data in memory: per cell an online replay and a demo buffer, each
cell's RLPD symmetric sampler, the batch staged on the training device, and what each cell
has delivered.

The replay is keyed by cell (each its robot and task) so that a fast cell never evicts a
slow cell's data, and every batch gives each cell its weighted share (`cells[i].weight`).
"""

from __future__ import annotations

import numpy as np

from userl.algorithms.base import Algorithm
from userl.config.cells import cells_of
from userl.config.schema import Config
from userl.core.specs import ObservationSpec
from userl.core.types import Batch, Episode
from userl.data.cell_replay import CellBuffers
from userl.data.samplers import BatchBuffers, CellSampler, SymmetricSampler
from userl.runtime.cell_counters import Cells


class Replay:
    """`online` holds every online step, `demos` the demonstrations and the human-controlled
    steps; `sampler` mixes them by `algo.demo_fraction`, `demo_sampler` draws demos alone
    (pretraining); `cells` routes each episode to its cell and counts it.
    The algorithm's `label_chunk_steps` > 1: the buffers keep action-chunk labels; its
    `observe_episode` sees every episode stored, whole (e.g. RECAP's Monte-Carlo returns)."""

    def __init__(
        self,
        config: Config,
        observation_spec: ObservationSpec,
        action_dim: int,
        algorithm: Algorithm,
        device: str,
    ) -> None:
        algo, chunk = config.algo, algorithm.label_chunk_steps
        self.observe = getattr(algorithm, "observe_episode", None)
        cells = cells_of(config)
        self.cells = Cells([cell.name for cell in cells], several=bool(config.cells))
        self.online = CellBuffers(
            len(cells), algo.replay_capacity, observation_spec, action_dim, label_chunk_steps=chunk
        )
        self.demos = CellBuffers(
            len(cells), algo.demo_capacity, observation_spec, action_dim, label_chunk_steps=chunk
        )
        weights = [cell.weight for cell in cells]
        self.sampler = CellSampler(
            [
                SymmetricSampler(online, demos, algo.demo_fraction)
                for online, demos in zip(self.online.buffers, self.demos.buffers, strict=True)
            ],
            weights,
        )
        self.demo_sampler = CellSampler(
            [SymmetricSampler(demos, None, 0.0, only_demos=True) for demos in self.demos.buffers],
            weights,
        )
        self.batches = BatchBuffers(
            observation_spec, action_dim, algo.batch_size, device, label_chunk_steps=chunk
        )

    def add_online(self, episode: Episode) -> int:
        """An online episode (new, or reloaded) into its cell: replay gets every step, the
        demo buffer also the human-controlled ones (HIL-SERL's routing of interventions for
        RL); the cell's counters count it. Returns the cell."""
        cell = self.cells.count(episode)
        self.online.add_episode(episode, cell)
        if self.observe is not None:
            self.observe(episode)
        if episode.intervened_steps:
            self.demos.add_episode(episode, cell, only=episode.intervened)
        return cell

    def add_demo(self, episode: Episode) -> None:
        """A demonstration into the demo buffer of the cell of the robot that recorded it."""
        self.demos.add_episode(episode, self.cells.index_of(episode.robot_id))
        if self.observe is not None:
            self.observe(episode)

    def batch(self, rng: np.random.Generator, demos_only: bool = False) -> Batch:
        """The next training batch, in the staged tensors (valid until the next-but-one)."""
        return self.batches.fill(self.demo_sampler if demos_only else self.sampler, rng)

    def transitions(self) -> int:
        """Transitions in every buffer: none means there is nothing to train on yet."""
        return len(self.online) + len(self.demos)

    def sizes(self, cell: int | None = None) -> dict[str, int]:
        """Online and demo transitions held (of one cell, or of all)."""
        online, demos = (
            (self.online, self.demos) if cell is None else (self.online[cell], self.demos[cell])
        )
        return {"replay_transitions": len(online), "demo_transitions": len(demos)}
