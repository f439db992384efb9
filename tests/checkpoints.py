"""A run folder whose checkpoint carries a pickle payload: the unit and integration tests of
`weights_only` checkpoint loading share it."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from userl.config.loader import load_config, to_yaml


class Payload:
    """A pickle that, when loaded without weights_only, creates `marker`."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.mkdir, (str(self.marker),)


def malicious_run(root: Path) -> tuple[Path, Path]:
    """A run folder whose checkpoint carries the payload next to a plausible policy, and the
    path the payload would create if it ran."""
    run = root / "shared_run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.yaml").write_text(to_yaml(load_config(["run.name=shared_run"])))
    marker = root / "payload_ran"
    torch.save(
        {"policy": {}, "weight_version": 1, "algorithm": Payload(marker)},
        run / "checkpoints" / "latest.pt",
    )
    return run, marker
