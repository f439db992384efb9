"""`userl bench gpu`'s options: defaults follow the device, bad input is one line naming
the option, and nothing is measured or written before the options are checked."""

from __future__ import annotations

import pytest

from userl.benchmarks import BENCHMARKS, bench_help, gpu
from userl.cli import main
from userl.core.errors import ConfigError


def test_registered_with_its_options_in_help():
    assert "gpu" in BENCHMARKS.names()
    text = bench_help("gpu")
    assert all(f"  {key}=" in text for key in gpu.DEFAULTS)


def test_a_cpu_machine_defaults_to_the_cpu_and_the_tiny_pi0(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    options = gpu.parse([])
    assert (options["device"], options["size"]) == ("cpu", "tiny")
    assert options["policies"] == ["mlp", "cnn"] and options["batch_size"] == 256
    assert options["variants"] == ["float32", "bf16", "compile"]
    assert gpu.parse(["size=full"])["size"] == "full"


def test_a_gpu_machine_defaults_to_cuda_and_the_published_pi0(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    options = gpu.parse([])
    assert (options["device"], options["size"]) == ("cuda", "full")
    assert gpu.parse(["device=cpu"])["size"] == "tiny"


@pytest.mark.parametrize(
    ("argument", "named"),
    [
        ("device=tpu", "device="),
        ("size=huge", "size="),
        ("variants=float32,fp8", "variants="),
        ("policies=mlp,pi0", "policies="),
        ("policies=", "policies="),
        ("batch_size=0", "batch_size="),
        ("seconds=x", "seconds="),
        ("budget_s=nan", "budget_s="),
        ("profile_episodes=1", "profile_episodes="),
        ("profile=maybe", "profile="),
        ("algo.batch_size=8", "algo.batch_size="),
        ("device", "device"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(argument, named, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError) as raised:
        gpu.parse([argument])
    message = str(raised.value)
    assert named in message and "\n" not in message


def test_cuda_asked_on_a_machine_without_one_is_exit_2_and_writes_nothing(
    tmp_path, monkeypatch, capsys
):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "gpu.json"
    code = main(["bench", "gpu", "device=cuda", f"root={tmp_path / 'runs'}", f"out={out}"])
    assert code == 2
    assert "device=cpu" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
