"""What a run's folder shows people: `curve.png`, redrawn at every point of the run's
learning curve, and the evaluation videos as MP4 (or GIF) files that a player opens."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from userl.cli import main
from userl.config.schema import EvalConfig
from userl.runtime.cell_counters import Cells
from userl.runtime.learning_curve import LearningCurve
from userl.telemetry.curve_plot import CurvePlot, render_curve, robot_minutes
from userl.telemetry.mp4 import (
    VIDEO_FORMATS,
    encode_mp4,
    eval_video_path,
    write_episode_videos,
    write_video,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class RecordingWriter:
    """A MetricsWriter stand-in that keeps what it was given."""

    def __init__(self) -> None:
        self.scalar_calls: list[tuple[dict[str, float], int]] = []
        self.videos: list[tuple[str, int, int]] = []

    def scalars(self, metrics: dict[str, float], step: int) -> None:
        self.scalar_calls.append((metrics, step))

    def video(self, tag: str, frames: list[np.ndarray], step: int, fps: float) -> None:
        self.videos.append((tag, len(frames), step))


def frames_of(count: int, height: int, width: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (height, width, 3), dtype=np.uint8) for _ in range(count)]


def test_mp4_round_trips_frame_count_and_pads_odd_sizes_to_even() -> None:
    data = encode_mp4(frames_of(6, 33, 47), fps=10.0)
    video = iio.imread(data, extension=".mp4", plugin="pyav")
    assert video.shape == (6, 34, 48, 3)


def test_write_video_picks_the_format_by_extension(tmp_path: Path) -> None:
    for name in ("mp4", "gif"):
        path = write_video(tmp_path / f"v.{name}", frames_of(3, 16, 16), fps=5.0)
        assert len(iio.imread(path, index=None)) == 3
    assert set(VIDEO_FORMATS.names()) >= {"mp4", "gif"}
    assert not list(tmp_path.glob("*.partial"))


def test_a_video_without_frames_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one frame"):
        encode_mp4([], fps=10.0)


def test_render_curve_is_a_png_with_and_without_effort_counters() -> None:
    points = [
        {"env_steps": 0, "success_rate": 0.0, "mean_return": 0.0},
        {"env_steps": 600, "success_rate": 0.5, "mean_return": 3.0, "intervened_steps": 12},
    ]
    assert render_curve(points, control_hz=10.0).startswith(PNG_MAGIC)
    assert robot_minutes(600, 10.0) == pytest.approx(1.0)


def test_a_curve_that_cannot_be_drawn_warns_and_the_run_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    CurvePlot(blocker / "curve.png", 10.0)(
        [{"env_steps": 1, "success_rate": 1.0, "mean_return": 1.0}]
    )
    assert "not drawn" in capsys.readouterr().out


def test_curve_drawn_in_a_run_folder_is_redrawn_at_every_point(tmp_path: Path) -> None:
    steps = {"env": 0}
    curve = LearningCurve(
        Cells(["cell"], several=False),
        RecordingWriter(),
        lambda: (steps["env"], 0),  # type: ignore[arg-type]
    ).drawn_in(tmp_path, EvalConfig(), control_hz=10.0)
    curve.add(0.0, 0.0, 5, None)
    png = tmp_path / "curve.png"
    first = png.read_bytes()
    assert first.startswith(PNG_MAGIC)
    steps["env"] = 300
    curve.add(1.0, 5.0, 5, None)
    assert png.read_bytes() != first  # redrawn with the second point


def test_an_evaluation_video_goes_to_tensorboard_and_the_run_folder(tmp_path: Path) -> None:
    writer = RecordingWriter()
    curve = LearningCurve(
        Cells(["cell"], several=False),
        writer,
        lambda: (1200, 7),  # type: ignore[arg-type]
    ).drawn_in(tmp_path, EvalConfig(video_format="mp4"), control_hz=10.0)
    curve.video(frames_of(4, 24, 32), success=True)
    assert writer.videos == [("eval/video", 4, 1200)]
    path = eval_video_path(tmp_path, 1200, True, "mp4")
    assert path.parent == tmp_path / "videos" and path.name == "eval_000001200_success.mp4"
    assert iio.imread(path, plugin="pyav").shape == (4, 24, 32, 3)


def test_a_video_that_cannot_be_encoded_warns_and_the_run_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    curve = LearningCurve(
        Cells(["cell"], several=False),
        RecordingWriter(),
        lambda: (5, 0),  # type: ignore[arg-type]
    ).drawn_in(tmp_path, EvalConfig(video_format="mp4"), control_hz=10.0)
    curve.video([np.zeros((4, 4, 5), dtype=np.uint8)], success=False)  # 5 channels
    assert "not written" in capsys.readouterr().out
    assert not list(tmp_path.rglob("*.mp4*"))


class Recorded:
    """An episode as `write_episode_videos` reads it: frames, success, its seed."""

    def __init__(self, seed: int, success: bool, frames: list[np.ndarray]) -> None:
        self.frames = frames
        self.success = success
        self.info = {"seed": seed, "true_success": success}


def test_eval_videos_are_one_file_per_recorded_episode_named_by_cell_seed_and_outcome(
    tmp_path: Path,
) -> None:
    episodes = [Recorded(7, True, frames_of(3, 16, 16)), Recorded(8, False, [])]
    written = write_episode_videos(tmp_path, episodes, 10.0, "mp4", cell="left")
    assert [Path(p).name for p in written] == ["left_seed7_success.mp4"]
    assert len(iio.imread(written[0], plugin="pyav")) == 3


@pytest.mark.parametrize(
    ("arguments", "says"),
    [(["video=yes"], "video=yes must be true or false"), (["video=true"], "is a file")],
)
def test_eval_video_arguments_are_checked_before_any_episode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], says: str
) -> None:
    blocker = tmp_path / "clips"
    blocker.write_text("")
    assert main(["eval", "policy=expert", *arguments, f"video_dir={blocker}"]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1
