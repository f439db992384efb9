"""Evaluation videos never stall a robot: a frame's render is timed against the control
period (a slow one drops the video with one warning and ends the robot's videos), an episode
run for its video alone ends at a stop, and an env whose `render()` returns one image per
camera gives tiled frames. The env is a small foreign gymnasium env; its renders advance a
test clock instead of taking time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import gymnasium as gym
import numpy as np

from userl.config.schema import Config
from userl.core.types import Episode
from userl.rollout.action_sources import ExpertSource
from userl.rollout.video_episode import EpisodeVideos, VideoCamera
from userl.runtime.worker_evaluation import WorkerEvaluations

CONTROL_HZ = 10.0  # a 0.1 s control period: the default bound (half of it) is 0.05 s
STEPS = 6


class Clock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


class ForeignEnv(gym.Env[dict[str, np.ndarray], np.ndarray]):
    """A gymnasium env whose `render()` returns a list of (2, 3, 3) views, one per camera,
    taking `render_s` of the test clock; `on_step(t)` runs after step t."""

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(
        self,
        clock: Clock,
        render_s: float = 0.001,
        views: int = 2,
        on_step: Callable[[int], None] = lambda t: None,
        image: Any = None,
    ) -> None:
        self.task = SimpleNamespace(name="foreign", control_hz=CONTROL_HZ)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (7,), np.float32)
        self.clock, self.render_s, self.views, self.on_step = clock, render_s, views, on_step
        self.image = image
        self.t = 0
        self.renders = 0

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[Any, dict]:
        self.t = 0
        return {"state": np.zeros(3, np.float32)}, {}

    def step(self, action: np.ndarray) -> tuple[Any, float, bool, bool, dict]:
        self.t += 1
        self.on_step(self.t)
        return {"state": np.full(3, self.t, np.float32)}, 0.0, False, self.t >= STEPS, {}

    def render(self) -> Any:
        self.renders += 1
        self.clock.now_s += self.render_s
        if self.image is not None:
            return self.image
        return [np.full((2, 3, 3), 10 * (view + 1), np.uint8) for view in range(self.views)]

    def expert_action(self) -> np.ndarray:
        return np.zeros(7, np.float32)


def videos(
    clock: Clock, stop: threading.Event | None = None, slow_videos_before_off: int = 1
) -> tuple[EpisodeVideos, list[str]]:
    warned: list[str] = []
    recorder = EpisodeVideos(
        0.5,
        (stop or threading.Event()).is_set,
        clock=clock,
        slow_videos_before_off=slow_videos_before_off,
    )
    recorder.warn = warned.append
    return recorder, warned


def test_a_multi_view_render_becomes_tiled_frames() -> None:
    clock = Clock()
    env = ForeignEnv(clock)
    recorder, warned = videos(clock)
    episode = recorder.run_episode(env, ExpertSource(env), "robot_0", seed=0)
    assert len(episode) == STEPS and len(episode.frames) == STEPS + 1  # reset and each step
    assert {frame.shape for frame in episode.frames} == {(2, 6, 3)}
    assert (episode.frames[0][:, :3] == 10).all() and (episode.frames[0][:, 3:] == 20).all()
    assert warned == [] and recorder.off == ""


def test_a_slow_render_drops_the_video_once_and_the_evaluation_goes_on() -> None:
    """A 2.6 s render (a foreign renderer) against a 0.05 s bound: no frames, one warning
    naming the bound's key, the counted evaluation episode still runs to its end, and the
    robot renders no more (its next episodes are not filmed). The robot's very first frame
    is its renderer's warm-up, not timed."""
    clock = Clock()
    env = ForeignEnv(clock, render_s=2.6)
    recorder, warned = videos(clock)
    episode = recorder.run_episode(env, ExpertSource(env), "robot_0", seed=0)
    assert episode.frames == [] and len(episode) == STEPS
    assert env.renders == 2  # the warm-up frame and the one that was too slow
    (line,) = warned
    assert "2.600 s" in line and "eval.video_render_max_period_fraction" in line
    assert recorder.off
    again = recorder.run_episode(env, ExpertSource(env), "robot_0", seed=1)
    assert env.renders == 2 and again.frames == [] and len(warned) == 1


def test_a_moment_of_load_drops_one_video_and_only_a_slow_renderer_ends_them() -> None:
    """A slow frame drops that video; the robot stops filming only after
    `slow_videos_before_off` slow videos in a row, and a video made in time starts the count
    over (a busy moment on the machine is not a slow renderer)."""
    clock = Clock()
    env = ForeignEnv(clock, render_s=2.6)
    recorder, warned = videos(clock, slow_videos_before_off=2)
    recorder.run_episode(env, ExpertSource(env), "robot_0", seed=0)
    assert not recorder.off and "1 of 2 in a row" in warned[-1]
    env.render_s = 0.0
    filmed = recorder.run_episode(env, ExpertSource(env), "robot_0", seed=1)
    assert len(filmed.frames) == STEPS + 1 and recorder.slow_in_row == 0
    env.render_s = 2.6
    recorder.run_episode(env, ExpertSource(env), "robot_0", seed=2)
    assert not recorder.off
    recorder.run_episode(env, ExpertSource(env), "robot_0", seed=3)
    assert recorder.off and "no more recorded" in warned[-1] and len(warned) == 3


