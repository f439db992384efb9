"""The GPU check, one short call for a machine lent with a GPU: learner updates/s, pi0 step
times and peak memory, one short training on the device, and pi0 + HG-DAgger sync vs async.

    userl bench gpu [device=cuda|cpu] [size=tiny|full] [budget_s=390] out=F.json
    make gpu-check                       # the same, bounded, into bench-results/gpu-check.json

What it measures, in this order (`gpu_sections`):
1. pi0's step times (`bench vla device=...`): one `chunk_steps`-step chunk for one robot with
   `flow_steps` flow steps, one HG-DAgger update at `dagger_batch`, and the peak memory
   (on CUDA `torch.cuda.max_memory_allocated`, on a CPU the process's peak resident memory).
   `size=full` times the published `pi0` (3.5B parameters, bf16), `size=tiny` `pi0_tiny`.
2. Learner updates/s (`bench learner`'s rows) for each of `policies` at `batch_size` with
   `heads` critics, under each of `variants` (float32; bf16: `algo.image_encoder_bf16` and
   `algo.bf16_matmuls=auto`; compile: `algo.compile=reduce-overhead`), on the device and,
   when that is not the CPU, the same rows on the CPU beside them.
3. One short `userl train` (async, `pipeline.inference=remote`): Ray places the learner and
   the inference actor on the machine's GPU when it has one; stops after `train_steps`
   updates. `size=full` trains `policy=cnn` on images, `size=tiny` `policy=mlp`.
4. pi0 + HG-DAgger on pick_place, sync and async (`bench vla short=true`, remote inference,
   updates at `dagger_batch`): generation s/episode and training s/update, run only when
   `profile_reserve_s` of `budget_s` is left (the record's `skipped` says so otherwise).
`device` defaults to cuda when torch sees a GPU, else cpu; `size` to full on cuda, tiny on
cpu. The training runs are written under `root`. Each step's own wall time is in the record;
a step that fails is one line under `failed` and the others still run; an interrupt skips
the steps after it; either way the record is written.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from userl.benchmarks import gpu_sections
from userl.benchmarks.options import split_options
from userl.core.errors import ConfigError

DEFAULTS = {
    "device": "",  # "": cuda when torch sees a GPU, else cpu
    "size": "",  # "": full on cuda, tiny on cpu
    "policies": "mlp,cnn",
    "heads": "10",
    "batch_size": "256",
    "seconds": "3",  # timed window of each learner row (seconds)
    "variants": "float32,bf16,compile",
    "chunk_steps": "50",
    "flow_steps": "10",
    "dagger_batch": "32",
    "repeats": "5",  # timed pi0 calls, after the warm-up
    "train_steps": "200",  # updates of the short training
    "profile": "true",
    "profile_episodes": "2",  # online episodes of each pi0 + HG-DAgger run
    "budget_s": "390",  # the check's own bound (seconds); `make gpu-check` adds a hard one
    "profile_reserve_s": "180",  # seconds of the budget the sync/async profile needs
    "root": "bench-gpu",
}
DEVICES = ("cuda", "cpu")
INTEGERS = ("heads", "batch_size", "chunk_steps", "flow_steps", "dagger_batch", "repeats")
COUNTS = (*INTEGERS, "train_steps", "profile_episodes")
SECONDS = ("seconds", "budget_s", "profile_reserve_s")
PI0_POLICY = "pi0"  # the policy class pi0 presets name: timed by its own step, not a row
MIN_PROFILE_EPISODES = 2  # online episodes per run for one gap between episode starts
INTERRUPTED = "interrupted"  # a run's stop_reason when Ctrl-C or SIGINT stopped it
MIN_RUN_WALL_S = 1.0  # a training's `run.wall_s` is at least this (0 would mean no limit)


def _fail(key: str, value: str, fix: str) -> ConfigError:
    return ConfigError(f"bench gpu: {key}={value!r} {fix}")


def parse(arguments: list[str]) -> dict[str, Any]:
    """The options, checked and typed, defaults resolved; every problem is one line."""
    import torch

    given, rest = split_options(arguments, DEFAULTS, "gpu")
    if rest:
        raise _fail(rest[0].partition("=")[0], rest[0].partition("=")[2], _known())
    raw = {**DEFAULTS, **given}
    options: dict[str, Any] = dict(raw)
    options["device"] = raw["device"] or ("cuda" if torch.cuda.is_available() else "cpu")
    if options["device"] not in DEVICES:
        raise _fail("device", raw["device"], f"is not one of {'|'.join(DEVICES)}")
    if options["device"] == "cuda" and not torch.cuda.is_available():
        raise _fail("device", "cuda", "but torch sees no CUDA GPU here; give device=cpu")
    options["size"] = raw["size"] or ("full" if options["device"] == "cuda" else "tiny")
    if options["size"] not in gpu_sections.SIZES:
        raise _fail("size", raw["size"], f"is not one of {'|'.join(gpu_sections.SIZES)}")
    for key in COUNTS:
        options[key] = _number(key, raw[key], int)
    for key in SECONDS:
        options[key] = _number(key, raw[key], float)
    if options["profile_episodes"] < MIN_PROFILE_EPISODES:
        raise _fail(
            "profile_episodes",
            raw["profile_episodes"],
            f"is too few: generation s/episode is the gap between episode starts; give "
            f"profile_episodes={MIN_PROFILE_EPISODES} or more",
        )
    options["profile"] = raw["profile"].lower()
    if options["profile"] not in ("true", "false"):
        raise _fail("profile", raw["profile"], "is not true or false")
    options["policies"] = [p for p in raw["policies"].split(",") if p]
    options["variants"] = [v for v in raw["variants"].split(",") if v]
    for variant in options["variants"]:
        if variant not in gpu_sections.VARIANTS:
            known = ",".join(gpu_sections.VARIANTS)
            raise _fail("variants", raw["variants"], f"names {variant!r}; known: {known}")
    _check_policies(options["policies"], raw["policies"])
    return options


def _known() -> str:
    return "is not an option of bench gpu; known: " + ", ".join(f"{k}=" for k in DEFAULTS)


def _number(key: str, value: str, kind: type) -> Any:
    try:
        number = kind(value)
    except ValueError:
        number = math.nan
    if not number > 0 or not math.isfinite(number):
        raise _fail(key, value, f"is not a positive {kind.__name__}, e.g. {key}={DEFAULTS[key]}")
    return number


def _check_policies(policies: list[str], value: str) -> None:
    """Each learner row's policy must be a preset `bench learner` measures (pi0 has its own
    step)."""
    from userl.config.preset_files import preset_names, read_preset_file

    known = [
        name
        for name in preset_names("policy")
        if read_preset_file("policy", name).get("name") != PI0_POLICY
    ]
    for policy in policies or [""]:
        if policy not in known:
            raise _fail("policies", value, f"names {policy!r}; known: {','.join(known)}")


class Steps:
    """The check's steps, in order, under its budget: a step that raises is recorded as one
    line (`failed`) and the later steps still run, so one call on a lent machine keeps every
    figure it got; an interrupt (Ctrl-C, or the SIGINT of `make gpu-check`'s bound) ends the
    step in progress and skips the rest, and the record is still written."""

    def __init__(self, budget_s: float, result: dict[str, Any]) -> None:
        self.started = time.monotonic()
        self.budget_s = budget_s
        self.result = result
        self.interrupted_in = ""

    def left_s(self) -> float:
        return self.budget_s - (time.monotonic() - self.started)

    def run(self, name: str, measure: Callable[[], Any], needs_s: float = 0.0) -> Any:
        """`measure()`'s value, or None when it was skipped or failed (the record says which)."""
        if self.interrupted_in:
            self.result["skipped"][name] = f"interrupted during {self.interrupted_in}"
            return None
        if self.left_s() <= needs_s:
            self.result["skipped"][name] = (
                f"{max(self.left_s(), 0):.0f} s of budget_s={self.budget_s:g} left"
                + (f", under the {needs_s:g} s it needs" if needs_s else "")
            )
            return None
        before = time.monotonic()
        try:
            return measure()
        except KeyboardInterrupt:
            self.interrupted_in = name
            self.result["failed"][name] = "interrupted"
        except Exception as error:  # recorded; the other steps' figures still count
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            self.result["failed"][name] = f"{type(error).__name__}: {first}"
        finally:
            self.result["step_wall_s"][name] = round(time.monotonic() - before, 2)
        return None


def run(arguments: list[str]) -> dict[str, Any]:
    options = parse(arguments)
    device, size = options["device"], options["size"]
    root = Path(options["root"]) / time.strftime("%Y%m%d-%H%M%S")
    result: dict[str, Any] = {
        "device": device,
        "size": size,
        "options": {k: options[k] for k in DEFAULTS},
        "learner": [],
        "failed": {},
        "skipped": {},
        "step_wall_s": {},
    }
    steps = Steps(options["budget_s"], result)

    def pi0() -> dict[str, Any]:
        return gpu_sections.pi0_steps(
            size,
            device,
            options["chunk_steps"],
            options["flow_steps"],
            options["dagger_batch"],
            options["repeats"],
        )

    def learner_rows(where: str) -> None:
        for policy in options["policies"]:
            for variant in options["variants"]:
                row = steps.run(
                    f"learner {where} {policy} {variant}",
                    partial(
                        gpu_sections.learner_row,
                        policy,
                        options["heads"],
                        options["batch_size"],
                        options["seconds"],
                        variant,
                        where,
                    ),
                )
                if row is not None:
                    result["learner"].append(row)

    def keep(name: str, figures: Any) -> None:
        gpu_sections.release_device_memory(device)
        if figures is not None:
            result[name] = figures

    def train() -> dict[str, Any]:
        wall_s = max(steps.left_s(), MIN_RUN_WALL_S)
        figures = gpu_sections.train_run(size, options["train_steps"], wall_s, root)
        if figures["stop_reason"] == INTERRUPTED:  # the run took the interrupt itself
            steps.interrupted_in = "train"
        return figures

    def profile() -> dict[str, Any]:
        wall_s = max(steps.left_s() / 2, MIN_RUN_WALL_S)  # each of the two runs
        return gpu_sections.sync_async_profile(
            size, options["profile_episodes"], options["dagger_batch"], wall_s, root / "profile"
        )

    # The device's figures first, then the CPU's beside them; the profile when time allows.
    keep("pi0", steps.run("pi0", pi0))
    learner_rows(device)
    keep("train", steps.run("train", train))
    if device != "cpu":
        learner_rows("cpu")
    if options["profile"] == "false":
        result["skipped"]["profile"] = "profile=false"
    else:
        keep("profile", steps.run("profile", profile, needs_s=options["profile_reserve_s"]))
    peak, counts = gpu_sections.peak_memory_mb(device)  # this process, all its steps
    result["peak_memory_mb"], result["peak_memory_counts"] = round(peak, 1), counts
    result["wall_s"] = round(time.monotonic() - steps.started, 2)
    return result


def table(result: dict[str, Any]) -> str:
    lines = [f"bench gpu on {result['device']} (size={result['size']}), {result['wall_s']:.0f} s"]
    if "pi0" in result:
        pi0 = result["pi0"]
        lines.append(
            f"{pi0['preset']}: one {pi0['chunk_steps']}-step chunk "
            f"({pi0['flow_steps']} flow steps) "
            f"{pi0['chunk_ms']:.1f} ms; HG-DAgger update (batch {pi0['batch_size']}) "
            f"{pi0['update_s']:.3f} s; peak memory {pi0['peak_memory_mb']:.0f} MB "
            f"({pi0['peak_memory_counts']})"
        )
    lines.append(f"{'device':<6} {'policy':<8} {'variant':<8} {'heads':>5} {'updates/s':>10}")
    for row in result["learner"]:
        lines.append(
            f"{row['device']:<6} {row['policy']:<8} {row['variant']:<8} {row['heads']:>5} "
            f"{row['updates_per_s']:>10.2f}"
        )
    if "train" in result:
        train = result["train"]
        lines.append(
            f"train: learner on {train['learner_device']}, inference on "
            f"{'cuda' if train['inference_on_gpu'] else 'cpu'}: {train['grad_steps']} updates, "
            f"{train['training_s_per_update']:.4f} s/update, "
            f"{train['generation_s_per_episode']:.2f} s/episode"
        )
    for pipeline in ("sync", "async"):
        figures = result.get("profile", {}).get(pipeline)
        if figures:
            lines.append(
                f"pi0 + HG-DAgger {pipeline:<5}: generation "
                f"{figures['generation_s_per_episode']:.2f} s/episode, training "
                f"{figures['training_s_per_update']:.4f} s/update"
            )
    lines += [f"FAILED {name}: {why}" for name, why in result["failed"].items()]
    lines += [f"skipped {name}: {why}" for name, why in result["skipped"].items()]
    return "\n".join(lines)
