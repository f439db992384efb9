"""Where a run's metrics go (`logger=tensorboard|wandb|both`): one writer interface, each
backend registered once, and a fan-out so that `both` is just two writers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from userl.core.registry import Registry


class MetricSink(Protocol):
    """What the learner writes to: scalars at a step, evaluation videos, flush and close."""

    def scalars(self, metrics: dict[str, float], step: int) -> None: ...

    def video(self, tag: str, frames: Sequence[np.ndarray], step: int, fps: float) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


# logger name -> the backends it writes to (a backend: (run folder, run config) -> sink)
SinkFactory = Callable[[Path, Any], MetricSink]
METRIC_BACKENDS: Registry[SinkFactory] = Registry("metrics backend")
LOGGERS: dict[str, tuple[str, ...]] = {
    "tensorboard": ("tensorboard",),
    "wandb": ("wandb",),
    "both": ("tensorboard", "wandb"),
}


@METRIC_BACKENDS.register("tensorboard")
def tensorboard_sink(run_dir: Path, config: Any) -> MetricSink:
    """TensorBoard event files under the run's `tensorboard/`."""
    from userl.telemetry.tensorboard import MetricsWriter

    return MetricsWriter(run_dir / "tensorboard")


@METRIC_BACKENDS.register("wandb")
def wandb_sink(run_dir: Path, config: Any) -> MetricSink:
    """A Weights & Biases run kept under the run's `wandb/` (`WANDB_MODE=offline` to sync
    later with `wandb sync`)."""
    from userl.telemetry.wandb_writer import WandbWriter

    return WandbWriter(run_dir, config)


class FanOut:
    """Every call goes to each sink in turn."""

    def __init__(self, sinks: Sequence[MetricSink]) -> None:
        self.sinks = list(sinks)

    def scalars(self, metrics: dict[str, float], step: int) -> None:
        for sink in self.sinks:
            sink.scalars(metrics, step)

    def video(self, tag: str, frames: Sequence[np.ndarray], step: int, fps: float) -> None:
        for sink in self.sinks:
            sink.video(tag, frames, step, fps)

    def flush(self) -> None:
        for sink in self.sinks:
            sink.flush()

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()


def metric_sink(logger: str, run_dir: Path, config: Any) -> FanOut:
    """The writer for `logger` (a key of LOGGERS; the config loader has checked it)."""
    return FanOut([METRIC_BACKENDS.get(name)(run_dir, config) for name in LOGGERS[logger]])
