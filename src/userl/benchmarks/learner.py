"""Learner throughput and replay memory: gradient updates per second for each policy preset
with 2 and 10 critic heads (batches sampled from a filled replay buffer, as the learner
does), and the bytes one stored transition costs.

Usage: userl bench learner [policies=mlp,cnn_small,flow_g,flow_t] [heads=2,10] [seconds=3]
       [batch_size=256] [threads=1] [device=cpu|cuda] [state_dim=25] [compile=off]
       [image_encoder_bf16=false] [bf16_matmuls=auto|on|off] [compare=LEROBOT.jsonl]
       [profile=N] out=F.json
`cnn` (two 128x128 views, the GPU preset) is measured when named in `policies=`; on a CPU it
takes seconds per update. Each update samples its batch as the learner does (gathered in
place into preallocated, on a GPU pinned, batch tensors). `updates_per_s` counts updates
over the whole window; on a CPU `updates_per_s_median` is 1 / the median update time (what
the LeRobot side-by-side script reports: robust to other processes on a shared machine) and
`updates_per_s_best` 1 / the fastest update's (the least disturbed by them).
`compare=` reads LeRobot's figures (one JSON line per run: setting, num_critics, threads,
loop_per_s) and adds the userl / LeRobot ratios; its state setting has 20 dimensions, so
`state_dim` defaults to 20 then. `profile=N` profiles N more updates per row and reports
milliseconds per update by category (matrix products, element-wise, optimiser, Polyak,
sampling, and the Python/autograd overhead no operator accounts for). `bf16_matmuls` is the
learner's `algo.bf16_matmuls` (auto: bfloat16 hidden-layer products on a CPU that has them
natively); the result records what it resolved to.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from userl.core.specs import ObservationSpec
    from userl.core.types import Episode

DEFAULTS = {
    "policies": "mlp,cnn_small,flow_g,flow_t",
    "heads": "2,10",
    "seconds": "3",
    "batch_size": "256",
    "threads": "1",
    "device": "cpu",
    "state_dim": "",
    "compile": "off",
    "image_encoder_bf16": "false",
    "bf16_matmuls": "auto",
    "compare": "",
    "profile": "0",
}
STATE_DIM = 25  # the simulated cell's state vector
LEROBOT_STATE_DIM = 20  # the side-by-side script's state setting
LEROBOT_SETTING_OF_POLICY = {"mlp": "state20", "cnn_small": "img64x2", "cnn": "img128x2"}
ALGO_OF_POLICY = {"flow_g": "sac_flow", "flow_t": "sac_flow"}  # others: rlpd (SAC)
VIEWS = ("front", "wrist")
REPLAY_FILL = 4_000  # transitions in the buffer batches are drawn from
EPISODE_STEPS = 100
MEMORY_CAPACITY = 100_000  # the budget: 100,000 transitions of two views in <= 10 GB
MIN_UPDATES = 3  # measured even when one update takes longer than `seconds`
WARMUP_UPDATES = 3  # before timing: allocations, kernels, and compilation when compile= is on


def _parse(arguments: list[str]) -> dict[str, str]:
    from userl.core.errors import ConfigError

    options = dict(DEFAULTS)
    for argument in arguments:
        key, sep, value = argument.partition("=")
        if not sep or key not in DEFAULTS:
            raise ConfigError(
                f"unknown benchmark option {argument!r}; known: "
                f"{', '.join(f'{k}=' for k in DEFAULTS)}"
            )
        options[key] = value
    return options


def _spec(policy_config: Any, state_dim: int) -> ObservationSpec:
    from userl.core.specs import ImageSpec, ObservationSpec

    size = policy_config.view_size_px()
    views = tuple(ImageSpec(name, size, size) for name in VIEWS) if size else ()
    return ObservationSpec(state_dim, views)


def _episode(
    spec: ObservationSpec, steps: int, action_dim: int, rng: np.random.Generator
) -> Episode:
    from userl.core.types import Episode

    observations = {"state": rng.standard_normal((steps + 1, spec.state_dim), np.float32)}
    for view in spec.images:
        observations[view.name] = rng.integers(
            0, 256, (steps + 1, view.height_px, view.width_px, 3), np.uint8
        )
    actions = rng.uniform(-1, 1, (steps, action_dim)).astype(np.float32)
    zeros = np.zeros(steps, bool)
    return Episode(
        robot_id="bench",
        task="bench",
        observations=observations,
        actions=actions,
        policy_actions=actions,
        rewards=rng.standard_normal(steps, np.float32),
        terminated=zeros,
        truncated=zeros,
        intervened=zeros,
        policy_versions=np.zeros(steps, np.int64),
        success=False,
    )


def _updates_per_s(policy: str, heads: int, options: dict[str, str]) -> dict:
    import torch

    from userl.algorithms import build_algorithm
    from userl.config.loader import load_config
    from userl.core.heap import keep_freed_memory
    from userl.core.specs import ACTION_DIM
    from userl.data.buffers import ReplayBuffer
    from userl.data.samplers import BatchBuffers, SymmetricSampler

    algo = ALGO_OF_POLICY.get(policy, "rlpd")
    config = load_config(
        [
            f"policy={policy}",
            "obs=image",  # an image policy's config needs its views (the spec is _spec's)
            f"algo={algo}",
            f"algo.num_critics={heads}",
            f"algo.critic_subset={min(2, heads)}",
            f"algo.batch_size={options['batch_size']}",
            f"algo.compile={options['compile']}",
            f"algo.image_encoder_bf16={options['image_encoder_bf16']}",
            f"algo.bf16_matmuls={options['bf16_matmuls']}",
        ]
    )
    keep_freed_memory(config.algo.host_memory_kept_mb * 1024 * 1024)  # as the learner does
    spec = _spec(config.policy, int(options["state_dim"]))
    device = options["device"]
    torch.manual_seed(0)
    learner = build_algorithm(config.algo, config.policy, spec, ACTION_DIM, device)
    rng = np.random.default_rng(0)
    replay = ReplayBuffer(REPLAY_FILL, spec, ACTION_DIM)
    for _ in range(REPLAY_FILL // EPISODE_STEPS):
        replay.add_episode(_episode(spec, EPISODE_STEPS, ACTION_DIM, rng))
    sampler = SymmetricSampler(replay, None, 0.0)
    batches = BatchBuffers(spec, ACTION_DIM, config.algo.batch_size, device)
    on_gpu = device.startswith("cuda")

    def step() -> None:
        learner.update(batches.fill(sampler, rng), metrics=False)

    compile_started = time.perf_counter()
    for _ in range(WARMUP_UPDATES):  # allocations, kernels, and any compilation
        step()
    if on_gpu:
        torch.cuda.synchronize()
    warmup_s = time.perf_counter() - compile_started
    times: list[float] = []
    count, started = 0, time.perf_counter()
    while count < MIN_UPDATES or time.perf_counter() - started < float(options["seconds"]):
        before = time.perf_counter()
        step()
        times.append(time.perf_counter() - before)  # on a GPU: the time to enqueue it
        count += 1
    if on_gpu:
        torch.cuda.synchronize()
    rate = count / (time.perf_counter() - started)
    row = {
        "policy": policy,
        "algo": algo,
        "heads": heads,
        "bf16_matmuls": bool(getattr(learner, "bf16_matmuls", False)),
        "views": len(spec.images),
        "view_px": spec.images[0].height_px if spec.images else 0,
        "updates_per_s": round(rate, 2),
        "updates": count,
        "warmup_s": round(warmup_s, 2),
    }
    if not on_gpu:
        row["updates_per_s_median"] = round(1.0 / float(np.median(times)), 2)
        row["updates_per_s_best"] = round(1.0 / min(times), 2)  # the least disturbed one
    if int(options["profile"]) > 0:
        from userl.benchmarks.update_profile import profile_updates

        row["profile_ms_per_update"] = profile_updates(
            lambda: batches.fill(sampler, rng),
            lambda b: learner.update(b, metrics=False),
            int(options["profile"]),
        )
    return row


def _replay_memory(view_px: int) -> dict:
    from userl.core.specs import ACTION_DIM, ImageSpec, ObservationSpec
    from userl.data.buffers import ReplayBuffer

    spec = ObservationSpec(STATE_DIM, tuple(ImageSpec(name, view_px, view_px) for name in VIEWS))
    buffer = ReplayBuffer(MEMORY_CAPACITY, spec, ACTION_DIM)  # lazily zeroed: not touched
    return {
        "views": len(VIEWS),
        "view_px": view_px,
        "capacity": MEMORY_CAPACITY,
        "bytes_per_transition": round(buffer.nbytes / MEMORY_CAPACITY),
        "total_gb": round(buffer.nbytes / 1e9, 3),
        "naive_copy_bytes_per_transition": 2 * len(VIEWS) * view_px * view_px * 3,
    }


def run(arguments: list[str]) -> dict:
    import torch

    options = _parse(arguments)
    lerobot = _read_lerobot(options["compare"]) if options["compare"] else []
    options["state_dim"] = options["state_dim"] or str(LEROBOT_STATE_DIM if lerobot else STATE_DIM)
    torch.set_num_threads(int(options["threads"]))

    heads = [int(h) for h in options["heads"].split(",")]
    rows = [
        _updates_per_s(policy, h, options)
        for policy in options["policies"].split(",")
        for h in heads
    ]
    ratios = {}
    if 2 in heads and 10 in heads:
        for policy in options["policies"].split(","):
            rate = {r["heads"]: r["updates_per_s"] for r in rows if r["policy"] == policy}
            ratios[policy] = round(rate[2] / max(rate[10], 1e-9), 2)
    result = {
        "device": options["device"],
        "threads": int(options["threads"]),
        "batch_size": int(options["batch_size"]),
        "state_dim": int(options["state_dim"]),
        "compile": options["compile"],
        "bf16_matmuls": options["bf16_matmuls"],
        "updates": rows,
        "time_ratio_10_vs_2_heads": ratios,
        "replay_memory": [_replay_memory(64), _replay_memory(128)],
    }
    if lerobot:
        result["lerobot"] = {
            "path": options["compare"],
            "rows": _ratios(rows, lerobot, int(options["threads"])),
        }
    return result


def _read_lerobot(path: str) -> list[dict]:
    """LeRobot's side-by-side figures: one JSON object per line."""
    import json
    from pathlib import Path

    from userl.core.errors import ConfigError

    try:
        lines = Path(path).read_text().splitlines()
        rows = [json.loads(line) for line in lines if line.strip()]
    except (OSError, ValueError) as error:
        raise ConfigError(
            f"compare={path}: cannot read LeRobot JSON lines ({error}); give "
            "the file the side-by-side script wrote with --json"
        ) from None
    needed = ("setting", "num_critics", "threads", "loop_per_s")
    for row in rows:
        if not isinstance(row, dict) or any(key not in row for key in needed):
            raise ConfigError(
                f"compare={path}: a line lacks one of {', '.join(needed)}; give "
                "the file the side-by-side script wrote with --json"
            )
    return rows


