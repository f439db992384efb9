"""Fault injection: short trainings on the simulated robot, each hit by one fault.

`userl bench faults [scenarios=a,b] [root=DIR] out=F.json`. For every scenario it reports
episodes and transitions produced (finished by a robot), stored (in the run's episode
store afterwards) and lost (produced but not stored), whether the run recovered, and the
time from the fault to the first episode stored after it.

Scenarios:
- `sigkill_resume`: SIGKILL of the whole `userl train` process group mid-run, then
  `resume=true`; grad_steps must continue from the checkpoint.
- `worker_kill`: an env worker's process is killed mid-run; Ray restarts it.
- `learner_stall`: the learner hangs for longer than the workers' resend timeout.
- `corrupt_files`: stored episode files are truncated and bit-flipped, then reloaded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from userl.core.registry import Registry
from userl.data.store import EpisodeStore

SCENARIOS: Registry = Registry("fault scenario")

SMALL_TRAINING = [
    "demos.episodes=2",
    "eval.episodes=2",
    "algo.num_critics=2",
    "algo.batch_size=32",
    "policy.hidden_dims=[32,32]",
    "algo.critic_hidden_dims=[32,32]",
    "run.grad_steps=0",
    "run.env_steps=0",
    "run.log_every_s=1",
    "run.remote_timeout_s=60",
]
POLL_S = 0.2
FAULT_AFTER_EPISODES = 5  # the fault comes once this many episodes are stored ...
EPISODES_AFTER_FAULT = 5  # ... and the run must store this many more to have recovered
RUN_BOUND_S = 600.0  # a generous bound on each faulted run (its budget is in episodes)
OUTPUT_TAIL_CHARS = 3000  # of a failed run's output, in an error


def wait_for(
    condition: Callable[[], bool], timeout_s: float, what: str, process: TrainProcess | None = None
) -> float:
    """Poll until `condition()`; returns the time it took. Raises TimeoutError naming `what`,
    or at once RuntimeError with its output's tail when `process` exits first."""
    started = time.monotonic()
    while not condition():
        if process is not None and process.popen.poll() is not None and not condition():
            raise RuntimeError(
                f"userl train exited with status {process.popen.returncode} "
                f"before {what}:\n{process.output_tail()}"
            )
        if time.monotonic() - started > timeout_s:
            tail = f":\n{process.output_tail()}" if process is not None else ""
            raise TimeoutError(f"gave up after {timeout_s:.0f} s waiting for {what}{tail}")
        time.sleep(POLL_S)
    return time.monotonic() - started


def episode_ids(folder: Path) -> dict[str, int]:
    """Episode id -> transitions, for every readable episode under `folder` (recursively)."""
    found: dict[str, int] = {}
    for store_dir in {p.parent for p in folder.rglob("*.npz")}:
        for episode in EpisodeStore(store_dir).iter_episodes():
            found[episode.episode_id] = len(episode)
    return found


def accounting(produced: dict[str, int], stored: dict[str, int]) -> dict[str, Any]:
    lost = set(produced) - set(stored)
    return {
        "episodes_produced": len(produced),
        "transitions_produced": sum(produced.values()),
        "episodes_stored": len(set(produced) & set(stored)),
        "transitions_stored": sum(produced[i] for i in set(produced) & set(stored)),
        "episodes_lost": len(lost),
        "transitions_lost": sum(produced[i] for i in lost),
    }


def first_store_after(store: Path, moment_files: int) -> Callable[[], bool]:
    return lambda: len(EpisodeStore(store).files()) > moment_files


class TrainProcess:
    """`userl train` in its own process group (so the whole group can be killed), its output
    going to a file: a pipe nobody reads fills up and stalls the run's logging."""

    def __init__(self, arguments: list[str], log_path: Path) -> None:
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("w") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "userl.cli", "train", *arguments],
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )

    def output_tail(self, chars: int = OUTPUT_TAIL_CHARS) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def signal_group(self, signal_number: int) -> None:
        os.killpg(self.popen.pid, signal_number)

    def finish(self, timeout_s: float) -> int:
        """Wait for the exit; the return code."""
        return self.popen.wait(timeout=timeout_s)

    def kill_if_running(self) -> None:
        if self.popen.poll() is None:
            self.signal_group(signal.SIGKILL)
            self.popen.wait(timeout=RUN_BOUND_S)


