"""A short `userl train` leaves a run folder people can use: `curve.png`, MP4 evaluation
videos, and a policy that `userl export-policy` writes and `policy.weights=DIR` loads back
acting as the run's own checkpoint does (same returns on the same evaluation seeds)."""

import json
from pathlib import Path

import imageio.v3 as iio
import pytest

from userl.cli import main
from userl.config.loader import load_config
from userl.runtime.train import train

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("shared_ray")]

SMALL = [
    "run.env_steps=300",
    "demos.episodes=2",
    "eval.episodes=2",
    "eval.at_start=true",
    "eval.video_every_s=60",
    "algo.batch_size=32",
    "algo.num_critics=3",
    "algo.critic_hidden_dims=[32,32]",
    "policy.hidden_dims=[32,32]",
    "algo.utd_max=1",
]


def test_a_short_run_folder_has_its_curve_videos_and_an_exportable_policy(tmp_path: Path) -> None:
    train(load_config([*SMALL, f"run.root={tmp_path}", "run.name=short"]))
    run_dir = tmp_path / "short"
    assert (run_dir / "curve.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    videos = sorted((run_dir / "videos").glob("eval_*.mp4"))
    assert videos, sorted(p.name for p in run_dir.rglob("*"))
    assert len(iio.imread(videos[-1], plugin="pyav")) > 1

    export = tmp_path / "export"
    assert main(["export-policy", f"run={run_dir}", f"out={export}"]) == 0
    assert sorted(p.name for p in export.iterdir()) == ["config.json", "model.safetensors"]

    from_run, from_export = tmp_path / "run.json", tmp_path / "export.json"
    assert main(["eval", f"run={run_dir}", "episodes=2", f"out={from_run}"]) == 0
    clips = tmp_path / "clips"
    weights_eval = [
        "eval",
        f"policy.weights={export}",
        "policy.hidden_dims=[32,32]",
        "episodes=2",
        f"out={from_export}",
        "video=true",
        f"video_dir={clips}",
    ]
    assert main(weights_eval) == 0
    ran, exported = json.loads(from_run.read_text()), json.loads(from_export.read_text())
    assert [r["return"] for r in exported["results"]] == pytest.approx(
        [r["return"] for r in ran["results"]], rel=1e-5
    )
    assert len(exported["videos"]) == 2 and all(
        Path(p).suffix == ".mp4" for p in exported["videos"]
    )
    assert len(list(clips.glob("seed*_*.mp4"))) == 2
