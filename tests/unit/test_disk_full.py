"""Nothing lost when the disk fills: a filesystem stub (`FullDisk`: every fsync raises
ENOSPC, free space reads as nothing) in place of a small tmpfs, which cannot be mounted
without root. Every finished episode ends in the store, in a complete spool file, or named in
the stop line, never only as a 0-byte `.partial`; a later start recovers them. Ray is not
started: the learner's acknowledgements are stubbed (`FakeLearner`)."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest
import ray

import userl.runtime.disk_space as disk_space
import userl.runtime.outbox as outbox_module
from tests.unit.test_store import make_episode
from userl.config.loader import load_config
from userl.core.errors import ConfigError
from userl.core.specs import ImageSpec, ObservationSpec
from userl.core.types import Episode
from userl.data.store import EpisodeStore
from userl.runtime.disk_space import DiskGate, DiskShort, expected_episode_bytes
from userl.runtime.outbox import Outbox


class FullDisk:
    """While `full`, every fsync (the step every crash-safe write ends with) fails with
    ENOSPC and the free space reads as 0 bytes; otherwise the real calls run."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = False
        real_fsync = os.fsync

        def fsync(descriptor: int) -> None:
            if self.full:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            real_fsync(descriptor)

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(disk_space, "free_bytes", lambda folder: 0 if self.full else 2**40)


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> FullDisk:
    return FullDisk(monkeypatch)


class Ack:
    """A stand-in for the reference `learner.add_episode.remote` returns."""

    def __init__(self, stored: bool) -> None:
        self.stored = stored


class FakeLearner:
    """Stores what it is sent in `store` while `can_store`; otherwise the ack is an error."""

    def __init__(self, store: EpisodeStore, can_store: bool = True) -> None:
        self.store = store
        self.can_store = can_store
        self.add_episode = self  # `learner.add_episode.remote(episode)`

    def remote(self, episode: Episode) -> Ack:
        if self.can_store:
            self.store.write(episode)
        return Ack(self.can_store)


@pytest.fixture(autouse=True)
def stub_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    """`ray.wait` / `ray.get` on `Ack`s: every ack is ready; a refused one raises."""

    def wait(refs: list[Ack], num_returns: int = 1, timeout: float = 0) -> tuple[list, list]:
        return list(refs), []

    def get(ref: Ack, timeout: float = 0) -> None:
        if not ref.stored:
            raise ray.exceptions.RayError()

    monkeypatch.setattr(outbox_module.ray, "wait", wait)
    monkeypatch.setattr(outbox_module.ray, "get", get)


def episode_files(folder: Path) -> dict[str, int]:
    """Every file in `folder`, name -> size."""
    return {p.name: p.stat().st_size for p in folder.iterdir()} if folder.is_dir() else {}


def stored_ids(folder: Path) -> set[str]:
    return {episode.episode_id for episode in EpisodeStore(folder).load().episodes}


def test_an_episode_the_full_spool_refuses_is_held_named_and_written_once_space_returns(
    tmp_path: Path, disk: FullDisk
) -> None:
    spool_dir, store_dir = tmp_path / "spool" / "robot_0", tmp_path / "episodes"
    learner = FakeLearner(EpisodeStore(store_dir), can_store=False)  # same disk: full too
    outbox = Outbox(str(spool_dir), "robot_0")
    kept = make_episode(steps=5)
    outbox.send(kept, learner)  # written while there was room
    disk.full = True
    lost_if_not_held = make_episode(steps=7)
    outbox.send(lost_if_not_held, learner)

    assert not any(name.endswith(".partial") for name in episode_files(spool_dir))
    assert outbox.unwritten == 1
    held: list[bool] = []
    gate = DiskGate(outbox, episode_bytes=1000, reserve_mb=100, learner_timeout_s=0)
    with pytest.raises(DiskShort) as stop:
        gate.check(lambda: held.append(True))
    line = str(stop.value)
    assert held == [True], "the robot holds before the run stops"
    assert "\n" not in line and stop.value.unwritten == 1
    assert str(spool_dir) in line and "0.0 MB free" in line and "run.min_free_disk_mb" in line
    assert f"robot_0's episode {lost_if_not_held.episode_id} of 7 steps" in line
    assert "No space left on device" in line

    disk.full = False  # space returns before the run's stop flushes the spool
    assert outbox.flush(learner, timeout_s=0) == 2  # the learner still refuses: both spooled
    spooled = {path.stem.rsplit("_", 1)[-1] for path in EpisodeStore(spool_dir).files()}
    assert spooled == {kept.episode_id, lost_if_not_held.episode_id}
    assert outbox.unwritten == 0

    resumed = Outbox(str(spool_dir), "robot_0")  # resume: a new worker on the same spool
    learner.can_store = True
    assert resumed.flush(learner, timeout_s=0) == 0
    assert stored_ids(store_dir) == {kept.episode_id, lost_if_not_held.episode_id}
    assert not EpisodeStore(spool_dir).files()