@SCENARIOS.register("sigkill_resume")
def sigkill_resume(root: Path) -> dict[str, Any]:
    run = ["run.root=" + str(root), "run.name=sigkill", "run.checkpoint_every_s=2"]
    store = root / "sigkill" / "episodes"
    process = TrainProcess([*SMALL_TRAINING, *run, "run.wall_s=300"], root / "first.log")
    try:
        wait_for(
            lambda: (
                (root / "sigkill" / "checkpoints" / "latest.pt").is_file()
                and len(EpisodeStore(store).files()) >= 10
            ),
            RUN_BOUND_S,
            "a checkpoint and 10 episodes",
            process,
        )
        time.sleep(1.0)
    finally:
        process.signal_group(signal.SIGKILL)
        process.finish(RUN_BOUND_S)
    produced = episode_ids(root / "sigkill" / "episodes")
    produced.update(episode_ids(root / "sigkill" / "spool"))
    import torch

    checkpoint = torch.load(root / "sigkill" / "checkpoints" / "latest.pt", weights_only=False)
    files_at_kill = len(EpisodeStore(store).files())
    killed_at = time.monotonic()
    resumed = TrainProcess(
        [
            *SMALL_TRAINING,
            *run,
            "resume=true",
            f"run.wall_s={RUN_BOUND_S}",
            f"run.episodes={len(produced) + EPISODES_AFTER_FAULT}",
        ],
        root / "resumed.log",
    )
    recover_s = -1.0
    try:
        recover_s = wait_for(
            first_store_after(store, files_at_kill),
            RUN_BOUND_S,
            "the first episode after resuming",
            resumed,
        )
        returncode = resumed.finish(RUN_BOUND_S)
    finally:
        resumed.kill_if_running()
    summary = json.loads((root / "sigkill" / "summary.json").read_text())
    restored = summary.get("resumed_from", {})
    stored = episode_ids(store)
    result = accounting(produced, stored)
    continued = restored.get("grad_steps", -1) >= int(checkpoint["grad_steps"]) > 0
    result.update(
        {
            "checkpoint_grad_steps": int(checkpoint["grad_steps"]),
            "resumed_grad_steps": restored.get("grad_steps"),
            "final_grad_steps": summary.get("grad_steps"),
            "recovered": returncode == 0 and continued and result["episodes_lost"] == 0,
            "time_to_recover_s": recover_s,
            "time_to_resume_total_s": time.monotonic() - killed_at,
        }
    )
    if returncode != 0:
        result["error"] = resumed.output_tail()
    return result


def train_in_background(arguments: list[str]) -> tuple[threading.Thread, dict[str, Any]]:
    from userl.config.loader import load_config
    from userl.runtime.train import train

    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["summary"] = train(load_config(arguments))
        except BaseException as error:  # reported in the scenario's result
            outcome["error"] = f"{type(error).__name__}: {error}"

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, outcome


def in_process_fault(root: Path, name: str, inject: Callable[[], None]) -> dict[str, Any]:
    """Run a training in this process, inject a fault once it has stored some episodes, and
    account. The run's budget is episodes, not time: it recovered when it stores
    EPISODES_AFTER_FAULT more after the fault, however slowly a busy machine gets there."""
    store = root / name / "episodes"
    budget = FAULT_AFTER_EPISODES + EPISODES_AFTER_FAULT
    thread, outcome = train_in_background(
        [
            *SMALL_TRAINING,
            f"run.root={root}",
            f"run.name={name}",
            f"run.episodes={budget}",
            f"run.wall_s={RUN_BOUND_S}",
        ]
    )
    wait_for(
        lambda: len(EpisodeStore(store).files()) >= FAULT_AFTER_EPISODES or not thread.is_alive(),
        RUN_BOUND_S,
        f"the first {FAULT_AFTER_EPISODES} episodes",
    )
    files_at_fault = len(EpisodeStore(store).files())
    inject()
    recover_s = wait_for(
        lambda: first_store_after(store, files_at_fault)() or not thread.is_alive(),
        RUN_BOUND_S,
        "an episode after the fault",
    )
    thread.join(timeout=RUN_BOUND_S)
    produced = episode_ids(store)
    produced.update(episode_ids(root / name / "spool"))  # whatever stayed unacknowledged
    result = accounting(produced, episode_ids(store))
    summary = outcome.get("summary", {})
    result.update(
        {
            "recovered": "summary" in outcome
            and "eval_success_rate" in summary
            and summary.get("episodes", 0) >= budget
            and result["episodes_lost"] == 0,
            "time_to_recover_s": recover_s,
            "worker_restarts": summary.get("worker_restarts", 0),
        }
    )
    if "error" in outcome:
        result["error"] = outcome["error"]
    return result


