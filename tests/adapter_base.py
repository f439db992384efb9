"""A tiny frozen base for the adapter policies' tests (#41): a run folder as `userl train
algo=hg_dagger policy=flow_g` leaves it, without running it (its config and a checkpoint of
the randomly initialised policy's trainable tensors)."""

from __future__ import annotations

from pathlib import Path

import torch

from userl.config.loader import load_config, to_yaml
from userl.core.specs import ObservationSpec
from userl.data.checkpoint import write_checkpoint
from userl.data.checkpoint_files import CHECKPOINTS_DIR, checkpoint_file
from userl.policies import build_policy

ADAPTER_PRESETS = {"noise_adapter", "residual_adapter", "dsrl", "residual_sac"}
"""Presets that load only with `policy.base=` naming a run."""


def make_base_run(folder: Path, *arguments: str, state_dim: int = 6, action_dim: int = 7) -> Path:
    """The base run folder at `folder` (`arguments` override its config)."""
    config = load_config(
        ["algo=hg_dagger", "policy=flow_g", "policy.hidden_dims=[64,64]", *arguments]
    )
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(to_yaml(config))
    torch.manual_seed(1)
    policy = build_policy(config.policy, ObservationSpec(state_dim), action_dim)
    state = {"policy": {k: v.detach().clone() for k, v in policy.state_dict().items()}}
    assert write_checkpoint(checkpoint_file(folder / CHECKPOINTS_DIR, "latest"), state) is None
    return folder


def make_pi0_base_run(folder: Path, spec: ObservationSpec, action_dim: int = 7) -> Path:
    """A `policy=pi0_tiny obs=image` HG-DAgger run folder at `folder` (random small weights,
    drawn with a seed of its own so they differ from the preset's init)."""
    config = load_config(["algo=hg_dagger", "policy=pi0_tiny", "obs=image"])
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(to_yaml(config))
    policy = build_policy(config.policy, spec, action_dim)
    generator = torch.Generator().manual_seed(2)
    tensors = {
        k: v.detach() + 0.01 * torch.randn(v.shape, generator=generator)
        if v.is_floating_point()
        else v.detach().clone()
        for k, v in policy.state_dict().items()
    }
    state = {"policy": tensors}
    assert write_checkpoint(checkpoint_file(folder / CHECKPOINTS_DIR, "latest"), state) is None
    return folder
