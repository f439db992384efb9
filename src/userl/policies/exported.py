"""A policy as two files other tools can read: `config.json` (the policy's config and the
observation and action it acts on, enough to rebuild it) and `model.safetensors` (every
tensor of the policy's state_dict). safetensors holds tensors only, so loading one runs no
code, unlike a pickle; `userl export-policy` writes the pair, `policy.weights=DIR` loads it
back into a policy built from the same config (`build_policy`)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from userl.core.errors import ConfigError
from userl.core.specs import ObservationSpec

if TYPE_CHECKING:
    from userl.policies.base import Policy, PolicyConfig

EXPORT_FORMAT = "userl-policy"  # config.json's "format"; PolicyConfig.WEIGHTS_FORMAT
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
SHOWN_KEYS = 3  # missing or unexpected tensor names shown in an error


def observation_of(spec: ObservationSpec, action_dim: int) -> dict[str, Any]:
    """What a policy's shape depends on: state size, camera views, action size (and, with
    several cells, the layout whose ids it embeds)."""
    return {
        "state_dim": spec.state_dim,
        "images": [[view.name, view.height_px, view.width_px] for view in spec.images],
        "action_dim": action_dim,
        "cells": dataclasses.asdict(spec.cells) if spec.cells else None,
    }


def policy_fields(config: PolicyConfig) -> dict[str, Any]:
    """The policy config's fields as JSON values, without the weights' own paths (an
    export holds every tensor, so the files it was trained from are not needed)."""
    fields = json.loads(json.dumps(dataclasses.asdict(config)))
    return {key: value for key, value in fields.items() if not key.endswith("weights")}


def write_exported(
    out: Path,
    policy: Policy,
    config: PolicyConfig,
    spec: ObservationSpec,
    action_dim: int,
    source: dict[str, Any],
) -> None:
    """`config.json` and `model.safetensors` of `policy` into the folder `out` (created);
    `source` says where it came from (run, task, steps)."""
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().clone().contiguous() for k, v in policy.state_dict().items()}
    save_file(tensors, str(out / WEIGHTS_FILE), metadata={"format": EXPORT_FORMAT})
    document = {
        "format": EXPORT_FORMAT,
        "format_version": FORMAT_VERSION,
        "policy": policy_fields(config),
        "observation": observation_of(spec, action_dim),
        "chunk_size": int(policy.chunk_size),
        "source": source,
    }
    (out / CONFIG_FILE).write_text(json.dumps(document, indent=2) + "\n")


def read_export(folder: str) -> dict[str, Any]:
    """The `config.json` of an export at `folder`; a folder that is not one is a
    `ConfigError` of one line naming `policy.weights` and the fix."""
    path = Path(folder).expanduser()
    fix = "give a folder written by `userl export-policy run=runs/<name> out=DIR`"
    if not (path / CONFIG_FILE).is_file() or not (path / WEIGHTS_FILE).is_file():
        raise ConfigError(f"policy.weights={folder}: no {CONFIG_FILE} and {WEIGHTS_FILE}; {fix}")
    try:
        document = json.loads((path / CONFIG_FILE).read_text())
    except (OSError, ValueError) as error:
        raise ConfigError(
            f"policy.weights={folder}: unreadable {CONFIG_FILE} ({error}); {fix}"
        ) from None
    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
        raise ConfigError(f"policy.weights={folder}: {CONFIG_FILE} is not a userl export; {fix}")
    if document.get("format_version") != FORMAT_VERSION:
        raise ConfigError(
            f"policy.weights={folder}: export format {document.get('format_version')}, this "
            f"userl reads {FORMAT_VERSION}; export it again with this version"
        )
    return document


def config_problem(config: PolicyConfig) -> str | None:
    """Whether `config` builds the policy its `weights` export holds: the same registered
    policy with the same fields (else one line naming the keys to set), or None. A field the
    export holds at its `GROWS_FROM` value may differ: the policy grows from that export
    (RECAP's labelled flow from a behaviour-cloned flow)."""
    try:
        saved = read_export(config.weights)["policy"]
    except ConfigError as error:
        return str(error)
    if saved.get("name") != config.name:
        return (
            f"policy.weights={config.weights} holds a {saved.get('name')!r} policy and this "
            f"config builds {config.name!r}; choose the policy preset it was trained with"
        )
    mine, grows = policy_fields(config), type(config).GROWS_FROM
    differ = [
        f"policy.{k}={json.dumps(v)}"
        for k, v in saved.items()
        if mine.get(k, v) != v and not (k in grows and grows[k] == v)
    ]
    if differ:
        return (
            f"policy.weights={config.weights} was exported with {' '.join(differ)}; "
            "set those to load it"
        )
    return None


def described(observation: dict[str, Any]) -> str:
    views = ", ".join(f"{n} {h}x{w}" for n, h, w in observation["images"]) or "none"
    return f"state {observation['state_dim']}, views {views}, {observation['action_dim']} actions"


def observation_problem(folder: str, spec: ObservationSpec, action_dim: int) -> str | None:
    """One line when the export at `folder` was made for another observation or action
    than `spec` and `action_dim` (`userl train` checks it before anything starts), else None."""
    wanted, saved = observation_of(spec, action_dim), read_export(folder)["observation"]
    if {k: saved.get(k) for k in wanted} != wanted:
        return (
            f"policy.weights={folder} was exported for {described(saved)}; this environment "
            f"gives {described(wanted)}: use the task, robot and obs= it was trained on"
        )
    return None


def load_exported(policy: Policy, folder: str, spec: ObservationSpec, action_dim: int) -> None:
    """Every tensor of the export at `folder` into `policy` (built from the same config, or
    one that grows from it: `Policy.grown_state`);
    an export made for another observation or action, or whose tensors do not fit, is a
    `ConfigError` of one line."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    problem = observation_problem(folder, spec, action_dim)
    if problem:
        raise ConfigError(problem)
    try:
        tensors = policy.grown_state(load_file(str(Path(folder).expanduser() / WEIGHTS_FILE)))
        result = policy.load_state_dict(tensors, strict=False)
    except (SafetensorError, OSError, RuntimeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigError(
            f"policy.weights={folder}: {WEIGHTS_FILE} does not load ({reason})"
        ) from None
    for kind, keys in (("missing", result.missing_keys), ("unexpected", result.unexpected_keys)):
        if keys:
            shown = ", ".join(keys[:SHOWN_KEYS]) + (", ..." if len(keys) > SHOWN_KEYS else "")
            raise ConfigError(
                f"policy.weights={folder}: {len(keys)} {kind} tensor(s) ({shown}); export it "
                "again from the run with `userl export-policy`"
            )
