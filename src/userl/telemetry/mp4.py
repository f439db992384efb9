"""Episode videos as files people open: H.264 MP4 (PyAV's own FFmpeg, no system install)
or an animated GIF, by name (`eval.video_format=mp4|gif`), written whole or not at all."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np

from userl.core.files import atomic_write
from userl.core.registry import Registry
from userl.telemetry.video import encode_gif, video_frame

VIDEO_CODEC = "libx264"  # H.264: what browsers, players and the Hub's viewer all play
MACRO_PIXELS = 2  # H.264's 4:2:0 chroma needs an even height and width: frames are padded

Encoder = Callable[[Sequence[Any], float], bytes]
VIDEO_FORMATS: Registry[Encoder] = Registry("video format")
"""`eval.video_format=NAME`: name -> `(frames, fps) -> the file's bytes`; the file's
extension is the name."""


def even_sized(frames: Sequence[Any]) -> np.ndarray:
    """Rendered frames (each as `video_frame` takes it: one image or several views) as
    uint8 (T, H, W, 3), the last row and column repeated where H or W is odd."""
    video = np.stack([video_frame(frame) for frame in frames])
    pad_h, pad_w = (-video.shape[1]) % MACRO_PIXELS, (-video.shape[2]) % MACRO_PIXELS
    if pad_h or pad_w:
        video = np.pad(video, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    return video


@VIDEO_FORMATS.register("mp4")
def encode_mp4(frames: Sequence[Any], fps: float) -> bytes:
    """uint8 (H, W, 3) frames as the bytes of an H.264 MP4 at `fps` frames per second."""
    if len(frames) == 0:
        raise ValueError("a video needs at least one frame")
    buffer = io.BytesIO()
    iio.imwrite(
        buffer,
        even_sized(frames),
        extension=".mp4",
        plugin="pyav",
        codec=VIDEO_CODEC,
        fps=max(round(fps), 1),
    )
    return buffer.getvalue()


VIDEO_FORMATS.register("gif")(encode_gif)


def write_video(path: Path, frames: Sequence[Any], fps: float) -> Path:
    """The frames as a video file at `path`, in the format its extension names (`.mp4`,
    `.gif`), written atomically (a reader never sees half a file); returns `path`."""
    encode = VIDEO_FORMATS.get(path.suffix.lstrip("."))
    data = encode(frames, fps)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda handle: handle.write(data))
    return path


def eval_video_path(folder: Path, env_steps: int, success: bool, video_format: str) -> Path:
    """Where a run keeps the evaluation video made at `env_steps`:
    `videos/eval_<env steps>_<success|failure>.<format>` in the run's folder."""
    outcome = "success" if success else "failure"
    return folder / "videos" / f"eval_{env_steps:09d}_{outcome}.{video_format}"


def save_eval_video(
    run_dir: Path,
    frames: Sequence[Any],
    env_steps: int,
    success: bool,
    fps: float,
    video_format: str,
) -> Path | None:
    """An evaluation episode's video into the run's `videos/` folder (`eval_video_path`);
    a video is a by-product, so one that cannot be encoded or written is a warning and
    None, never the end of the run."""
    path = eval_video_path(run_dir, env_steps, success, video_format)
    try:
        return write_video(path, frames, fps)
    except Exception as error:  # any encoder or disk failure: the run goes on without it
        print(f"warning: evaluation video {path} not written: {error}", flush=True)
        return None


def write_episode_videos(
    folder: Path, episodes: Sequence[Any], fps: float, video_format: str, cell: str = ""
) -> list[str]:
    """Each recorded episode's frames as `[<cell>_]seed<seed>_<success|failure>.<format>`
    in `folder` (`userl eval ... video=true`); episodes without frames are skipped."""
    prefix = f"{cell}_" if cell else ""
    paths = []
    for episode in episodes:
        if not episode.frames:
            continue
        outcome = "success" if episode.info.get("true_success", episode.success) else "failure"
        name = f"{prefix}seed{int(episode.info['seed'])}_{outcome}.{video_format}"
        paths.append(str(write_video(folder / name, episode.frames, fps)))
    return paths
