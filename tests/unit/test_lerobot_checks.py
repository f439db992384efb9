"""The dataset checks read only meta/ and the parquet files' footers (and a column's first
row where its type does not give its size): tested on folders written here with pyarrow."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from userl.data.lerobot_checks import DatasetMismatch, check_dataset

FRAMES = 4


def write_dataset(root: Path, state: pa.Array, shape: object = (3,)) -> Path:
    (root / "meta/episodes/chunk-000").mkdir(parents=True)
    (root / "data/chunk-000").mkdir(parents=True)
    pq.write_table(
        pa.table({"observation.state": state, "index": pa.array(range(FRAMES), pa.int64())}),
        root / "data/chunk-000/file-000.parquet",
    )
    pq.write_table(
        pa.table({"episode_index": [0]}), root / "meta/episodes/chunk-000/file-000.parquet"
    )
    info = {
        "codebase_version": "v3.0",
        "total_frames": FRAMES,
        "total_episodes": 1,
        "fps": 10,
        "features": {
            "observation.state": {"dtype": "float32", "shape": shape, "names": None},
            "index": {"dtype": "int64", "shape": [1], "names": None},
            "observation.images.top": {"dtype": "video", "shape": [8, 8, 3], "names": None},
        },
    }
    (root / "meta/info.json").write_text(json.dumps(info))
    return root


def rows(size: int) -> list[list[float]]:
    return [[float(i)] * size for i in range(FRAMES)]


def test_a_consistent_folder_passes_with_fixed_or_variable_lists(tmp_path: Path) -> None:
    fixed = pa.array(rows(3), pa.list_(pa.float32(), 3))
    assert check_dataset(write_dataset(tmp_path / "fixed", fixed))["total_frames"] == FRAMES
    variable = pa.array(rows(3), pa.list_(pa.float32()))
    assert check_dataset(write_dataset(tmp_path / "variable", variable))["fps"] == 10


def test_a_variable_list_of_another_size_is_named(tmp_path: Path) -> None:
    folder = write_dataset(tmp_path / "d", pa.array(rows(5), pa.list_(pa.float32())))
    with pytest.raises(DatasetMismatch, match=r"'observation.state' has shape \[3\] .* 5 values"):
        check_dataset(folder)


def test_a_shape_that_is_not_sizes_is_named(tmp_path: Path) -> None:
    folder = write_dataset(tmp_path / "d", pa.array(rows(3), pa.list_(pa.float32(), 3)), "three")
    with pytest.raises(DatasetMismatch, match=r"'observation.state' has shape 'three'"):
        check_dataset(folder)


def test_a_declared_feature_missing_from_the_table_is_named(tmp_path: Path) -> None:
    folder = write_dataset(tmp_path / "d", pa.array(rows(3), pa.list_(pa.float32(), 3)))
    info = json.loads((folder / "meta/info.json").read_text())
    info["features"]["action"] = {"dtype": "float32", "shape": [7], "names": None}
    (folder / "meta/info.json").write_text(json.dumps(info))
    with pytest.raises(DatasetMismatch, match="'action' is not a column"):
        check_dataset(folder)
