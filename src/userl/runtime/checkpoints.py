"""The learner's checkpoints in the run's `checkpoints/`: `latest.pt`, everything a resumed
run needs that the episode stores do not hold; each one written also kept as
`step_<grad steps>.pt` (the newest `run.checkpoints_kept` of them); and `best.pt`, written
when a run point of the learning curve beats every earlier one (ties keep the earlier).

The buffers are not in it: the episode stores are their source of truth, and a resumed
learner rebuilds them (online replay, demos, and interventions) from the files. A checkpoint
is taken between two gradient steps (its weights match its counters), written whole or not
at all (fsynced, then atomically renamed), and loaded with `weights_only` (a run folder from
someone else cannot run code through its pickle). The one it replaces is kept as
`previous.pt` until the new one is whole; a resume falls back to it, with a warning, when
`latest.pt` is damaged. A checkpoint the disk has no room for is skipped with a warning.

`best.pt` holds the learner's state when the evaluation was logged: after training (the
final evaluation) the weights evaluated; during training, the evaluating robot acted with
weights the learner published at most a few updates before.
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
from userl.config.schema import RunConfig
from userl.data.checkpoint import (
    CheckpointRefused,
    load_checkpoint,
    load_latest,
    plain,
    write_checkpoint,
)
from userl.data.checkpoint_files import (
    BEST,
    CHECKPOINTS_DIR,
    LATEST,
    checkpoint_file,
    keep_copy,
    prune_periodic,
    step_name,
)

if TYPE_CHECKING:
    from userl.runtime.learner import Learner

BEST_KEY = "best"  # best.pt's record of the evaluation that made it best


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
    """Saves a learner's state to the run's checkpoints and loads it back (one writer at a
    time: a periodic checkpoint, the final one and a best one may be asked for at once)."""

    def __init__(self, run_dir: Path, run: RunConfig) -> None:
        self.folder = run_dir / CHECKPOINTS_DIR
        self.path = checkpoint_file(self.folder, LATEST)
        self.best_path = checkpoint_file(self.folder, BEST)
        self.kept = run.checkpoints_kept
        self.best_success: float | None = None  # success of the evaluation best.pt holds
        self._considered = 0  # run points of the curve `keep_if_best` has looked at
        self._writing = threading.Lock()

    def _state(self, learner: Learner) -> dict[str, Any]:
        """`learner`'s state, taken between two of its updates (weights match counters)."""
        with learner.update_lock, learner.data_lock:
            return copy.deepcopy(
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

    def _write(self, path: Path, state: dict[str, Any], keep_previous: bool) -> bool:
        """Write `state` to `path` unless its weights are not finite or the disk is full (a
        warning; the file before it stays); whether it was written."""
        if refuse_nonfinite(state["algorithm"], f"checkpoint {path}"):
            return False
        failed = write_checkpoint(path, state, keep_previous)
        if failed is not None:
            print(
                f"warning: checkpoint {path} not written ({failed}); the one before it stays",
                flush=True,
            )
        return failed is None

    def save(self, learner: Learner) -> str:
        """Write `learner`'s state as `latest.pt` and keep it as `step_<grad steps>.pt`,
        deleting the oldest periodic ones beyond `run.checkpoints_kept`; returns the path."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._writing:
            state = self._state(learner)
            if self._write(self.path, state, keep_previous=True) and self.kept:
                periodic = checkpoint_file(self.folder, step_name(state["grad_steps"]))
                failed = keep_copy(self.path, periodic)
                if failed is not None:
                    print(f"warning: checkpoint {periodic} not written ({failed})", flush=True)
                prune_periodic(self.folder, self.kept)
        return str(self.path)

    def keep_if_best(self, learner: Learner) -> bool:
        """Write `best.pt` when the newest run point `learner`'s curve has gained since the
        last call succeeds more often than the evaluation `best.pt` holds; a tie keeps the
        earlier. Returns whether it was written."""
        points = learner.curve.points[self._considered :]
        self._considered = len(learner.curve.points)
        if not points:
            return False
        point = points[-1]
        success = float(point["success_rate"])
        with self._writing:
            if self.best_success is not None and success <= self.best_success:
                return False
            state = self._state(learner)
            state[BEST_KEY] = {
                key: point[key] for key in ("success_rate", "mean_return", "env_steps")
            }
            if not self._write(self.best_path, state, keep_previous=False):
                return False
            self.best_success = success
        return True

    def _load_best_success(self) -> None:
        """The success of the evaluation the run's `best.pt` holds (a resumed run beats that,
        not its restored curve, which may be older); a damaged one is written afresh."""
        if not self.best_path.is_file():
            return
        try:
            self.best_success = float(load_checkpoint(self.best_path)[BEST_KEY]["success_rate"])
        except (CheckpointRefused, KeyError, TypeError, ValueError) as error:
            print(
                f"warning: {self.best_path} unreadable ({str(error).splitlines()[0]}); the "
                "next evaluation writes it afresh",
                flush=True,
            )

    def load_into(self, learner: Learner) -> bool:
        """Put the checkpoint's state into `learner`, if the run has a checkpoint (the
        previous one when the latest is damaged: `load_latest`); raises `CheckpointRefused`
        for one that is not plain data, `CheckpointUnreadable` when none is readable."""
        self._load_best_success()
        loaded = load_latest(self.path)
        if loaded is None:
            return False
        state, _ = loaded
        with learner.data_lock:
            learner.algorithm.load_state_dict(state["algorithm"])
            learner.publisher.version = int(state["weight_version"])
            learner.curve.load_state(state)
            self._considered = len(learner.curve.points)
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
