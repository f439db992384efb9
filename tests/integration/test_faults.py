"""Fault injection (the scenarios of `userl bench faults`): nothing lost, every run recovers."""

from pathlib import Path

import pytest

from userl.cli import load_benchmark

pytestmark = pytest.mark.integration
faults = load_benchmark("faults")


@pytest.mark.parametrize("scenario", ["sigkill_resume", "worker_kill", "learner_stall",
                                      "corrupt_files"])
def test_fault_is_survived(tmp_path: Path, scenario: str) -> None:
    result = faults.SCENARIOS.get(scenario)(tmp_path)
    assert result["episodes_lost"] == 0, result
    assert result["recovered"], result
    if scenario == "sigkill_resume":
        assert result["resumed_grad_steps"] >= result["checkpoint_grad_steps"] > 0
        assert result["episodes_stored"] == result["episodes_produced"] >= 10
    if scenario == "worker_kill":
        assert result["worker_restarts"] >= 1
    if scenario == "corrupt_files":
        assert result["damaged_reported_and_skipped"] == 2
