"""Videos of episodes (collect, TensorBoard)."""

import json
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import pytest

from userl.config.loader import load_config
from userl.envs.factory import make_env
from userl.rollout.action_sources import ExpertSource
from userl.rollout.episode import run_episode
from userl.telemetry.tensorboard import MetricsWriter

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def userl(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "userl.cli", *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_collect_with_video_writes_a_readable_gif(tmp_path: Path) -> None:
    out = tmp_path / "demos"
    result = userl(
        "collect",
        "task=charger",
        "episodes=1",
        f"out={out}",
        "video=true",
        "robot.render_height_px=64",
        "robot.render_width_px=80",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["successes"] == 1 and len(report["videos"]) == 1
    frames = iio.imread(report["videos"][0], index=None)
    assert frames.ndim == 4 and frames.shape[1:3] == (64, 80) and frames.shape[0] >= 2
    assert frames[0].std() > 0


def test_run_episode_records_frames_outside_the_observations(tmp_path: Path) -> None:
    config = load_config(["task=charger", "robot.render_height_px=48", "robot.render_width_px=64"])
    env = make_env(config, seed=0, render_mode="rgb_array")
    episode = run_episode(env, ExpertSource(env), "robot_0", seed=0, record_frames=True)
    env.close()
    assert len(episode.frames) == len(episode) + 1
    assert episode.frames[0].shape == (48, 64, 3)
    assert set(episode.observations) == {"state"}
    writer = MetricsWriter(tmp_path / "tb")
    writer.video("eval/video", episode.frames, step=3, fps=10)
    writer.close()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    assert "eval/video" in events.Tags()["images"]
    image = events.Images("eval/video")[0]
    assert image.step == 3 and image.encoded_image_string[:3] == b"GIF"
