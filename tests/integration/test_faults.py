"""Fault injection (the scenarios of `userl bench faults`): nothing lost, every run recovers."""

import json
from pathlib import Path

import pytest

from userl.benchmarks import load_benchmark

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("shared_ray")]
faults = load_benchmark("faults")


@pytest.mark.parametrize(
    "scenario", ["sigkill_resume", "worker_kill", "learner_stall", "corrupt_files"]
)
def test_fault_is_survived(tmp_path: Path, scenario: str) -> None:
    result = faults.SCENARIOS.get(scenario)(tmp_path)
    assert result["episodes_lost"] == 0, result
    assert result["recovered"], json.dumps(result)
    if scenario == "sigkill_resume":
        assert result["resumed_grad_steps"] >= result["checkpoint_grad_steps"] > 0
        assert result["episodes_stored"] == result["episodes_produced"] >= 10
    if scenario == "worker_kill":
        assert result["worker_restarts"] >= 1
    if scenario == "corrupt_files":
        assert result["damaged_reported_and_skipped"] == 2


def test_ctrl_c_stops_cleanly_with_a_final_checkpoint(tmp_path: Path) -> None:
    """SIGINT to the whole process group, as Ctrl-C in a terminal sends it."""
    import json
    import signal

    from userl.data.store import EpisodeStore

    process = faults.TrainProcess(
        [
            *faults.SMALL_TRAINING,
            f"run.root={tmp_path}",
            "run.name=interrupted",
            f"run.wall_s={faults.RUN_BOUND_S}",
        ],
        tmp_path / "train.log",
    )
    store = tmp_path / "interrupted" / "episodes"
    try:
        faults.wait_for(
            lambda: len(EpisodeStore(store).files()) >= 5, faults.RUN_BOUND_S, "5 episodes", process
        )
        process.signal_group(signal.SIGINT)
        assert process.finish(faults.RUN_BOUND_S) == 130, process.output_tail()
    finally:
        process.kill_if_running()
    summary = json.loads((tmp_path / "interrupted" / "summary.json").read_text())
    assert summary["interrupted"] is True
    assert (tmp_path / "interrupted" / "checkpoints" / "latest.pt").is_file()
    assert summary["episodes"] == len(EpisodeStore(store).files())  # all shipped were stored
    spool = tmp_path / "interrupted" / "spool"
    assert not list(spool.rglob("*.npz")), "every spooled episode was flushed to the store"


def test_learner_death_is_reported_and_resumable(tmp_path: Path) -> None:
    import ray

    from userl.cli import main
    from userl.data.store import EpisodeStore
    from userl.runtime.cluster import LEARNER_NAME

    name = ["run.root=" + str(tmp_path), "run.name=dead"]
    thread, outcome = faults.train_in_background(
        [*faults.SMALL_TRAINING, *name, f"run.wall_s={faults.RUN_BOUND_S}"]
    )
    store = tmp_path / "dead" / "episodes"
    faults.wait_for(lambda: len(EpisodeStore(store).files()) >= 5, faults.RUN_BOUND_S, "5 episodes")
    ray.kill(ray.get_actor(LEARNER_NAME), no_restart=True)
    thread.join(timeout=faults.RUN_BOUND_S)
    assert outcome["error"].startswith("RunFailed") and "resume=true" in outcome["error"]
    finished = faults.episode_ids(store)
    finished.update(faults.episode_ids(tmp_path / "dead" / "spool"))
    assert main(["train", "resume=true", *faults.SMALL_TRAINING, *name, "run.wall_s=3"]) == 0
    assert set(finished) <= set(faults.episode_ids(store))  # nothing lost
