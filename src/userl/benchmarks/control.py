"""Control-period jitter at the task's rate (10 Hz) while a learner saturates the CPU:
`userl bench control [steps=300] [learner_threads=2] out=F.json`.

The simulated robot is paced to real time (`robot.realtime=true`, a deadline scheduler),
acting with a local MLP policy in this process, first alone and then while a Ray learner
actor trains flat out (UTD ceiling lifted, `learner_threads` torch threads) on expert data.
Reports p50/p99/max of |period - 1/control_hz| in ms, and overruns (> 10 % late).
"""

from __future__ import annotations

import tempfile
import time
from typing import Any

import numpy as np
import ray
import torch

from userl.config.loader import load_config
from userl.envs.factory import make_env
from userl.policies import build_policy
from userl.rollout.action_sources import PolicySource
from userl.rollout.evaluation import run_episodes
from userl.runtime.learner import Learner
from userl.runtime.ray_session import local_ray


def control_periods(config: Any, steps: int) -> np.ndarray:
    """Wall-clock periods of `steps` consecutive control steps (episodes back to back)."""
    env = make_env(config, seed=0)
    source = PolicySource(build_policy(config.policy, env.observation_spec, 7))
    marks: list[float] = []
    seed = 0
    try:
        while len(marks) < steps + 1:
            observation, _ = env.reset(seed=seed)
            seed += 1
            done = False
            marks_this_episode: list[float] = []
            while not done and len(marks) + len(marks_this_episode) < steps + 1:
                observation, _, terminated, truncated, _ = env.step(
                    source.decide(observation).action
                )
                marks_this_episode.append(time.monotonic())
                done = terminated or truncated
            marks.extend(marks_this_episode)
            if len(marks) < steps + 1:
                marks.append(float("nan"))  # a reset separates episodes: no period across it
    finally:
        env.close()
    periods = np.diff(np.asarray(marks))
    return periods[np.isfinite(periods)]


def summarise(periods: np.ndarray, period_s: float) -> dict[str, float]:
    deviation_ms = np.abs(periods - period_s) * 1000.0
    return {
        "periods": int(len(periods)),
        "period_ms_p50": float(np.median(periods) * 1000),
        "deviation_ms_p50": float(np.percentile(deviation_ms, 50)),
        "deviation_ms_p99": float(np.percentile(deviation_ms, 99)),
        "deviation_ms_max": float(deviation_ms.max()),
        "overruns": int(np.sum(periods > 1.1 * period_s)),
    }


def run(arguments: list[str]) -> dict[str, Any]:
    options = dict(argument.split("=", 1) for argument in arguments)
    steps = int(options.pop("steps", "300"))
    threads = int(options.pop("learner_threads", "2"))
    if options:
        raise ValueError(
            f"unknown control options: {', '.join(options)}; use steps=, learner_threads="
        )
    torch.set_num_threads(1)
    config = load_config(
        [
            "robot.realtime=true",
            "algo.utd_max=1000000",
            f"run.torch_threads={threads}",
            "task.terminate_on_success=false",
        ]
    )
    period_s = 1.0 / config.task.control_hz
    alone = summarise(control_periods(config, steps), period_s)
    with local_ray(num_cpus=3):
        run_dir = tempfile.mkdtemp(prefix="userl-control-")
        probe = make_env(config, seed=0)
        spec = probe.observation_spec
        probe.close()
        learner = ray.remote(max_concurrency=4)(  # type: ignore[call-overload]
            Learner
        ).remote(config, spec, 7, run_dir)
        demos = run_episodes(load_config([]), "expert", 10)
        ray.get(learner.add_demos.remote(demos))
        for episode in demos:  # online data, so the learner's UTD ceiling opens
            ray.get(learner.add_episode.remote(episode))
        training = learner.run_async.remote()
        time.sleep(2.0)  # the learner is up to speed
        loaded = summarise(control_periods(config, steps), period_s)
        updates_per_s = ray.get(learner.stats.remote())["updates_per_s"]
        ray.get(learner.stop.remote())
        ray.get(training)
    loaded["learner_updates_per_s"] = updates_per_s
    return {
        "control_hz": config.task.control_hz,
        "learner_threads": threads,
        "alone": alone,
        "under_learner_load": loaded,
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"control at {result['control_hz']:.0f} Hz: |period - target| in ms",
        f"{'':20} {'p50':>6} {'p99':>6} {'max':>6} {'overruns':>9}",
    ]
    for name in ("alone", "under_learner_load"):
        row = result[name]
        lines.append(
            f"{name:20} {row['deviation_ms_p50']:6.2f} {row['deviation_ms_p99']:6.2f} "
            f"{row['deviation_ms_max']:6.2f} {row['overruns']:>9}"
        )
    lines.append(
        f"learner meanwhile: {result['under_learner_load']['learner_updates_per_s']:.1f} updates/s"
    )
    return "\n".join(lines)
