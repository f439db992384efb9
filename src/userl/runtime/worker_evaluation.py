"""An env worker's evaluations during training: the learning curve's points and the
evaluation videos in TensorBoard, made by the robots themselves between training episodes
(the driver evaluates only before and after training)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from userl.config.schema import Config
from userl.core.types import Episode
from userl.envs.cells import CellBinding
from userl.rollout.evaluation import results_of, reward_confusion
from userl.rollout.video_episode import EpisodeVideos
from userl.runtime.remote import call

# collect(episodes, source, deterministic, seed_base, record_first) -> episodes
Collect = Callable[[int, str, bool | None, int | None, bool], list[Episode]]


class WorkerEvaluations:
    """When and how one worker evaluates: `collect` runs whole episodes on its robot (not
    stored, not training data); `cell` is the cell it runs, in a run of several. `videos`
    records the first episode of a `collect(..., record_first=True)` within its time bound;
    `stopping()` is true once the run stops."""

    def __init__(
        self,
        config: Config,
        robot_id: str,
        cell: CellBinding | None,
        collect: Collect,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self.config = config
        self.robot_id = robot_id
        self.cell = cell
        self.collect = collect
        self.stopping = stopping
        self.videos = EpisodeVideos(
            config.eval.video_render_max_period_fraction,
            stopping,
            slow_videos_before_off=config.eval.slow_videos_before_off,
        )
        self._last_video_s: float | None = None
        self._next_curve_env_steps = config.eval.curve_every_env_steps

    def record_video(self, learner: Any) -> None:
        """Every `eval.video_every_s`, one deterministic episode on video for TensorBoard
        (the first robot only; the episode is not training data). None once the run stops or
        this robot's videos are off (a frame rendered too slowly); the episode ends at a stop
        or when its video is dropped, and then nothing is logged."""
        every_s = self.config.eval.video_every_s
        if not every_s or self.robot_id != "robot_0" or self.videos.off or self.stopping():
            return
        now = time.monotonic()
        if self._last_video_s is not None and now - self._last_video_s < every_s:
            return
        self._last_video_s = now
        with self.videos.video_only():
            (episode,) = self.collect(1, "policy", True, self.config.eval.seed_offset, True)
        if episode.frames:
            learner.log_video.remote(episode.frames, bool(episode.success))

    def curve_point(self, learner: Any) -> bool:
        """Each time the run passes another `eval.curve_every_env_steps` online env steps,
        the first robot runs `eval.curve_episodes` evaluation episodes (fixed seeds, the
        deterministic policy as of now, not stored) and the learner logs the result."""
        every = self.config.eval.curve_every_env_steps
        if not every or (self.robot_id != "robot_0" and self.cell is None):
            return False  # one robot of one cell evaluates, or each cell of several
        timeout_s = self.config.run.remote_timeout_s
        _, env_steps = call(learner.utd_state, timeout_s=timeout_s)
        if env_steps < self._next_curve_env_steps:
            return False
        self._next_curve_env_steps = (env_steps // every + 1) * every
        evaluation = self.config.eval
        episodes = self.collect(
            evaluation.curve_episodes,
            "policy",
            evaluation.deterministic,
            evaluation.seed_offset,
            False,
        )
        results = results_of(episodes)
        call(
            learner.log_evaluation,
            results["success_rate"],
            results["mean_return"],
            results["episodes"],
            reward_confusion(episodes),
            self.cell.name if self.cell else "",
            timeout_s=timeout_s,
        )
        return True
