"""Real-time chunking (`pipeline.chunking=rtc`): the guidance weights, guided chunks that keep
the actions still running, the delay bookkeeping of the chunk scheduler, and what the
episode and the store record of it."""

from __future__ import annotations

from concurrent.futures import Future

import numpy as np
import pytest
import torch

from userl.config.loader import load_config
from userl.config.validation import validate
from userl.core.errors import ConfigError
from userl.core.specs import ObservationSpec
from userl.core.types import EpisodeBuilder
from userl.data.store import decode_episode, encode_episode
from userl.policies import build_policy
from userl.policies.flow import FlowGPolicyConfig, FlowTPolicyConfig
from userl.policies.rtc import guidance_weight, guided_flow, rtc_weights
from userl.rollout.chunking import (
    ChunkRequest,
    ChunkScheduler,
    ChunkSettings,
    compute_chunk,
)
from userl.rollout.chunks import boundary_jump

STATE_DIM, ACTION_DIM, HORIZON = 6, 3, 10


def test_weights_are_hard_on_the_delay_then_decay_to_zero_past_the_overlap():
    weights = rtc_weights(HORIZON, delay_steps=2, overlap=6)
    assert weights[:2].tolist() == [1.0, 1.0]
    soft = weights[2:6]
    assert np.all(soft > 0) and np.all(soft < 1) and np.all(np.diff(soft) < 0)
    assert weights[6:].tolist() == [0.0] * 4
    assert rtc_weights(HORIZON, delay_steps=9, overlap=3).tolist() == [1.0] * 3 + [0.0] * 7


def test_the_guidance_weight_is_clipped():
    assert guidance_weight(0.0, 5.0) == 5.0
    assert guidance_weight(0.05, 5.0) == 5.0
    assert guidance_weight(0.5, 5.0) == pytest.approx(2.0)  # (tau^2 + (1-tau)^2) / (tau (1-tau))


def test_guidance_pulls_a_linear_flow_onto_the_target_where_weighted():
    """v = -x (a flow to 0): guided with weight 1 on the first half toward 1, the first half
    ends far closer to 1 than the flow alone; the unweighted rest is the flow's own answer."""
    target, start = torch.ones(1, 8), torch.full((1, 8), 0.5)
    weights = torch.tensor([[1.0] * 4 + [0.0] * 4])
    x = guided_flow(lambda x, tau: -x, start, 20, target, weights, 5.0)
    unguided = guided_flow(lambda x, tau: -x, start, 20, target, weights * 0, 5.0)
    assert torch.all(1 - x[0, :4] < 0.3 * (1 - unguided[0, :4]))
    assert torch.allclose(x[0, 4:], unguided[0, 4:])


