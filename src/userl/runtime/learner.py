"""The learner: owns the episode store, the replay and demo buffers and the algorithm.

It trains continuously in `run_async` while env workers ship episodes through
`add_episode` (a threaded Ray actor: both run at once; the buffers are guarded by one
lock, each gradient step by another, so a checkpoint never catches a half-done update),
and publishes versioned weight snapshots that env workers fetch without waiting.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import torch

from userl.algorithms.finite import refuse_nonfinite
from userl.config.pipelines import AsyncPipelineConfig
from userl.config.schema import Config
from userl.core.heap import keep_freed_memory
from userl.core.specs import ObservationSpec
from userl.core.types import Episode
from userl.runtime.checkpoints import Checkpoints
from userl.runtime.learner_ranks import build_learner_algorithm, close_ranks
from userl.runtime.learner_telemetry import PipelineTiming, TrainingMetrics, episode_scalars
from userl.runtime.learning_curve import Curve, LearningCurve
from userl.runtime.placement import assigned_device, current_node_id
from userl.runtime.replay import Replay
from userl.runtime.run_episodes import RunEpisodes
from userl.runtime.signals import ignore_interrupts
from userl.runtime.utd import update_ceiling
from userl.runtime.weight_sync import Snapshot, WeightPublisher
from userl.telemetry.metric_loggers import metric_sink

TRAINING_LOG_EVERY_S = 1.0  # the async loop logs its training scalars at most this often


class Learner:
    """One per run, on the GPU node: stores and replays the episodes the env workers ship,
    trains the algorithm on them within the update-to-data bounds, and publishes its
    weights. It owns the run's learning curve (`curve`) and checkpoint (`checkpoints`)."""

    def __init__(
        self, config: Config, observation_spec: ObservationSpec, action_dim: int, run_dir: str
    ) -> None:
        torch.set_num_threads(config.run.torch_threads)
        keep_freed_memory(config.algo.host_memory_kept_mb * 1024 * 1024)
        torch.manual_seed(config.run.seed)
        ignore_interrupts()
        self.config = config
        self.run_dir = Path(run_dir)
        self.device = assigned_device()
        self.algorithm = build_learner_algorithm(config, observation_spec, action_dim, self.device)
        self.replay = Replay(config, observation_spec, action_dim, self.algorithm, self.device)
        self.online, self.demos = self.replay.online, self.replay.demos
        self.sampler = self.replay.sampler
        self._cells = self.replay.cells
        self.episode_files = RunEpisodes(self.run_dir)
        self.writer = metric_sink(config.logger, self.run_dir, config)
        self.rng = np.random.default_rng(config.run.seed)
        self.data_lock = threading.Lock()  # the buffers, the stores and the counters
        self.update_lock = threading.Lock()  # one gradient step; taken before `data_lock`
        self._stop = threading.Event()
        self.metrics = TrainingMetrics()
        self.timing = PipelineTiming()
        self.publisher = WeightPublisher(delta=config.pipeline.weight_sync == "delta")
        self.curve = LearningCurve(
            self._cells, self.writer, lambda: (self.env_steps, self.algorithm.grad_steps)
        ).drawn_in(self.run_dir, config.eval, config.task.control_hz)
        self.checkpoints = Checkpoints(self.run_dir, config.run)
        self.pretrained_updates = 0  # gradient steps on the demos alone, before going online
        self.publish_weights()

    # ------------------------------------------------------------------ data in
    def add_demos(self, episodes: list[Episode], cell: int | None = None) -> int:
        """Store demos in their cell's demo buffer (`cell`, else their robot's); transitions."""
        added = 0
        with self.data_lock:
            for episode in episodes:
                if self.config.demos.only_successful and not episode.success:
                    continue
                if cell is not None:
                    episode.robot_id = f"robot_{cell}"  # restored into the same cell
                self.episode_files.store_demo(episode)
                self.replay.add_demo(episode)
                added += len(episode)
        self.writer.scalars({"data/demo_transitions": len(self.demos)}, 0)
        return added

    def add_episode(self, episode: Episode) -> str:
        """Store one online episode (crash-safe), add it to replay, log it; the id is the ack."""
        with self.data_lock:
            if not self.episode_files.store(episode):
                return episode.episode_id  # already stored (a resend), or non-finite
            self._cells[self.replay.add_online(episode)].rate.add(len(episode))
        self.timing.episode(episode)
        self.writer.scalars(
            {
                **episode_scalars(episode),
                "data/replay_transitions": len(self.online),
                **self._cells.episode_scalars(episode),
            },
            self.env_steps,
        )
        return episode.episode_id

    def has_demos(self) -> bool:
        return len(self.demos) > 0

    # ------------------------------------------------------------------ training
    def _updates_allowed(self) -> int:
        """Update-to-data ceiling: at most `utd` gradient steps per online transition."""
        algo = self.config.algo
        if self.env_steps < algo.warmup_env_steps or self.replay.transitions() == 0:
            return 0
        return max(0, update_ceiling(self.env_steps, algo.utd_max) - self.online_updates)

    @property
    def online_updates(self) -> int:
        """Gradient steps since going online (what the update-to-data ratio counts)."""
        return self.algorithm.grad_steps - self.pretrained_updates

    def pretrain(self, max_updates: int) -> int:
        """Before going online: up to `max_updates` more of the `algo.pretrain_updates` steps
        on the demo buffer alone (HG-DAgger's behaviour cloning); how many ran now (0: done)."""
        updates = min(max_updates, self.config.algo.pretrain_updates - self.pretrained_updates)
        if updates <= 0 or len(self.demos) == 0:
            return 0
        for index in range(updates):
            with self.data_lock:
                batch = self.replay.batch(self.rng, demos_only=True)
            with self.update_lock:
                metrics = self.algorithm.update(batch, metrics=index == updates - 1)
            self.metrics.losses = metrics or self.metrics.losses
        self.pretrained_updates += updates
        self._log_training()
        self.publish_weights()
        return updates

    def _one_update(self, metrics: bool = False) -> None:
        """One gradient step on a fresh batch; its losses kept if asked or due (`metrics`)."""
        with self.data_lock:
            batch = self.replay.batch(self.rng)
        started = time.monotonic()
        due = self.metrics.due(metrics, started)
        with self.update_lock:
            losses = self.algorithm.update(batch, metrics=due)
        self.metrics.updated(losses if due else None, started)
        self.timing.update()

    def train(self, updates: int) -> int:
        """Run up to `updates` gradient steps now (sync pipeline); returns how many it ran."""
        allowed = min(updates, self._updates_allowed())
        for index in range(allowed):
            self._one_update(metrics=index == allowed - 1)
        self._log_training()
        return allowed

    def run_async(self) -> int:
        """Train until `stop()`: as fast as the UTD ceiling allows, publishing snapshots."""
        pipeline: AsyncPipelineConfig = self.config.pipeline  # type: ignore[assignment]
        self._stop.clear()
        last_log = time.monotonic()
        while not self._stop.is_set():
            if self._updates_allowed() <= 0:
                time.sleep(pipeline.idle_wait_s)
                continue
            self._one_update()
            every = (pipeline.publish_every_updates, pipeline.publish_every_s)
            if self.publisher.due(self.algorithm.grad_steps, *every):
                self.publish_weights()
            if time.monotonic() - last_log > TRAINING_LOG_EVERY_S:
                self._log_training()
                last_log = time.monotonic()
        self.publish_weights()
        return self.algorithm.grad_steps

    def stop(self) -> None:
        self._stop.set()

    def utd_state(self) -> tuple[int, int]:
        """(gradient steps, online env steps past the warm-up): what the UTD floor compares."""
        return self.online_updates, max(0, self.env_steps - self.config.algo.warmup_env_steps)

    def stall(self, seconds: float) -> None:
        """Fault injection: hang ingest and training for `seconds`, as a stuck learner would."""
        with self.data_lock:
            time.sleep(seconds)

    def _log_training(self) -> None:
        if self.metrics.losses:
            figures = (self.online_updates, self.env_steps, self.algorithm.grad_steps)
            scalars = self.metrics.scalars(*figures, self.config.algo.utd_min)
            self.writer.scalars(scalars, self.env_steps)

    # ------------------------------------------------------------------ weights out
    def publish_weights(self) -> int:
        """A new version of the policy's trainable tensors, unless not finite (kept back)."""
        state = self.algorithm.policy_state_dict()
        refused = refuse_nonfinite(state, "weight publish")
        return self.publisher.version if refused else self.publisher.publish(state).version

    def latest_weights(self, known_version: int, want_full: bool = False) -> Snapshot | None:
        """The newest snapshot if it is newer than `known_version` (latest wins)."""
        return self.publisher.latest(known_version, want_full)

    @property
    def weight_version(self) -> int:
        return self.publisher.version

    # ------------------------------------------------------------------ state out
    @property
    def env_steps(self) -> int:
        """Online env steps delivered by every cell."""
        return self._cells.total("env_steps")

    @property
    def episodes(self) -> int:
        return self._cells.total("episodes")

    def node_id(self) -> str:
        """The Ray node the learner runs on (the head in a cluster)."""
        return current_node_id()

    def stats(self) -> dict[str, float]:
        """The run's figures now: for the console, the pipelines' budgets and the summary."""
        return {
            **self._cells.totals(),
            "grad_steps": self.algorithm.grad_steps,
            "nonfinite_updates": self.algorithm.finite.skipped,
            "rejected_episodes": len(self.episode_files.rejected_ids),
            "updates_per_s": self.metrics.rate.rate(),
            "weight_version": self.weight_version,
            **self.replay.sizes(),
            "curve_success_rate": self.curve.latest_online_success(),
        }

    def cell_stats(self) -> dict[str, dict[str, float]]:
        """Per cell: `Cells.stats` and its replay and demo transitions."""
        return {
            name: {**stats, **self.replay.sizes(index)}
            for index, (name, stats) in enumerate(self._cells.stats().items())
        }

    def pipeline_timing(self) -> dict[str, float]:
        """`PipelineTiming.figures` of this run."""
        return self.timing.figures()

    def algorithm_report(self) -> dict[str, object]:
        return self.algorithm.report()  # what summary.json records of the algorithm

    def log_video(self, frames: list[np.ndarray], success: bool) -> None:
        """An evaluation episode's front-camera video, at the current env step."""
        self.curve.video(frames, success)  # TensorBoard, and the run's videos/ folder

    # ------------------------------------------------------------------ curve, checkpoint
    def log_evaluation(
        self,
        success_rate: float,
        mean_return: float,
        episodes: int,
        confusion: dict[str, int] | None = None,
        cell: str = "",
    ) -> None:
        """A point of the learning curve (`LearningCurve.add`); a better run point: best.pt."""
        self.curve.add(success_rate, mean_return, episodes, confusion, cell)
        self.checkpoints.keep_if_best(self)

    def evaluation_curve(self) -> Curve:
        return list(self.curve.points)

    def cell_evaluation_curves(self) -> dict[str, Curve]:
        """Each cell's own learning curve (several cells)."""
        return {cell: list(curve) for cell, curve in self.curve.cell_points.items()}

    @property
    def eval_curve(self) -> Curve:
        """The run's learning curve (`curve.points`)."""
        return self.curve.points

    @eval_curve.setter
    def eval_curve(self, points: Curve) -> None:
        self.curve.points = points

    def save_checkpoint(self) -> str:
        """Write everything needed to continue (`Checkpoints.save`); returns the path."""
        return self.checkpoints.save(self)

    def restore(self) -> dict[str, int]:
        """Resume from the run's episodes and checkpoint (`Checkpoints.resume`)."""
        return self.checkpoints.resume(self)

    def close(self) -> None:
        self._log_training()
        self.writer.close()
        close_ranks(self.algorithm)  # learner.devices > 1: the other ranks end with it
