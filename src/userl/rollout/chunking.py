"""When the next action chunk is asked for, what it is guided by, and when it is handed over.

`pipeline.chunking` picks how the next chunk relates to the running one (`CHUNKING`):
`prefetch` computes it afresh and lets it replace the queue when it comes (the actions for
the steps that passed meanwhile skipped: a jump where the chunks join); `rtc` (real-time
chunking, `policies/rtc.py`) hands the policy the actions still to run and the delay d it
expects, and the flow keeps the first d of them (they execute during inference) and joins
the rest smoothly. The expected d is the larger of the configured test delay and the last
realised one (the paper's conservative estimate).

`ChunkScheduler` runs this for any action source: it asks when `prefetch_steps` actions
remain, through a `submit` function that returns a handle (a `concurrent.futures.Future`
for a local policy, a wrapped Ray reference for a remote one), and installs the result once
it is done and `delay_steps` control steps have passed since the request
(`pipeline.inference_delay_ms`, a test delay that lets a CPU show the effect). If the queue
runs dry first, the robot waits: for the result and for the rest of the delay in real time
(`control_period_s` per step still owed), and that wait is `time/action_wait_ms`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch

from userl.core.registry import Registry
from userl.core.types import Observation
from userl.policies.rtc import GuidedChunks, guidance_inputs
from userl.rollout.chunks import ChunkQueue

CHUNKING: Registry = Registry("chunking")
"""`pipeline.chunking`: name -> (queue, expected delay) -> the actions to keep, or None."""


@dataclass(frozen=True)
class ChunkRequest:
    """What the next chunk is asked with: the observation and, for `rtc`, the actions still to
    run (r, A) and the delay d in steps that the first of them cover."""

    observation: Observation
    previous: np.ndarray | None = None
    delay_steps: int = 0


@CHUNKING.register("prefetch")
def prefetch(queue: ChunkQueue, delay_steps: int) -> np.ndarray | None:
    """The next chunk ignores the running one."""
    return None


@CHUNKING.register("rtc")
def real_time(queue: ChunkQueue, delay_steps: int) -> np.ndarray | None:
    """The next chunk is guided toward the actions still to run (none: a fresh chunk)."""
    return queue.remaining() if len(queue) else None


@dataclass(frozen=True)
class ChunkSettings:
    """The pipeline's chunking fields, in control steps."""

    chunking: str = "prefetch"
    prefetch_steps: int = 0
    delay_steps: int = 0
    max_guidance: float = 5.0
    control_period_s: float = 0.1

    @classmethod
    def of(cls, pipeline: Any, control_hz: float, local: bool = False) -> ChunkSettings:
        """From `pipeline` at `control_hz`. A local policy copy with `prefetch` and no test
        delay computes in the control loop when its chunk is spent (nothing to overlap)."""
        delay_steps = math.ceil(pipeline.inference_delay_ms * control_hz / 1000.0 - 1e-9)
        overlapped = pipeline.chunking != "prefetch" or delay_steps > 0 or not local
        return cls(
            chunking=pipeline.chunking,
            prefetch_steps=pipeline.chunk_prefetch_steps if overlapped else 0,
            delay_steps=delay_steps,
            max_guidance=pipeline.rtc_max_guidance,
            control_period_s=1.0 / control_hz,
        )

    @property
    def overlapped(self) -> bool:
        """Whether chunks are computed while the robot runs (else in the control loop)."""
        return self.chunking != "prefetch" or self.delay_steps > 0 or self.prefetch_steps > 0


class Handle(Protocol):
    def done(self) -> bool: ...

    def result(self, timeout: float | None = None) -> tuple[np.ndarray, int]:
        """(chunk (H, A), weight version); raises on a timeout."""


class ChunkScheduler:
    """Asks for, holds back and installs chunks into a `ChunkQueue` (see the module)."""

    def __init__(self, settings: ChunkSettings, timeout_s: float) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self.queue = ChunkQueue()
        self.pending: Handle | None = None
        self.version = 0
        self.realised_delays: list[int] = []
        self._delay_served = False  # the robot waited out the test delay with a dry queue

    def expected_delay(self) -> int:
        last = self.realised_delays[-1] if self.realised_delays else 0
        return max(self.settings.delay_steps, last)

    def cut(self) -> None:
        """Drop the queue and forget a request in flight (stale: made before)."""
        self.queue.cut()
        self.pending = None
        self._delay_served = False

    def next_action(
        self, observation: Observation, submit: Callable[[ChunkRequest], Handle]
    ) -> np.ndarray:
        """The action to execute now, asking for and installing chunks as due."""
        queue = self.queue
        if self.pending is None and len(queue) <= self.settings.prefetch_steps:
            if not len(queue):
                queue.start_wait()
            delay = self.expected_delay()
            previous = CHUNKING.get(self.settings.chunking)(queue, delay)
            queue.requested()
            self._delay_served = False
            self.pending = submit(ChunkRequest(observation, previous, delay))
        if self.pending is not None:
            if not len(queue):
                self._wait_out()
            held = queue.steps_since_request < self.settings.delay_steps and not self._delay_served
            if self.pending.done() and not held:
                chunk, self.version = self.pending.result(timeout=0)
                self.pending = None
                queue.receive(chunk)
                self.realised_delays.append(queue.chunk_delay)
        return queue.pop()

    def _wait_out(self) -> None:
        """The queue is dry: wait for the chunk, then for the delay's steps still owed."""
        assert self.pending is not None
        self.queue.start_wait()
        self.pending.result(timeout=self.timeout_s)
        owed = self.settings.delay_steps - self.queue.steps_since_request
        if owed > 0 and not self._delay_served:
            time.sleep(owed * self.settings.control_period_s)
        self._delay_served = True


def compute_chunk(
    policy: Any, request: ChunkRequest, deterministic: bool, max_guidance: float
) -> np.ndarray:
    """A policy's chunk (H, A) for one request: `act`, or `act_guided` when the request
    carries actions to keep (a guided chunk needs autograd, so no inference mode there)."""
    batch = {k: torch.as_tensor(v).unsqueeze(0) for k, v in request.observation.items()}
    parameter = next(iter(policy.parameters()), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    batch = {k: v.to(device) for k, v in batch.items()}
    if request.previous is None or not isinstance(policy, GuidedChunks):
        with torch.inference_mode():
            chunk = policy.act(batch, deterministic=deterministic)[0]
        return np.asarray(chunk.float().cpu().numpy(), np.float32)
    previous, weights = guidance_inputs(
        request.previous, policy.chunk_size, request.delay_steps, request.previous.shape[-1]
    )
    with torch.no_grad():
        chunk = policy.act_guided(
            batch, previous.to(device), weights.to(device), max_guidance, deterministic
        )[0]
    guided = np.asarray(chunk.float().cpu().numpy(), np.float32)
    kept = min(request.delay_steps, len(request.previous), len(guided))
    guided[:kept] = request.previous[:kept]  # the hard mask, exact: these run meanwhile
    return guided
