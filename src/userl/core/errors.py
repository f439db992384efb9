"""Errors every layer may raise for people to read."""


class ConfigError(ValueError):
    """Bad configuration input; the message is one line that names the key and the fix."""


class RewardFailed(RuntimeError):
    """A reward source failed while the robot ran; the env holds the robot first. The run
    stops (no restart): every finished episode is already stored."""


class TrainingDiverged(RuntimeError):
    """Training produced NaN or infinite losses or gradients update after update; the run
    stops with one line (the weights robots have are the last finite ones)."""
