"""Evaluation videos that never stall a robot.

A video is `env.render()` after the reset and after each step of one evaluation episode, on
the robot's own thread. `VideoCamera` times every frame: one that takes longer than
`eval.video_render_max_period_fraction` of the task's control period would slow the control
loop, so the video is dropped at that frame (the episode goes on without frames) and
`EpisodeVideos` says so in one warning line; after `slow_videos_before_off` such videos in a
row (a renderer that is always slow, not a moment of load) it records no more on that robot.
A `render()` that raises (a renderer's package missing, a camera gone) or gives no image ends
the robot's videos at once: videos never end a run. An episode run only for its video also
ends at the next step once the run is stopping or its video is dropped: a stop never waits on
a video. A robot's very first frame is not timed (its renderer warms up: a GL context, buffers).
Whatever `render()` returns (one image, or one per camera) becomes one RGB frame
(`telemetry.video.video_frame`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from userl.core.types import Episode
from userl.hardware.vendor import first_line
from userl.rollout.action_sources import ActionSource
from userl.rollout.episode import run_episode
from userl.telemetry.video import video_frame

RENDER_BOUND_KEY = "eval.video_render_max_period_fraction"
NO_VIDEO = "set eval.video_every_s=0 for no videos"


class VideoCamera:
    """`env` with a camera on it: each `reset` and `step` also renders one frame into
    `frames`, unless a frame took over `frame_max_s` or could not be made a video frame
    (`dropped` says why; the frames are gone). With `end_early`, the episode is truncated
    after the step at which the video was dropped or `end_early()` became true. `clock`
    (seconds) times the renders, all but the first `untimed` ones. Every other attribute is
    the env's."""

    def __init__(
        self,
        env: Any,
        frame_max_s: float,
        end_early: Callable[[], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
        untimed: int = 0,
    ) -> None:
        self.env = env
        self.frame_max_s = frame_max_s
        self.end_early = end_early
        self.clock = clock
        self.untimed = untimed
        self.frames: list[np.ndarray] = []
        self.dropped = ""
        self.fix = ""  # what the user can do about a dropped video
        self.slow = False  # dropped for a slow frame (not a failed or non-image render)
        self.ended_early = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.env, name)

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        observation, info = self.env.reset(**kwargs)
        self._film()
        return observation, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        self._film()
        ending = self.end_early is not None and not (terminated or truncated)
        if ending and (self.dropped or (self.end_early is not None and self.end_early())):
            self.ended_early = truncated = True
        return observation, reward, terminated, truncated, info

    def _film(self) -> None:
        if self.dropped:
            return
        started = self.clock()
        try:
            image = self.env.render()
        except Exception as error:  # noqa: BLE001 (a video is never worth the run: any failure drops it)
            self._drop(f"render() failed: {type(error).__name__}: {first_line(error)}", NO_VIDEO)
            return
        took_s = self.clock() - started
        timed = len(self.frames) >= self.untimed
        if timed and took_s > self.frame_max_s:
            self.slow = True
            self._drop(
                f"a frame took {took_s:.3f} s to render, over its {self.frame_max_s:.3f} s "
                f"({RENDER_BOUND_KEY} of the control period)",
                f"raise {RENDER_BOUND_KEY} or {NO_VIDEO}",
            )
            return
        try:
            self.frames.append(video_frame(image))
        except ValueError as error:
            self._drop(f"render() gave no image ({error})", NO_VIDEO)

    def _drop(self, reason: str, fix: str) -> None:
        self.dropped, self.fix = reason, fix
        self.frames = []


class EpisodeVideos:
    """One robot's evaluation videos: `run_episode` records an episode's frames within the
    time bound; once its videos are off (`slow_videos_before_off` slow ones in a row, or a
    render that fails), `off` says why and no more are recorded. Inside
    `video_only()` an episode is run for its video alone, so it may end early (`stopping()`,
    or its video dropped). `warn` prints the one line; `clock` times the renders."""

    def __init__(
        self,
        max_period_fraction: float,
        stopping: Callable[[], bool],
        clock: Callable[[], float] = time.monotonic,
        slow_videos_before_off: int = 1,
    ) -> None:
        self.max_period_fraction = max_period_fraction
        self.slow_videos_before_off = slow_videos_before_off
        self.slow_in_row = 0
        self.stopping = stopping
        self.clock = clock
        self.off = ""
        self.warmed_up = False  # the robot's renderer has made its first frame
        self._video_only = False
        self.warn: Callable[[str], None] = lambda line: print(line, flush=True)

    @contextmanager
    def video_only(self) -> Iterator[None]:
        self._video_only = True
        try:
            yield
        finally:
            self._video_only = False

    def frame_max_s(self, env: Any) -> float:
        """The longest a frame may take: the bound's share of the task's control period."""
        return self.max_period_fraction / float(env.task.control_hz)

    def run_episode(
        self, env: Any, source: ActionSource, robot_id: str, seed: int | None, **kwargs: Any
    ) -> Episode:
        """`rollout.episode.run_episode` with the episode's frames in `episode.frames`
        (none when the video was dropped, or was cut short by a stop)."""
        if self.off:
            return run_episode(env, source, robot_id, seed, **kwargs)
        camera = VideoCamera(
            env,
            self.frame_max_s(env),
            self.stopping if self._video_only else None,
            self.clock,
            untimed=0 if self.warmed_up else 1,
        )
        self.warmed_up = True
        episode = run_episode(camera, source, robot_id, seed, **kwargs)
        episode.frames = [] if camera.ended_early else camera.frames
        self.slow_in_row = self.slow_in_row + 1 if camera.slow else 0
        if camera.dropped and (not camera.slow or self.slow_in_row >= self.slow_videos_before_off):
            self.off = camera.dropped
            self.warn(
                f"warning: {robot_id}: evaluation video skipped and no more recorded: "
                f"{camera.dropped}; {camera.fix}"
            )
        elif camera.dropped:
            self.warn(
                f"warning: {robot_id}: evaluation video skipped ({self.slow_in_row} of "
                f"{self.slow_videos_before_off} in a row before videos stop): {camera.dropped}"
            )
        return episode
