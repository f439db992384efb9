"""Video frames from what a renderer returns: one image, or one image per camera."""

from __future__ import annotations

import io

import imageio.v3 as iio
import numpy as np
import pytest

from userl.telemetry.video import encode_gif, video_frame, write_gif


def views(count: int, height: int = 4, width: int = 6) -> list[np.ndarray]:
    return [np.full((height, width, 3), 40 * (i + 1), np.uint8) for i in range(count)]


def test_one_image_is_the_frame() -> None:
    (image,) = views(1)
    assert np.array_equal(video_frame(image), image)


@pytest.mark.parametrize(
    "rendered",
    [
        views(2),
        np.stack(views(2)),  # (V, H, W, 3)
        np.stack(views(2))[None],  # (1, V, H, W, 3)
        tuple(views(2)),
    ],
    ids=["list", "stack", "batched-stack", "tuple"],
)
def test_several_views_are_tiled_left_to_right(rendered: object) -> None:
    frame = video_frame(rendered)
    assert frame.shape == (4, 12, 3)
    assert (frame[:, :6] == 40).all() and (frame[:, 6:] == 80).all()


def test_a_shorter_view_is_padded_below() -> None:
    frame = video_frame([np.full((4, 2, 3), 9, np.uint8), np.full((2, 3, 3), 7, np.uint8)])
    assert frame.shape == (4, 5, 3)
    assert (frame[2:, 2:] == 0).all() and (frame[:2, 2:] == 7).all()


def test_grey_alpha_and_unit_float_views_become_rgb_bytes() -> None:
    grey = np.full((3, 3), 5, np.uint8)
    rgba = np.full((3, 3, 4), 200, np.uint8)
    unit = np.full((3, 3, 3), 0.5, np.float32)
    assert (video_frame(grey) == 5).all() and video_frame(grey).shape == (3, 3, 3)
    assert video_frame(rgba).shape == (3, 3, 3)
    assert video_frame(unit).dtype == np.uint8 and (video_frame(unit) == 127).all()


def test_a_view_that_is_not_an_image_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match=r"rendered view must be"):
        video_frame(np.zeros((3, 3, 7), np.uint8))


def test_a_multi_view_gif_encodes_and_reads_back_tiled(tmp_path) -> None:
    """The renderer shape that crashed the encoder: one (1, 1, 128, 3)-typed stack a frame."""
    frames = [np.zeros((2, 1, 128, 3), np.uint8) + i for i in range(3)]
    data = encode_gif(frames, fps=10.0)
    video = iio.imread(io.BytesIO(data), extension=".gif", index=None)
    assert video.shape[:3] == (3, 1, 256)
    path = write_gif(tmp_path / "v" / "a.gif", frames, fps=10.0)
    assert path.read_bytes() == data


def test_no_frames_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one frame"):
        encode_gif([], fps=10.0)
