"""Run-level failures, reported as one line by the command line."""


class RunFailed(RuntimeError):
    """A run stopped by a fault it could not recover from; the message says how to resume."""
