"""Import LeRobot's dataset library (the `lerobot-dataset` package, module `ledataset`).

`ledataset` imports torchvision, whose PyPI wheels are CUDA builds: beside a CPU-only torch
its compiled ops (`torchvision/_C.so`) cannot load, and torchvision's import then fails while
registering fake kernels for `torchvision::nms` and `torchvision::qnms`. The dataset code
never calls those ops, so when (and only when) that import fails, their schemas (as
torchvision's `csrc/ops/nms.cpp` defines them) are declared without kernels and torchvision
is imported again: a call to them would still raise. Video decoding goes through torchcodec.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import Any

from userl.core.errors import ConfigError

INSTALL_HINT = "install it with: pip install -e '.[lerobot]'"
_TORCHVISION_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
SVT_LOG_LEVEL = "1"  # the AV1 encoder reports errors only, not its settings per video
_declared: list[Any] = []  # keeps the schema library alive for the process


class LeRobotUnavailable(ConfigError):
    """LeRobot's dataset library is not installed (or cannot load); one line with the fix."""


def import_torchvision() -> None:
    """Import torchvision, declaring its two CPU-less ops first if their kernels cannot load
    (see the module docstring); a no-op when torchvision is not installed."""
    try:
        import torchvision  # noqa: F401

        return
    except ImportError:
        return
    except RuntimeError as error:
        if "torchvision::" not in str(error):
            raise
    import torch

    for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
        del sys.modules[name]
    library = torch.library.Library("torchvision", "DEF")
    for schema in _TORCHVISION_SCHEMAS:
        library.define(schema)
    _declared.append(library)
    import torchvision  # noqa: F401,F811


def go_offline() -> None:
    """Datasets are read and written from local folders only: the Hugging Face Hub is never
    contacted (a folder's name must not leave the machine, nor a hub repo of that name be
    fetched). Also set on a hub library that another component imported already."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        constants.HF_HUB_OFFLINE = True  # type: ignore[attr-defined]


def lerobot_dataset_module() -> ModuleType:
    """`ledataset.datasets.lerobot_dataset` (LeRobotDataset, LeRobotDatasetMetadata)."""
    os.environ.setdefault("SVT_LOG", SVT_LOG_LEVEL)
    go_offline()
    try:
        import_torchvision()
        import datasets
        from ledataset.datasets import lerobot_dataset
    except ImportError as error:
        raise LeRobotUnavailable(
            f"LeRobot's dataset library is missing ({error}); {INSTALL_HINT}"
        ) from None
    datasets.disable_progress_bars()  # one line per command, not a progress bar per table
    return lerobot_dataset


def video_utils_module() -> ModuleType:
    """`ledataset.datasets.video_utils` (decode_video_frames)."""
    lerobot_dataset_module()
    from ledataset.datasets import video_utils

    return video_utils
