"""The pipeline modes' configs, registered here, apart from their Ray code
(`runtime/pipelines.py`), so that loading a config never imports Ray."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from userl.core.registry import PIPELINES, ComponentConfig


@dataclass
class PipelineConfig(ComponentConfig):
    """Fields of every pipeline mode."""

    weight_sync: Literal["full", "delta"] = "full"  # delta: only the tensors that changed travel
    inference: Literal["local", "remote"] = "local"  # a policy copy per env worker | one server
    inference_batch_window_ms: float = 2.0  # remote: requests this close share a forward pass
    inference_max_batch: int = 16  # remote: a full batch is answered at once
    chunk_prefetch_steps: int = 2  # ask for the next chunk when this many actions remain (local:
    # with rtc or an inference delay; else the local copy computes when the chunk is spent)

    chunking: Literal["prefetch", "rtc"] = "prefetch"  # prefetch: the next chunk replaces the
    # queue as it comes; rtc: it is guided to keep the actions still running (real-time
    # chunking, `policies/rtc.py`; a flow acting in chunks)

    rtc_max_guidance: float = 5.0  # rtc: clip of the guidance weight (the paper's beta)
    inference_delay_ms: float = 0.0  # a test delay: a chunk is handed over no sooner than
    # this after it was asked for, counted in control steps (benchmarks and tests)


@dataclass
class AsyncPipelineConfig(PipelineConfig):
    """Env workers and the learner run at once; weights flow as versioned snapshots."""

    publish_every_updates: int = 20  # learner publishes a weight snapshot this often
    publish_every_s: float = 0.0  # and at least this often in seconds (0: by updates only)
    weight_poll_interval_s: float = 0.1  # env worker asks for new weights at most this often
    idle_wait_s: float = 0.01  # learner sleep while the update-to-data ceiling is reached
    max_unacknowledged_episodes: int = 3  # the robot holds while this many await the learner
    resend_after_s: float = 2.0  # while holding, spooled episodes are shipped again this often


@dataclass
class SyncPipelineConfig(PipelineConfig):
    """Collect an episode, train on it, sync weights, repeat: the paper's baseline."""


PIPELINES.register_config("async", AsyncPipelineConfig)
PIPELINES.register_config("sync", SyncPipelineConfig)
