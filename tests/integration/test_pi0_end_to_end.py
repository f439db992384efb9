"""pi0 end to end in one process (`benchmarks/pi0_end_to_end.py`): random weights written in
the published checkpoint layout, loaded back through `policy.weights=DIR`, one chunk for one
robot, one HG-DAgger update of the trainable set and one weight sync of that set.

`pi0_tiny` checks the path in seconds; the published `pi0` (3.5B parameters, bfloat16) runs
it at its real size on the CPU (`slow`: `make bench` runs it) within a resident-memory bound
that a 24 GB machine holds. `USERL_PI0_RECORD=FILE.json` writes its record there (the one in
docs/vla/ was written so)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

pytest.importorskip("transformers", reason="policy=pi0 needs the vla extra")

from userl.benchmarks import pi0_end_to_end  # noqa: E402
from userl.benchmarks.vla_step_times import step_config  # noqa: E402
from userl.policies.pi0 import trainable_shapes  # noqa: E402

RECORD_ENV = "USERL_PI0_RECORD"  # where the full-size test writes its record (unset: nowhere)
FULL_SIZE_THREADS = 2  # the cores of the machine it is meant for
PEAK_RSS_BOUND_GB = 20.0  # the process's peak resident memory on a 24 GB machine
FULL_SIZE_NEEDS_GB = 16.0  # available memory below which the full-size run is not started
FULL_SIZE_BATCH = 2  # the update's batch: more than one row, so per-row masks are exercised
TINY_SHARD_BYTES = 64 * 1024  # the tiny checkpoint in several shards


def expected_trainable(preset: str) -> int:
    config, _ = step_config(preset, 1, [])
    return sum(
        int(torch.Size(shape).numel()) for shape, _ in trainable_shapes(config.policy).values()
    )


def check_record(record: dict, preset: str, chunk_steps: int) -> None:
    """What every size must show: the chunk, an applied update, the sync of exactly the
    trainable set, in the dtype the preset trains."""
    assert record["preset"] == preset
    assert record["chunk_shape"] == [1, chunk_steps, 7] and record["chunk_finite"]
    assert record["updates_applied"] >= 1  # a non-finite loss would have been skipped
    assert record["trainable_parameters"] == expected_trainable(preset)
    sync = record["sync"]
    assert sync["version"] == 1 and sync["complete"] and sync["unexpected_keys"] == []
    assert sync["holds_published"] and sync["changed_by_update"] > 0
    element = torch.finfo(getattr(torch, record["dtype"])).bits // 8
    assert sync["bytes"] == record["trainable_parameters"] * element
    assert record["machine"] and record["date"]


def test_tiny_pi0_checkpoint_load_chunk_update_and_sync(tmp_path: Path) -> None:
    record = pi0_end_to_end.run(
        "pi0_tiny", tmp_path, "cpu", batch_size=2, warmup=0, repeats=1,
        shard_bytes=TINY_SHARD_BYTES,
    )  # fmt: skip
    check_record(record, "pi0_tiny", chunk_steps=10)
    assert record["checkpoint"]["checkpoint_files"] > 1
    assert record["optimiser_state_dtypes"] == ["torch.float32"]  # pi0_tiny is float32
    assert record["peak_memory_gb"] > 0


@pytest.fixture
def two_threads() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(FULL_SIZE_THREADS)
    yield
    torch.set_num_threads(before)


def available_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024 / 1e9
    return float("inf")  # not Linux: the bound below still holds the run to account


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_published_pi0_end_to_end_on_the_cpu(tmp_path: Path, two_threads: None) -> None:
    if available_gb() < FULL_SIZE_NEEDS_GB:
        pytest.skip(f"needs {FULL_SIZE_NEEDS_GB:g} GB of available memory")
    record = pi0_end_to_end.run(
        "pi0", tmp_path, "cpu", batch_size=FULL_SIZE_BATCH, warmup=1, repeats=1
    )
    record["peak_rss_bound_gb"] = PEAK_RSS_BOUND_GB
    if os.environ.get(RECORD_ENV):
        Path(os.environ[RECORD_ENV]).write_text(json.dumps(record, indent=1) + "\n")
    check_record(record, "pi0", chunk_steps=50)
    assert record["dtype"] == "bfloat16" and record["view_px"] > 0
    assert 3.4e9 < record["parameters"] < 3.6e9  # the published size
    assert record["optimiser_state_dtypes"] == ["torch.bfloat16"]  # AdamW's, as the weights
    assert record["peak_memory_counts"] == "process_peak_rss"
    assert record["peak_memory_gb"] < PEAK_RSS_BOUND_GB
