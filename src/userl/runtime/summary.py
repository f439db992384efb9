"""A run's summary: what `userl train` returns, prints and writes to `summary.json`.

The fields are in the order of the JSON keys; a field that is None (a figure the run did not
produce, such as the final evaluation of an interrupted run) leaves its key out, and the two
dictionaries of open-ended keys (the pipeline's own results, the reward source's confusion
counts) are spread into the JSON at their place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from userl.rollout.episode import CONFUSION_KEYS

SPREAD = ("pipeline_results", "eval_confusion")  # fields whose keys join the JSON's own
NOT_PRINTED = ("eval_results", "eval_curve")  # keys too long for the console's last line
SUMMARY_FILE = "summary.json"
NO_TIME_S = 1e-9  # the wall time rates are divided by, at the least (seconds)


@dataclass
class RunSummary:
    """Everything a run reports at its end, filled in as the run goes: where its actors ran,
    what it resumed from, its evaluations before and after training, its learning curve,
    the learner's counters and the rates over the training's wall time."""

    run: str  # the run's folder
    pipeline: str  # `pipeline.name`
    placement: dict[str, str] = field(default_factory=dict)  # actor -> Ray node id
    resumed_from: dict[str, int] | None = None  # what `resume=true` restored
    initial_eval_success_rate: float | None = None  # `eval.at_start`
    initial_eval_mean_return: float | None = None
    pipeline_results: dict[str, Any] = field(default_factory=dict)  # e.g. worker_restarts
    interrupted: bool | None = None  # True: stopped by Ctrl-C or SIGTERM
    stop_reason: str | None = None  # the budget that ended the run, or `interrupted`
    budgets: dict[str, float] = field(default_factory=dict)  # every budget set: its value
    training_s_per_update: float = 0.0
    generation_s_per_episode: float = 0.0
    inference: dict[str, float] | None = None  # the remote inference server's statistics
    eval_success_rate: float | None = None  # the final evaluation (not when interrupted)
    eval_mean_return: float | None = None
    eval_episodes: int | None = None
    eval_results: list[dict[str, Any]] | None = None  # one per evaluation episode
    eval_results_by_cell: dict[str, dict[str, Any]] | None = None
    eval_confusion: dict[str, int] = field(default_factory=dict)  # reward_* with ground truth
    eval_curve: list[dict[str, float]] = field(default_factory=list)
    cells: dict[str, dict[str, Any]] | None = None  # several cells: `cell_summary`
    adapter: dict[str, Any] | None = None  # an adapter over a frozen base: its size against the
    # base's and the base's weights' hash at the start and the end (`Algorithm.report`)
    train_wall_s: float = 0.0  # this session's training (seconds)
    earlier_train_s: float = 0.0  # the run's earlier sessions' training (seconds)
    total_train_s: float = 0.0  # all sessions' training: what the rates divide by (seconds)
    env_steps: int = 0
    grad_steps: int = 0
    episodes: int = 0
    interventions: int = 0
    demo_transitions: int = 0
    env_steps_per_s: float = 0.0
    updates_per_s: float = 0.0
    wall_s: float = 0.0

    def record_initial_evaluation(self, results: dict[str, Any]) -> None:
        """The evaluation before training (`eval.at_start`)."""
        self.initial_eval_success_rate = results["success_rate"]
        self.initial_eval_mean_return = results["mean_return"]

    def record_final_evaluation(self, results: dict[str, Any]) -> None:
        """The evaluation after training: its figures, its episodes, each cell's figures
        (several cells) and the reward source's confusion counts (with ground truth)."""
        self.eval_success_rate = results["success_rate"]
        self.eval_mean_return = results["mean_return"]
        self.eval_episodes = results["episodes"]
        self.eval_results = results["results"]
        self.eval_results_by_cell = results.get("cells")
        self.eval_confusion = {k: results[k] for k in CONFUSION_KEYS if k in results}

    def record_training(self, stats: dict[str, float], wall_s: float) -> None:
        """The learner's final counters, and the rates over the training time of all the
        run's sessions (its counters count them all)."""
        self.total_train_s = self.earlier_train_s + self.train_wall_s
        self.env_steps = int(stats["env_steps"])
        self.grad_steps = int(stats["grad_steps"])
        self.episodes = int(stats["episodes"])
        self.interventions = int(stats["interventions"])
        self.demo_transitions = int(stats["demo_transitions"])
        self.env_steps_per_s = stats["env_steps"] / max(self.total_train_s, NO_TIME_S)
        self.updates_per_s = stats["grad_steps"] / max(self.total_train_s, NO_TIME_S)
        self.wall_s = wall_s

    def to_json(self) -> dict[str, Any]:
        """The summary as `summary.json` holds it."""
        summary: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in SPREAD:
                summary.update(value)
            elif value is not None:
                summary[item.name] = value
        return summary

    def write(self, run_dir: Path) -> dict[str, Any]:
        """`summary.json` in the run's folder, and its last console line; returns the JSON."""
        summary = self.to_json()
        (run_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2))
        print(json.dumps({k: v for k, v in summary.items() if k not in NOT_PRINTED}), flush=True)
        return summary


def saved_summary(run_dir: Path) -> dict[str, Any] | None:
    """The summary the run's last finished session wrote, if any."""
    path = run_dir / SUMMARY_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def saved_train_s(saved: dict[str, Any]) -> float:
    """The training seconds of every session up to the one that wrote `saved` (a summary
    from before sessions were added up holds its own session's only)."""
    return float(saved.get("total_train_s", saved.get("train_wall_s", 0.0)))


def saved_counters(saved: dict[str, Any]) -> dict[str, float]:
    """The learner's counters as a saved summary holds them, for the budget check; the
    learning curve's newest online success only for one cell (-1: not known)."""
    online = [p["success_rate"] for p in saved.get("eval_curve", []) if p["env_steps"] > 0]
    known = online and not saved.get("cells")
    return {
        **{key: float(saved.get(key, 0)) for key in ("env_steps", "grad_steps", "episodes")},
        "curve_success_rate": online[-1] if known else -1.0,
    }


def cell_summary(
    stats: dict[str, dict[str, float]], evaluation: dict[str, dict[str, Any]], train_s: float
) -> dict[str, dict[str, Any]]:
    """summary.json `cells`: per cell its online env steps, episodes, success rate and
    intervened steps, its mean data rate over the training, and its final evaluation."""
    cells: dict[str, dict[str, Any]] = {}
    for name, cell in stats.items():
        result = evaluation.get(name, {})
        cells[name] = {
            "env_steps": int(cell["env_steps"]),
            "episodes": int(cell["episodes"]),
            "success_rate": cell["success_rate"],
            "interventions": int(cell["interventions"]),
            "env_steps_per_s": cell["env_steps"] / max(train_s, NO_TIME_S),
            "demo_transitions": int(cell["demo_transitions"]),
            **(
                {
                    "eval_success_rate": result["success_rate"],
                    "eval_mean_return": result["mean_return"],
                    "eval_episodes": result["episodes"],
                }
                if result
                else {}
            ),
        }
    return cells