def _ratios(rows: list[dict], lerobot: list[dict], threads: int) -> list[dict]:
    """userl / LeRobot per shared setting: userl's median rate (its mean on a GPU) over
    LeRobot's loop/s (1 / median of sample + update), every LeRobot run of that shape."""
    table = []
    for row in rows:
        setting = LEROBOT_SETTING_OF_POLICY.get(row["policy"])
        theirs = [
            r["loop_per_s"]
            for r in lerobot
            if r["setting"] == setting
            and int(r["num_critics"]) == row["heads"]
            and int(r["threads"]) == threads
            and not r.get("compile", False)
        ]
        if not theirs:
            continue
        ours = row.get("updates_per_s_median", row["updates_per_s"])
        entry = {
            "setting": setting,
            "policy": row["policy"],
            "heads": row["heads"],
            "lerobot_loop_per_s": sorted(theirs),
            "userl_updates_per_s": ours,
            "ratio_min": round(ours / max(theirs), 2),
            "ratio_max": round(ours / min(theirs), 2),
        }
        best = [
            1000.0 / (r["update_min_ms"] + r["sample_med_ms"])
            for r in lerobot
            if r["setting"] == setting
            and int(r["num_critics"]) == row["heads"]
            and int(r["threads"]) == threads
            and not r.get("compile", False)
            and "update_min_ms" in r
            and "sample_med_ms" in r
        ]
        if best and "updates_per_s_best" in row:  # fastest update each: robust to load
            entry["lerobot_best_loop_per_s"] = round(max(best), 2)
            entry["userl_best_updates_per_s"] = row["updates_per_s_best"]
            entry["ratio_best"] = round(row["updates_per_s_best"] / max(best), 2)
        table.append(entry)
    return table


