"""How a LeRobot dataset's features map onto a userl episode (`demos.lerobot.*`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LeRobotMappingConfig:
    """Which LeRobot dataset features become a userl episode's columns. The defaults fit a
    dataset written by `userl data export`; an empty name means the dataset lacks that
    feature (rewards become 0; the flags and the policy's proposal are derived)."""

    state: list[str] = field(default_factory=lambda: ["observation.state"])  # concatenated
    image_prefix: str = "observation.images."  # feature <prefix><view> -> camera view <view>
    action: str = "action"  # the action feature
    reward: str = "next.reward"  # the reward feature
    done: str = "next.done"  # the episode's last transition (when `terminated` is absent)
    terminated: str = "next.terminated"  # the feature flagging a terminal transition
    truncated: str = "next.truncated"  # the feature flagging a time-limit end
    intervened: str = "intervened"  # the feature flagging a human-controlled step
    policy_action: str = "policy_action"  # the feature holding the policy's proposed action
    policy_version: str = "policy_version"  # the feature holding the weights version that acted
    final_observation: str = "final_observation"  # a frame holding only the last observation
    step_success: str = "next.success"  # the reward source's success after each step (labels)
    success_reward_min: float = 1.0  # without userl's episode records, an episode succeeded if any
    # reward is >= this (reward mapped), else true
