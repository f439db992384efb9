"""`userl export-policy run=runs/<name> out=DIR`: a trained run's policy as `config.json` +
`model.safetensors` (`policies/exported.py`), which other tools load without userl's
pickles and `policy.weights=DIR` loads back (`userl eval`, `userl train`).

Every input is checked before anything is written (a run folder with a config, a
checkpoint in it, an `out` that is new or empty); the export is written into a partial
folder beside `out` and renamed into place, so `out` is whole or absent."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from userl.config.cells import cell_config
from userl.config.loader import load_config_file
from userl.config.schema import Config
from userl.core.errors import ConfigError
from userl.core.files import PARTIAL_SUFFIX
from userl.core.registry import TASKS
from userl.core.specs import ACTION_DIM, ObservationSpec
from userl.data.checkpoint import load_checkpoint
from userl.envs.cells import cell_bindings, laid_out_spec
from userl.envs.factory import expected_observation_spec, make_env
from userl.policies import build_policy
from userl.policies.exported import EXPORT_FORMAT, write_exported

RUN_CONFIG = "config.yaml"
CHECKPOINT = Path("checkpoints") / "latest.pt"  # the run's newest weights (runtime/checkpoints)


def policy_observation(config: Config) -> tuple[ObservationSpec, int]:
    """The observation and action size the run's policy was built for. A robot task's are
    known from the config (no robot connects: a real arm's run exports anywhere); a foreign
    gymnasium environment is built to read them (it has no hardware)."""
    bindings = cell_bindings(config)
    if bindings is not None:  # several cells: every cell shares the first cell's layout
        first = cell_config(config, config.cells[0])
        spec = expected_observation_spec(first, TASKS.build(first.task))
        return laid_out_spec(spec, bindings[0].layout), ACTION_DIM
    if config.task.ENV_BUILDER == "robot":
        return expected_observation_spec(config, TASKS.build(config.task)), ACTION_DIM
    env = make_env(config)
    try:
        return env.observation_spec, int(env.action_space.shape[0])
    finally:
        env.close()


def checked_inputs(run: str, out: str) -> tuple[Path, Path, Path]:
    """The run folder, its checkpoint and the output folder, each checked (one-line
    `ConfigError` naming the key and the fix)."""
    run_dir, target = Path(run), Path(out)
    if not (run_dir / RUN_CONFIG).is_file():
        raise ConfigError(
            f"run={run}: no run there (no {RUN_CONFIG}); give a folder `userl train` "
            "wrote, e.g. run=runs/<name>"
        )
    checkpoint = run_dir / CHECKPOINT
    if not checkpoint.is_file():
        raise ConfigError(
            f"run={run} has no checkpoint ({checkpoint}); train it until it saves one "
            "(or resume it with resume=true), or give another run="
        )
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(f"out={out} exists and is not empty; give a new folder")
    return run_dir, checkpoint, target


def export_policy(run: str, out: str) -> dict[str, Any]:
    """Write the run's policy (its latest checkpoint) to `out`; returns what was written."""
    run_dir, checkpoint, target = checked_inputs(run, out)
    # the run's config, without the export it may have started from (its own weights are
    # in the checkpoint, and that folder may be gone)
    config = load_config_file(run_dir / RUN_CONFIG, ["policy.weights="])
    if config.policy.WEIGHTS_FORMAT != EXPORT_FORMAT:
        raise ConfigError(
            f"policy={config.policy.name} keeps its weights in the {config.policy.WEIGHTS_FORMAT} "
            f"layout, which export-policy does not write; use {checkpoint} with userl eval"
        )
    state = load_checkpoint(checkpoint)
    spec, action_dim = policy_observation(config)
    policy = build_policy(config.policy, spec, action_dim)  # as the run's robots build it
    policy.load_state_dict(state["policy"], strict=False)
    source = {
        "run": str(run_dir),
        "task": config.task.name,
        "robot": config.robot.name,
        "obs": config.obs,
        "env_steps": int(state.get("env_steps", 0)),
        "grad_steps": int(state.get("grad_steps", 0)),
        "weight_version": int(state.get("weight_version", 0)),
    }
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    shutil.rmtree(partial, ignore_errors=True)  # a previous export that was cut short
    write_exported(partial, policy, config.policy, spec, action_dim, source)
    os.replace(partial, target)  # an empty `out` is replaced whole
    return {"out": str(target), "policy": config.policy.name, **source}
