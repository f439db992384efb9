"""The run's learning curve, kept by the learner: every evaluation as a point stamped with
the run's progress, so that summary.json and TensorBoard show success against env steps,
gradient steps, wall time and human effort; and, once `drawn_in` a run's folder, what people
look at of the evaluations there: `curve.png`, redrawn at each point, and the evaluation
videos (`videos/eval_*.mp4`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from userl.config.schema import EvalConfig
from userl.data.checkpoint import plain
from userl.runtime.cell_counters import Cells
from userl.telemetry.curve_plot import CURVE_FILE, CurvePlot
from userl.telemetry.metric_loggers import MetricSink
from userl.telemetry.mp4 import save_eval_video

Curve = list[dict[str, float]]


def pooled(points: list[dict[str, float]], env_steps: int, grad_steps: int) -> dict[str, float]:
    """Several cells' evaluation points as one: success and return over all their episodes,
    the confusion counts summed."""
    episodes = sum(int(p["episodes"]) for p in points)
    weights = [int(p["episodes"]) / max(episodes, 1) for p in points]
    confusion = {
        key: sum(int(p.get(key, 0)) for p in points)
        for key in {k for p in points for k in p if k.startswith("reward_")}
    }
    return {
        "env_steps": env_steps,
        "grad_steps": grad_steps,
        "success_rate": sum(w * p["success_rate"] for w, p in zip(weights, points, strict=True)),
        "mean_return": sum(w * p["mean_return"] for w, p in zip(weights, points, strict=True)),
        "episodes": episodes,
        **confusion,
    }


class LearningCurve:
    """The run's curve (`points`) and, with several cells, each cell's own (`cell_points`);
    the run's point is then the pool of every cell's latest, added once every cell has
    evaluated. `cells` are the learner's counters, read for the human effort of each point;
    `progress` gives the run's env and gradient steps now, which stamp it."""

    def __init__(
        self, cells: Cells, writer: MetricSink, progress: Callable[[], tuple[int, int]]
    ) -> None:
        self.cells = cells
        self.writer = writer
        self.progress = progress
        self.run_dir: Path | None = None  # where curve.png and the videos go (`drawn_in`)
        self.evaluation = EvalConfig()
        self.plot: CurvePlot | None = None
        self.points: Curve = []
        self.cell_points: dict[str, Curve] = (
            {name: [] for name in cells.names} if cells.several else {}
        )
        self._started_s = time.monotonic()  # points' `time_s` count from here

    def add(
        self,
        success_rate: float,
        mean_return: float,
        episodes: int,
        confusion: dict[str, int] | None,
        cell: str = "",
    ) -> None:
        """One point, stamped with the run's env and gradient steps and the seconds since
        the learner started (`time_s`); with ground truth, the reward source's confusion
        counts (`eval/reward_*`). With `cell`, one cell's evaluation (`eval/<cell>/...`);
        once every cell has evaluated, each cell's point adds the pool of every cell's latest
        to the run's curve. Every point carries the human effort so far
        (`CellCounters.effort`: online episodes, intervened steps, takeovers)."""
        env_steps, grad_steps = self.progress()
        point = {
            "env_steps": env_steps,
            "grad_steps": grad_steps,
            "time_s": time.monotonic() - self._started_s,
            "success_rate": float(success_rate),
            "mean_return": float(mean_return),
            "episodes": int(episodes),
            **(confusion or {}),
        }
        if not cell:
            self._add_run_point({**point, **self.cells.effort()}, env_steps)
            return
        counters = self.cells[self.cells.names.index(cell)]
        self.cell_points[cell].append(
            {**point, **counters.effort(), "cell_env_steps": counters.env_steps}
        )
        self.writer.scalars(
            {
                f"eval/{cell}/success_rate": point["success_rate"],
                f"eval/{cell}/mean_return": point["mean_return"],
            },
            env_steps,
        )
        if all(self.cell_points.values()):
            latest = [curve[-1] for curve in self.cell_points.values()]
            self._add_run_point(
                {
                    **pooled(latest, env_steps, grad_steps),
                    **self.cells.effort(),
                    "time_s": point["time_s"],
                },
                env_steps,
            )

    def _add_run_point(self, point: dict[str, float], env_steps: int) -> None:
        self.points.append(point)
        confusion = {k: v for k, v in point.items() if k.startswith("reward_")}
        self.writer.scalars(
            {
                "eval/success_rate": point["success_rate"],
                "eval/mean_return": point["mean_return"],
                **{f"eval/{k}": v for k, v in confusion.items()},
            },
            env_steps,
        )
        if self.plot is not None:
            self.plot(self.points)

    def drawn_in(self, run_dir: Path, evaluation: EvalConfig, control_hz: float) -> LearningCurve:
        """This curve, from now on also drawn as `run_dir/curve.png` at every point of the
        run's curve (robot-minutes at `control_hz`), with `video` writing the evaluation
        videos into `run_dir/videos/` as `evaluation.video_format` says."""
        self.run_dir = run_dir
        self.evaluation = evaluation
        self.plot = CurvePlot(run_dir / CURVE_FILE, control_hz, run_dir.name)
        return self

    def video(self, frames: list[np.ndarray], success: bool) -> None:
        """An evaluation episode's front-camera video at the run's env step now: in
        TensorBoard and, once `drawn_in` a run's folder, as a file in its `videos/`."""
        env_steps, _ = self.progress()
        fps = self.evaluation.video_fps
        if self.run_dir is not None:  # first: a frame TensorBoard cannot take costs no file
            video_format = self.evaluation.video_format
            save_eval_video(self.run_dir, frames, env_steps, success, fps, video_format)
        self.writer.video("eval/video", frames, env_steps, fps)
        self.writer.scalars({"eval/video_episode_success": float(success)}, env_steps)

    def latest_online_success(self) -> float:
        """Success of the newest evaluation made after training started (-1: none yet); with
        several cells, the lowest of the cells' newest (every task must reach a target)."""
        curves = list(self.cell_points.values()) if self.cell_points else [self.points]
        latest = []
        for curve in curves:
            online = [p["success_rate"] for p in curve if p["env_steps"] > 0]
            if not online:
                return -1.0
            latest.append(online[-1])
        return min(latest)

    def state(self) -> dict[str, Any]:
        """The curves as a checkpoint keeps them (plain types only)."""
        return {"eval_curve": plain(self.points), "cell_curves": plain(self.cell_points)}

    def load_state(self, state: dict[str, Any]) -> None:
        """The curves of a checkpoint (one written before curves were kept has none)."""
        self.points = list(state.get("eval_curve", []))
        self.cell_points.update(state.get("cell_curves", {}))
