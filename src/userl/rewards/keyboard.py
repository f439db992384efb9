"""`reward=keyboard`: the operator marks success / failure while the robot runs, through the
keyboard backends of `hardware/teleop/keyboard.py` (a terminal, or evdev without one; a
SpaceMouse may drive the robot at the same time). `s` marks success (held until `f`),
`f` marks failure and ends the episode."""

from __future__ import annotations

from dataclasses import dataclass

from userl.core.registry import REWARDS
from userl.hardware.teleop.keyboard import KEY_READERS, KeyboardConfig, KeyReader
from userl.rewards.base import RewardConfig, RewardContext, RewardInput, RewardSource, RewardStep


@dataclass
class KeyboardRewardConfig(RewardConfig):
    """Operator labels from a keyboard (backends as `teleop=keyboard`)."""

    backend: str = "terminal"  # terminal (a tty) | evdev (a /dev/input keyboard, no terminal)
    device_path: str = ""  # terminal: empty = /dev/tty; evdev: empty = the first keyboard
    key_success: str = "s"  # marks the step a success
    key_failure: str = "f"  # marks the step a failure
    success_reward: float = 1.0  # the reward of each step marked successful
    failure_ends_episode: bool = True  # a failure key ends the episode

    def problem(self) -> str | None:
        if self.key_success == self.key_failure:
            return "reward.key_success and reward.key_failure are the same key; give each its own"
        return None


@REWARDS.register("keyboard", config=KeyboardRewardConfig)
class KeyboardReward(RewardSource):
    """Success from the operator's `key_success` until `key_failure` (or the episode's end)."""

    def __init__(self, config: KeyboardRewardConfig, context: RewardContext) -> None:
        self.config = config
        device = KeyboardConfig(
            backend=config.backend,
            device_path=config.device_path,
            key_success=config.key_success,
            key_failure=config.key_failure,
        )
        self.reader: KeyReader = KEY_READERS.get(config.backend)(device)
        self.succeeded = False

    def reset(self) -> None:
        self.reader.pressed()  # marks between episodes belong to none
        self.succeeded = False

    def __call__(self, step: RewardInput) -> RewardStep:
        failed = False
        for key in self.reader.pressed():
            if key == self.config.key_success:
                self.succeeded = True
            elif key == self.config.key_failure:
                self.succeeded, failed = False, True
        reward = self.config.success_reward if self.succeeded else 0.0
        return RewardStep(
            reward, self.succeeded, failure=failed and self.config.failure_ends_episode
        )

    def close(self) -> None:
        self.reader.close()
