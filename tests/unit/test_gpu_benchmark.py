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


def test_a_failing_step_is_one_line_and_the_next_still_runs():
    result: dict = {"failed": {}, "skipped": {}, "step_wall_s": {}}
    steps = gpu.Steps(budget_s=600, result=result)

    def out_of_memory() -> None:
        raise RuntimeError("CUDA out of memory.\nTried to allocate 2 GiB")

    assert steps.run("pi0", out_of_memory) is None
    assert steps.run("train", lambda: {"grad_steps": 3}) == {"grad_steps": 3}
    assert result["failed"] == {"pi0": "RuntimeError: CUDA out of memory."}
    assert set(result["step_wall_s"]) == {"pi0", "train"} and result["skipped"] == {}


def test_an_interrupt_skips_the_steps_after_it():
    result: dict = {"failed": {}, "skipped": {}, "step_wall_s": {}}
    steps = gpu.Steps(budget_s=600, result=result)

    def interrupted() -> None:
        raise KeyboardInterrupt

    ran = []
    steps.run("train", interrupted)
    steps.run("profile", lambda: ran.append("profile"))
    assert ran == [] and result["failed"] == {"train": "interrupted"}
    assert result["skipped"] == {"profile": "interrupted during train"}


def test_a_step_needing_more_than_the_budget_left_is_skipped_saying_so():
    result: dict = {"failed": {}, "skipped": {}, "step_wall_s": {}}
    steps = gpu.Steps(budget_s=60, result=result)
    assert steps.run("profile", lambda: 1, needs_s=120) is None
    assert "under the 120 s it needs" in result["skipped"]["profile"]
    assert steps.run("train", lambda: 1) == 1


def test_an_out_file_in_a_missing_folder_is_exit_2_before_anything_runs(
    tmp_path, monkeypatch, capsys
):
    ran = []
    monkeypatch.setattr(gpu, "run", lambda arguments: ran.append(arguments) or {})
    out = tmp_path / "missing" / "gpu.json"
    assert main(["bench", "gpu", f"out={out}"]) == 2
    error = capsys.readouterr().err
    assert "does not exist" in error and len(error.strip().splitlines()) == 1
    assert ran == [] and not out.parent.exists()
