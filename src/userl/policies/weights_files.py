"""Which files a pretrained checkpoint folder may be loaded from: safetensors only.

A PyTorch `.bin` / `.pt` file is a pickle, and unpickling can run code that the file
carries; userl never unpickles a checkpoint. A folder holding only pickles (or a pickle given
as the path itself) is one line saying so and how to convert it where the file is trusted.
"""

from __future__ import annotations

from pathlib import Path

from userl.core.errors import ConfigError

SAFETENSORS_FILES = ("model.safetensors", "model.safetensors.index.json")  # whole or sharded
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
CONVERT_HINT = (
    'convert it once, on a machine where the file is trusted: python -c "import torch; '
    "from safetensors.torch import save_file; "
    "save_file(torch.load('pytorch_model.bin', weights_only=True), 'model.safetensors')\""
)


def safetensors_folder(folder: str, key: str) -> Path:
    """The checkpoint folder `folder` (given as `key=`) when it holds safetensors weights;
    else a ConfigError naming what it holds instead."""
    path = Path(folder).expanduser()
    if path.is_dir() and any((path / name).is_file() for name in SAFETENSORS_FILES):
        return path
    candidates = [path] if path.is_file() else sorted(path.glob("*")) if path.is_dir() else []
    pickles = [p for p in candidates if p.suffix in PICKLE_SUFFIXES]
    if pickles:
        raise ConfigError(
            f"{key}={folder}: {pickles[0].name} is a PyTorch pickle and only safetensors "
            f"weights are loaded (a pickle can run code); {CONVERT_HINT}"
        )
    raise ConfigError(
        f"{key}={folder}: no *.safetensors weights (model.safetensors) in that folder; give the "
        "local folder of a pi0 checkpoint (e.g. lerobot/pi0_base downloaded on a machine with "
        "network access)"
    )
