"""Remote inference (`pipeline.inference=remote`): one Ray actor holds the policy and answers
the env workers' requests in batches, for models too large for a robot's computer.

Requests that arrive within `inference_batch_window_ms` of each other (up to
`inference_max_batch`) share one forward pass; every answer carries the weight version
that produced it. The server keeps its weights fresh from the learner on its own. It computes
on the GPU Ray gave it (`runtime/placement.py`), else on the CPU.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import numpy as np
import ray
import torch

from userl.config.schema import Config
from userl.core.specs import ObservationSpec
from userl.core.types import Decision, Observation
from userl.policies import build_policy
from userl.rollout.chunking import ChunkRequest, ChunkScheduler, ChunkSettings, compute_chunk
from userl.rollout.chunks import ChunkQueue
from userl.runtime.placement import assigned_device, current_node_id
from userl.runtime.weight_sync import Snapshot, WeightSubscriber

INFERENCE_NAME = "inference"


class InferenceServer:
    """An asyncio Ray actor: `act` calls from many workers are batched together."""

    def __init__(
        self,
        config: Config,
        observation_spec: ObservationSpec,
        action_dim: int,
        learner: Any = None,
    ) -> None:
        torch.set_num_threads(config.run.torch_threads)
        torch.manual_seed(config.run.seed)
        self.config = config
        self.device = torch.device(assigned_device())
        self.policy = build_policy(config.policy, observation_spec, action_dim)
        self.policy = self.policy.to(self.device).eval()
        self.learner = learner
        self.weights = WeightSubscriber(self._install, poll_interval_s=0.0)
        self._pending: list[tuple[Observation, bool, asyncio.Future]] = []
        self._flush_task: asyncio.Task | None = None
        self._refresh_task: asyncio.Task | None = None
        self.batch_sizes: deque[int] = deque(maxlen=1000)

    def node_id(self) -> str:
        """The Ray node the server runs on (the head in a cluster)."""
        return current_node_id()

    def _install(self, version: int, state: dict[str, torch.Tensor], complete: bool) -> None:
        self.policy.load_state_dict(state, strict=False)

    async def set_weights(self, snapshot: Snapshot) -> int:
        self.weights.apply(snapshot)
        return self.weights.version

    async def act(
        self,
        observation: Observation,
        deterministic: bool,
        previous: np.ndarray | None = None,
        delay_steps: int = 0,
    ) -> tuple[np.ndarray, int]:
        """One observation in; its action chunk (H, A) and the weight version out. With
        `previous` (real-time chunking: the actions still to run) the chunk is guided toward
        them, on its own (each guided request has its own targets)."""
        if previous is not None:
            request = ChunkRequest(observation, previous, delay_steps)
            chunk = compute_chunk(
                self.policy, request, deterministic, self.config.pipeline.rtc_max_guidance
            )
            return chunk, self.weights.version
        future = asyncio.get_running_loop().create_future()
        self._pending.append((observation, deterministic, future))
        if len(self._pending) >= self.config.pipeline.inference_max_batch:
            self._answer()
        elif self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.create_task(self._answer_after_window())
        if self.learner is not None and (self._refresh_task is None or self._refresh_task.done()):
            self._refresh_task = asyncio.create_task(self._refresh_weights())
        return await future

    async def _answer_after_window(self) -> None:
        await asyncio.sleep(self.config.pipeline.inference_batch_window_ms / 1000.0)
        self._answer()

    def _answer(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        self.batch_sizes.append(len(batch))
        for deterministic in (False, True):  # one forward pass per sampling mode
            group = [item for item in batch if item[1] == deterministic]
            if not group:
                continue
            with torch.inference_mode():
                stacked = {
                    key: torch.as_tensor(np.stack([obs[key] for obs, _, _ in group])).to(
                        self.device
                    )
                    for key in group[0][0]
                }
                chunks = self.policy.act(stacked, deterministic=deterministic).float().cpu()
            for (_, _, future), chunk in zip(group, chunks.numpy(), strict=True):
                if not future.done():
                    future.set_result((chunk.astype(np.float32), self.weights.version))

    async def _refresh_weights(self) -> None:
        """Fetch the newest snapshot from the learner (at most one request in flight); the
        learner sends a complete one when this server is not on a delta's base version."""
        snapshot = await self.learner.latest_weights.remote(self.weights.version)
        if snapshot is not None:
            self.weights.apply(snapshot)

    async def stats(self) -> dict[str, float]:
        sizes = list(self.batch_sizes)
        return {
            "mean_batch": float(np.mean(sizes)) if sizes else 0.0,
            "max_batch": float(max(sizes)) if sizes else 0.0,
            "weight_version": float(self.weights.version),
            "on_gpu": float(self.device.type == "cuda"),
        }


class RayHandle:
    """A chunk request in flight to the server, as `rollout/chunking.py` polls it."""

    def __init__(self, reference: Any) -> None:
        self.reference = reference

    def done(self) -> bool:
        ready, _ = ray.wait([self.reference], timeout=0)
        return bool(ready)

    def result(self, timeout: float | None = None) -> tuple[np.ndarray, int]:
        ready, _ = ray.wait([self.reference], timeout=timeout)
        if not ready:
            raise ray.exceptions.GetTimeoutError(
                f"no action chunk from the inference server within {timeout} s "
                "(run.remote_timeout_s)"
            )
        chunk, version = ray.get(self.reference)
        return chunk, int(version)


class RemotePolicySource:
    """The env worker's side of remote inference: executes returned chunks step by step and
    asks for the next one when `prefetch_steps` actions remain, guided with
    `pipeline.chunking=rtc` (`rollout/chunking.py`)."""

    source = "policy"

    def __init__(
        self,
        server: Any,
        timeout_s: float,
        deterministic: bool = False,
        settings: ChunkSettings | None = None,
    ) -> None:
        self.server = server
        self.deterministic = deterministic
        self.schedule = ChunkScheduler(settings or ChunkSettings(), timeout_s)

    @property
    def chunks(self) -> ChunkQueue:
        return self.schedule.queue

    @property
    def version(self) -> int:
        return self.schedule.version

    def load_weights(self, version: int, state_dict: dict[str, torch.Tensor]) -> None:
        self.cut()  # the server holds the weights; a new version drops old chunks

    def reset(self) -> None:
        self.cut()

    def cut(self) -> None:
        """Drop the rest of the chunk and forget a request in flight (stale: made before)."""
        self.schedule.cut()

    def _submit(self, request: ChunkRequest) -> RayHandle:
        return RayHandle(
            self.server.act.remote(
                request.observation, self.deterministic, request.previous, request.delay_steps
            )
        )

    def decide(self, observation: Observation) -> Decision:
        action = self.schedule.next_action(observation, self._submit)
        queue = self.schedule.queue
        return Decision(
            action, action, self.version, chunk_id=queue.chunk_id, chunk_delay=queue.chunk_delay
        )