def flow(config_class: type, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    cfg = config_class(chunk_size=HORIZON, flow_steps=5)
    return build_policy(cfg, ObservationSpec(STATE_DIM), ACTION_DIM).eval()


@pytest.mark.parametrize("config_class", [FlowGPolicyConfig, FlowTPolicyConfig])
def test_rtc_keeps_the_delayed_actions_and_joins_closer_than_prefetch(config_class):
    """Over seeds of a random-weight chunked flow: the new chunk's first d actions are the
    running chunk's, and the jump where the chunks join (the last kept action to the first
    new one executed) is smaller than a fresh (prefetched) chunk's."""
    delay, remaining_steps = 2, 4
    rtc_jumps, prefetch_jumps = [], []
    for seed in range(4):
        policy = flow(config_class, seed)
        rng = np.random.default_rng(seed)
        first = {"state": rng.standard_normal(STATE_DIM).astype(np.float32)}
        later = {"state": rng.standard_normal(STATE_DIM).astype(np.float32)}
        running = compute_chunk(policy, ChunkRequest(first), True, 5.0)
        remaining = running[HORIZON - remaining_steps :]
        fresh = compute_chunk(policy, ChunkRequest(later), True, 5.0)
        guided = compute_chunk(policy, ChunkRequest(later, remaining, delay), True, 5.0)
        assert guided.shape == (HORIZON, ACTION_DIM)
        np.testing.assert_array_equal(guided[:delay], remaining[:delay])
        prefetch_jumps.append(np.abs(fresh[delay] - remaining[delay - 1]).max())
        rtc_jumps.append(np.abs(guided[delay] - remaining[delay - 1]).max())
    assert np.mean(rtc_jumps) < np.mean(prefetch_jumps)


def test_a_chunked_flow_learns_chunk_labels_under_a_mask():
    policy = flow(FlowGPolicyConfig, 0).train()
    obs = {"state": torch.randn(4, STATE_DIM)}
    labels = torch.rand(4, HORIZON, ACTION_DIM) * 2 - 1
    mask = torch.ones(4, HORIZON)
    mask[:, 5:] = 0
    loss = policy.imitation_loss(obs, labels, mask=mask)
    loss.backward()
    assert torch.isfinite(loss) and policy.velocity.gate.bias.grad is not None
    assert policy.act(obs).shape == (4, HORIZON, ACTION_DIM)


def test_rtc_needs_a_policy_acting_in_chunks_and_sac_flow_single_actions():
    with pytest.raises(ConfigError, match="pipeline.chunking=rtc needs a flow policy acting"):
        load_config(["algo=hg_dagger", "policy=flow_g", "pipeline.chunking=rtc"])
    good = load_config(
        ["algo=hg_dagger", "policy=flow_g", "policy.chunk_size=8", "pipeline.chunking=rtc"]
    )
    assert validate(good) is None
    with pytest.raises(ConfigError, match="algo=sac_flow needs single actions"):
        load_config(["algo=sac_flow", "policy=flow_g", "policy.chunk_size=8"])


class ManualHandle:
    """A chunk request the test completes by hand."""

    def __init__(self, chunk: np.ndarray) -> None:
        self.future: Future = Future()
        self.chunk = chunk

    def finish(self) -> None:
        self.future.set_result((self.chunk, 7))

    def done(self) -> bool:
        return self.future.done()

    def result(self, timeout: float | None = None) -> tuple[np.ndarray, int]:
        return self.future.result(timeout=timeout)


def chunk_of(start: float) -> np.ndarray:
    return (start + np.arange(6, dtype=np.float32))[:, None]


def test_the_delay_holds_a_finished_chunk_for_its_steps_and_records_the_realised_d():
    settings = ChunkSettings(chunking="rtc", prefetch_steps=5, delay_steps=2)
    schedule = ChunkScheduler(settings, timeout_s=5.0)
    requests: list[ChunkRequest] = []
    handles = [ManualHandle(chunk_of(0.0)), ManualHandle(chunk_of(100.0))]

    def submit(request: ChunkRequest) -> ManualHandle:
        requests.append(request)
        handle = handles[len(requests) - 1]
        handle.finish()  # computed at once: only the test delay holds it back
        return handle

    obs = {"state": np.zeros(1, np.float32)}
    schedule.settings = ChunkSettings(chunking="rtc", prefetch_steps=0, delay_steps=0)
    assert float(schedule.next_action(obs, submit)[0]) == 0.0  # the first chunk, no delay
    schedule.settings = settings
    assert requests[0].previous is None  # nothing runs yet: a fresh chunk
    assert float(schedule.next_action(obs, submit)[0]) == 1.0  # 5 remain: asked for now
    assert requests[1].delay_steps == 2
    np.testing.assert_array_equal(requests[1].previous[:, 0], [1, 2, 3, 4, 5])
    assert float(schedule.next_action(obs, submit)[0]) == 2.0  # held: 1 step of 2 passed
    assert schedule.queue.chunk_id == 0
    action = schedule.next_action(obs, submit)  # 2 steps passed: installed, 2 skipped
    assert float(action[0]) == 102.0
    assert (schedule.queue.chunk_id, schedule.queue.chunk_delay) == (1, 2)
    assert schedule.version == 7 and schedule.realised_delays == [0, 2]
    assert schedule.expected_delay() == 2


def test_running_dry_waits_out_the_delay_and_skips_only_executed_steps(monkeypatch):
    from userl.rollout import chunking

    slept: list[float] = []
    monkeypatch.setattr(chunking.time, "sleep", slept.append)
    settings = ChunkSettings(prefetch_steps=0, delay_steps=3, control_period_s=0.1)
    schedule = ChunkScheduler(settings, timeout_s=5.0)
    handle = ManualHandle(chunk_of(0.0))
    handle.finish()
    action = schedule.next_action({"state": np.zeros(1, np.float32)}, lambda request: handle)
    assert float(action[0]) == 0.0  # nothing ran meanwhile: nothing skipped
    assert slept == [pytest.approx(0.3)] and schedule.queue.chunk_delay == 0


def test_the_episode_and_the_store_keep_chunk_ids_and_delays_and_old_files_load():
    builder = EpisodeBuilder("r0", "t", {"state": np.zeros(2, np.float32)})
    for step, (chunk, delay) in enumerate([(0, 0), (0, 0), (1, 2), (-1, -1)]):
        builder.add(
            action=np.zeros(7, np.float32),
            policy_action=np.zeros(7, np.float32),
            reward=0.0,
            next_observation={"state": np.full(2, step, np.float32)},
            terminated=False,
            truncated=step == 3,
            intervened=chunk < 0,
            policy_version=0,
            success=False,
            chunk_id=chunk,
            chunk_delay=delay,
        )
    members = encode_episode(builder.build())
    episode = decode_episode(members)
    assert episode.chunk_ids.tolist() == [0, 0, 1, -1]
    assert episode.chunk_delays.tolist() == [0, 0, 2, -1]
    older = {k: v for k, v in members.items() if k not in ("chunk_ids", "chunk_delays")}
    assert decode_episode(older).chunk_ids is None


def test_pi0_rtc_keeps_the_delayed_actions():
    pytest.importorskip("transformers", reason="policy=pi0 needs the vla extra")
    from userl.core.specs import ImageSpec

    cfg = load_config(["policy=pi0_tiny", "algo=hg_dagger"]).policy
    cfg.init_seed = 0
    spec = ObservationSpec(8, (ImageSpec("front", 32, 32),), "pick it up")
    torch.manual_seed(0)
    policy = build_policy(cfg, spec, 7).eval()
    obs = {"state": np.zeros(8, np.float32), "front": np.zeros((32, 32, 3), np.uint8)}
    running = compute_chunk(policy, ChunkRequest(obs), True, 5.0)
    remaining = np.clip(running[-4:] + 0.3, -1, 1)  # a running chunk unlike this one
    guided = compute_chunk(policy, ChunkRequest(obs, remaining, 2), True, 5.0)
    assert guided.shape == running.shape and np.isfinite(guided).all()
    np.testing.assert_array_equal(guided[:2], remaining[:2])
    # the soft-masked overlap is pulled toward the running chunk, through the action expert
    assert np.abs(guided[2:4] - remaining[2:]).mean() < np.abs(running[2:4] - remaining[2:]).mean()


def test_the_boundary_jump_is_the_largest_change_where_chunks_join():
    actions = np.array([[0.0], [0.1], [0.9], [1.0], [0.0]], np.float32)
    assert boundary_jump(actions, np.array([0, 0, 1, 1, -1])) == pytest.approx(0.8)
    assert boundary_jump(actions, np.array([0, 0, 0, 0, 0])) == 0.0


def test_bench_vla_chunking_runs_three_settings_and_reads_back_waits_and_jumps(tmp_path):
    from userl.benchmarks import vla
    from userl.data.store import EpisodeStore

    options, overrides = vla.parse(["chunking=rtc", "tasks=pick_place", "prefetch_steps=4"])
    seen: list[list[str]] = []

    def fake_run(run: list[str]) -> dict:
        seen.append(run)
        run_dir = tmp_path / str(len(seen))
        builder = EpisodeBuilder("r0", "pick_place", {"state": np.zeros(2, np.float32)})
        builder.add(
            action=np.zeros(7, np.float32),
            policy_action=np.zeros(7, np.float32),
            reward=0.0,
            next_observation={"state": np.zeros(2, np.float32)},
            terminated=True,
            truncated=False,
            intervened=False,
            policy_version=0,
            success=True,
        )
        episode = builder.build({"action_wait_ms_p99": 10.0 * len(seen)})
        episode.info["chunk_boundary_jump"] = 1.0 / len(seen)
        EpisodeStore(run_dir / "episodes").create().write(episode)
        return {"run": str(run_dir), "online_success": 0.5}

    result = vla_chunking_result(options, overrides, tmp_path, fake_run)
    assert [(r["chunking"], r["delay_ms"]) for r in result["rows"]] == [
        ("prefetch", 0.0),
        ("prefetch", 300.0),
        ("rtc", 300.0),
    ]
    assert "pipeline.chunking=rtc" in seen[2] and "robot.realtime=true" in seen[2]
    assert "pipeline.chunk_prefetch_steps=4" in seen[2]
    assert result["rows"][2]["action_wait_ms_p99"] == 30.0
    summary = result["chunking"]["pick_place"]
    assert summary["jump_reduction"] == pytest.approx(1 - (1 / 3) / (1 / 2))
    assert summary["success_vs_no_delay"] == 0.0
    assert "wait p99 ms" in vla.table(result)


def vla_chunking_result(options, overrides, root, one_run):
    from userl.benchmarks import vla, vla_chunking

    return vla_chunking.result(options, overrides, root, vla.run_overrides, one_run)


@pytest.mark.parametrize(
    "argument, named",
    [
        ("chunking=fast", "chunking=fast"),
        ("chunking=prefetch", "chunking=prefetch"),
        ("inference_delay_ms=-1", "inference_delay_ms=-1"),
        ("prefetch_steps=two", "prefetch_steps=two"),
    ],
)
def test_bench_vla_chunking_refuses_a_bad_option_before_any_run(argument, named):
    from userl.benchmarks import vla

    arguments = ["chunking=rtc", argument] if "chunking=" not in argument else [argument]
    with pytest.raises(ConfigError, match=named):
        vla.parse(arguments)


def test_waits_in_motion_are_told_apart_from_the_first_chunks_wait():
    from userl.rollout.chunks import ChunkQueue, running_wait_metrics

    queue = ChunkQueue()
    queue.requested()  # nothing runs: the arm waits at rest
    queue.start_wait()
    queue.receive(np.zeros((3, 1), np.float32))
    queue.pop()
    queue.requested()  # asked for in motion, arrives before the queue runs dry
    queue.receive(np.zeros((3, 1), np.float32))
    assert len(queue.drain_waits_ms()) == 2
    assert queue.drain_running_waits_ms() == [0.0]
    assert running_wait_metrics([]) == {"action_wait_ms_running_p99": 0.0}
