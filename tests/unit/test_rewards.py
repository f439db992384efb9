"""Reward sources and their composition (no physics)."""

import numpy as np
import pytest

from userl.core.registry import REWARDS, UnknownNameError
from userl.rewards import CompositeReward, build_reward
from userl.tasks.peg_insertion import PegInsertionConfig

OBS = {"state": np.zeros(25, np.float32)}


def test_success_reward_is_sparse():
    source = REWARDS.get("success")(PegInsertionConfig())
    assert source(OBS, {"success": True, "target_distance_m": 0.0}) == (1.0, True)
    assert source(OBS, {"success": False, "target_distance_m": 0.2}) == (0.0, False)


def test_pose_distance_is_negative_scaled_distance():
    source = REWARDS.get("pose_distance")(PegInsertionConfig(dense_reward_scale_per_m=10.0))
    reward, success = source(OBS, {"success": False, "target_distance_m": 0.05})
    assert reward == pytest.approx(-0.5) and success is False


def test_dense_term_is_added_with_its_weight():
    reward = build_reward(PegInsertionConfig(dense_reward_weight=0.1))
    assert isinstance(reward, CompositeReward)
    value, success = reward(OBS, {"success": True, "target_distance_m": 0.02})
    assert value == pytest.approx(1.0 - 0.1 * 10.0 * 0.02) and success is True


def test_unknown_reward_names_the_choices():
    with pytest.raises(UnknownNameError, match="pose_distance"):
        build_reward(PegInsertionConfig(reward="nope"))
