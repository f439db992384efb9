"""The episode store: atomic writes, round trip, damaged files reported and skipped."""

from pathlib import Path

import numpy as np

from userl.core.types import Episode, EpisodeBuilder
from userl.data.store import EpisodeStore, read_episode_file


def make_episode(
    steps: int = 5, robot_id: str = "robot_0", intervened_at: int = -1, with_image: bool = False
) -> Episode:
    def observation(t: int) -> dict[str, np.ndarray]:
        obs = {"state": np.full(4, t, dtype=np.float32)}
        if with_image:
            obs["front"] = np.full((8, 8, 3), t, dtype=np.uint8)
        return obs

    builder = EpisodeBuilder(robot_id, "peg_insertion", observation(0))
    for t in range(steps):
        builder.add(
            action=np.full(7, 0.1 * t),
            policy_action=np.zeros(7),
            reward=float(t == steps - 1),
            next_observation=observation(t + 1),
            terminated=t == steps - 1,
            truncated=False,
            intervened=t == intervened_at,
            policy_version=t,
            success=t == steps - 1,
        )
    return builder.build(info={"return": 1.0})


def test_round_trip(tmp_path: Path) -> None:
    store = EpisodeStore(tmp_path / "episodes").create()
    original = make_episode(with_image=True, intervened_at=2)
    path = store.write(original)
    loaded = read_episode_file(path)
    assert loaded.episode_id == original.episode_id
    assert loaded.success and loaded.robot_id == "robot_0"
    np.testing.assert_array_equal(loaded.observations["front"], original.observations["front"])
    np.testing.assert_array_equal(loaded.actions, original.actions)
    np.testing.assert_array_equal(loaded.intervened, original.intervened)
    np.testing.assert_array_equal(loaded.policy_versions, original.policy_versions)
    assert loaded.step_success.tolist() == [False] * 4 + [True]  # the per-step labels
    assert not list((tmp_path / "episodes").glob("*.partial"))


def test_labels_are_optional_and_checked(tmp_path: Path) -> None:
    import pytest

    from userl.data.store import decode_episode, encode_episode

    store = EpisodeStore(tmp_path).create()
    unlabelled = make_episode()
    unlabelled.step_success = None  # written before labels existed, or imported
    assert read_episode_file(store.write(unlabelled)).step_success is None
    members = encode_episode(make_episode())
    members["step_success"] = members["step_success"][:-1]
    with pytest.raises(ValueError, match="step_success has 4 rows, not 5"):
        decode_episode(members)


def test_damaged_and_truncated_files_are_skipped(tmp_path: Path) -> None:
    store = EpisodeStore(tmp_path).create()
    paths = [store.write(make_episode(robot_id=f"robot_{i % 2}")) for i in range(4)]
    data = paths[0].read_bytes()
    paths[0].write_bytes(data[: len(data) // 2])  # truncated
    damaged = bytearray(paths[1].read_bytes())
    damaged[200:210] = b"\xff" * 10  # flipped bytes inside a member
    paths[1].write_bytes(bytes(damaged))
    (tmp_path / "leftover.partial").write_bytes(b"half")  # a crash mid-write
    report = store.load()
    assert len(report.episodes) == 2
    assert {name for name, _ in report.unreadable} == {paths[0].name, paths[1].name}


def test_stats(tmp_path: Path) -> None:
    store = EpisodeStore(tmp_path).create()
    for i in range(3):
        store.write(make_episode(steps=4, robot_id=f"robot_{i % 2}", intervened_at=1))
    stats = store.stats()
    assert stats["episodes"] == 3
    assert stats["transitions"] == 12
    assert stats["per_robot_episodes"] == {"robot_0": 2, "robot_1": 1}
    assert stats["intervened_steps"] == 3
    assert stats["unreadable_files"] == 0


def test_index_is_rebuilt_when_missing_damaged_or_stale(tmp_path: Path) -> None:
    store = EpisodeStore(tmp_path).create()
    for _ in range(3):
        store.write(make_episode())
    entries, rebuilt = store.checked_index()
    assert len(entries) == 3 and not rebuilt
    torn = store.index.path.read_text()[:-20]  # a torn last line
    store.index.path.write_text(torn)
    assert store.stats()["index"].startswith("stale")
    assert store.index.path.read_text() == torn  # stats is read-only
    store.checked_index()
    assert store.checked_index() == (store.checked_index()[0], False)  # healed
    store.index.path.unlink()
    stats = store.stats()
    assert stats["index"].startswith("stale") and stats["episodes"] == 3
    assert not store.index.path.exists()


def test_a_folder_without_episodes_or_index_is_not_a_store(tmp_path: Path) -> None:
    (tmp_path / "meta").mkdir()
    assert not EpisodeStore(tmp_path).is_store()
    EpisodeStore(tmp_path).stats()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["meta"]  # nothing written
    store = EpisodeStore(tmp_path / "episodes").create()
    store.write(make_episode())
    assert store.is_store()


def test_a_swapped_file_fails_its_index_checksum(tmp_path: Path) -> None:
    """A file that is a valid archive but not what was written is caught by the SHA-256."""
    store = EpisodeStore(tmp_path).create()
    first = store.write(make_episode(steps=3))
    second = store.write(make_episode(steps=4))
    first.write_bytes(second.read_bytes())
    report = store.load()
    assert [name for name, _ in report.unreadable] == [first.name]
    assert "SHA-256" in report.unreadable[0][1]
    assert len(report.episodes) == 1
