"""Property-based tests (hypothesis): the action sanitiser and the episode-store reader."""

import math
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from userl.core.specs import WorkspaceBox
from userl.data.store import EpisodeStore, read_episode_file
from userl.envs.action import safe_target, sanitise_action
from userl.geometry import make_pose
from userl.tasks.workspace import Workspace

from .test_store import make_episode

ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True, width=64)
DOWN = np.diag([1.0, -1.0, -1.0])
WORKSPACE = Workspace(
    box=WorkspaceBox((0.5, -0.05, 0.03), (0.6, 0.05, 0.13)),
    reference_quat=make_pose(np.zeros(3), DOWN)[3:],
    max_tilt_rad=math.radians(10),
    max_yaw_rad=math.radians(30),
)


@given(st.lists(ANY_FLOAT, min_size=7, max_size=7))
def test_sanitised_actions_are_finite_and_bounded_or_refused(values: list[float]) -> None:
    clipped, refused = sanitise_action(np.asarray(values))
    if refused:
        assert clipped is None
        assert not all(math.isfinite(v) for v in values)
    else:
        assert np.all(np.isfinite(clipped)) and np.all(np.abs(clipped) <= 1.0)


@given(
    st.lists(st.floats(-1e6, 1e6), min_size=7, max_size=7),
    st.lists(st.floats(-0.2, 0.2), min_size=3, max_size=3),
)
def test_targets_never_leave_the_workspace(values: list[float], offset: list[float]) -> None:
    """Whatever the policy asks, from wherever the arm is, the target lies in the box."""
    clipped, _ = sanitise_action(np.asarray(values))
    current = make_pose(np.array([0.55, 0.0, 0.08]) + np.asarray(offset), DOWN)
    target = safe_target(current, clipped, current, 0.02, 0.1, WORKSPACE)
    assert np.all(np.isfinite(target))
    assert WORKSPACE.box.contains(target[:3])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)), max_size=8),
)
def test_store_reader_survives_any_damage(
    tmp_path: Path, cut: float, flips: list[tuple[float, int]]
) -> None:
    """A damaged file is either read whole and equal, or reported; the others still load."""
    store = EpisodeStore(tmp_path / f"store-{cut}-{len(flips)}").create()
    victim = store.write(make_episode(steps=6, with_image=True))
    original = read_episode_file(victim)
    healthy = store.write(make_episode(steps=3))
    data = bytearray(victim.read_bytes())
    data = data[: max(1, int(len(data) * cut))] if cut < 1.0 else data
    for where, mask in flips:
        data[min(len(data) - 1, int(where * len(data)))] ^= mask
    victim.write_bytes(bytes(data))
    report = store.load()
    names = {name for name, _ in report.unreadable}
    assert healthy.name not in names
    survivors = {e.episode_id: e for e in report.episodes}
    assert read_episode_file(healthy).episode_id in survivors
    if victim.name not in names:  # read back: then it must be the very same episode
        np.testing.assert_array_equal(survivors[original.episode_id].actions, original.actions)


@given(
    env_steps=st.integers(0, 1_000_000),
    utd=st.sampled_from([0.1, 0.25, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 4.0, 20.0]),
)
def test_a_utd_floor_equal_to_the_ceiling_is_reachable(env_steps, utd):
    """The learner stops at the ceiling; a robot waiting for the same floor must go on
    (a floor rounded differently left the robot waiting out the remote timeout)."""
    from userl.runtime.utd import floor_met, update_ceiling

    ceiling = update_ceiling(env_steps, utd)
    assert floor_met(ceiling, env_steps, utd)
    assert ceiling == 0 or not floor_met(ceiling - 1, env_steps, utd)
