"""Checkpoints load with `weights_only=True`: a checkpoint from someone else cannot run code
through its pickle. What `userl eval`, `resume=true` and a real checkpoint do with it is in
tests/integration/test_learner_checkpoints.py (they build a learner or an environment)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.checkpoints import malicious_run
from userl.data.checkpoint import CheckpointRefused, load_checkpoint


def test_a_checkpoint_carrying_a_pickle_payload_is_refused_in_one_line(tmp_path: Path) -> None:
    run, marker = malicious_run(tmp_path)
    with pytest.raises(CheckpointRefused, match="refusing checkpoint .*latest.pt") as error:
        load_checkpoint(run / "checkpoints" / "latest.pt")
    assert "\n" not in str(error.value) and "posix.mkdir" in str(error.value)
    assert not marker.exists()
