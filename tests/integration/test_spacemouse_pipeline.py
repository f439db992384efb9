"""A SpaceMouse (the real pyspacemouse, the device scripted at its HID layer) drives the
simulated robot: demonstrations through `userl collect teleop=spacemouse`, and interventions
during training (`teleop=spacemouse`)."""

import numpy as np
import pytest

from tests.devices import ScriptedSpaceMouse, plug_in_spacemouse
from userl.config.loader import load_config
from userl.envs.factory import make_env
from userl.policies import build_policy
from userl.rollout.action_sources import PolicySource, demonstrator
from userl.rollout.episode import run_episode
from userl.rollout.intervention import base_to_reset_frame, with_interventions

pytestmark = pytest.mark.integration
IDENTITY = [
    "teleop.axis_map=[0,1,2,3,4,5]",
    "teleop.axis_signs=[1,1,1,1,1,1]",
    "teleop.dead_zone_fraction=0.0",
]


@pytest.fixture
def device(monkeypatch: pytest.MonkeyPatch) -> ScriptedSpaceMouse:
    return plug_in_spacemouse(monkeypatch)


def test_person_demonstrates_with_the_device(device: ScriptedSpaceMouse) -> None:
    config = load_config(["teleop=spacemouse", *IDENTITY, "task.episode_steps=5"])
    env = make_env(config, seed=0)
    device.state.z = -1.0  # push down, in the base frame
    episode = run_episode(env, demonstrator(env, config), "robot_0", seed=0)
    env.close()
    assert episode.source == "human" and len(episode) == 5
    expected = base_to_reset_frame(np.array([0, 0, -1.0, 0, 0, 0, -1.0]), env.reset_frame)
    np.testing.assert_allclose(episode.actions[0, :6], expected[:6], atol=1e-5)


def test_device_input_intervenes_during_training_steps(device: ScriptedSpaceMouse) -> None:
    config = load_config(
        ["teleop=spacemouse", *IDENTITY, "task.episode_steps=8", "teleop.hold_after_input_s=0.1"]
    )
    env = make_env(config, seed=0)
    policy = PolicySource(build_policy(config.policy, env.observation_spec, 7))
    acting = with_interventions(policy, env, config.teleop, env.task.control_hz, seed=0)
    device.state.x = 0.5  # the person moves the device for the whole episode
    episode = run_episode(env, acting, "robot_0", seed=0)
    env.close()
    assert episode.intervened.all()
    assert not np.allclose(episode.actions[:, :6], episode.policy_actions[:, :6])
