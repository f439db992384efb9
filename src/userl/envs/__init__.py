"""RobotEnv (gymnasium) and its building blocks; build one with `userl.envs.factory.make_env`."""
