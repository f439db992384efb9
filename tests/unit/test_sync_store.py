"""The sync pipeline and the disk: an episode the learner cannot write (its `OSError`, as
Ray passes it on) stops the run on one line naming it and every later one of the batch,
never claimed stored; any other failure is not called a disk fault. Room is measured on the
learner's store, or on the folder that will hold it."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import ray

from tests.unit.test_store import make_episode
from userl.core.types import Episode
from userl.runtime.disk_space import DiskShort
from userl.runtime.pipelines import room_in_store, store_episodes


def full_disk(cause: BaseException, as_cause: bool) -> ray.exceptions.RayTaskError:
    error = ray.exceptions.RayTaskError("Learner.add_episode", "Traceback ...", cause)
    return error.as_instanceof_cause() if as_cause else error


@pytest.mark.parametrize("as_cause", [False, True])
def test_an_episode_the_learner_cannot_write_is_named_with_the_rest_of_its_batch(
    as_cause: bool,
) -> None:
    episodes = [make_episode(steps=3, robot_id=f"robot_{i}") for i in range(3)]
    stored: list[Episode] = []

    def add(episode: Episode) -> None:
        if stored:
            cause = OSError(errno.ENOSPC, "No space left on device", "runs/x/episodes/e.npz")
            raise full_disk(cause, as_cause)
        stored.append(episode)

    with pytest.raises(DiskShort) as caught:
        store_episodes(add, episodes)
    [line] = str(caught.value).splitlines()
    assert caught.value.unwritten == 2
    assert "No space left on device" in line
    assert episodes[0].episode_id not in line
    for episode in episodes[1:]:
        assert f"{episode.robot_id}'s episode {episode.episode_id} of 3 steps" in line


def test_a_failure_that_is_not_the_disk_passes_through_unchanged() -> None:
    for error in (
        ray.exceptions.GetTimeoutError("the learner did not answer"),  # a TimeoutError
        full_disk(ValueError("not a disk fault"), as_cause=False),
    ):

        def add(episode: Episode, error: BaseException = error) -> None:
            raise error

        with pytest.raises(type(error)):
            store_episodes(add, [make_episode()])


def test_stored_episodes_give_their_steps() -> None:
    assert store_episodes(lambda episode: None, [make_episode(steps=3), make_episode(5)]) == 8


def test_room_is_measured_where_the_store_is_or_will_be(tmp_path: Path) -> None:
    store = tmp_path / "run" / "episodes"
    assert room_in_store(None, store, 1, 0.0) is None
    line = room_in_store(None, store, 1, 1e12)
    assert line is not None and str(tmp_path) in line and "run.min_free_disk_mb=1e+12" in line
