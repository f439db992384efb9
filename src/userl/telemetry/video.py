"""Episode videos: animated GIFs of rendered frames (imageio's pillow plugin, no ffmpeg).

A frame is what an env's `render()` returns: one RGB image, or one image per camera (a list
of (H, W, 3) views, or a stack (V, H, W, 3), as several gymnasium robot envs return);
`video_frame` makes either one (H, W, 3) uint8 image, the views side by side."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np

RGB_CHANNELS = 3


def _rgb(view: np.ndarray) -> np.ndarray:
    """One view as (H, W, 3) uint8: grey repeated to RGB, alpha dropped, floats in [0, 1]
    scaled to [0, 255] (other floats clipped to it)."""
    if view.ndim == 2:
        view = view[..., None]
    if view.ndim != 3 or view.shape[-1] not in (1, RGB_CHANNELS, RGB_CHANNELS + 1):
        raise ValueError(
            f"a rendered view must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {view.shape}"
        )
    if view.shape[-1] == 1:
        view = np.repeat(view, RGB_CHANNELS, axis=-1)
    view = view[..., :RGB_CHANNELS]
    if np.issubdtype(view.dtype, np.floating):
        scale = 255.0 if view.size and float(np.nanmax(view)) <= 1.0 else 1.0
        view = np.clip(np.nan_to_num(view) * scale, 0.0, 255.0)
    return np.ascontiguousarray(view, dtype=np.uint8)


def _views(image: Any) -> list[np.ndarray]:
    """The views in what `render()` returned: a list/tuple of images, a stack (V, H, W, C)
    (a leading axis of size 1 squeezed first), or one image."""
    if isinstance(image, list | tuple):
        return [view for item in image for view in _views(item)]
    array = np.asarray(image)
    while array.ndim > 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == 4:
        return list(array)
    return [array]


def video_frame(image: Any) -> np.ndarray:
    """One (H, W, 3) uint8 video frame from a rendered image or several views, tiled left to
    right (shorter views padded with black below)."""
    views = [_rgb(view) for view in _views(image)]
    if not views:
        raise ValueError("render() returned no image")
    if len(views) == 1:
        return views[0]
    height = max(view.shape[0] for view in views)
    padded = [np.pad(v, ((0, height - v.shape[0]), (0, 0), (0, 0))) for v in views]
    return np.concatenate(padded, axis=1)


def encode_gif(frames: Sequence[Any], fps: float) -> bytes:
    """Rendered frames (each as `video_frame` takes it) as the bytes of a looping animated
    GIF at `fps`."""
    if len(frames) == 0:
        raise ValueError("a video needs at least one frame")
    buffer = io.BytesIO()
    iio.imwrite(
        buffer,
        np.stack([video_frame(frame) for frame in frames]),
        extension=".gif",
        plugin="pillow",
        duration=1000.0 / max(fps, 1e-3),
        loop=0,
    )
    return buffer.getvalue()


def write_gif(path: str | Path, frames: Sequence[Any], fps: float) -> Path:
    """Write the frames to `path` (a .gif) and return it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(encode_gif(frames, fps))
    return target
