"""A pi0 checkpoint is loaded from safetensors only: a PyTorch pickle (`.bin`) is one line
saying so and how to convert it, and is never unpickled (before, a folder holding a
`pytorch_model.bin` beside some other `.safetensors` file reached transformers' `torch.load`
and ended on a raw `UnpicklingError`)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from userl.core.errors import ConfigError
from userl.policies.weights_files import safetensors_folder

pytest.importorskip("transformers", reason="policy=pi0 needs the vla extra")

from userl.policies.pi0 import load_weights  # noqa: E402


class RunsCode:
    """A pickle that would leave a marker file if anything unpickled it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (Path.touch, (self.marker,))


class NeverLoads:
    """A model class whose loading fails the test: the check must come first."""

    @classmethod
    def from_pretrained(cls, *args: object, **kwargs: object) -> None:
        raise AssertionError("from_pretrained was reached")


def write_pickle(path: Path, marker: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps({"weight": RunsCode(marker)}))
    return path


@pytest.mark.parametrize(
    "layout", ["bin_only", "bin_beside_other_safetensors", "bin_file_given", "pt_file"]
)
def test_a_pickle_checkpoint_is_one_line_and_never_unpickled(tmp_path: Path, layout: str) -> None:
    marker = tmp_path / "unpickled"
    folder = tmp_path / "ckpt"
    name = "model.pt" if layout == "pt_file" else "pytorch_model.bin"
    weights = write_pickle(folder / name, marker)
    if layout == "bin_beside_other_safetensors":
        (folder / "adapter.safetensors").write_bytes(b"{}")
    given = str(weights if layout in ("bin_file_given", "pt_file") else folder)
    with pytest.raises(ConfigError) as error:
        load_weights(NeverLoads, None, given, None)  # type: ignore[arg-type]
    message = str(error.value)
    assert "\n" not in message
    assert f"policy.weights={given}" in message and name in message
    assert "only safetensors" in message and "save_file" in message  # how to convert
    assert not marker.exists()


def test_a_safetensors_folder_is_accepted_and_an_empty_one_named(tmp_path: Path) -> None:
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "model.safetensors").write_bytes(b"")
    assert safetensors_folder(str(tmp_path / "ok"), "policy.weights") == tmp_path / "ok"
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no .*model.safetensors"):
        safetensors_folder(str(tmp_path / "empty"), "policy.weights")
