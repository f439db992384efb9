"""`logger=tensorboard|wandb|both`: each backend gets the same scalars and videos; a W&B run
(offline, nothing leaves the machine) is read back with wandb's own record reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from userl.config.loader import load_config
from userl.core.errors import ConfigError
from userl.telemetry.metric_loggers import LOGGERS, metric_sink

wandb = pytest.importorskip("wandb")


WANDB_HEADER = 7  # ":W&B", a 2-byte magic, a 1-byte version
BLOCK = 32 * 1024  # the LevelDB log format W&B writes its records in
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def wandb_records(path: Path) -> list[bytes]:
    """The serialised records of a `.wandb` file (LevelDB log blocks: 4-byte checksum,
    2-byte length, 1-byte fragment type; a record may span blocks). wandb 0.31 reads these
    files in its Go core only, so the test walks the framing itself and leaves the records
    to wandb's own protobuf classes."""
    data = path.read_bytes()
    assert data[:4] == b":W&B"
    records, pending, offset = [], b"", WANDB_HEADER
    while offset + 7 <= len(data):
        room = BLOCK - offset % BLOCK
        if room < 7:  # a block's tail too short for a header is padding
            offset += room
            continue
        length = int.from_bytes(data[offset + 4 : offset + 6], "little")
        kind = data[offset + 6]
        if kind == 0 and length == 0:
            break
        payload = data[offset + 7 : offset + 7 + length]
        offset += 7 + length
        pending = payload if kind in (FULL, FIRST) else pending + payload
        if kind in (FULL, LAST):
            records.append(pending)
    return records


def history(run_dir: Path) -> list[dict[str, str]]:
    """Every history row of the run's offline W&B file, as {key: JSON value}."""
    from wandb.proto import wandb_internal_pb2

    (path,) = run_dir.glob("wandb/offline-run-*/run-*.wandb")
    rows = []
    for data in wandb_records(path):
        record = wandb_internal_pb2.Record()
        record.ParseFromString(data)
        if record.WhichOneof("record_type") == "history":
            rows.append(
                {
                    item.key or "/".join(item.nested_key): item.value_json
                    for item in record.history.item
                }
            )
    return rows


def frames() -> list[np.ndarray]:
    return [np.full((8, 8, 3), value, dtype=np.uint8) for value in (0, 128, 255)]


@pytest.mark.parametrize("logger", sorted(LOGGERS))
def test_every_logger_writes_where_it_says(logger: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    config = load_config([f"logger={logger}", f"run.root={tmp_path}", "run.name=r"])
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    sink = metric_sink(config.logger, run_dir, config)
    sink.scalars({"train/critic_loss": 1.5}, 10)
    sink.scalars({"eval/success_rate": 0.5}, 20)
    sink.scalars({"data/demo_transitions": 7.0}, 0)  # a step below the last: kept
    sink.video("eval/video", frames(), 20, fps=10.0)
    sink.close()
    backends = LOGGERS[logger]
    assert (run_dir / "tensorboard").is_dir() == ("tensorboard" in backends)
    assert (run_dir / "wandb").is_dir() == ("wandb" in backends)
    if "wandb" in backends:
        rows = history(run_dir)
        logged = {key: row[key] for row in rows for key in row}
        assert "train/critic_loss" in logged, rows
        assert float(logged["train/critic_loss"]) == 1.5
        assert float(logged["eval/success_rate"]) == 0.5
        assert float(logged["data/demo_transitions"]) == 7.0
        assert logged["eval/video/_type"] == '"video-file"'
        assert logged["eval/video/path"].endswith('.gif"')


def test_an_unknown_logger_is_one_line() -> None:
    with pytest.raises(ConfigError, match="logger"):
        load_config(["logger=mlflow"])
