"""The scripted expert solves peg insertion through the normalised action alone."""

import pytest

pytestmark = pytest.mark.integration


def test_expert_succeeds_on_20_seeded_episodes(expert_success_rate):
    assert expert_success_rate("peg_insertion", 20) >= 0.95


@pytest.mark.slow
def test_expert_succeeds_on_50_seeded_episodes(expert_success_rate):
    assert expert_success_rate("peg_insertion", 50) >= 0.95
