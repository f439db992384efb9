"""Episode videos: animated GIFs of rendered frames (imageio's pillow plugin, no ffmpeg)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import imageio.v3 as iio
import numpy as np


def encode_gif(frames: Sequence[np.ndarray], fps: float) -> bytes:
    """uint8 (H, W, 3) frames as the bytes of a looping animated GIF at `fps`."""
    if len(frames) == 0:
        raise ValueError("a video needs at least one frame")
    buffer = io.BytesIO()
    iio.imwrite(
        buffer,
        np.stack(frames),
        extension=".gif",
        plugin="pillow",
        duration=1000.0 / max(fps, 1e-3),
        loop=0,
    )
    return buffer.getvalue()


def write_gif(path: str | Path, frames: Sequence[np.ndarray], fps: float) -> Path:
    """Write the frames to `path` (a .gif) and return it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(encode_gif(frames, fps))
    return target
