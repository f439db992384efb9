"""pi0's instruction must fit `policy.prompt_tokens`; one that does not is a one-line error
when the policy is built (before any weights load), saying how many tokens it takes."""

from __future__ import annotations

import pytest

pytest.importorskip("transformers", reason="policy=pi0 needs the vla extra")

from userl.config.loader import load_config  # noqa: E402
from userl.core.errors import ConfigError  # noqa: E402
from userl.core.specs import ImageSpec, ObservationSpec  # noqa: E402
from userl.policies import build_policy  # noqa: E402

INSTRUCTION = "Pick up the object and put it in the container."
NEEDS = len(INSTRUCTION.encode()) + 2  # the byte tokenizer: <bos>, a token per byte, "\n"


def spec(instruction: str) -> ObservationSpec:
    return ObservationSpec(20, (ImageSpec("front", 32, 32),), instruction)


def test_an_instruction_longer_than_prompt_tokens_fails_at_build_naming_its_length(tmp_path):
    cfg = load_config(["policy=pi0_tiny", "algo=hg_dagger"]).policy
    cfg.prompt_tokens = 48  # type: ignore[attr-defined]  # the published preset's
    cfg.weights = str(tmp_path / "never-read")  # type: ignore[attr-defined]
    # raised before the (missing) weights are looked at
    with pytest.raises(ConfigError, match=rf"takes {NEEDS} tokens.*prompt_tokens to {NEEDS} or"):
        build_policy(cfg, spec(INSTRUCTION), 7)
    cfg.prompt_tokens = NEEDS  # type: ignore[attr-defined]
    cfg.weights = ""  # type: ignore[attr-defined]
    assert build_policy(cfg, spec(INSTRUCTION), 7).prompt(INSTRUCTION)[0].shape[1] == 16 + NEEDS
