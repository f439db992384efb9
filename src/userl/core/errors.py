"""Errors every layer may raise for people to read."""


class ConfigError(ValueError):
    """Bad configuration input; the message is one line that names the key and the fix."""
