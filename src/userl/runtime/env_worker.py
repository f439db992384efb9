"""The env worker: one per robot. Owns the control loop; never waits on the learner."""

from __future__ import annotations

import threading
import time
from typing import Any

import ray
import torch

from userl.config.schema import AsyncPipelineConfig, Config
from userl.core.types import Episode
from userl.envs.factory import make_env
from userl.policies import build_policy
from userl.runtime.action_sources import ExpertSource, PolicySource


class EnvWorker:
    """Runs episodes on one robot with a local policy copy, ships them to the learner,
    and picks up new weights without waiting (latest wins)."""

    def __init__(self, config: Config, robot_id: str, seed: int) -> None:
        torch.set_num_threads(config.run.torch_threads)
        self.config = config
        self.robot_id = robot_id
        self.env = make_env(config, robot_id=robot_id, seed=seed)
        self.policy = PolicySource(
            build_policy(config.policy, self.env.observation_spec, self.env.action_space.shape[0])
        )
        self.expert = ExpertSource(self.env)
        self._seed = seed
        self._episodes_run = 0
        self._stop = threading.Event()
        self._pending_weights: Any = None
        self._poll_interval_s = 0.0  # set by `run` from the async pipeline's config
        self._last_poll_s = 0.0
        self._latest_known_version = 0
        self._in_flight: dict[str, tuple[Episode, Any]] = {}  # spool: episode id -> (episode, ack)

    # ------------------------------------------------------------------ introspection
    def observation_spec(self):
        return self.env.observation_spec

    def action_dim(self) -> int:
        return int(self.env.action_space.shape[0])

    # ------------------------------------------------------------------ weights
    def set_weights(self, version: int, state_dict: dict[str, torch.Tensor]) -> int:
        self.policy.load_weights(version, state_dict)
        self._latest_known_version = max(self._latest_known_version, version)
        return version

    def _poll_weights(self, learner: Any) -> None:
        """Non-blocking: ask for the newest snapshot; install it when the answer is there."""
        if self._pending_weights is None:
            now = time.monotonic()
            if now - self._last_poll_s >= self._poll_interval_s:
                self._last_poll_s = now
                self._pending_weights = learner.latest_weights.remote(self.policy.version)
            return
        ready, _ = ray.wait([self._pending_weights], timeout=0)
        if not ready:
            return
        answer = ray.get(self._pending_weights)
        self._pending_weights = None
        if answer is not None:
            version, snapshot_ref = answer
            self._latest_known_version = max(self._latest_known_version, version)
            self.policy.load_weights(version, ray.get(snapshot_ref))

    # ------------------------------------------------------------------ episodes
    def _next_seed(self) -> int:
        self._episodes_run += 1
        return self._seed + self._episodes_run

    def collect(self, episodes: int, source: str = "expert", deterministic: bool = False,
                seed_base: int | None = None) -> list[Episode]:
        """Run `episodes` whole episodes with the expert or the current policy; return them."""
        from userl.runtime.rollout import run_episode

        actor = self.expert if source == "expert" else self.policy
        previous = self.policy.deterministic
        self.policy.deterministic = deterministic
        try:
            return [
                run_episode(self.env, actor, self.robot_id,
                            seed=(seed_base + i) if seed_base is not None else self._next_seed())
                for i in range(episodes)
            ]
        finally:
            self.policy.deterministic = previous

    def run(self, learner: Any, max_episodes: int | None = None) -> dict[str, int]:
        """The asynchronous loop: act, ship finished episodes, poll weights, until stopped."""
        from userl.runtime.rollout import run_episode

        pipeline: AsyncPipelineConfig = self.config.pipeline  # type: ignore[assignment]
        self._poll_interval_s = pipeline.weight_poll_interval_s
        self._stop.clear()
        produced = 0
        while not self._stop.is_set() and (max_episodes is None or produced < max_episodes):
            episode = run_episode(
                self.env, self.policy, self.robot_id, seed=self._next_seed(),
                between_steps=lambda: self._poll_weights(learner),
                latest_version=lambda: self._latest_known_version,
            )
            self._in_flight[episode.episode_id] = (episode, learner.add_episode.remote(episode))
            produced += 1
            self._release_acknowledged()
        return {"episodes": produced, "unacknowledged": len(self._in_flight)}

    def _release_acknowledged(self) -> None:
        acks = {ack: episode_id for episode_id, (_, ack) in self._in_flight.items()}
        ready, _ = ray.wait(list(acks), num_returns=len(acks), timeout=0)
        for ack in ready:
            self._in_flight.pop(acks[ack], None)

    def flush(self, timeout_s: float) -> int:
        """Wait (bounded) for the learner to acknowledge every shipped episode."""
        acks = [ack for _, ack in self._in_flight.values()]
        if acks:
            ray.wait(acks, num_returns=len(acks), timeout=timeout_s)
        self._release_acknowledged()
        return len(self._in_flight)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.env.close()