@SCENARIOS.register("worker_kill")
def worker_kill(root: Path) -> dict[str, Any]:
    import ray

    from userl.runtime.cluster import worker_name

    def inject() -> None:
        ray.kill(ray.get_actor(worker_name("robot_0")), no_restart=False)

    result = in_process_fault(root, "worker_kill", inject)
    result["recovered"] = result["recovered"] and result["worker_restarts"] >= 1
    return result


@SCENARIOS.register("learner_stall")
def learner_stall(root: Path, stall_s: float = 6.0) -> dict[str, Any]:
    import ray

    from userl.runtime.cluster import LEARNER_NAME

    def inject() -> None:
        ray.get_actor(LEARNER_NAME).stall.remote(stall_s)

    result = in_process_fault(root, "learner_stall", inject)
    result["stall_s"] = stall_s
    return result


@SCENARIOS.register("corrupt_files")
def corrupt_files(root: Path, episodes: int = 6) -> dict[str, Any]:
    from userl.config.loader import load_config
    from userl.rollout.evaluation import run_episodes

    store = EpisodeStore(root / "corrupt").create()
    paths = [store.write(e) for e in run_episodes(load_config([]), "expert", episodes)]
    intact = {p.stem.rsplit("_", 1)[-1] for p in paths[2:]}
    data = paths[0].read_bytes()
    paths[0].write_bytes(data[: len(data) // 3])  # truncated, as by a crash without rename
    flipped = bytearray(paths[1].read_bytes())
    for offset in range(300, len(flipped), max(1, len(flipped) // 7)):
        flipped[offset] ^= 0xFF  # bit rot
    paths[1].write_bytes(bytes(flipped))
    started = time.monotonic()
    report = store.load()
    loaded = {e.episode_id for e in report.episodes}
    return {
        "episodes_produced": episodes,
        "episodes_damaged_on_purpose": 2,
        "damaged_reported_and_skipped": len(report.unreadable),
        "intact_episodes_loaded": len(loaded & intact),
        "episodes_lost": len(intact - loaded),  # intact episodes that failed to load
        "recovered": loaded == intact and len(report.unreadable) == 2,
        "time_to_recover_s": time.monotonic() - started,
    }


def run(arguments: list[str]) -> dict[str, Any]:
    options = dict(argument.split("=", 1) for argument in arguments)
    names = options.pop("scenarios", ",".join(SCENARIOS.names())).split(",")
    root_option = options.pop("root", "")
    if options:
        raise ValueError(f"unknown faults options: {', '.join(options)}; use scenarios=, root=")
    root = Path(root_option or tempfile.mkdtemp(prefix="userl-faults-"))
    results = {name: SCENARIOS.get(name)(root / name) for name in names}
    return {"root": str(root), "scenarios": results}


def table(result: dict[str, Any]) -> str:
    lines = [
        f"{'scenario':16} {'produced':>9} {'stored':>7} {'lost':>5} {'recovered':>9} "
        f"{'recover_s':>9}"
    ]
    for name, row in result["scenarios"].items():
        produced = row.get("transitions_produced", row.get("episodes_produced"))
        stored = row.get("transitions_stored", row.get("intact_episodes_loaded"))
        lost = row.get("transitions_lost", row.get("episodes_lost"))
        lines.append(
            f"{name:16} {produced!s:>9} {stored!s:>7} {lost!s:>5} "
            f"{'yes' if row['recovered'] else 'NO':>9} {row['time_to_recover_s']:9.2f}"
        )
    return "\n".join(lines)
