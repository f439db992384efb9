"""Pipeline modes: the same env workers and learner, in two orders. Their configs live in
`config/pipelines.py` (no Ray there), registered under the same names."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ray

from userl.config.schema import Config
from userl.core.registry import PIPELINES
from userl.core.types import Episode
from userl.rewards.base import RewardFailed
from userl.runtime.budgets import reached_line, stop_reason
from userl.runtime.disk_space import DiskShort, shortfall
from userl.runtime.remote import call, call_each

ProgressHook = Callable[[dict[str, float]], None]
SYNC_TRAIN_CHUNK_UPDATES = 10  # the sync pipeline asks the learner for this many at a time
RESTART_POLL_S = 0.5  # how often a restarting worker is asked whether it is back


def curve_evaluation_timeout_s(config: Config) -> float:
    """How long a learning-curve evaluation may take: each of its `eval.curve_episodes`
    episodes gets the bound one training episode gets (`run.remote_timeout_s`)."""
    return config.run.remote_timeout_s * max(1, config.eval.curve_episodes)


def _stop_reason(
    config: Config, stats: dict[str, float], started: float, earlier_train_s: float
) -> str | None:
    """Which budget ends the run now (None: none yet): the learner's counters, and the
    training seconds of this session since `started` plus those of earlier sessions."""
    return stop_reason(config.run, stats, earlier_train_s + time.monotonic() - started)


@PIPELINES.register("async")
def run_async(
    config: Config,
    learner: Any,
    workers: list[Any],
    progress: ProgressHook,
    earlier_train_s: float = 0.0,
) -> dict[str, Any]:
    """Env workers act and ship episodes while the learner trains; nobody waits on anybody.
    Returns the worker restarts and the stop reason (`budgets.py`); `earlier_train_s` is the
    training time of the run's earlier sessions, which the wall-clock budget counts.

    A worker that dies (its process, its robot or its driver) is restarted with exponential
    back-off and reconnects; training goes on meanwhile."""
    timeout_s = config.run.remote_timeout_s
    started = time.monotonic()
    stats = call(learner.stats, timeout_s=timeout_s)
    reason = _stop_reason(config, stats, started, earlier_train_s)
    if reason:  # e.g. resumed with its budget spent: a stop sent right after a loop's start
        progress(stats)  # could reach it before the loop clears its stop flag, so start
        return {"worker_restarts": 0, "stop_reason": reason}  # nothing
    training = learner.run_async.remote()
    acting = {worker.run.remote(learner): index for index, worker in enumerate(workers)}
    restarts = [0] * len(workers)
    try:
        while True:
            stats = call(learner.stats, timeout_s=timeout_s)
            progress(stats)
            reason = _stop_reason(config, stats, started, earlier_train_s)
            if reason:  # each robot finishes its episode, so the figures pass the budget
                print(
                    reached_line(config.run, reason, "finishing the episode in progress"),
                    flush=True,
                )
                break
            finished, _ = ray.wait([*acting, training], num_returns=1, timeout=0.5)
            for reference in finished:
                if reference == training:
                    ray.get(training)  # raises the learner's error, if it had one
                    raise RuntimeError("the learner stopped training on its own")
                index = acting.pop(reference)
                _restart_worker(config, workers[index], reference, index, restarts)
                acting[workers[index].run.remote(learner)] = index
    finally:
        _stop_all(config, learner, workers, list(acting), training)
    return {"worker_restarts": sum(restarts), "stop_reason": reason}


def _restart_worker(
    config: Config, worker: Any, finished: Any, index: int, restarts: list[int]
) -> None:
    """Report why a worker's loop ended, make Ray restart it, and wait out the back-off."""
    try:
        ray.get(finished)
        reason = "its loop returned"
    except ray.exceptions.RayActorError as error:
        reason = f"its process died ({type(error).__name__})"
    except ray.exceptions.RayTaskError as error:
        reason = f"{type(error.cause).__name__}: {error.cause}".splitlines()[0]
        if isinstance(error.cause, RewardFailed):  # a restart would not fix the reward source
            raise RuntimeError(str(error.cause).splitlines()[0]) from None
        if isinstance(error.cause, DiskShort):  # nor free the disk: stop on its own line
            raise error.cause from None
        ray.kill(worker, no_restart=False)  # a fresh process: a fresh robot connection
    restarts[index] += 1
    if restarts[index] > config.run.max_worker_restarts:
        raise RuntimeError(
            f"env worker robot_{index} failed {restarts[index]} times; "
            f"last: {reason}. Fix the robot or raise run.max_worker_restarts"
        )
    backoff_s = min(
        config.run.worker_restart_backoff_s * 2 ** (restarts[index] - 1),
        config.run.worker_restart_backoff_max_s,
    )
    print(
        f"env worker robot_{index} stopped: {reason}; restart {restarts[index]} "
        f"in {backoff_s:.1f} s",
        flush=True,
    )
    time.sleep(backoff_s)
    _wait_until_alive(worker, config.run.start_timeout_s)  # it rebuilds robot and policy


