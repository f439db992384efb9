"""Real-time chunking on the simulated pick_place: a chunked flow_t acting through the local
policy copy with an injected inference delay (`pipeline.inference_delay_ms`), its chunks
computed on their own thread while the arm runs; the episode keeps which chunk each executed
action came from and that chunk's realised delay."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from userl.config.loader import load_config
from userl.envs.factory import make_env
from userl.policies import build_policy
from userl.rollout.action_sources import PolicySource
from userl.rollout.chunking import ChunkSettings
from userl.rollout.episode import run_episode

pytestmark = pytest.mark.integration

STEPS, HORIZON = 24, 6


@pytest.mark.parametrize("chunking", ["prefetch", "rtc"])
def test_flow_t_on_pick_place_with_an_injected_delay(chunking: str) -> None:
    config = load_config(
        [
            "task=pick_place",
            "algo=hg_dagger",
            "policy=flow_t",
            f"policy.chunk_size={HORIZON}",
            f"task.episode_steps={STEPS}",
            f"pipeline.chunking={chunking}",
            "pipeline.inference_delay_ms=200",  # 2 steps at 10 Hz
            "pipeline.chunk_prefetch_steps=3",
        ]
    )
    env = make_env(config, seed=0)
    try:
        torch.manual_seed(0)
        policy = build_policy(config.policy, env.observation_spec, env.action_space.shape[0])
        settings = ChunkSettings.of(config.pipeline, env.task.control_hz, local=True)
        assert (settings.delay_steps, settings.prefetch_steps) == (2, 3)
        source = PolicySource(policy, deterministic=True, settings=settings, timeout_s=30.0)
        episode = run_episode(env, source, "robot_0", seed=0)
    finally:
        env.close()
    assert len(episode) == STEPS
    ids, delays = episode.chunk_ids, episode.chunk_delays
    assert ids is not None and delays is not None
    assert ids[0] == 0 and delays[0] == 0  # the first chunk: nothing ran before it
    later = np.flatnonzero(ids > 0)
    # held back 2 steps, never less; 3 when the thread had not finished by then (the queue
    # of 3 ran dry and the arm waited)
    assert len(later) and np.all((delays[later] >= 2) & (delays[later] <= 3))
    assert np.all(np.diff(ids) >= 0) and np.all(np.diff(ids) <= 1)  # chunks in order
    assert episode.info["chunk_boundary_jump"] >= 0.0
    assert np.isfinite(episode.actions).all()
