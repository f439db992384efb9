"""Tasks: one module per task, each registered in `userl.core.registry.TASKS`."""

from userl.tasks import (  # noqa: F401  (each registers its task)
    cap_tightening,
    charger,
    peg_insertion,
    pick_place,
    table_cleanup,
)
from userl.tasks.base import Task, TaskReset
from userl.tasks.workspace import Workspace

__all__ = ["Task", "TaskReset", "Workspace"]
