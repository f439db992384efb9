"""`userl bench gpu` end to end on the CPU (`device=cpu size=tiny`, tiny step counts): every
part runs (pi0's step times, learner rows, a short training with remote inference, and, in
the slow test, the sync/async profile) and the JSON it writes has each figure, positive and
finite, with the machine and date."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from userl.cli import main

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("shared_ray")]


def positive(value: float) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def gpu_check(tmp_path: Path, *extra: str) -> dict:
    """`userl bench gpu` on the CPU at tiny sizes; its record."""
    out = tmp_path / "gpu-check.json"
    code = main(
        [
            "bench",
            "gpu",
            "device=cpu",
            "size=tiny",
            "policies=mlp",
            "variants=float32,bf16",
            "heads=2",
            "batch_size=16",
            "seconds=0.2",
            "repeats=1",
            "dagger_batch=4",
            "train_steps=5",
            "profile_episodes=2",
            "profile_reserve_s=1",
            "budget_s=3000",
            f"root={tmp_path / 'runs'}",
            f"out={out}",
            *extra,
        ]
    )
    assert code == 0
    record = json.loads(out.read_text())
    assert {"machine", "date", "device", "size", "options", "step_wall_s"} <= set(record)
    assert (record["device"], record["size"]) == ("cpu", "tiny")
    return record


def test_the_gpu_check_runs_on_the_cpu_and_writes_every_figure(tmp_path: Path) -> None:
    """Every part but the sync/async profile (two pi0 runs: the slow test below)."""
    record = gpu_check(tmp_path, "profile=false")
    assert (record["failed"], record["skipped"]) == ({}, {"profile": "profile=false"})
    assert "profile" not in record

    pi0 = record["pi0"]
    assert (pi0["preset"], pi0["chunk_steps"], pi0["flow_steps"]) == ("pi0_tiny", 50, 10)
    assert pi0["batch_size"] == 4 and pi0["peak_memory_counts"] == "process_peak_rss"
    assert all(positive(pi0[key]) for key in ("chunk_ms", "update_s", "peak_memory_mb"))

    rows = {(row["device"], row["policy"], row["variant"]) for row in record["learner"]}
    assert rows == {("cpu", "mlp", "float32"), ("cpu", "mlp", "bf16")}
    assert all(positive(row["updates_per_s"]) for row in record["learner"])

    train = record["train"]
    assert train["learner_device"] == "cpu" and train["inference_on_gpu"] is False
    assert train["grad_steps"] >= 5 and train["stop_reason"] == "grad_steps"
    for key in ("updates_per_s", "training_s_per_update", "generation_s_per_episode"):
        assert positive(train[key]), key
    assert (Path(train["run"]) / "summary.json").is_file()

    assert all(positive(seconds) for seconds in record["step_wall_s"].values())
    assert positive(record["peak_memory_mb"]) and positive(record["wall_s"])


@pytest.mark.slow  # two pi0_tiny HG-DAgger runs (sync and async): `make bench` runs it
def test_the_gpu_checks_sync_async_profile_runs_on_the_cpu(tmp_path: Path) -> None:
    record = gpu_check(tmp_path)
    assert (record["failed"], record["skipped"]) == ({}, {})
    profile = record["profile"]
    for pipeline in ("sync", "async"):
        for key in ("generation_s_per_episode", "training_s_per_update"):
            assert positive(profile[pipeline][key]), (pipeline, key)
    assert all(positive(ratio) for ratio in profile["sync_to_async"].values())
    assert all(positive(seconds) for seconds in record["step_wall_s"].values())
    assert positive(record["peak_memory_mb"]) and positive(record["wall_s"])
    assert "algo.batch_size=4" in profile["arguments"]  # HG-DAgger's updates at dagger_batch
