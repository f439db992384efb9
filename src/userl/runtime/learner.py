"""The learner: owns the episode store, the replay and demo buffers and the algorithm.

It trains continuously in `run_async` while env workers ship episodes through
`add_episode` (a threaded Ray actor: both run at once; the buffers are guarded by one
lock, each gradient step by another, so a checkpoint never catches a half-done update),
and publishes versioned weight snapshots that env workers fetch without waiting.
"""

from __future__ import annotations

import copy
import random
import threading
import time
from collections import deque
from pathlib import Path

import numpy as np
import torch

from userl.algorithms import build_algorithm
from userl.config.cells import cells_of
from userl.config.schema import Config
from userl.core.files import atomic_write
from userl.core.heap import keep_freed_memory
from userl.core.specs import ObservationSpec
from userl.core.types import Episode
from userl.data.cell_replay import CellBuffers
from userl.data.checkpoint import load_checkpoint, plain
from userl.data.samplers import BatchBuffers, CellSampler, SymmetricSampler
from userl.data.store import EpisodeStore
from userl.runtime.cell_counters import CellCounters, total, total_effort
from userl.runtime.pipelines import AsyncPipelineConfig
from userl.runtime.placement import assigned_device, current_node_id
from userl.runtime.signals import ignore_interrupts
from userl.runtime.utd import update_ceiling
from userl.runtime.weight_sync import Snapshot, WeightPublisher
from userl.telemetry.tensorboard import MetricsWriter
from userl.telemetry.timing import RateMeter

RECENT_EPISODES = 20  # window of the console's recent success rate
CHECKPOINT_NAME = "latest.pt"
UPDATE_TIMES_KEPT = 100_000  # wall-clock times of recent updates, for pipeline benchmarks
METRICS_EVERY_S = 1.0  # losses are read back (a GPU synchronisation) at most this often


# episode info -> TensorBoard tag, logged when the episode has it (a reward model, ground truth)
REWARD_TELEMETRY = {
    "reward/probability": "reward/probability",
    "reward/agreement": "reward/agreement",
    "true_success": "env/true_success",
}


def pooled(points: list[dict[str, float]], env_steps: int, grad_steps: int) -> dict[str, float]:
    """Several cells' evaluation points as one: success and return over all their episodes,
    the confusion counts summed."""
    episodes = sum(int(p["episodes"]) for p in points)
    weights = [int(p["episodes"]) / max(episodes, 1) for p in points]
    confusion = {
        key: sum(int(p.get(key, 0)) for p in points)
        for key in {k for p in points for k in p if k.startswith("reward_")}
    }
    return {
        "env_steps": env_steps,
        "grad_steps": grad_steps,
        "success_rate": sum(w * p["success_rate"] for w, p in zip(weights, points, strict=True)),
        "mean_return": sum(w * p["mean_return"] for w, p in zip(weights, points, strict=True)),
        "episodes": episodes,
        **confusion,
    }


