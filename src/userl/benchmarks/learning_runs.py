"""The learning benchmark's runs and their records: one seed's `userl train`, recorded as
`ROOT/<setting>-<task>-seed<k>.bench.json` (its overrides, then its result, the machine and
the date), so the same command reads finished runs back, continues a run cut short, and
refuses a name used with other overrides; and every finished run recorded in some roots."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from userl.benchmarks.learning_plan import env_steps_override
from userl.benchmarks.learning_settings import SETTINGS
from userl.benchmarks.provenance import stamped
from userl.core.errors import ConfigError

RECORD_SUFFIX = ".bench.json"


def setting_and_task(record: Path) -> tuple[str, str]:
    """The setting and task a run's record is named after (`learning_plan.run_name`'s
    inverse)."""
    parts = record.name.removesuffix(RECORD_SUFFIX).split("-")
    if len(parts) != 3 or parts[0] not in SETTINGS:
        raise ConfigError(
            f"{record} is not named <setting>-<task>-seed<k>{RECORD_SUFFIX} with "
            f"a setting among {', '.join(SETTINGS)}; rename or move it"
        )
    return parts[0], parts[1]


def train_run(overrides: list[str], root: Path, name: str, resume: bool) -> dict[str, Any]:
    """`userl train` with these overrides, or resumed from `root/name`'s saved config."""
    from userl.config.loader import load_config, load_config_file
    from userl.runtime.train import train

    config = (
        load_config_file(
            root / name / "config.yaml", ["resume=true", f"run.root={root}", f"run.name={name}"]
        )
        if resume
        else load_config(overrides)
    )
    return train(config)


def run_result(summary: dict[str, Any], wall_s: float, hz: float, resumed: bool) -> dict[str, Any]:
    """A finished run's record: its curve and figures from `userl train`'s summary."""
    return {
        "curve": summary["eval_curve"],
        "env_steps": summary["env_steps"],
        "episodes": summary["episodes"],
        "grad_steps": summary["grad_steps"],
        "initial_success": summary["initial_eval_success_rate"],
        "final_success": summary["eval_success_rate"],
        "wall_s": wall_s,
        "run": summary["run"],
        "control_hz": hz,
        "resumed": resumed,
    }


def one_run(overrides: list[str], root: Path, name: str, hz: float) -> dict[str, Any]:
    """One seed's run, or its recorded result: a finished run is read back, a run cut short
    continues from its checkpoint; a name used with other overrides is refused."""
    record_path = root / f"{name}{RECORD_SUFFIX}"
    record = json.loads(record_path.read_text()) if record_path.is_file() else None
    if record is not None and record["overrides"] != overrides:
        raise ConfigError(
            f"{root / name} was run with other overrides "
            f"({' '.join(record['overrides'])}); use another root= to keep both"
        )
    if record is not None and record.get("result") is not None:
        return record["result"]
    record_path.parent.mkdir(parents=True, exist_ok=True)
    record_path.write_text(json.dumps({"overrides": overrides, "result": None}, indent=2))
    started = time.monotonic()
    resume = record is not None and (root / name / "config.yaml").is_file()
    summary = train_run(overrides, root, name, resume)
    if summary.get("interrupted"):  # stopped by the user (no final evaluation): resumable
        raise KeyboardInterrupt(f"{root / name} stopped; run the benchmark again to continue")
    result = run_result(summary, time.monotonic() - started, hz, resume)
    record = stamped({"overrides": overrides, "result": result})
    record_path.write_text(json.dumps(record, indent=2))
    return result


@dataclass(frozen=True)
class Recorded:
    """A finished run read back from its `.bench.json` record."""

    overrides: list[str]
    result: dict[str, Any]

    @property
    def budget_env_steps(self) -> int:
        """Its online budget in env steps (0 where it counted episodes)."""
        return env_steps_override(self.overrides) or 0


def recorded_runs(folders: list[str]) -> dict[tuple[str, str], list[Recorded]]:
    """Every finished run recorded in these benchmark roots, by (setting, task), seeds in
    name order."""
    found: dict[tuple[str, str], list[Recorded]] = {}
    for folder in folders:
        if not Path(folder).is_dir():
            raise ConfigError(f"report= folder {folder} does not exist; give a benchmark root")
        for path in sorted(Path(folder).glob(f"*-seed*{RECORD_SUFFIX}")):
            setting, task = setting_and_task(path)
            record = json.loads(path.read_text())
            if record.get("result") is not None:
                found.setdefault((setting, task), []).append(
                    Recorded(record["overrides"], record["result"])
                )
    if not found:
        raise ConfigError(
            f"no finished run recorded in {', '.join(folders)}; run the benchmark there first"
        )
    return found
