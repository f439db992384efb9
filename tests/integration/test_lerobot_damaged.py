"""A damaged or inconsistent LeRobot dataset is refused before LeRobot reads it: exit 2, one
line naming the file and the fix, nothing written. Before, `meta/info.json` claiming 10^12
frames was trusted (on a larger dataset its allocations ran the machine out of memory), an
unknown `codebase_version` was read anyway, and bad JSON, a cut parquet file or a feature of
the wrong shape ended on a traceback (exit 1)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.integration.test_lerobot_interop import make_episode
from userl.cli import main
from userl.data.interop import read_episodes
from userl.data.lerobot_checks import DatasetMismatch
from userl.data.lerobot_mapping import LeRobotMappingConfig
from userl.data.store import EpisodeStore

pytestmark = [pytest.mark.integration, pytest.mark.allow_hosts(["127.0.0.1"])]

DATA_FILE = "data/chunk-000/file-000.parquet"
EPISODES_FILE = "meta/episodes/chunk-000/file-000.parquet"
CLAIMED_FRAMES = 10**12
PARQUET_MAGIC = b"PAR1"  # a parquet file's first bytes, before its first data page


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small state-only export (no videos: the damage is in meta/ and the tables)."""
    root = tmp_path_factory.mktemp("store") / "episodes"
    store = EpisodeStore(root).create()
    rng = np.random.default_rng(2)
    for index, steps in enumerate((5, 3)):
        episode = make_episode(rng, steps, index)
        episode.observations = {"state": episode.observations["state"]}
        store.write(episode)
    out = tmp_path_factory.mktemp("lerobot") / "dataset"
    assert main(["data", "export", str(root), f"out={out}", "format=lerobot"]) == 0
    return out


def edit_info(key: str, value: object) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        file = folder / "meta/info.json"
        info = json.loads(file.read_text())
        info[key] = value
        file.write_text(json.dumps(info))

    return edit


def state_shape(size: int) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        file = folder / "meta/info.json"
        info = json.loads(file.read_text())
        info["features"]["observation.state"]["shape"] = [size]
        file.write_text(json.dumps(info))

    return edit


def cut(relative: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        file = folder / relative
        data = file.read_bytes()
        file.write_bytes(data[: len(data) // 2])

    return edit


def overwrite_pages(relative: str) -> Callable[[Path], None]:
    """Damage to the first data page, the footer intact: found when LeRobot reads the table."""

    def edit(folder: Path) -> None:
        file = folder / relative
        data = bytearray(file.read_bytes())
        data[len(PARQUET_MAGIC) : len(PARQUET_MAGIC) + 64] = bytes(range(64))
        file.write_bytes(bytes(data))

    return edit


def write(relative: str, text: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        (folder / relative).write_text(text)

    return edit


# damage -> the words the one line must hold (the file it names, what is wrong, the fix)
DAMAGE: dict[str, tuple[Callable[[Path], None], tuple[str, ...]]] = {
    "frames_claimed": (
        edit_info("total_frames", CLAIMED_FRAMES),
        ("meta/info.json", f"total_frames is {CLAIMED_FRAMES}", "hold 10 rows"),
    ),
    "episodes_claimed": (
        edit_info("total_episodes", 7),
        ("meta/info.json", "total_episodes is 7", "hold 2 rows"),
    ),
    "future_version": (
        edit_info("codebase_version", "v9.9"),
        ("meta/info.json", "'v9.9' is not supported", "supported: v3.0"),
    ),
    "old_version": (
        edit_info("codebase_version", "v2.1"),
        ("'v2.1' is not supported", "convert_dataset_v21_to_v30"),
    ),
    "info_bad_json": (write("meta/info.json", '{"codebase_version": "v3.0",'), ("info.json",)),
    "info_not_metadata": (write("meta/info.json", "[1, 2]"), ("info.json", "total_frames")),
    "stats_bad_json": (write("meta/stats.json", "{oops"), ("stats.json", "not valid JSON")),
    "records_bad_json": (
        write("meta/userl_episodes.jsonl", "{oops\n"),
        ("userl_episodes.jsonl", "line 1 is not valid JSON"),
    ),
    "data_cut": (cut(DATA_FILE), (DATA_FILE, "cut short or damaged")),
    "episodes_cut": (cut(EPISODES_FILE), (EPISODES_FILE, "cut short or damaged")),
    "tasks_cut": (cut("meta/tasks.parquet"), ("tasks.parquet", "cut short or damaged")),
    "data_damaged_inside": (overwrite_pages(DATA_FILE), ("cannot read the dataset's tables",)),
    "state_shape": (
        state_shape(9),
        ("'observation.state' has shape [9]", DATA_FILE, "holds 5 values a row"),
    ),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_dataset_is_one_line_and_writes_nothing(
    exported: Path, tmp_path: Path, damage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    edit, words = DAMAGE[damage]
    folder = tmp_path / "damaged"
    shutil.copytree(exported, folder)
    edit(folder)
    out = tmp_path / "imported"
    assert main(["data", "import", str(folder), f"out={out}"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert not out.exists()


def test_demos_from_a_dataset_with_a_false_count_are_refused(
    exported: Path, tmp_path: Path
) -> None:
    """`demos.path=` reads through the same checks."""
    folder = tmp_path / "damaged"
    shutil.copytree(exported, folder)
    edit_info("total_frames", CLAIMED_FRAMES)(folder)
    with pytest.raises(DatasetMismatch, match="total_frames"):
        read_episodes(folder, LeRobotMappingConfig())


def test_the_undamaged_export_imports(exported: Path, tmp_path: Path) -> None:
    """The checks pass what LeRobot wrote (the damage above is all that fails them)."""
    out = tmp_path / "imported"
    assert main(["data", "import", str(exported), f"out={out}"]) == 0
    assert len(EpisodeStore(out).load().episodes) == 2
