"""Benchmarks, one module each, looked up by name: `userl bench NAME` imports
`userl.benchmarks.NAME`, so they run from any install (a wheel as well as a checkout) and Ray
workers import their actor classes by the module's real name.

A benchmark module has `run(arguments: list[str]) -> dict` (its figures, JSON-ready) and
`table(result: dict) -> str` (the console table). Modules import lazily: naming one does not
pull in Ray, MuJoCo or torch for the others.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from userl.core.registry import Registry

BENCHMARKS: Registry = Registry("benchmark")
for _name in (
    "control",
    "faults",
    "learner",
    "learning",
    "multirobot",
    "multitask",
    "pipeline",
    "report",
    "sim",
    "sync",
    "vla",
):
    BENCHMARKS.register(_name)(f"{__name__}.{_name}")


def load_benchmark(name: str) -> ModuleType:
    """The benchmark module registered under `name` (UnknownNameError lists the known)."""
    return importlib.import_module(BENCHMARKS.get(name))


__all__ = ["BENCHMARKS", "load_benchmark"]
