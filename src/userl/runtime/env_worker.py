"""The env worker: one per robot. Owns the control loop; never waits on the learner."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import ray
import torch

from userl.config.pipelines import AsyncPipelineConfig
from userl.config.schema import Config
from userl.core.specs import ObservationSpec
from userl.core.types import Episode
from userl.envs.cells import CellBinding, CellEnv
from userl.envs.factory import make_env
from userl.policies import build_policy
from userl.rollout.action_sources import ExpertSource, PolicySource
from userl.rollout.chunking import ChunkSettings
from userl.rollout.intervention import with_interventions
from userl.runtime.disk_space import DiskGate, expected_episode_bytes
from userl.runtime.inference import RemotePolicySource
from userl.runtime.outbox import Outbox
from userl.runtime.placement import current_node_id
from userl.runtime.remote import call
from userl.runtime.signals import ignore_interrupts
from userl.runtime.utd import floor_met
from userl.runtime.weight_sync import Snapshot, WeightSubscriber
from userl.runtime.worker_evaluation import WorkerEvaluations

T = TypeVar("T")
UTD_FLOOR_POLL_S = 0.02  # how often a waiting simulated robot asks the learner


def was_restarted() -> bool:
    """Whether Ray restarted this actor. (Ray's own property calls an API it deprecates,
    which would print a warning in every env worker: that warning alone is silenced.)"""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="This API is deprecated", category=DeprecationWarning
        )
        return bool(ray.get_runtime_context().was_current_actor_reconstructed)


class EnvWorker:
    """Runs episodes on one robot with a local policy copy, ships them to the learner,
    and picks up new weights without waiting (latest wins)."""

    def __init__(
        self,
        config: Config,
        robot_id: str,
        seed: int,
        spool_dir: str,
        cell: CellBinding | None = None,
    ) -> None:
        torch.set_num_threads(config.run.torch_threads)
        ignore_interrupts()
        if was_restarted():
            seed += time.time_ns() % 1_000_000_007  # a restarted worker draws new episodes
        torch.manual_seed(seed)  # the policy's sampled actions are reproducible per robot
        self.config = config
        self.robot_id = robot_id
        # Every call into the robot, its cameras and the policy runs on one thread: GL
        # contexts (and some vendor SDKs) belong to the thread that created them, while
        # Ray runs this actor's methods on a pool of threads.
        self._env_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="robot")
        # a camera for evaluation videos only when they are on (a state-only real robot may
        # have no camera at all)
        render_mode = "rgb_array" if config.eval.video_every_s > 0 else None
        self.env = self._on_env_thread(
            make_env, config, robot_id=robot_id, seed=seed, render_mode=render_mode
        )
        self.cell = cell
        if cell is not None:  # one cell of several: observations in the run's layout
            self.env = CellEnv(self.env, cell.layout, cell.task_id, cell.embodiment_id)
        self.policy: PolicySource | RemotePolicySource = PolicySource(
            build_policy(config.policy, self.env.observation_spec, self.action_dim()),
            deterministic=config.algo.act_deterministic,
            settings=ChunkSettings.of(config.pipeline, self.env.task.control_hz, local=True),
            timeout_s=config.run.remote_timeout_s,
        )
        self.expert = ExpertSource(self.env)
        # training acts through the intervention layer; evaluation uses the policy alone
        self.acting = with_interventions(
            self.policy, self.env, config.teleop, self.env.task.control_hz, seed
        )
        self._seed = seed
        self._episodes_run = 0
        self._stop = threading.Event()
        self.weights = WeightSubscriber(self._install_weights, poll_interval_s=0.0)
        self.outbox = Outbox(spool_dir, robot_id)
        self.disk = DiskGate(
            self.outbox,
            expected_episode_bytes(
                self.env.observation_spec, self.action_dim(), self.env.task.episode_steps
            ),
            config.run.min_free_disk_mb,
            config.run.remote_timeout_s,
        )
        self._holding = False
        self.evaluations = WorkerEvaluations(
            config, robot_id, cell, self._collect, self._stop.is_set
        )
        self._remote_inference = False

    def _on_env_thread(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return self._env_thread.submit(function, *args, **kwargs).result()

    # ------------------------------------------------------------------ introspection
    def node_id(self) -> str:
        """The Ray node this worker runs on (the robot's node in a cluster)."""
        return current_node_id()

    def observation_spec(self) -> ObservationSpec:
        return self.env.observation_spec

    def action_dim(self) -> int:
        return int(self.env.action_space.shape[0])

    # ------------------------------------------------------------------ weights
    def use_inference(self, server: Any) -> None:
        """Act through a remote inference server instead of the local policy copy."""

        def switch() -> None:
            self.policy = RemotePolicySource(
                server,
                self.config.run.remote_timeout_s,
                deterministic=self.config.algo.act_deterministic,
                settings=ChunkSettings.of(self.config.pipeline, self.env.task.control_hz),
            )
            self.acting = with_interventions(
                self.policy, self.env, self.config.teleop, self.env.task.control_hz, self._seed
            )
            self._remote_inference = True

        self._on_env_thread(switch)

    def set_weights(self, snapshot: Snapshot) -> int:
        """Install a snapshot now (setup, evaluation and the sync pipeline)."""
        self._on_env_thread(self.weights.apply, snapshot)
        return self.weights.version

    def _install_weights(
        self, version: int, state_dict: dict[str, torch.Tensor], complete: bool
    ) -> None:
        self.policy.load_weights(version, state_dict)  # remote inference: the server's job

    # ------------------------------------------------------------------ episodes
    def _next_seed(self) -> int:
        self._episodes_run += 1
        return self._seed + self._episodes_run

    def collect(
        self,
        episodes: int,
        source: str = "expert",
        deterministic: bool | None = None,
        seed_base: int | None = None,
        record_first: bool = False,
    ) -> list[Episode]:
        return self._on_env_thread(
            self._collect, episodes, source, deterministic, seed_base, record_first
        )

    def _collect(
        self,
        episodes: int,
        source: str,
        deterministic: bool | None,
        seed_base: int | None,
        record_first: bool,
    ) -> list[Episode]:
        """Run `episodes` whole episodes and return them: `expert`, `policy` (alone, as in
        evaluation) or `training` (the policy under the intervention layer). The policy
        samples or not as `deterministic` says; None: as online episodes do
        (`algo.act_deterministic`). `record_first`: the first on video, within the video's
        time bound (`rollout/video_episode.py`)."""
        from userl.rollout.episode import run_episode

        actor = {"expert": self.expert, "policy": self.policy, "training": self.acting}[source]
        previous = self.policy.deterministic
        if deterministic is not None:
            self.policy.deterministic = deterministic
        try:
            return [
                (self.evaluations.videos.run_episode if record_first and i == 0 else run_episode)(
                    self.env,
                    actor,
                    self.robot_id,
                    seed=(seed_base + i) if seed_base is not None else self._next_seed(),
                )
                for i in range(episodes)
            ]
        finally:
            self.policy.deterministic = previous

    def episode_bytes(self) -> int:
        """An episode's expected size on disk (the sync pipeline checks the store for it)."""
        return self.disk.episode_bytes

    def run(self, learner: Any, max_episodes: int | None = None) -> dict[str, int]:
        return self._on_env_thread(self._run, learner, max_episodes)

    def _run(self, learner: Any, max_episodes: int | None) -> dict[str, int]:
        """The asynchronous loop: act, spool and ship finished episodes (`Outbox`), poll
        weights. Episodes left in the spool are shipped again on start. While too many
        episodes wait for an acknowledgement, the robot holds still instead of starting
        another episode; without room on disk it holds and the run stops (`DiskGate`)."""
        from userl.rollout.episode import run_episode

        pipeline: AsyncPipelineConfig = self.config.pipeline  # type: ignore[assignment]
        self.weights.poll_interval_s = pipeline.weight_poll_interval_s
        self._stop.clear()
        self.outbox.ship_spooled(learner)
        produced = 0
        while not self._stop.is_set() and (max_episodes is None or produced < max_episodes):
            if not self._room_to_act(learner, pipeline):
                continue
            self.disk.check(self._hold)
            waited_s = self._wait_for_learner(learner)
            episode = run_episode(
                self.env,
                self.acting,
                self.robot_id,
                seed=self._next_seed(),
                between_steps=None
                if self._remote_inference
                else lambda: self.weights.poll(learner),
                latest_version=lambda: self.weights.latest_known_version,
            )
            episode.info.update(self.weights.drain_metrics())
            episode.info["waited_for_learner_s"] = waited_s
            self.outbox.send(episode, learner)
            produced += 1
            if self.outbox.unwritten:  # the spool refused it: no further move, not even
                self.disk.check(self._hold)  # an evaluation, until it is on a disk
            self.outbox.release_acknowledged()
            self.evaluations.record_video(learner)
            self.evaluations.curve_point(learner)
        return {"episodes": produced, "unacknowledged": len(self.outbox)}

    def evaluate_for_curve(self, learner: Any) -> bool:
        """The sync pipeline's hook: a learning-curve evaluation if one is due."""
        return self._on_env_thread(self.evaluations.curve_point, learner)

    def _wait_for_learner(self, learner: Any) -> float:
        """The update-to-data floor: a simulated robot that is not paced to real time waits
        until the learner has made `algo.utd_min` gradient steps per stored env step. A
        real-time robot never waits (the learner logs that it is behind). Returns seconds."""
        utd_min = self.config.algo.utd_min
        if utd_min <= 0 or self.config.robot.realtime:
            return 0.0
        started = time.monotonic()
        deadline = started + self.config.run.remote_timeout_s
        while not self._stop.is_set() and time.monotonic() < deadline:
            online_updates, env_steps = call(
                learner.utd_state, timeout_s=self.config.run.remote_timeout_s
            )
            if floor_met(online_updates, env_steps, utd_min):
                break
            time.sleep(UTD_FLOOR_POLL_S)
        return time.monotonic() - started

    def _hold(self) -> None:
        if not self._holding:
            self._holding = True
            self.env.robot.hold()

    def _room_to_act(self, learner: Any, pipeline: AsyncPipelineConfig) -> bool:
        """False (after holding the robot and retrying shipment) while the backlog is full."""
        self.outbox.release_acknowledged()
        if len(self.outbox) < pipeline.max_unacknowledged_episodes:
            self._holding = False
            return True
        self._hold()
        self.outbox.wait(pipeline.resend_after_s)
        self.outbox.release_acknowledged()
        self.outbox.ship_spooled(learner)
        return False

    def flush(self, learner: Any, timeout_s: float) -> int:
        """Ship what is spooled and wait (bounded) for every acknowledgement; returns the
        number of episodes still unacknowledged (they stay in the spool)."""
        return self.outbox.flush(learner, timeout_s)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._on_env_thread(self.env.close)
        self._env_thread.shutdown(wait=True)
