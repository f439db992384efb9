"""TensorBoard scalars and videos under `runs/<name>/tensorboard/`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tensorboard.compat.proto.summary_pb2 import Summary
from torch.utils.tensorboard import SummaryWriter

from userl.telemetry.video import encode_gif


class MetricsWriter:
    """Writes `{name: value}` scalars at a step; names follow env/, train/, sync/, time/."""

    def __init__(self, log_dir: str | Path) -> None:
        self._writer = SummaryWriter(log_dir=str(log_dir), flush_secs=10)

    def scalars(self, metrics: dict[str, float], step: int) -> None:
        for name, value in metrics.items():
            self._writer.add_scalar(name, float(value), global_step=step)

    def video(self, tag: str, frames: Sequence[np.ndarray], step: int, fps: float) -> None:
        """One video from uint8 (H, W, 3) frames, shown as an animated GIF in the Images tab
        (no moviepy needed)."""
        if len(frames) == 0:
            return
        height, width = np.asarray(frames[0]).shape[:2]
        image = Summary.Image(
            height=height, width=width, colorspace=3, encoded_image_string=encode_gif(frames, fps)
        )
        self._writer._get_file_writer().add_summary(
            Summary(value=[Summary.Value(tag=tag, image=image)]), global_step=step
        )

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()
