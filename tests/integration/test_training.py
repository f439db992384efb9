"""Short trainings through Ray in both pipeline modes: store, summary, telemetry, eval."""

import json
from pathlib import Path

import pytest

from tests.training_arguments import SMALL
from userl.cli import main
from userl.config.loader import load_config
from userl.data.store import EpisodeStore
from userl.runtime.train import train

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("shared_ray")]


@pytest.mark.parametrize("pipeline", ["async", "sync"])
def test_short_training(tmp_path: Path, pipeline: str, monkeypatch, capsys) -> None:
    demos_from_store = []
    if pipeline == "sync":  # demonstrations from a store written by `userl collect`
        assert main(["collect", "episodes=2", f"out={tmp_path / 'demos'}"]) == 0
        demos_from_store = [f"demos.path={tmp_path / 'demos'}"]
    config = load_config(
        [
            *SMALL,
            *demos_from_store,
            f"pipeline={pipeline}",
            f"run.root={tmp_path}",
            f"run.name={pipeline}",
        ]
    )
    summary = train(config)
    run_dir = tmp_path / pipeline
    written = json.loads((run_dir / "summary.json").read_text())
    assert written["eval_success_rate"] == summary["eval_success_rate"]
    for key in (
        "eval_success_rate",
        "eval_episodes",
        "env_steps",
        "grad_steps",
        "episodes",
        "interventions",
        "wall_s",
        "initial_eval_success_rate",
    ):
        assert key in written, key
    assert written["eval_episodes"] == 2
    assert written["env_steps"] >= 300
    assert written["grad_steps"] > 0
    assert written["pipeline"] == pipeline
    stored = EpisodeStore(run_dir / "episodes").stats()
    assert stored["episodes"] == written["episodes"]  # every online episode reached the store
    assert stored["transitions"] == written["env_steps"]
    assert stored["unreadable_files"] == 0
    assert EpisodeStore(run_dir / "demos").stats()["episodes"] >= 1
    assert (run_dir / "config.yaml").is_file()
    assert (run_dir / "checkpoints" / "latest.pt").is_file()
    assert list((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    # the trained run evaluates from its folder alone
    report = tmp_path / "eval.json"
    assert main(["eval", f"run={run_dir}", "episodes=2", f"out={report}"]) == 0
    assert json.loads(report.read_text())["episodes"] == 2
    # its env-steps budget ended it, which the summary says along with every budget set
    assert written["stop_reason"] == "env_steps"
    assert written["budgets"] == {"env_steps": 300, "grad_steps": config.run.grad_steps}
    assert_resume_with_nothing_left_changes_nothing(run_dir, monkeypatch, capsys)


def assert_resume_with_nothing_left_changes_nothing(run_dir: Path, monkeypatch, capsys) -> None:
    """resume=true on a run whose budget is reached: exit 0, one line, no Ray, no writes."""
    saved = (run_dir / "summary.json").read_bytes()
    checkpoint = (run_dir / "checkpoints" / "latest.pt").stat().st_mtime_ns

    def no_ray(config: object) -> None:
        raise AssertionError("Ray started for a run with nothing left to do")

    monkeypatch.setattr("userl.runtime.train.ray_for", no_ray)
    capsys.readouterr()
    resume = ["train", "resume=true", f"run.name={run_dir.name}", f"run.root={run_dir.parent}"]
    assert main(resume) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [
        "nothing left to do: run.env_steps=300 already reached; "
        "raise it (resume=true ... run.<budget>=N) to train on"
    ]
    assert (run_dir / "summary.json").read_bytes() == saved
    assert (run_dir / "checkpoints" / "latest.pt").stat().st_mtime_ns == checkpoint


def test_simulated_operator_interventions_are_stored_and_routed(tmp_path: Path) -> None:
    """teleop=expert: the scripted operator takes over; its steps are recorded with
    intervened=true, counted, and added to the demo buffer as well as replay."""
    config = load_config(
        [
            *SMALL,
            "teleop=expert",
            "teleop.no_progress_steps=5",
            "demos.episodes=1",
            "eval.at_start=false",
            f"run.root={tmp_path}",
            "run.name=teleop",
        ]
    )
    summary = train(config)
    stored = EpisodeStore(tmp_path / "teleop" / "episodes").stats()
    assert summary["interventions"] > 0
    assert stored["intervened_steps"] == summary["interventions"]
    demo_only = EpisodeStore(tmp_path / "teleop" / "demos").stats()["transitions"]
    assert summary["demo_transitions"] == demo_only + summary["interventions"]


def test_utd_governor_keeps_updates_between_floor_and_ceiling(tmp_path: Path) -> None:
    """With a simulated robot not paced to real time, utd_min makes it wait for the learner;
    utd_max keeps the learner from running ahead of the data."""
    config = load_config(
        [
            *SMALL,
            "algo.utd_max=1",
            "algo.utd_min=1",
            "run.env_steps=800",
            "eval.at_start=false",
            "eval.episodes=0",  # this checks pacing, not evaluation
            f"run.root={tmp_path}",
            "run.name=utd",
        ]
    )
    summary = train(config)
    in_flight_allowance = 4 * config.task.episode_steps  # episodes not yet stored at a check
    assert summary["grad_steps"] <= summary["env_steps"]
    assert summary["grad_steps"] >= summary["env_steps"] - in_flight_allowance, summary


def test_image_observations_train_through_ray_and_videos_reach_tensorboard(tmp_path: Path) -> None:
    """Cameras render on the env worker's own thread; images reach the store; the
    evaluation episodes appear as videos in TensorBoard."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    config = load_config(
        [
            *SMALL,
            "obs=image",
            "robot.image_height_px=32",
            "robot.image_width_px=32",
            "run.env_steps=200",
            "eval.at_start=false",
            # this checks that videos reach TensorBoard; the render bound has its own tests.
            # Small frames, the whole control period and a video every 2 s: on a busy test
            # machine a frame now and then overruns, which drops that video, not the next
            "eval.video_render_max_period_fraction=1",
            "robot.render_height_px=48",
            "robot.render_width_px=64",
            "eval.video_every_s=2",
            f"run.root={tmp_path}",
            "run.name=image",
        ]
    )
    train(config)
    episode = next(EpisodeStore(tmp_path / "image" / "episodes").iter_episodes())
    assert episode.observations["front"].shape[1:] == (32, 32, 3)
    assert episode.observations["wrist"].dtype.name == "uint8"
    events = EventAccumulator(str(tmp_path / "image" / "tensorboard"))
    events.Reload()
    assert "eval/video" in events.Tags()["images"]
