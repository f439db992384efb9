"""TensorBoard scalars (and, later, videos) under `runs/<name>/tensorboard/`."""

from __future__ import annotations

from pathlib import Path

from torch.utils.tensorboard import SummaryWriter


class MetricsWriter:
    """Writes `{name: value}` scalars at a step; names follow env/, train/, sync/, time/."""

    def __init__(self, log_dir: str | Path) -> None:
        self._writer = SummaryWriter(log_dir=str(log_dir), flush_secs=10)

    def scalars(self, metrics: dict[str, float], step: int) -> None:
        for name, value in metrics.items():
            self._writer.add_scalar(name, float(value), global_step=step)

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()
