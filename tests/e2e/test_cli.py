"""The command line contract: bad input exits 2 with one line naming the problem.

Most cases call `userl.cli.main` in this process (a new interpreter costs seconds of imports
each); the exit status of a real process, and the commands that run, are checked through
`python -m userl.cli`."""

import subprocess
import sys
from pathlib import Path

import pytest

from userl.cli import main


def userl(*arguments: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "userl.cli", *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["train", "algo.bogus=1"], "algo.bogus"),
        (["train", "task=bogus"], "bogus"),
        (["train", "algo.gamma=x"], "algo.gamma"),
        (["eval", "episodes=3"], "run="),
        (["data", "stats", "/nonexistent/store"], "/nonexistent/store"),
        (["frobnicate"], "frobnicate"),
        (["train", "demos.path=/nonexistent/demos"], "demos.path"),
        (["train", "algo.utd_min=9"], "algo.utd_min"),
        (["train", "robot=franka"], "robot.ip"),  # no robot here: what is missing, and how
    ],
)
def test_bad_input_exits_2_with_one_line(arguments: list[str], named: str, capsys) -> None:
    assert main(arguments) == 2
    error = capsys.readouterr().err
    lines = error.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], error


def test_data_stats_on_a_folder_that_is_no_store_is_an_error_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    (run / "episodes").mkdir(parents=True)
    (run / "summary.json").write_text("{}")
    assert main(["data", "stats", str(run)]) == 2
    assert "episodes/" in capsys.readouterr().err
    assert sorted(p.name for p in run.iterdir()) == ["episodes", "summary.json"]


def test_a_bad_key_exits_the_process_with_status_2_and_one_line() -> None:
    result = userl("train", "algo.bogus=1")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "algo.bogus" in lines[0], result.stderr


def test_existing_run_is_not_overwritten(tmp_path: Path, capsys) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "summary.json").write_text("{}")
    assert main(["train", f"run.root={tmp_path}", "run.name=taken"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (tmp_path / "taken" / "summary.json").read_text() == "{}"


def test_collect_then_stats_then_expert_eval(tmp_path: Path) -> None:
    import json

    demos = tmp_path / "demos"
    collected = userl(
        "collect", "task=peg_insertion", "teleop=expert", "episodes=2", f"out={demos}"
    )
    assert collected.returncode == 0, collected.stderr
    assert json.loads(collected.stdout.strip().splitlines()[-1])["successes"] == 2
    stats = userl("data", "stats", str(demos))
    assert stats.returncode == 0, stats.stderr
    described = json.loads(stats.stdout)
    assert described["episodes"] == 2 and described["unreadable_files"] == 0
    assert described["per_robot_episodes"] == {"robot_0": 2}
    report_path = tmp_path / "expert.json"
    evaluated = userl(
        "eval", "task=peg_insertion", "policy=expert", "episodes=3", f"out={report_path}"
    )
    assert evaluated.returncode == 0, evaluated.stderr
    line = json.loads(evaluated.stdout.strip().splitlines()[-1])
    assert line["success_rate"] == 1.0 and line["episodes"] == 3
    report = json.loads(report_path.read_text())
    assert [r["seed"] for r in report["results"]] == [1_000_000, 1_000_001, 1_000_002]


def test_train_help_prints_the_resolved_config_and_starts_nothing(tmp_path: Path, capsys) -> None:
    assert main(["train", "--help", "algo=sac", f"run.root={tmp_path}"]) == 0
    helped = capsys.readouterr().out
    assert "  algo.num_critics: int = 2" in helped
    assert f"  run.root: str = '{tmp_path}'" in helped
    assert not any(tmp_path.iterdir())
    assert main(["config", "show", "algo=sac", f"run.root={tmp_path}"]) == 0
    assert capsys.readouterr().out in helped


def test_bench_help_lists_every_benchmark_and_one_benchmarks_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from userl.benchmarks import BENCHMARKS
    from userl.benchmarks.vla import DEFAULTS

    assert main(["bench", "--help"]) == 0
    listing = capsys.readouterr().out
    assert all(f"\n  {name} " in listing for name in BENCHMARKS.names())
    assert main(["bench", "vla", "--help"]) == 0
    described = capsys.readouterr().out
    assert all(f"  {key}={value}\n" in described for key, value in DEFAULTS.items())
