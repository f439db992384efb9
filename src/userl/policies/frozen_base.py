"""A frozen base policy read from a userl run folder (`policy.base=RUN_DIR`).

An adapter (`policies/adapters.py`) learns around a policy trained earlier, by imitation or
RL: the base run's `config.yaml` says which policy it is and its checkpoint holds its
trained tensors. The base is built as that run built it, loaded, and frozen: no gradient
(`requires_grad` False), so no optimiser holds it and `Algorithm.policy_state_dict` (the
trainable tensors) never carries it: only the adapter's tensors travel in weight sync. Every
process that acts (learner, env workers, inference server) reads the base from the folder
itself. `base_sha256` fingerprints its weights so a run can show they never changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from pathlib import Path
from typing import Any

import torch
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException
from torch import nn

from userl.core.errors import ConfigError
from userl.core.registry import POLICIES, UnknownNameError
from userl.core.yaml_files import read_yaml
from userl.data.checkpoint_files import chosen_checkpoint, load_chosen
from userl.policies.base import Policy, PolicyConfig

RUN_CONFIG_FILE = "config.yaml"  # what `userl train` writes into its run folder


def base_run_config(run_dir: str) -> dict[str, Any]:
    """The base run's saved config as plain data; ConfigError (one line) without one."""
    path = Path(run_dir).expanduser() / RUN_CONFIG_FILE
    if not path.is_file():
        raise ConfigError(
            f"policy.base={run_dir}: no userl run there (no {RUN_CONFIG_FILE}); give the "
            "folder of a `userl train` run whose policy is the base"
        )
    data = read_yaml(path, f"policy.base={run_dir}")
    return data if isinstance(data, dict) else {}


def base_policy_config(run_dir: str) -> PolicyConfig:
    """The base run's policy config, as that run resolved it."""
    section = base_run_config(run_dir).get("policy") or {}
    name = str(section.get("name", ""))
    try:
        schema = OmegaConf.structured(POLICIES.config(name)())
        config = OmegaConf.to_object(OmegaConf.merge(schema, section))
    except (UnknownNameError, OmegaConfBaseException) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ConfigError(
            f"policy.base={run_dir}: its policy section does not load ({first})"
        ) from None
    assert isinstance(config, PolicyConfig)
    return config


def base_problem(
    run_dir: str, checkpoint: str, supported: Collection[str], adapter: str
) -> str | None:
    """One line when `policy.base=run_dir` is not a run of a policy in `supported` (the
    bases adapter policy `adapter` can adapt) with checkpoint `checkpoint`, else None."""
    names = " or ".join(f"policy={name}" for name in sorted(supported))
    if not run_dir:
        return (
            f"policy.base is empty: policy={adapter} adapts a frozen base; give "
            f"policy.base=RUN_DIR, a `userl train` run of {names}"
        )
    try:
        base = base_policy_config(run_dir)
    except ConfigError as error:
        return str(error)
    if base.name not in supported:
        return (
            f"policy.base={run_dir} holds policy={base.name}, which policy={adapter} cannot "
            f"adapt; give a run of {names}"
        )
    return base_checkpoint_problem(run_dir, checkpoint)


def base_task_problem(run_dir: str, config: Any) -> str | None:
    """One line when the base run trained on another task or observation kind than the
    run `config` describes, else None."""
    saved = base_run_config(run_dir)
    task = str((saved.get("task") or {}).get("name", ""))
    if task != config.task.name or saved.get("obs") != config.obs:
        return (
            f"policy.base={run_dir} was trained on task={task} obs={saved.get('obs')}, "
            f"this run is task={config.task.name} obs={config.obs}; give a base of this task"
        )
    return None


def base_checkpoint_problem(run_dir: str, checkpoint: str) -> str | None:
    """One line when the base run has no checkpoint `checkpoint`, else None."""
    try:
        chosen_checkpoint(Path(run_dir).expanduser(), checkpoint)
    except ConfigError as error:
        return f"policy.base={run_dir}: {error}"
    return None


def load_frozen_base(
    run_dir: str, checkpoint: str, config: PolicyConfig, obs_spec: Any, action_dim: int
) -> Policy:
    """The base policy built from `config` with the checkpoint's trained tensors, frozen
    (no gradients, evaluation mode). A checkpoint whose tensors do not fit this task's
    observation and action sizes is a ConfigError naming the base."""
    from userl.policies import build_policy  # the registry imports this module's users

    base = build_policy(config, obs_spec, action_dim)
    state = load_chosen(Path(run_dir).expanduser(), checkpoint)["policy"]
    try:
        missing, unexpected = base.load_state_dict(state, strict=False)
    except RuntimeError as error:
        raise ConfigError(
            f"policy.base={run_dir}: its weights do not fit this task's observation and "
            f"action sizes ({str(error).splitlines()[-1].strip()}); train the base on this task"
        ) from None
    trained = {name for name, p in base.named_parameters() if p.requires_grad}
    lacking = sorted(trained & set(missing))
    if lacking or unexpected:
        odd = (lacking or list(unexpected))[0]
        raise ConfigError(
            f"policy.base={run_dir}: its checkpoint does not match its policy={config.name} "
            f"(tensor {odd}); give the run folder the checkpoint came from"
        )
    return freeze(base)


def freeze(module: nn.Module) -> Any:
    """`module` with every parameter's gradient off, in evaluation mode."""
    module.requires_grad_(False)
    return module.eval()


def parameter_count(module: nn.Module, trainable_only: bool = False) -> int:
    """How many scalar parameters `module` holds (only trainable ones if asked)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def base_sha256(module: nn.Module) -> str:
    """A SHA-256 of every tensor of `module`'s state, by name in order: equal hashes mean
    bit-identical weights."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy())
    return digest.hexdigest()