class Learner:
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
        self.algorithm = build_algorithm(
            config.algo, config.policy, observation_spec, action_dim, self.device
        )
        algo = config.algo
        chunk = self.algorithm.label_chunk_steps  # > 1: the buffers keep chunk labels
        # the replay is keyed by cell (each its robot and task), sampled fairly across cells
        cells = cells_of(config)
        self.cell_names = [cell.name for cell in cells]
        self._multi_cell = bool(config.cells)
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
        self._demo_sampler = CellSampler(
            [SymmetricSampler(demos, None, 0.0, only_demos=True) for demos in self.demos.buffers],
            weights,
        )
        self._cells = [CellCounters() for _ in cells]
        self.store = EpisodeStore(self.run_dir / "episodes").create()
        self.demo_store = EpisodeStore(self.run_dir / "demos").create()
        self.writer = MetricsWriter(self.run_dir / "tensorboard")
        self.rng = np.random.default_rng(config.run.seed)
        self.batches = BatchBuffers(
            observation_spec, action_dim, algo.batch_size, self.device, label_chunk_steps=chunk
        )
        self._metrics_due_s = 0.0  # monotonic time from which the next update reports losses
        self._lock = threading.Lock()  # the buffers, the stores and the counters
        self._update_lock = threading.Lock()  # one gradient step; taken before `_lock`
        self._checkpoint_lock = threading.Lock()  # one checkpoint written at a time
        self._stop = threading.Event()
        self._stored_ids: set[str] = set()
        self._recent_success: deque[float] = deque(maxlen=RECENT_EPISODES)
        self._update_rate = RateMeter()
        self.publisher = WeightPublisher(delta=config.pipeline.weight_sync == "delta")
        self.update_times_s: deque[float] = deque(maxlen=UPDATE_TIMES_KEPT)
        self._episode_starts: dict[str, list[float]] = {}
        self._last_publish_s = time.monotonic()
        self._started_s = time.monotonic()  # curve points' `time_s` count from here
        self._last_metrics: dict[str, float] = {}
        self.eval_curve: list[dict[str, float]] = []
        self._cell_curves: dict[str, list[dict[str, float]]] = (
            {name: [] for name in self.cell_names} if self._multi_cell else {}
        )
        self.pretrained_updates = 0  # gradient steps on the demos alone, before going online
        self.publish_weights()

    # ------------------------------------------------------------------ data in
    def cell_of(self, robot_id: str) -> int:
        """The cell an env worker's episodes belong to: worker `robot_<i>` runs cell i of a
        multi-cell run; every robot of a single-cell run is cell 0."""
        if not self._multi_cell:
            return 0
        index = robot_id.rpartition("_")[2]
        if not index.isdigit() or int(index) >= len(self.cell_names):
            raise ValueError(
                f"episode from {robot_id!r}, which runs none of the cells "
                f"{', '.join(self.cell_names)}"
            )
        return int(index)

    def add_demos(self, episodes: list[Episode], cell: int | None = None) -> int:
        """Store demonstrations and put them in their cell's demo buffer (`cell`, else the
        cell of the robot that recorded each); returns transitions added."""
        added = 0
        with self._lock:
            for episode in episodes:
                if self.config.demos.only_successful and not episode.success:
                    continue
                if cell is not None:
                    episode.robot_id = f"robot_{cell}"  # restored into the same cell
                self.demo_store.write(episode)
                self.demos.add_episode(episode, self.cell_of(episode.robot_id))
                added += len(episode)
        self.writer.scalars({"data/demo_transitions": len(self.demos)}, 0)
        return added

    def add_episode(self, episode: Episode) -> str:
        """Store one online episode (crash-safe), add it to replay, log it; the id is the ack."""
        with self._lock:
            if episode.episode_id in self._stored_ids:
                return episode.episode_id  # a resend after a lost ack: already stored
            self.store.write(episode)
            self._stored_ids.add(episode.episode_id)
            self._add_to_buffers(episode)
            self._cells[self.cell_of(episode.robot_id)].rate.add(len(episode))
        if "started_at_s" in episode.info:
            self._episode_starts.setdefault(episode.robot_id, []).append(
                float(episode.info["started_at_s"])
            )
        info = episode.info
        self.writer.scalars(
            {
                "env/success": float(episode.success),
                "env/return": episode.episode_return,
                "env/episode_len": len(episode),
                "env/intervened_steps": episode.intervened_steps,
                "env/intervention_rate": episode.intervened_steps / max(len(episode), 1),
                "env/takeovers": episode.takeovers,
                "env/steps_per_s": info.get("env_steps_per_s", 0.0),
                "time/control_period_ms": info.get("control_period_p50_ms", 0.0),
                "time/waited_for_learner_s": info.get("waited_for_learner_s", 0.0),
                "time/control_overruns": info.get("control_overruns", 0),
                "time/control_period_ms_p99": info.get("control_period_p99_ms", 0.0),
                "time/action_wait_ms": info.get("action_wait_ms", 0.0),
                "time/action_wait_ms_p99": info.get("action_wait_ms_p99", 0.0),
                "sync/weight_version_lag": info.get("weight_version_lag", 0.0),
                "sync/latency_ms": info.get("sync_latency_ms", 0.0),
                "sync/bytes": info.get("sync_bytes", 0.0),
                "data/replay_transitions": len(self.online),
                **{tag: info[key] for key, tag in REWARD_TELEMETRY.items() if key in info},
                **self._cell_metrics(episode),
            },
            self.env_steps,
        )
        return episode.episode_id

    def _cell_metrics(self, episode: Episode) -> dict[str, float]:
        """With several cells: `env/<cell>/...` of the cell the episode belongs to."""
        if not self._multi_cell:
            return {}
        index = self.cell_of(episode.robot_id)
        cell, tag = self._cells[index], f"env/{self.cell_names[index]}"
        return {
            f"{tag}/success": float(episode.success),
            f"{tag}/return": episode.episode_return,
            f"{tag}/env_steps_per_s": cell.rate.rate(),
            f"{tag}/env_steps": cell.env_steps,
        }

    def cell_stats(self) -> dict[str, dict[str, float]]:
        """Per cell: online env steps and episodes, the share of them that succeeded, its
        intervened steps, the data rate now, and its replay and demo transitions."""
        return {
            name: {
                "env_steps": cell.env_steps,
                "episodes": cell.episodes,
                "success_rate": cell.success_rate,
                "interventions": cell.interventions,
                "env_steps_per_s": cell.rate.rate(),
                "replay_transitions": len(self.online[i]),
                "demo_transitions": len(self.demos[i]),
            }
            for i, (name, cell) in enumerate(zip(self.cell_names, self._cells, strict=True))
        }

    def _add_to_buffers(self, episode: Episode) -> None:
        """Replay gets every online step; the demo buffer also gets the human-controlled ones
        (HIL-SERL's routing of interventions for RL)."""
        cell = self.cell_of(episode.robot_id)
        self.online.add_episode(episode, cell)
        if episode.intervened_steps:
            self.demos.add_episode(episode, cell, only=episode.intervened)
        self._cells[cell].count(episode)
        self._recent_success.append(float(episode.success))

    def has_demos(self) -> bool:
        return len(self.demos) > 0

    def log_video(self, frames: list[np.ndarray], success: bool) -> None:
        """An evaluation episode's front-camera video, at the current env step."""
        self.writer.video("eval/video", frames, self.env_steps, self.config.eval.video_fps)
        self.writer.scalars({"eval/video_episode_success": float(success)}, self.env_steps)

    def log_evaluation(
        self,
        success_rate: float,
        mean_return: float,
        episodes: int,
        confusion: dict[str, int] | None = None,
        cell: str = "",
    ) -> None:
        """One point of the learning curve, stamped with the run's env and gradient steps and
        the seconds since this learner started (`time_s`);
        with ground truth, the reward source's confusion counts (`eval/reward_*`). With
        `cell`, one cell's evaluation (`eval/<cell>/...`); once every cell has evaluated, each
        cell's point adds the pool of every cell's latest to the run's curve. Every point
        carries the human effort so far (`CellCounters.effort`: online episodes, intervened
        steps, takeovers)."""
        point = {
            "env_steps": self.env_steps,
            "grad_steps": self.algorithm.grad_steps,
            "time_s": time.monotonic() - self._started_s,
            "success_rate": float(success_rate),
            "mean_return": float(mean_return),
            "episodes": int(episodes),
            **(confusion or {}),
        }
        if not cell:
            self._add_curve_point({**point, **total_effort(self._cells)})
            return
        counters = self._cells[self.cell_names.index(cell)]
        self._cell_curves[cell].append(
            {**point, **counters.effort(), "cell_env_steps": counters.env_steps}
        )
        self.writer.scalars(
            {
                f"eval/{cell}/success_rate": point["success_rate"],
                f"eval/{cell}/mean_return": point["mean_return"],
            },
            self.env_steps,
        )
        if all(self._cell_curves.values()):
            self._add_curve_point(
                {
                    **pooled(
                        [curve[-1] for curve in self._cell_curves.values()],
                        self.env_steps,
                        self.algorithm.grad_steps,
                    ),
                    **total_effort(self._cells),
                    "time_s": point["time_s"],
                }
            )

    def _add_curve_point(self, point: dict[str, float]) -> None:
        self.eval_curve.append(point)
        confusion = {k: v for k, v in point.items() if k.startswith("reward_")}
        self.writer.scalars(
            {
                "eval/success_rate": point["success_rate"],
                "eval/mean_return": point["mean_return"],
                **{f"eval/{k}": v for k, v in confusion.items()},
            },
            self.env_steps,
        )

    def cell_evaluation_curves(self) -> dict[str, list[dict[str, float]]]:
        """Each cell's own learning curve (several cells)."""
        return {cell: list(curve) for cell, curve in self._cell_curves.items()}

    def evaluation_curve(self) -> list[dict[str, float]]:
        return list(self.eval_curve)

    # ------------------------------------------------------------------ training
    def _updates_allowed(self) -> int:
        """Update-to-data ceiling: at most `utd` gradient steps per online transition."""
        algo = self.config.algo
        if self.env_steps < algo.warmup_env_steps or len(self.online) + len(self.demos) == 0:
            return 0
        return max(0, update_ceiling(self.env_steps, algo.utd_max) - self.online_updates)

    @property
    def online_updates(self) -> int:
        """Gradient steps since going online (what the update-to-data ratio counts)."""
        return self.algorithm.grad_steps - self.pretrained_updates

    def pretrain(self, max_updates: int) -> int:
        """Before the first online episode: up to `max_updates` more of the
        `algo.pretrain_updates` gradient steps on the demo buffer alone (HG-DAgger's
        behaviour cloning); returns how many ran now (0: done)."""
        updates = min(max_updates, self.config.algo.pretrain_updates - self.pretrained_updates)
        if updates <= 0 or len(self.demos) == 0:
            return 0
        demos_only = self._demo_sampler
        for index in range(updates):
            with self._lock:
                batch = self.batches.fill(demos_only, self.rng)
            with self._update_lock:
                metrics = self.algorithm.update(batch, metrics=index == updates - 1)
            self._last_metrics = metrics or self._last_metrics
        self.pretrained_updates += updates
        self._log_training()
        self.publish_weights()
        return updates

    def _one_update(self, metrics: bool = False) -> None:
        """One gradient step on a fresh batch; the losses are kept when `metrics` is asked
        for or `METRICS_EVERY_S` has passed since they were last read."""
        with self._lock:
            batch = self.batches.fill(self.sampler, self.rng)
        now = time.monotonic()
        due = metrics or now >= self._metrics_due_s
        with self._update_lock:
            values = self.algorithm.update(batch, metrics=due)
        if due:
            self._last_metrics = values
            self._metrics_due_s = now + METRICS_EVERY_S
        self._update_rate.add()
        self.update_times_s.append(time.time())

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
        publish_every, idle_wait_s = pipeline.publish_every_updates, pipeline.idle_wait_s
        self._stop.clear()
        last_log = time.monotonic()
        while not self._stop.is_set():
            if self._updates_allowed() <= 0:
                time.sleep(idle_wait_s)
                continue
            self._one_update()
            due_s = (
                pipeline.publish_every_s
                and time.monotonic() - self._last_publish_s >= pipeline.publish_every_s
            )
            if self.algorithm.grad_steps % publish_every == 0 or due_s:
                self.publish_weights()
            if time.monotonic() - last_log > 1.0:
                self._log_training()
                last_log = time.monotonic()
        self.publish_weights()
        return self.algorithm.grad_steps

    def stop(self) -> None:
        self._stop.set()

    def utd_state(self) -> tuple[int, int]:
        """(gradient steps, stored online env steps): what the UTD floor compares."""
        return self.online_updates, self.env_steps

    def stall(self, seconds: float) -> None:
        """Fault injection: hang ingest and training for `seconds`, as a stuck learner would."""
        with self._lock:
            time.sleep(seconds)

    def _log_training(self) -> None:
        if not self._last_metrics:
            return
        metrics = {k if "/" in k else f"train/{k}": v for k, v in self._last_metrics.items()}
        metrics["train/updates_per_s"] = self._update_rate.rate()
        utd = self.online_updates / max(self.env_steps, 1)
        metrics["train/utd"] = utd
        metrics["train/learner_behind"] = float(utd < self.config.algo.utd_min)
        metrics["train/grad_steps"] = self.algorithm.grad_steps
        self.writer.scalars(metrics, self.env_steps)

    # ------------------------------------------------------------------ weights out
    def publish_weights(self) -> int:
        """Publish a new versioned snapshot of the policy's trainable tensors."""
        snapshot = self.publisher.publish(self.algorithm.policy_state_dict())
        self._last_publish_s = time.monotonic()
        return snapshot.version

    def latest_weights(self, known_version: int, want_full: bool = False) -> Snapshot | None:
        """The newest snapshot if it is newer than `known_version` (latest wins)."""
        return self.publisher.latest(known_version, want_full)

    @property
    def env_steps(self) -> int:
        """Online env steps delivered by every cell."""
        return total(self._cells, "env_steps")

    @property
    def episodes(self) -> int:
        return total(self._cells, "episodes")

    @property
    def interventions(self) -> int:
        """Intervened (human-controlled) steps over every cell."""
        return total(self._cells, "interventions")

    @property
    def weight_version(self) -> int:
        return self.publisher.version

    # ------------------------------------------------------------------ state out
    def node_id(self) -> str:
        """The Ray node the learner runs on (the head in a cluster)."""
        return current_node_id()

    def stats(self) -> dict[str, float]:
        return {
            "env_steps": self.env_steps,
            "episodes": self.episodes,
            "interventions": self.interventions,
            "recent_success_rate": float(np.mean(self._recent_success))
            if self._recent_success
            else 0.0,
            "grad_steps": self.algorithm.grad_steps,
            "updates_per_s": self._update_rate.rate(),
            "env_steps_per_s": sum(cell.rate.rate() for cell in self._cells),
            "weight_version": self.weight_version,
            "replay_transitions": len(self.online),
            "demo_transitions": len(self.demos),
            "curve_success_rate": self._latest_online_evaluation(),
        }

    def _latest_online_evaluation(self) -> float:
        """Success of the newest evaluation made after training started (-1: none yet); with
        several cells, the lowest of the cells' newest (every task must reach a target)."""
        curves = list(self._cell_curves.values()) if self._multi_cell else [self.eval_curve]
        latest = []
        for curve in curves:
            online = [p["success_rate"] for p in curve if p["env_steps"] > 0]
            if not online:
                return -1.0
            latest.append(online[-1])
        return min(latest)

    def pipeline_timing(self) -> dict[str, float]:
        """The paper's pipeline figures for this run: mean wall time between consecutive
        updates, and between consecutive episode starts on the same robot (reset included)."""
        updates = np.diff(np.asarray(self.update_times_s))
        per_robot = [np.diff(sorted(starts)) for starts in self._episode_starts.values()]
        gaps = np.concatenate(per_robot) if per_robot else np.zeros(0)
        return {
            "training_s_per_update": float(updates.mean()) if len(updates) else 0.0,
            "generation_s_per_episode": float(gaps.mean()) if len(gaps) else 0.0,
        }

    def save_checkpoint(self) -> str:
        """Write everything needed to continue (fsynced, then atomically renamed).

        The buffers are not in it: the episode stores are their source of truth, and
        `restore` rebuilds them (online replay, demos, and interventions) from the files.
        """
        directory = self.run_dir / "checkpoints"
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / CHECKPOINT_NAME
        with self._checkpoint_lock:
            with self._update_lock, self._lock:  # between two updates: weights match counters
                state = copy.deepcopy(
                    {
                        "algorithm": self.algorithm.state_dict(),
                        "policy": self.algorithm.policy_state_dict(),
                        "env_steps": int(self.env_steps),
                        "episodes": int(self.episodes),
                        "grad_steps": int(self.algorithm.grad_steps),
                        "weight_version": int(self.weight_version),
                        "eval_curve": plain(self.eval_curve),
                        "cell_curves": plain(self._cell_curves),
                        "pretrained_updates": int(self.pretrained_updates),
                        "rng": {
                            "torch": torch.get_rng_state(),
                            "numpy": plain(self.rng.bit_generator.state),
                            "python": random.getstate(),
                        },
                    }
                )
            atomic_write(path, lambda handle: torch.save(state, handle))
        return str(path)

    def restore(self) -> dict[str, int]:
        """Resume: reload every stored episode and demo, then the last checkpoint."""
        demo_report = self.demo_store.load()
        online_report = self.store.load()
        with self._lock:
            for episode in demo_report.episodes:
                self.demos.add_episode(episode, self.cell_of(episode.robot_id))
            for episode in online_report.episodes:
                self._stored_ids.add(episode.episode_id)
                self._add_to_buffers(episode)
        unreadable = demo_report.unreadable + online_report.unreadable
        for name, reason in unreadable:
            print(f"warning: skipped unreadable episode file {name}: {reason}", flush=True)
        checkpoint = self.run_dir / "checkpoints" / CHECKPOINT_NAME
        if checkpoint.is_file():
            state = load_checkpoint(checkpoint)
            with self._lock:
                self.algorithm.load_state_dict(state["algorithm"])
                self.publisher.version = int(state["weight_version"])
                self.eval_curve = list(state.get("eval_curve", []))
                self._cell_curves.update(state.get("cell_curves", {}))
                self.pretrained_updates = int(state.get("pretrained_updates", 0))
                torch.set_rng_state(state["rng"]["torch"])
                self.rng.bit_generator.state = state["rng"]["numpy"]
                random.setstate(state["rng"]["python"])
        self.publish_weights()
        return {
            "episodes": len(online_report.episodes),
            "transitions": self.env_steps,
            "demo_episodes": len(demo_report.episodes),
            "unreadable_files": len(unreadable),
            "grad_steps": self.algorithm.grad_steps,
            "checkpoint": int(checkpoint.is_file()),
        }

    def close(self) -> None:
        self._log_training()
        self.writer.close()
