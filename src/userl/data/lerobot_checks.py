"""A local LeRobot dataset checked against its own files before anything reads it.

LeRobot's class trusts `meta/info.json`: a folder missing files is fetched from the hub, a
count it claims sizes what it allocates, a version it does not know is read anyway, and a
damaged file surfaces as a traceback from deep inside `datasets`. Here each of those is one
line naming the file and the fix, found from the JSON files and the parquet files' footers
(row counts and column types) and the first row of each column, never the tables.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from userl.core.errors import ConfigError

INFO_FILE = "meta/info.json"
EPISODES_FOLDER = "meta/episodes"
DATA_FOLDER = "data"
STATS_FILE = "meta/stats.json"  # optional: LeRobot reads it when present
TASKS_FILE = "meta/tasks.parquet"  # the task strings (LeRobot reads it whole)
SUPPORTED_VERSIONS = ("v3.0",)  # the LeRobotDataset layouts this reader maps
# What a LeRobotDataset v3.0 folder holds, read locally before LeRobot's class opens it (which
# would otherwise go looking on the hub for what is missing).
LOCAL_LAYOUT = ((INFO_FILE, "file"), (EPISODES_FOLDER, "folder"), (DATA_FOLDER, "folder"))
INFO_KEYS = ("codebase_version", "total_frames", "total_episodes", "fps", "features")
FILE_DTYPES = ("video",)  # features kept beside the parquet tables, not as columns
RESTORE = "copy the dataset again from its source or export it again"


class DatasetMismatch(ConfigError):
    """A LeRobot dataset's files or features cannot map onto episodes; names the feature."""


def check_local_layout(path: Path) -> None:
    """One line naming what a local LeRobot dataset folder lacks, before anything reads it."""
    for relative, kind in LOCAL_LAYOUT:
        entry = path / relative
        present = entry.is_file() if kind == "file" else entry.is_dir()
        if not present:
            raise DatasetMismatch(
                f"{path}: not a complete LeRobotDataset v3.0 folder (no {kind} {relative}); "
                "give the folder `userl data export` or LeRobot wrote, with its meta/ and data/"
            )
    if not any((path / DATA_FOLDER).rglob("*.parquet")):
        raise DatasetMismatch(
            f"{path}: the dataset's data/ folder holds no parquet files; give a complete "
            "LeRobotDataset v3.0 folder"
        )


def read_json(file: Path) -> Any:
    """A meta JSON file's content; bad JSON is one line naming the file and where."""
    try:
        return json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        where = (
            f" at line {error.lineno} column {error.colno}"
            if isinstance(error, json.JSONDecodeError)
            else ""
        )
        raise DatasetMismatch(f"{file}: not valid JSON{where}; {RESTORE}") from None


