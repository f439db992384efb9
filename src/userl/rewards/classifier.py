"""`reward=classifier reward.checkpoint=PATH`: a learned success classifier (trained by
`userl train-reward`) served in the env worker. A step succeeds once the probability has been
at or above `threshold_probability` for `hold_steps` steps in a row."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from userl.core.errors import ConfigError
from userl.core.registry import REWARDS
from userl.rewards.base import RewardConfig, RewardContext, RewardInput, RewardSource, RewardStep
from userl.rewards.classifier_model import load_classifier


class ClassifierMismatch(ConfigError):
    """The checkpoint's cameras or image size differ from the task's; one line."""


@dataclass
class ClassifierRewardConfig(RewardConfig):
    """A success classifier's checkpoint, its threshold and how long success must hold."""

    checkpoint: str = ""  # a file written by `userl train-reward`
    threshold_probability: float = 0.5  # a step succeeds at or above this predicted probability
    hold_steps: int = 1  # consecutive steps at or above the threshold before success
    success_reward: float = 1.0  # the reward of a successful step
    device: str = "cpu"  # where the model runs (cpu | cuda)

    def problem(self) -> str | None:
        if not self.checkpoint:
            return (
                "reward=classifier needs reward.checkpoint=PATH, a file written by "
                "`userl train-reward task=T data=DIR`"
            )
        if self.hold_steps < 1:
            return f"bad value for 'reward.hold_steps': {self.hold_steps} must be >= 1"
        return None


@REWARDS.register("classifier", config=ClassifierRewardConfig)
class ClassifierReward(RewardSource):
    """The classifier's probability per step; success after `hold_steps` above threshold."""

    def __init__(self, config: ClassifierRewardConfig, context: RewardContext) -> None:
        self.config = config
        loaded = load_classifier(Path(config.checkpoint))
        check_views(config.checkpoint, loaded.cameras, loaded.height_px, loaded.width_px, context)
        self.cameras = loaded.cameras
        self.model = loaded.model.to(config.device)
        self._held = 0

    def reset(self) -> None:
        self._held = 0

    @torch.inference_mode()
    def probability(self, step: RewardInput) -> float:
        images = {
            name: torch.as_tensor(step.observation[name]).unsqueeze(0).to(self.config.device)
            for name in self.cameras
        }
        return float(torch.sigmoid(self.model(images))[0])

    def __call__(self, step: RewardInput) -> RewardStep:
        probability = self.probability(step)
        self._held = self._held + 1 if probability >= self.config.threshold_probability else 0
        success = self._held >= self.config.hold_steps
        return RewardStep(
            self.config.success_reward if success else 0.0, success, probability=probability
        )


def check_views(
    checkpoint: str, cameras: list[str], height_px: int, width_px: int, context: RewardContext
) -> None:
    """Raise `ClassifierMismatch` unless the env gives every trained view at its size."""
    given = {view.name: (view.height_px, view.width_px) for view in context.observation_spec.images}
    wanted = {name: (height_px, width_px) for name in cameras}
    if all(given.get(name) == size for name, size in wanted.items()):
        return
    have = ", ".join(f"{n} {h}x{w}" for n, (h, w) in given.items()) or "no camera views (obs=state)"
    raise ClassifierMismatch(
        f"reward.checkpoint={checkpoint} was trained on {', '.join(cameras)} at "
        f"{height_px}x{width_px} px, but this run gives {have}; set "
        f"robot.reward_camera_names=[{','.join(cameras)}] (or obs=image "
        f"robot.camera_names=[...]) robot.image_height_px={height_px} "
        f"robot.image_width_px={width_px}, or train a classifier for these views"
    )
