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
    action: str = "action"
    reward: str = "next.reward"
    done: str = "next.done"  # the episode's last transition (when `terminated` is absent)
    terminated: str = "next.terminated"
    truncated: str = "next.truncated"
    intervened: str = "intervened"
    policy_action: str = "policy_action"
    policy_version: str = "policy_version"
    final_observation: str = "final_observation"  # a frame holding only the last observation
    # Without userl's episode records, success is: any reward >= this (reward mapped), else true
    success_reward_min: float = 1.0
