"""Which algorithm trains which policy: the table is the registries' (docs/algorithms.md is
checked against it), every pair it lists builds and takes one update on a random batch, and
every pair it leaves out is refused at config load in one line naming the pairs that do."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from tests.unit.test_dsrl import make_base_run
from userl.algorithms import build_algorithm
from userl.cli import main
from userl.config.compatibility import (
    compatibility,
    compatibility_table,
    preset_components,
    table_in_page,
)
from userl.config.loader import load_config
from userl.config.preset_files import read_preset_file
from userl.core.errors import ConfigError
from userl.core.registry import POLICIES
from userl.core.specs import ImageSpec, ObservationSpec
from userl.core.types import Batch

torch.set_num_threads(1)

PAGE = Path(__file__).parents[2] / "docs" / "algorithms.md"
STATE_DIM, ACTION_DIM, ROWS = 6, 7, 4  # the sizes of the frozen base test_dsrl writes
STAND_INS = {"pi0": "pi0_tiny"}
"""A policy preset too large to build in a unit test -> a small preset of the same
registered policy (the same code; only its sizes differ)."""

SUPPORTED = sorted(
    (algo, policy) for algo, policies in compatibility().items() for policy in policies
)
UNSUPPORTED = sorted(
    set(itertools.product(preset_components("algo"), preset_components("policy"))) - set(SUPPORTED)
)


def test_the_page_holds_the_registries_table():
    table = table_in_page(PAGE.read_text())
    assert table is not None, f"{PAGE} has lost its generated algorithms table"
    assert table == compatibility_table(), (
        f"{PAGE} disagrees with the registries: paste the output of `userl algorithms` "
        "between its table markers"
    )


def test_the_table_is_what_userl_algorithms_prints(capsys):
    assert main(["algorithms"]) == 0
    assert capsys.readouterr().out.strip() == compatibility_table()
    assert main(["algorithms", "extra"]) == 2


def test_every_algorithm_trains_something_and_the_table_has_both_kinds_of_pair():
    assert all(compatibility().values())
    assert ("sac", "pi0") in UNSUPPORTED and ("hg_dagger", "pi0") in SUPPORTED


def needs_views(preset: str) -> bool:
    """Whether the policy preset cannot act without camera views (as the loader judges)."""
    data = read_preset_file("policy", preset)
    schema = OmegaConf.structured(POLICIES.config(str(data["name"])))
    policy = OmegaConf.to_object(OmegaConf.merge(schema, data))
    return bool(policy.NEEDS_VIEWS or policy.view_size_px() > 0)  # type: ignore[union-attr]


def random_batch(spec: ObservationSpec, chunk_steps: int) -> Batch:
    g = torch.Generator().manual_seed(0)

    def observation() -> dict[str, torch.Tensor]:
        obs = {"state": torch.randn(ROWS, spec.state_dim, generator=g)}
        for view in spec.images:
            shape = (ROWS, view.height_px, view.width_px, 3)
            obs[view.name] = torch.randint(0, 256, shape, generator=g, dtype=torch.uint8)
        return obs

    actions = torch.rand(ROWS, ACTION_DIM, generator=g) * 2 - 1
    chunks = {}
    if chunk_steps > 1:
        chunks = {
            "action_chunks": torch.rand(ROWS, chunk_steps, ACTION_DIM, generator=g) * 2 - 1,
            "action_chunk_mask": torch.ones(ROWS, chunk_steps),
        }
    return Batch(
        observations=observation(),
        actions=actions,
        rewards=torch.randn(ROWS, generator=g),
        next_observations=observation(),
        terminated=torch.zeros(ROWS),
        intervened=torch.zeros(ROWS),
        from_demos=torch.ones(ROWS),
        **chunks,
    )


@pytest.mark.parametrize(("algo", "policy"), SUPPORTED)
def test_every_supported_pair_builds_and_takes_one_update(algo, policy, tmp_path):
    chosen = [f"algo={algo}", f"policy={STAND_INS.get(policy, policy)}"]
    if hasattr(POLICIES.config(preset_components("policy")[policy]), "base"):
        chosen.append(f"policy.base={make_base_run(tmp_path / 'base')}")  # an adapter's base
    config = load_config([*chosen, f"obs={'image' if needs_views(policy) else 'state'}"])
    if config.policy.name == "pi0":
        pytest.importorskip("transformers", reason="policy=pi0 needs the vla extra")
    size = config.policy.view_size_px() or 32
    views = tuple(ImageSpec(name, size, size) for name in ("front", "wrist"))
    spec = ObservationSpec(
        STATE_DIM, views if config.obs == "image" else (), "Put the peg in the hole."
    )
    torch.manual_seed(0)
    algorithm = build_algorithm(config.algo, config.policy, spec, ACTION_DIM)
    trained = [p for p in algorithm.policy.parameters() if p.requires_grad]
    before = [p.detach().clone() for p in trained]
    metrics = algorithm.update(random_batch(spec, algorithm.label_chunk_steps))
    assert algorithm.grad_steps == 1 and metrics
    assert all(torch.isfinite(torch.tensor(value)) for value in metrics.values()), metrics
    assert any(not torch.equal(b, p) for b, p in zip(before, trained, strict=True))


@pytest.mark.parametrize(("algo", "policy"), UNSUPPORTED)
def test_every_unsupported_pair_is_refused_in_one_line_naming_what_works(algo, policy):
    with pytest.raises(ConfigError) as refused:
        load_config([f"algo={algo}", f"policy={policy}"])
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"algo={algo} cannot train policy={policy}: ")
    assert f"algo={algo} trains policy={'|'.join(compatibility()[algo])}" in message
    trainers = [a for a, policies in compatibility().items() if policy in policies]
    assert f"policy={policy} is trained by algo={'|'.join(trainers)}" in message


def test_sac_with_pi0_is_exit_2_and_one_line(capsys):
    assert main(["config", "show", "algo=sac", "policy=pi0"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith("userl: error: algo=sac cannot train policy=pi0: algo=sac trains ")
    assert "`userl algorithms` lists every pair" in error
