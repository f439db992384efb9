"""`algo.bf16_matmuls`: hidden-layer products in bfloat16 during updates, everything that
holds state or meets a loss in float32, and `auto` on only where the CPU has bf16 natively."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.sac_models import make_batch, make_sac
from userl.algorithms import precision
from userl.algorithms.critics import EnsembleMLP
from userl.policies.networks import full_precision

torch.set_num_threads(1)
CPU = torch.device("cpu")


def test_cpu_flags_are_read_from_the_flags_line(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16\nbugs\t: none\n")
    assert precision.cpu_flags(info) == {"fpu", "avx2", "avx512f", "avx512_bf16"}
    assert precision.cpu_flags(tmp_path / "missing") == frozenset()


@pytest.mark.parametrize(
    ("flags", "native"),
    [
        ({"avx512f", "avx512_bf16"}, True),
        ({"amx_bf16", "amx_tile"}, True),
        ({"avx512f", "avx512bw", "avx2"}, False),
    ],
)
def test_auto_is_on_only_where_the_cpu_multiplies_bf16_natively(monkeypatch, flags, native):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(flags))
    assert precision.native_bf16_matmuls(CPU) is native
    assert precision.bf16_matmuls_enabled("auto", CPU) is native
    assert precision.bf16_matmuls_enabled("on", CPU) is True
    assert precision.bf16_matmuls_enabled("off", CPU) is False
    assert precision.native_bf16_matmuls(torch.device("meta")) is False  # not a CPU: float32


def test_full_precision_keeps_an_output_layer_float32_inside_autocast() -> None:
    layer, x = torch.nn.Linear(16, 4), torch.randn(8, 16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert layer(x).dtype == torch.bfloat16
        out = full_precision(layer, x.bfloat16())
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, layer(x.bfloat16().float()))
    assert torch.equal(full_precision(layer, x), layer(x))  # outside autocast: a plain call


def test_ensemble_hidden_products_run_in_bf16_and_q_values_come_back_float32() -> None:
    torch.manual_seed(0)
    net = EnsembleMLP(4, 12, [64, 64], 1, layer_norm=True, activation_name="tanh")
    x = torch.randn(32, 12)
    hidden_dtypes: list[torch.dtype] = []
    real_baddbmm = torch.baddbmm

    def spy(*args, **kwargs):
        out = real_baddbmm(*args, **kwargs)
        hidden_dtypes.append(out.dtype)
        return out

    expected = net(x)
    torch.baddbmm = spy  # type: ignore[assignment]
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            q = net(x)
    finally:
        torch.baddbmm = real_baddbmm  # type: ignore[assignment]
    assert hidden_dtypes == [torch.bfloat16, torch.bfloat16, torch.float32]
    assert q.dtype == torch.float32
    torch.testing.assert_close(q, expected, rtol=0.05, atol=0.02)  # bf16: 8 mantissa bits


def test_bf16_update_keeps_float32_state_and_tracks_the_float32_update() -> None:
    exact, fast = (
        make_sac(num_critics=5, bf16_matmuls="off"),
        make_sac(num_critics=5, bf16_matmuls="on"),
    )
    assert not exact.bf16_matmuls and fast.bf16_matmuls
    batch = make_batch()
    for step in range(3):
        torch.manual_seed(10 + step)
        expected = exact.update(batch)
        torch.manual_seed(10 + step)
        got = fast.update(batch)
        for name, value in expected.items():
            assert got[name] == pytest.approx(value, rel=0.05, abs=0.02), name
    state = fast.state_dict()
    for group in ("policy", "critic", "target_critic"):
        assert all(t.dtype == torch.float32 for t in state[group].values()), group
    for optim in (fast.actor_optim, fast.critic_optim):
        moments = [v for entry in optim.state.values() for k, v in entry.items() if k != "step"]
        assert moments and all(m.dtype == torch.float32 for m in moments)
    for (name, a), b in zip(exact.critic.named_parameters(), fast.critic.parameters(), strict=True):
        torch.testing.assert_close(b, a, rtol=0.02, atol=2e-3, msg=name)
        assert b.dtype == torch.float32


def test_bf16_updates_still_fit_a_fixed_batch() -> None:
    """The critic's TD error on one batch falls over many bf16 updates, as in float32."""
    sac = make_sac(num_critics=2, bf16_matmuls="on", gamma=0.0)  # target = reward: fittable
    batch = make_batch()
    first = sac.update(batch)["train/critic_loss"]
    for _ in range(300):
        last = sac.update(batch)["train/critic_loss"]
    assert last < 0.2 * first
