"""The short training most integration tests start from: a small SAC on the default task,
with demos and evaluations, a few hundred env steps."""

SMALL = [
    "run.env_steps=300",
    "demos.episodes=2",
    "eval.episodes=2",
    "eval.at_start=true",
    "algo.batch_size=32",
    "algo.num_critics=3",
    "algo.critic_hidden_dims=[32,32]",
    "policy.hidden_dims=[32,32]",
    "algo.utd_max=1",
]
