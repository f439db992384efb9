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
    "gpu",
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


SUMMARY_CHARS = 76  # a benchmark's line in `userl bench --help`, after its name


def summary_line(docstring: str) -> str:
    """A docstring's first sentence (or its start, cut at a word), on one line."""
    paragraph = " ".join(docstring.strip().split("\n\n")[0].split())
    sentence = paragraph.split(": ")[0].split(". ")[0].rstrip(".")
    if len(sentence) <= SUMMARY_CHARS:
        return sentence
    return sentence[:SUMMARY_CHARS].rsplit(" ", 1)[0] + " ..."


def bench_help(name: str | None = None) -> str:
    """`userl bench --help`: every benchmark with its docstring's first line; with a name, that
    benchmark's docstring and its own options with their defaults (any other key=value is a
    config override for the runs it starts)."""
    if name is None:
        lines = ["usage: userl bench NAME [key=value ...] out=FILE.json", "", "benchmarks:"]
        for known in BENCHMARKS.names():
            lines.append(f"  {known:<11} {summary_line(load_benchmark(known).__doc__ or '')}")
        lines.append("\n`userl bench NAME --help` describes one.")
        return "\n".join(lines)
    module = load_benchmark(name)
    lines = [f"usage: userl bench {name} [key=value ...] out=FILE.json", ""]
    lines.append((module.__doc__ or "").strip())
    defaults = getattr(module, "DEFAULTS", None)
    if defaults:
        lines += ["", "options (default):"]
        lines += [f"  {key}={value}" for key, value in defaults.items()]
    lines += ["", "Any other key=value is a config override (`userl config show` lists them)."]
    return "\n".join(lines)


__all__ = ["BENCHMARKS", "bench_help", "load_benchmark"]