def _wait_until_alive(worker: Any, timeout_s: float) -> None:
    """Wait (bounded) until Ray has brought a restarting worker back: a loaded machine may
    take long to rebuild its robot and policy, and a call made meanwhile fails as
    unavailable, which is the same restart, not another one."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            call(worker.action_dim, timeout_s=max(deadline - time.monotonic(), 0.1))
            return
        except ray.exceptions.ActorUnavailableError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(RESTART_POLL_S)


def _stop_all(
    config: Config, learner: Any, workers: list[Any], acting: list[Any], training: Any
) -> None:
    """Stop acting, flush every spool to the store, then stop training; each wait bounded."""
    timeout_s = config.run.remote_timeout_s
    for worker in workers:
        worker.stop.remote()
    ray.wait(acting, num_returns=len(acting), timeout=timeout_s)
    flushes = [worker.flush.remote(learner, timeout_s) for worker in workers]
    ready, _ = ray.wait(flushes, num_returns=len(flushes), timeout=timeout_s)
    for reference in ready:
        try:
            left = ray.get(reference)
        except ray.exceptions.RayError as error:
            print(f"warning: a worker could not flush its spool: {error}".splitlines()[0])
            continue
        if left:
            print(
                f"warning: {left} episodes are unacknowledged; those in a spool are "
                "shipped again on resume=true (a robot names any it could not write)",
                flush=True,
            )
    learner.stop.remote()
    ray.wait([training], timeout=timeout_s)


def room_in_store(
    _learner: object, store: Path, episode_bytes: int, reserve_mb: float
) -> str | None:
    """`disk_space.shortfall` for the learner's episode store, run in the learner's process
    (`__ray_call__`: the store is on the learner's machine, which need not be the driver's);
    a store not made yet is measured on the folder that will hold it."""
    folder = next(path for path in (store, *store.parents) if path.exists())
    return shortfall(folder, episode_bytes, reserve_mb)


def store_failure(error: BaseException) -> OSError | None:
    """The file-system error (a full or read-only disk) behind a failed `add_episode`: the
    learner's own `OSError`, which Ray passes on as the cause; None for any other failure (a
    timeout, a learner that died), which is not about the disk."""
    if isinstance(error, ray.exceptions.RayTaskError) and isinstance(error.cause, OSError):
        return error.cause
    return None


def store_episodes(add: Callable[[Episode], object], episodes: list[Episode]) -> int:
    """Hand each finished episode to the learner's store (`add`); returns their steps. One it
    cannot write stops the run with `DiskShort`, naming it and every later one of the batch:
    in the sync pipeline they are nowhere but in memory, so none is claimed stored."""
    for index, episode in enumerate(episodes):
        try:
            add(episode)
        except Exception as error:
            cause = store_failure(error)
            if cause is None:
                raise
            lost = episodes[index:]
            names = "; ".join(
                f"{e.robot_id}'s episode {e.episode_id} of {len(e)} steps" for e in lost
            )
            raise DiskShort(
                f"the learner could not store an episode ({type(cause).__name__}: "
                f"{str(cause).splitlines()[0]}); not on any disk, lost: {names}",
                len(lost),
            ) from None
    return sum(len(episode) for episode in episodes)


@PIPELINES.register("sync")
def run_sync(
    config: Config,
    learner: Any,
    workers: list[Any],
    progress: ProgressHook,
    earlier_train_s: float = 0.0,
) -> dict[str, Any]:
    """Collect an episode per worker, train on it (UTD x its steps), sync weights, repeat.
    Returns the stop reason, as `run_async` does. Before each round of episodes the run's
    store must have room for them plus `run.min_free_disk_mb` (else `DiskShort`, one line,
    before a robot moves); an episode the learner cannot write is named, never lost silently."""
    timeout_s = config.run.remote_timeout_s
    started = time.monotonic()
    store = Path(config.run.root) / config.run.name / "episodes"
    round_bytes = sum(call_each([w.episode_bytes for w in workers], timeout_s=timeout_s))
    while True:
        stats = call(learner.stats, timeout_s=timeout_s)
        progress(stats)
        reason = _stop_reason(config, stats, started, earlier_train_s)
        if reason:
            return {"stop_reason": reason}
        short = call(
            learner.__ray_call__,
            room_in_store,
            store,
            round_bytes,
            config.run.min_free_disk_mb,
            timeout_s=timeout_s,
        )
        if short is not None:
            raise DiskShort(f"the run stopped before its next episodes: {short}")
        episodes = call_each([w.collect for w in workers], 1, "training", timeout_s=timeout_s)
        steps = store_episodes(
            lambda episode: call(learner.add_episode, episode, timeout_s=timeout_s),
            [episode for batch in episodes for episode in batch],
        )
        remaining = int(config.algo.utd_max * steps)
        while remaining > 0:  # in chunks, so that every wait stays short and bounded
            done = call(
                learner.train, min(remaining, SYNC_TRAIN_CHUNK_UPDATES), timeout_s=timeout_s
            )
            if done == 0:
                break
            remaining -= done
        version = call(learner.publish_weights, timeout_s=timeout_s)
        snapshot = call(learner.latest_weights, version - 1, True, timeout_s=timeout_s)
        call_each([w.set_weights for w in workers], snapshot, timeout_s=timeout_s)
        call_each(
            [w.evaluate_for_curve for w in workers],
            learner,
            timeout_s=curve_evaluation_timeout_s(config),
        )
