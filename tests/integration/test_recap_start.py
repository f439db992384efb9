"""RECAP from a behaviour-cloned run (#43), end to end through the command line: `userl train
algo=hg_dagger policy=flow_g` clones the demos, `userl export-policy` writes its policy, and
`userl train algo=recap policy.weights=DIR` starts its labelled flow from it (the BC tensors
under the wrapped field, the label embedding at zero); an export for another task's
observation is refused with one line, exit 2, before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from userl.cli import main
from userl.data.checkpoint import load_checkpoint
from userl.policies.exported import WEIGHTS_FILE

pytestmark = pytest.mark.usefixtures("shared_ray")  # its runs share one Ray

COMMON = [
    "policy=flow_g",
    "task=peg_insertion",
    "task.episode_steps=20",
    "pipeline=sync",
    "policy.hidden_dims=[32,32]",
    "demos.episodes=1",
    "eval.episodes=1",
]


def test_recap_starts_from_a_behaviour_cloned_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bc = ["algo=hg_dagger", "algo.pretrain_updates=20", "run.grad_steps=1"]
    assert main(["train", *COMMON, *bc, f"run.root={tmp_path}", "run.name=bc"]) == 0
    export = tmp_path / "bc_export"
    assert main(["export-policy", f"run={tmp_path / 'bc'}", f"out={export}"]) == 0
    cloned = load_file(str(export / WEIGHTS_FILE))

    recap = [
        "algo=recap",
        f"policy.weights={export}",
        "algo.pretrain_updates=0",
        "algo.lr=0",  # the flow stays the start it was given: the run shows what it loaded
        "algo.value_hidden_dims=[32]",
        "algo.batch_size=16",
        "run.env_steps=20",
    ]
    assert main(["train", *COMMON, *recap, f"run.root={tmp_path}", "run.name=recap"]) == 0
    state = load_checkpoint(tmp_path / "recap" / "checkpoints" / "latest.pt")
    for policy in (state["policy"], state["algorithm"]["policy"]):  # robots' and learner's
        for key, tensor in cloned.items():
            assert torch.equal(policy[key.replace("velocity.", "velocity.field.", 1)], tensor)
        assert torch.count_nonzero(policy["velocity.embedding.weight"]) == 0

    capsys.readouterr()
    pick_place = [("task=pick_place" if a == "task=peg_insertion" else a) for a in COMMON]
    other = [*pick_place, *recap, f"run.root={tmp_path}", "run.name=other"]
    assert main(["train", *other]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"policy.weights={export} was exported for state" in err
    assert "use the task, robot and obs= it was trained on" in err
    assert not (tmp_path / "other").exists()
