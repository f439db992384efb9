"""Tasks: one module per task, each registered in `userl.core.registry.TASKS`."""

from userl.tasks import peg_insertion  # noqa: F401  (registers the task)
from userl.tasks.base import Task, TaskReset
from userl.tasks.workspace import Workspace

__all__ = ["Task", "TaskReset", "Workspace"]
