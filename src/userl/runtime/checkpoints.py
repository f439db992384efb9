"""The learner's checkpoint, `checkpoints/latest.pt` in the run's folder: everything a
resumed run needs that the episode stores do not hold.

The buffers are not in it: the episode stores are their source of truth, and a resumed
learner rebuilds them (online replay, demos, and interventions) from the files. A checkpoint
is taken between two gradient steps (its weights match its counters), written whole or not
at all (fsynced, then atomically renamed), and loaded with `weights_only` (a run folder from
someone else cannot run code through its pickle). The one it replaces is kept as
`previous.pt` until the new one is whole; a resume falls back to it, with a warning, when
`latest.pt` is damaged. A checkpoint the disk has no room for is skipped with a warning.
"""

from __future__ import annotations

import copy
import random
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from userl.algorithms.finite import refuse_nonfinite
from userl.data.checkpoint import load_latest, plain, write_checkpoint

if TYPE_CHECKING:
    from userl.runtime.learner import Learner

CHECKPOINT_NAME = "latest.pt"


def rng_states(rng: np.random.Generator) -> dict[str, Any]:
    """The random streams a run draws from: torch's, the learner's numpy generator's and
    Python's, so that a resumed run draws on as the uninterrupted one would have."""
    return {
        "torch": torch.get_rng_state(),
        "numpy": plain(rng.bit_generator.state),
        "python": random.getstate(),
    }


def set_rng_states(states: dict[str, Any], rng: np.random.Generator) -> None:
    """The random streams as `rng_states` recorded them."""
    torch.set_rng_state(states["torch"])
    rng.bit_generator.state = states["numpy"]
    random.setstate(states["python"])


class Checkpoints:
    """Saves a learner's state to the run's checkpoint and loads it back (one writer at a
    time: a periodic checkpoint and the final one may be asked for at once)."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / "checkpoints" / CHECKPOINT_NAME
        self._writing = threading.Lock()

    def save(self, learner: Learner) -> str:
        """Write `learner`'s state, taken between two of its updates, unless its weights are
        not finite or the disk is full (the previous checkpoint stays); returns the path."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._writing:
            with learner.update_lock, learner.data_lock:  # weights match counters
                state = copy.deepcopy(
                    {
                        "algorithm": learner.algorithm.state_dict(),
                        "policy": learner.algorithm.policy_state_dict(),
                        "env_steps": int(learner.env_steps),
                        "episodes": int(learner.episodes),
                        "grad_steps": int(learner.algorithm.grad_steps),
                        "weight_version": int(learner.weight_version),
                        **learner.curve.state(),
                        "pretrained_updates": int(learner.pretrained_updates),
                        "rng": rng_states(learner.rng),
                    }
                )
            if not refuse_nonfinite(state["algorithm"], f"checkpoint {self.path}"):
                failed = write_checkpoint(self.path, state)
                if failed is not None:
                    print(
                        f"warning: checkpoint {self.path} not written ({failed}); the one "
                        "before it stays",
                        flush=True,
                    )
        return str(self.path)

    def load_into(self, learner: Learner) -> bool:
        """Put the checkpoint's state into `learner`, if the run has a checkpoint (the
        previous one when the latest is damaged: `load_latest`); raises `CheckpointRefused`
        for one that is not plain data, `CheckpointUnreadable` when none is readable."""
        loaded = load_latest(self.path)
        if loaded is None:
            return False
        state, _ = loaded
        with learner.data_lock:
            learner.algorithm.load_state_dict(state["algorithm"])
            learner.publisher.version = int(state["weight_version"])
            learner.curve.load_state(state)
            learner.pretrained_updates = int(state.get("pretrained_updates", 0))
            set_rng_states(state["rng"], learner.rng)
        return True

    def resume(self, learner: Learner) -> dict[str, int]:
        """Continue a run: every stored episode and demo back into `learner`'s buffers, then
        the last checkpoint (if the run got to one); returns what was restored. Writes a
        full disk interrupted are recovered or removed first (`EpisodeStore.recover_partials`).
        """
        for store in (learner.episode_files.demos, learner.episode_files.online):
            if (line := store.recover_partials().line(store.root)) is not None:
                print(f"warning: {line}", flush=True)
        demo_report, online_report = learner.episode_files.load()
        with learner.data_lock:
            for episode in demo_report.episodes:
                learner.replay.add_demo(episode)
            for episode in online_report.episodes:
                learner.replay.add_online(episode)
        unreadable = demo_report.unreadable + online_report.unreadable
        for name, reason in unreadable:
            print(f"warning: skipped unreadable episode file {name}: {reason}", flush=True)
        checkpoint = self.load_into(learner)
        learner.publish_weights()
        return {
            "episodes": len(online_report.episodes),
            "transitions": learner.env_steps,
            "demo_episodes": len(demo_report.episodes),
            "unreadable_files": len(unreadable),
            "grad_steps": learner.algorithm.grad_steps,
            "checkpoint": int(checkpoint),
        }
