"""Weights & Biases as a metrics backend (`logger=wandb` or `both`): the same scalars and
evaluation videos TensorBoard gets, in a W&B run whose files stay in the run folder."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from userl.telemetry.video import encode_gif

STEP_KEY = "env_steps"  # the x axis of every userl metric


class WandbWriter:
    """One W&B run per training run: named after the run folder, resumed with it (its id is
    the folder's name), the resolved config attached, files under `<run>/wandb/`."""

    def __init__(self, run_dir: Path, config: Any) -> None:
        import wandb

        self._wandb = wandb
        settings = config.run
        self._run = wandb.init(
            project=settings.wandb_project,
            name=run_dir.name,
            id=run_dir.name,
            resume="allow",
            dir=str(run_dir),
            config=dataclasses.asdict(config),
        )
        # userl's metrics are logged against env steps, not always in increasing order (the
        # demos' count at 0 after a resume): W&B's own step would drop the late ones.
        self._run.define_metric(STEP_KEY)
        self._run.define_metric("*", step_metric=STEP_KEY)

    def scalars(self, metrics: dict[str, float], step: int) -> None:
        self._run.log({**{name: float(value) for name, value in metrics.items()}, STEP_KEY: step})

    def video(self, tag: str, frames: Sequence[np.ndarray], step: int, fps: float) -> None:
        """An evaluation episode as an animated GIF (W&B shows it as a video)."""
        if len(frames) == 0:
            return
        gif = Path(self._run.dir) / f"{tag.replace('/', '_')}_{step}.gif"
        gif.write_bytes(encode_gif(frames, fps))
        self._run.log({tag: self._wandb.Video(str(gif), format="gif"), STEP_KEY: step})

    def flush(self) -> None:
        """W&B writes in the background; nothing to force."""

    def close(self) -> None:
        """Finish the run, then stop W&B's background service, which writes the run's file:
        once this returns, the file is complete (for `wandb sync`, or a reader)."""
        self._run.finish()
        self._wandb.teardown()
