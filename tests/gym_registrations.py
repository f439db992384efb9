"""A package-like module that registers gymnasium ids (for `task.module=`): gymnasium's own
Reacher-v5 with its rendered frame added to the observation, a Dict of `state` and `pixels`."""

import gymnasium as gym
from gymnasium.wrappers import AddRenderObservation

PIXELS_ID = "userl-test/ReacherPixels-v0"
PIXELS_SIDE_PX = 32


def reacher_with_pixels(**kwargs):
    env = gym.make(
        "Reacher-v5", render_mode="rgb_array", width=PIXELS_SIDE_PX, height=PIXELS_SIDE_PX, **kwargs
    )
    return AddRenderObservation(env, render_only=False)


if PIXELS_ID not in gym.registry:
    gym.register(PIXELS_ID, entry_point=reacher_with_pixels, max_episode_steps=30)
