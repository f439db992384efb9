"""Image replay: frames stored once, next observations by reference, across episode ends,
intervention segments and ring wraparound; the memory budget of the image preset."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from userl.core.specs import ImageSpec, ObservationSpec
from userl.core.types import Episode
from userl.data.buffers import ReplayBuffer

ACTION_DIM = 2
SPEC = ObservationSpec(2, (ImageSpec("front", 4, 5), ImageSpec("wrist", 3, 3)))


def make_episode(steps: int, start: int) -> Episode:
    """Every observation row encodes its id in the state and (id % 251, id // 251) in every
    frame's first two pixels, so each frame identifies its step."""
    ids = np.arange(start, start + steps + 1)
    observations = {"state": np.stack([ids, ids], 1).astype(np.float32)}
    for view in SPEC.images:
        frames = np.zeros((steps + 1, view.height_px, view.width_px, 3), np.uint8)
        frames[:, 0, 0, 0] = ids % 251
        frames[:, 0, 1, 0] = ids // 251
        observations[view.name] = frames
    actions = np.repeat(ids[:-1, None], ACTION_DIM, 1).astype(np.float32)
    terminated = np.zeros(steps, bool)
    terminated[-1:] = True
    return Episode(
        robot_id="r",
        task="t",
        observations=observations,
        actions=actions,
        policy_actions=actions.copy(),
        rewards=ids[:-1].astype(np.float32),
        terminated=terminated,
        truncated=np.zeros(steps, bool),
        intervened=(ids[:-1] % 3 == 0),
        policy_versions=np.zeros(steps, np.int64),
        success=True,
    )


def frame_id(frames: np.ndarray) -> np.ndarray:
    return frames[:, 0, 0, 0].astype(np.int64) + 251 * frames[:, 0, 1, 0].astype(np.int64)


def check_consistent(batch: dict) -> None:
    ids = batch["observations"]["state"][:, 0].astype(np.int64)
    np.testing.assert_array_equal(batch["rewards"], ids)
    np.testing.assert_array_equal(batch["next_observations"]["state"][:, 0], ids + 1)
    for view in SPEC.images:
        np.testing.assert_array_equal(frame_id(batch["observations"][view.name]), ids)
        np.testing.assert_array_equal(frame_id(batch["next_observations"][view.name]), ids + 1)
        assert batch["observations"][view.name].dtype == np.uint8


def test_frames_stored_once_per_step():
    buffer = ReplayBuffer(100, SPEC, ACTION_DIM)
    buffer.add_episode(make_episode(10, 0))
    buffer.add_episode(make_episode(7, 1000))
    assert len(buffer) == 17 and buffer.frames_written == 17 + 2  # + one final frame each
    stored = frame_id(buffer.frames["front"][: buffer.frames_written])
    assert stored.tolist() == [*range(11), *range(1000, 1008)]
    check_consistent(buffer.gather(np.arange(17)))
    # no per-transition copy of the views exists
    assert set(buffer.observations) == set(buffer.next_observations) == {"state"}


def test_episode_boundary_next_observation_is_the_final_frame():
    buffer = ReplayBuffer(100, SPEC, ACTION_DIM)
    buffer.add_episode(make_episode(3, 0))
    buffer.add_episode(make_episode(3, 10))
    batch = buffer.gather(np.array([2, 3]))  # last of episode 1, first of episode 2
    assert frame_id(batch["next_observations"]["front"]).tolist() == [3, 11]
    assert frame_id(batch["observations"]["front"]).tolist() == [2, 10]


def test_only_mask_segments_each_keep_their_next_frame():
    buffer = ReplayBuffer(100, SPEC, ACTION_DIM)
    episode = make_episode(12, 0)
    buffer.add_episode(episode, only=episode.intervened)  # steps 0, 3, 6, 9: isolated
    assert len(buffer) == 4 and buffer.frames_written == 8
    batch = buffer.gather(np.arange(4))
    check_consistent(batch)
    assert batch["intervened"].all()


def test_ring_wraparound_and_frame_ring_overwrite():
    buffer = ReplayBuffer(10, SPEC, ACTION_DIM, frame_slack_fraction=0.0)  # 11 frames
    for k in range(7):
        buffer.add_episode(make_episode(4, 100 * k))  # 5 frames each: frames run out first
        assert 0 < len(buffer) <= 10
        live = buffer.gather(buffer._live_slots())
        check_consistent(live)
        ids = live["observations"]["state"][:, 0]
        assert ids[-1] == 100 * k + 3  # the newest transition is always kept
    check_consistent(buffer.sample(64, np.random.default_rng(0)))


@settings(max_examples=40, deadline=None)
@given(
    capacity=st.integers(1, 25),
    slack=st.sampled_from([0.0, 0.1, 1.0]),
    lengths=st.lists(st.integers(0, 30), max_size=8),
    masked=st.booleans(),
)
def test_image_ring_property(capacity, slack, lengths, masked):
    """Any sequence of episodes (whole or intervention-masked): every live transition's
    frames are its own, the newest transitions are the ones kept, and a save/load round trip
    preserves them."""
    buffer = ReplayBuffer(capacity, SPEC, ACTION_DIM, frame_slack_fraction=slack)
    added: list[int] = []
    for i, steps in enumerate(lengths):
        episode = make_episode(steps, 1000 * i)
        mask = episode.intervened if masked else None
        buffer.add_episode(episode, only=mask)
        chosen = np.flatnonzero(mask) if masked else np.arange(steps)
        added += (1000 * i + chosen).tolist()
    assert len(buffer) <= min(capacity, len(added))
    if not masked and len(buffer) == 0:
        assert not added
    if len(buffer):
        live = buffer.gather(buffer._live_slots())
        check_consistent(live)
        assert live["observations"]["state"][:, 0].tolist() == added[-len(buffer) :]
        state = buffer.state_dict()
        restored = ReplayBuffer(capacity, SPEC, ACTION_DIM, frame_slack_fraction=slack)
        restored.load_state_dict(state)
        check_consistent(restored.gather(restored._live_slots()))
        assert len(restored) == len(buffer)


def test_hundred_thousand_two_view_128px_transitions_fit_in_ten_gb():
    spec = ObservationSpec(25, (ImageSpec("front", 128, 128), ImageSpec("wrist", 128, 128)))
    buffer = ReplayBuffer(100_000, spec, 7)  # np.zeros: allocated lazily, never touched here
    assert buffer.nbytes <= 10e9
    per_transition = buffer.nbytes / buffer.capacity
    assert per_transition < 1.02 * 2 * 128 * 128 * 3 + 512  # ~one frame pair per transition
