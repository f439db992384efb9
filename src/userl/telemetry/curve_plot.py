"""`curve.png` in a run's folder: the learning curve as a picture, redrawn at every
evaluation so that a run in progress can be judged with an image viewer (no TensorBoard).

Three panels: evaluation success rate and mean return against online env steps; success
against robot-minutes (env steps at the task's control rate: the robot time a real arm
would have spent); and the human effort so far (intervened steps and takeovers)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from userl.core.files import atomic_write

SECONDS_PER_MINUTE = 60.0
CURVE_FILE = "curve.png"
FIGURE_SIZE_IN = (15.0, 4.2)  # width, height in inches
FIGURE_DPI = 100  # pixels per inch of the saved PNG

Points = Sequence[dict[str, float]]


def robot_minutes(env_steps: float, control_hz: float) -> float:
    """Robot time that many env steps take at the task's control rate."""
    return env_steps / control_hz / SECONDS_PER_MINUTE


def render_curve(points: Points, control_hz: float, title: str = "") -> bytes:
    """The learning curve's three panels as PNG bytes (matplotlib's Agg backend: no
    display needed, safe in a worker thread of a headless node)."""
    from matplotlib.figure import Figure  # a bare Figure: no pyplot state shared by threads

    steps = [p["env_steps"] for p in points]
    success = [p["success_rate"] for p in points]
    figure = Figure(figsize=FIGURE_SIZE_IN)
    by_steps, by_minutes, effort = figure.subplots(1, 3)
    by_steps.plot(steps, success, marker=".", color="tab:blue", label="success rate")
    by_steps.set_xlabel("online env steps")
    by_steps.set_ylabel("evaluation success rate")
    by_steps.set_ylim(-0.05, 1.05)
    returns = by_steps.twinx()
    returns.plot(
        steps, [p["mean_return"] for p in points], marker=".", color="tab:orange", label="return"
    )
    returns.set_ylabel("mean return", color="tab:orange")
    minutes = [robot_minutes(s, control_hz) for s in steps]
    by_minutes.plot(minutes, success, marker=".", color="tab:blue")
    by_minutes.set_xlabel(f"robot-minutes (env steps at {control_hz:g} Hz)")
    by_minutes.set_ylabel("evaluation success rate")
    by_minutes.set_ylim(-0.05, 1.05)
    for key, label in (("intervened_steps", "intervened steps"), ("takeovers", "takeovers")):
        effort.plot(steps, [p.get(key, 0.0) for p in points], marker=".", label=label)
    effort.set_xlabel("online env steps")
    effort.set_ylabel("human effort so far")
    effort.legend(fontsize=8)
    for axis in (by_steps, by_minutes, effort):
        axis.grid(alpha=0.3)
    if title:
        figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI)
    return buffer.getvalue()


class CurvePlot:
    """Redraws `path` (a run's `curve.png`) from the curve's points, written atomically (an
    image viewer never reads half a file). Drawing is a by-product of an evaluation: a
    failure is a warning, never the end of the run."""

    def __init__(self, path: Path, control_hz: float, title: str = "") -> None:
        self.path = path
        self.control_hz = control_hz
        self.title = title

    def __call__(self, points: Points) -> None:
        if not points:
            return
        try:
            image = render_curve(points, self.control_hz, self.title)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, lambda handle: handle.write(image))
        except Exception as error:  # matplotlib, fonts or disk: the run goes on without it
            print(f"warning: learning curve {self.path} not drawn: {error}", flush=True)