def test_a_held_episode_the_learner_stores_is_released_and_the_stop_names_only_the_disk(
    tmp_path: Path, disk: FullDisk
) -> None:
    learner = FakeLearner(EpisodeStore(tmp_path / "learner_disk"), can_store=False)
    outbox = Outbox(str(tmp_path / "spool"), "robot_0")
    disk.full = True
    episode = make_episode()
    outbox.send(episode, learner)
    outbox.release_acknowledged()  # refused: shipped again from memory
    disk.full, learner.can_store = False, True  # the learner's own disk takes the resend
    outbox.ship_spooled(learner)
    disk.full = True
    outbox.release_acknowledged()
    assert outbox.unwritten == 0 and len(outbox) == 0
    assert stored_ids(tmp_path / "learner_disk") == {episode.episode_id}
    gate = DiskGate(outbox, episode_bytes=1000, reserve_mb=1, learner_timeout_s=0)
    with pytest.raises(DiskShort) as stop:
        gate.check(lambda: None)
    assert stop.value.unwritten == 0 and "could not be written" not in str(stop.value)


def test_a_short_disk_stops_before_the_robot_moves_naming_folder_free_space_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox = Outbox(str(tmp_path / "spool"), "robot_0")
    monkeypatch.setattr(disk_space, "free_bytes", lambda folder: 50 * 1024 * 1024)
    held: list[bool] = []
    roomy = DiskGate(outbox, episode_bytes=1024 * 1024, reserve_mb=40, learner_timeout_s=0)
    roomy.check(lambda: held.append(True))
    assert not held
    short = DiskGate(outbox, episode_bytes=20 * 1024 * 1024, reserve_mb=40, learner_timeout_s=0)
    with pytest.raises(
        DiskShort, match=r"only 50\.0 MB free in .*spool.*20\.0 MB an episode "
    ) as stop:
        short.check(lambda: held.append(True))
    assert held == [True] and "run.min_free_disk_mb=40" in str(stop.value)


def test_the_expected_episode_size_covers_a_written_episode(tmp_path: Path) -> None:
    episode = make_episode(steps=5, with_image=True)
    path = EpisodeStore(tmp_path).create().write(episode)
    spec = ObservationSpec(state_dim=4, images=(ImageSpec("front", 8, 8),))
    assert expected_episode_bytes(spec, action_dim=7, steps=5) >= path.stat().st_size


def test_min_free_disk_mb_has_a_declared_range() -> None:
    assert load_config(["run.min_free_disk_mb=250"]).run.min_free_disk_mb == 250
    with pytest.raises(ConfigError, match="run.min_free_disk_mb"):
        load_config(["run.min_free_disk_mb=-1"])


def test_a_disk_stop_survives_rays_pickling() -> None:
    import pickle

    stop = pickle.loads(pickle.dumps(DiskShort("robot_0 stopped", unwritten=2)))
    assert str(stop) == "robot_0 stopped" and stop.unwritten == 2


def test_a_worker_stopped_by_the_disk_is_not_restarted_and_ends_the_run_on_its_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from userl.runtime import pipelines

    cause = DiskShort("robot_0 stopped before its next episode: only 1.0 MB free", 1)
    wrapped = ray.exceptions.RayTaskError("EnvWorker.run", "Traceback ...\n", cause)

    def get(reference: Any) -> None:
        raise wrapped

    killed: list[Any] = []
    monkeypatch.setattr(pipelines.ray, "get", get)
    monkeypatch.setattr(pipelines.ray, "kill", lambda *a, **k: killed.append(a))
    with pytest.raises(DiskShort) as stop:
        pipelines._restart_worker(load_config([]), object(), object(), 0, [0])
    assert stop.value.unwritten == 1 and not killed