def table(result: dict) -> str:
    lines = [
        f"device={result['device']} threads={result['threads']} "
        f"batch_size={result['batch_size']} state_dim={result['state_dim']} "
        f"compile={result['compile']} bf16_matmuls={result['bf16_matmuls']}",
        f"{'policy':<10} {'algo':<9} {'heads':>5} {'views':>5} {'px':>4} {'updates/s':>10} "
        f"{'median':>8}",
    ]
    for row in result["updates"]:
        median = row.get("updates_per_s_median")
        lines.append(
            f"{row['policy']:<10} {row['algo']:<9} {row['heads']:>5} {row['views']:>5} "
            f"{row['view_px']:>4} {row['updates_per_s']:>10.2f} "
            f"{'' if median is None else f'{median:.2f}':>8}"
        )
    for policy, ratio in result["time_ratio_10_vs_2_heads"].items():
        lines.append(f"time per update, 10 vs 2 heads, {policy}: {ratio:.2f}x")
    for row in result["updates"]:
        if "profile_ms_per_update" in row:
            parts = ", ".join(f"{k} {v:.2f}" for k, v in row["profile_ms_per_update"].items())
            lines.append(f"profile {row['policy']} {row['heads']} heads, ms/update: {parts}")
    for entry in result.get("lerobot", {}).get("rows", []):
        theirs = entry["lerobot_loop_per_s"]
        span = f"{min(theirs):.2f}" + (f"-{max(theirs):.2f}" if len(theirs) > 1 else "")
        ratio = f"{entry['ratio_min']:.2f}" + (
            f"-{entry['ratio_max']:.2f}" if entry["ratio_max"] != entry["ratio_min"] else ""
        )
        best = f"; fastest update each: {entry['ratio_best']:.2f}x" if "ratio_best" in entry else ""
        lines.append(
            f"vs LeRobot {entry['setting']:<9} {entry['heads']:>2} critics: "
            f"LeRobot {span} loop/s, userl {entry['userl_updates_per_s']:.2f} "
            f"updates/s (medians), ratio {ratio}x{best}"
        )
    for memory in result["replay_memory"]:
        lines.append(
            f"replay {memory['views']}x{memory['view_px']}px: "
            f"{memory['bytes_per_transition']} bytes/transition "
            f"(copying both observations: {memory['naive_copy_bytes_per_transition']}); "
            f"{memory['capacity']} transitions = {memory['total_gb']} GB"
        )
    return "\n".join(lines)