def read_json_lines(file: Path) -> list[Any]:
    """A JSON-lines meta file's records; a bad line is one line naming the file and line."""
    records = []
    for number, line in enumerate(file.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            raise DatasetMismatch(f"{file}: line {number} is not valid JSON; {RESTORE}") from None
    return records


def parquet_footer(file: Path) -> pq.FileMetaData:
    """A parquet file's footer (row count, schema); a cut or damaged file is one line."""
    try:
        return pq.ParquetFile(file).metadata
    except (pa.ArrowException, OSError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DatasetMismatch(
            f"{file}: not a readable parquet file, cut short or damaged ({reason}); {RESTORE}"
        ) from None


def check_version(info: dict[str, Any], file: Path) -> None:
    version = str(info["codebase_version"])
    if version not in SUPPORTED_VERSIONS:
        raise DatasetMismatch(
            f"{file}: codebase_version {version!r} is not supported (supported: "
            f"{', '.join(SUPPORTED_VERSIONS)}); convert the dataset with LeRobot's converter "
            "for its version (v2.1: lerobot's convert_dataset_v21_to_v30)"
        )


def check_counts(path: Path, info: dict[str, Any]) -> list[Path]:
    """total_frames and total_episodes against the rows the parquet files hold; returns the
    data files."""
    data_files = sorted((path / DATA_FOLDER).rglob("*.parquet"))
    episode_files = sorted((path / EPISODES_FOLDER).rglob("*.parquet"))
    for key, files, where in (
        ("total_frames", data_files, DATA_FOLDER),
        ("total_episodes", episode_files, EPISODES_FOLDER),
    ):
        rows = sum(parquet_footer(f).num_rows for f in files)
        claimed = info[key]
        if not isinstance(claimed, int) or claimed != rows:
            raise DatasetMismatch(
                f"{path / INFO_FILE}: {key} is {claimed!r} but the parquet files in {where}/ "
                f"hold {rows} rows; {RESTORE} (or correct {key})"
            )
    return data_files


def values_per_row(column: pa.DataType, file: Path, name: str) -> int | None:
    """How many values one row of a numeric column holds (None: not known from the type
    alone, as for a variable-length list: then from its first row)."""
    if pa.types.is_fixed_size_list(column):
        inner = values_per_row(column.value_type, file, name)
        return None if inner is None else column.list_size * inner
    if pa.types.is_list(column) or pa.types.is_large_list(column):
        first = next(pq.ParquetFile(file).iter_batches(batch_size=1, columns=[name]), None)
        if first is None or first.num_rows == 0:
            return None
        values = first.column(0)
        while pa.types.is_list(values.type) or pa.types.is_large_list(values.type):
            values = values.flatten()
        return len(values)
    if pa.types.is_struct(column):
        return None  # an image cell (bytes and path)
    return 1


def check_feature_shapes(path: Path, info: dict[str, Any], data_file: Path) -> None:
    """Each feature info.json declares is a column of `data_file` with its declared size."""
    features = info["features"]
    if not isinstance(features, dict):
        raise DatasetMismatch(f"{path / INFO_FILE}: features is not a mapping; {RESTORE}")
    schema = parquet_footer(data_file).schema.to_arrow_schema()
    for name, feature in features.items():
        if not isinstance(feature, dict) or "shape" not in feature or "dtype" not in feature:
            raise DatasetMismatch(
                f"{path / INFO_FILE}: feature {name!r} has no dtype and shape; {RESTORE}"
            )
        if feature["dtype"] in FILE_DTYPES:
            continue
        if name not in schema.names:
            raise DatasetMismatch(
                f"{path / INFO_FILE}: feature {name!r} is not a column of {data_file}; {RESTORE}"
            )
        try:
            declared = math.prod(int(size) for size in feature["shape"])
        except (TypeError, ValueError):
            raise DatasetMismatch(
                f"{path / INFO_FILE}: feature {name!r} has shape {feature['shape']!r}, not a "
                f"list of sizes; {RESTORE}"
            ) from None
        held = values_per_row(schema.field(name).type, data_file, name)
        if held is not None and held != declared:
            raise DatasetMismatch(
                f"{path / INFO_FILE}: feature {name!r} has shape {list(feature['shape'])} but "
                f"{data_file.relative_to(path)} holds {held} values a row; {RESTORE} "
                "(or correct its shape)"
            )


def check_dataset(path: Path) -> dict[str, Any]:
    """Everything above, in the order a reader would meet it; returns info.json's content."""
    check_local_layout(path)
    info = read_json(path / INFO_FILE)
    if not isinstance(info, dict) or any(key not in info for key in INFO_KEYS):
        raise DatasetMismatch(
            f"{path / INFO_FILE}: not LeRobot dataset metadata (it needs "
            f"{', '.join(INFO_KEYS)}); {RESTORE}"
        )
    check_version(info, path / INFO_FILE)
    if (path / STATS_FILE).is_file():
        read_json(path / STATS_FILE)
    if (path / TASKS_FILE).is_file():
        parquet_footer(path / TASKS_FILE)
    for data_file in check_counts(path, info):
        check_feature_shapes(path, info, data_file)
    return info
