"""`userl data view`: an episode store or a LeRobot dataset saved as a rerun recording, read
back with rerun's own reader; a path that is neither is one line (exit 2) naming what it is."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from rerun.chunk import RrdReader

from tests.unit.test_store import make_episode
from userl.cli import main
from userl.data.store import EpisodeStore


def rows_by_entity(rrd: Path) -> Counter[str]:
    """Rows logged per entity path in the .rrd, as rerun reads the file."""
    rows: Counter[str] = Counter()
    for chunk in RrdReader(rrd).stream():
        rows[chunk.entity_path] += chunk.num_rows
    return rows


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_store_is_saved_with_every_episode_and_its_views(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = EpisodeStore(tmp_path / "episodes").create()
    store.write(make_episode(steps=5, with_image=True, intervened_at=2))
    store.write(make_episode(steps=3, with_image=True))
    store.write(make_episode(steps=4, with_image=True))
    before = snapshot(store.root)
    out = tmp_path / "view.rrd"

    assert main(["data", "view", str(store.root), f"out={out}"]) == 0

    assert snapshot(store.root) == before  # read-only
    assert '"episodes": 3' in capsys.readouterr().out
    rows = rows_by_entity(out)
    episodes = {path.split("/")[2] for path in rows if path.startswith("/episodes/")}
    assert episodes == {"0", "1", "2"}
    steps = {"0": 5, "1": 3, "2": 4}
    for number, count in steps.items():
        root = f"/episodes/{number}"
        assert rows[f"{root}/camera/front"] == count + 1  # one image per observation
        assert rows[f"{root}/state"] == count + 1
        for series in ("action", "policy_action", "reward", "intervened", "step_success"):
            assert rows[f"{root}/{series}"] == count, series
        assert rows[f"{root}/success"] == 1
        assert rows[f"{root}/info"] == 1


def test_a_lerobot_dataset_is_saved_with_every_episode_and_its_views(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from userl.data.interop import export_lerobot

    episodes = [make_episode(steps=5, with_image=True), make_episode(steps=3, with_image=True)]
    for episode in episodes:  # a video encoder wants more than 8 x 8 pixels
        episode.observations["front"] = episode.observations["front"].repeat(8, 1).repeat(8, 2)
    dataset = tmp_path / "dataset"
    export_lerobot(episodes, dataset, 10, "Insert the peg.")
    before = snapshot(dataset)
    out = tmp_path / "view.rrd"

    assert main(["data", "view", str(dataset), f"out={out}"]) == 0

    assert snapshot(dataset) == before
    assert '"episodes": 2' in capsys.readouterr().out
    rows = rows_by_entity(out)
    assert {path.split("/")[2] for path in rows if path.startswith("/episodes/")} == {"0", "1"}
    for number, count in (("0", 5), ("1", 3)):
        assert rows[f"/episodes/{number}/camera/front"] == count + 1
        assert rows[f"/episodes/{number}/action"] == count
        assert rows[f"/episodes/{number}/intervened"] == count


@pytest.mark.parametrize(
    "make, said",
    [
        (lambda root: root / "missing", "no folder at"),
        (lambda root: _file(root / "notes.txt"), "is a file, not a folder"),
        (lambda root: _run_folder(root / "run"), "is a run folder, not an episode store; give"),
        (lambda root: _empty(root / "empty"), "neither an episode store"),
    ],
)
def test_a_path_that_is_not_a_store_or_dataset_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object, said: str
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    out = tmp_path / "view.rrd"
    assert main(["data", "view", str(path), f"out={out}"]) == 2
    error = capsys.readouterr().err
    assert said in error and len(error.strip().splitlines()) == 1
    assert not out.exists()


def test_out_must_be_a_new_rrd_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = EpisodeStore(tmp_path / "episodes").create()
    store.write(make_episode())
    taken = tmp_path / "taken.rrd"
    taken.write_bytes(b"mine")
    for out, said in (
        (taken, "exists"),
        (tmp_path / "view.txt", "ends in .rrd"),
        (tmp_path / "no" / "view.rrd", "no folder"),
    ):
        assert main(["data", "view", str(store.root), f"out={out}"]) == 2
        assert said in capsys.readouterr().err
    assert taken.read_bytes() == b"mine"


def _file(path: Path) -> Path:
    path.write_text("not episodes")
    return path


def _empty(path: Path) -> Path:
    path.mkdir()
    return path


def _run_folder(path: Path) -> Path:
    EpisodeStore(path / "episodes").create().write(make_episode())
    return path