def test_only_the_robots_first_frame_is_a_warm_up() -> None:
    clock = Clock()
    env = ForeignEnv(clock)
    recorder, warned = videos(clock)
    recorder.run_episode(env, ExpertSource(env), "robot_0", seed=0)
    env.render_s = 2.6
    assert recorder.run_episode(env, ExpertSource(env), "robot_0", seed=1).frames == []
    assert len(warned) == 1 and env.renders == STEPS + 2


def test_a_render_just_within_the_bound_is_kept() -> None:
    clock = Clock()
    env = ForeignEnv(clock, render_s=0.04)
    recorder, warned = videos(clock)
    episode = recorder.run_episode(env, ExpertSource(env), "robot_0", seed=0)
    assert len(episode.frames) == STEPS + 1 and warned == []


def test_a_video_only_episode_ends_when_its_video_is_dropped() -> None:
    clock = Clock()
    env = ForeignEnv(clock, render_s=2.6)
    recorder, _ = videos(clock)
    with recorder.video_only():
        episode = recorder.run_episode(env, ExpertSource(env), "robot_0", seed=0)
    assert len(episode) == 1 and bool(episode.truncated[-1]) and episode.frames == []


def test_a_stop_ends_a_video_only_episode_at_the_next_step() -> None:
    clock = Clock()
    stop = threading.Event()
    env = ForeignEnv(clock, on_step=lambda t: stop.set() if t == 2 else None)
    recorder, warned = videos(clock, stop)
    with recorder.video_only():
        episode = recorder.run_episode(env, ExpertSource(env), "robot_0", seed=0)
    assert len(episode) == 2 and episode.frames == [] and warned == []
    counted = recorder.run_episode(env, ExpertSource(env), "robot_0", seed=1)
    assert len(counted) == STEPS  # an evaluation episode that counts is never cut short


def test_a_render_that_is_no_image_drops_the_video() -> None:
    clock = Clock()
    env = ForeignEnv(clock, image=np.zeros((2, 2, 7), np.uint8))
    recorder, warned = videos(clock)
    assert recorder.run_episode(env, ExpertSource(env), "robot_0", seed=0).frames == []
    assert "render() gave no image" in warned[0]


class NoRendererEnv(ForeignEnv):
    """A gymnasium env whose renderer's package is not installed (pygame, for one)."""

    def render(self) -> Any:
        self.renders += 1
        raise ModuleNotFoundError("pygame is not installed\nsecond line")


def test_a_render_that_raises_drops_the_video_not_the_episode() -> None:
    clock = Clock()
    env = NoRendererEnv(clock)
    recorder, warned = videos(clock)
    episode = recorder.run_episode(env, ExpertSource(env), "robot_0", seed=0)
    assert len(episode) == STEPS and episode.frames == [] and env.renders == 1
    (line,) = warned
    assert "render() failed: ModuleNotFoundError: pygame is not installed;" in line
    assert line.endswith("set eval.video_every_s=0 for no videos")


def test_the_camera_is_the_env_for_everything_else() -> None:
    env = ForeignEnv(Clock())
    camera = VideoCamera(env, 1.0)
    assert camera.task is env.task and camera.action_space is env.action_space


class Learner:
    def __init__(self) -> None:
        self.videos: list[tuple[list[np.ndarray], bool]] = []
        self.log_video = SimpleNamespace(remote=lambda f, s: self.videos.append((f, s)))


def test_the_worker_records_no_video_once_stopping_and_logs_none_without_frames() -> None:
    config = Config()
    config.eval.video_every_s = 1.0
    calls: list[int] = []
    frames: list[list[np.ndarray]] = [[np.zeros((2, 2, 3), np.uint8)]]

    def collect(*args: Any) -> list[Episode]:
        calls.append(1)
        return [SimpleNamespace(frames=frames[0], success=True)]  # type: ignore[list-item]

    stop = threading.Event()
    learner = Learner()
    evaluations = WorkerEvaluations(config, "robot_0", None, collect, stop.is_set)
    evaluations.record_video(learner)
    assert len(calls) == 1 and len(learner.videos) == 1
    evaluations._last_video_s = None  # due again
    frames[0] = []  # the video was dropped (or cut short)
    evaluations.record_video(learner)
    assert len(calls) == 2 and len(learner.videos) == 1
    evaluations._last_video_s = None
    stop.set()
    evaluations.record_video(learner)
    assert len(calls) == 2  # a stopping run starts no video episode
