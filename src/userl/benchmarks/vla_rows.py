"""The figures of a `bench vla` run's row: success before and after, interventions per
episode and the run's timings, for one run or per task (cell) of a multi-task run."""

from __future__ import annotations

from typing import Any


def multitask_rows(summary: dict[str, Any], wall_s: float) -> list[dict[str, Any]]:
    """Per task (cell) figures of a multi-task run; timings are the run's."""
    from userl.runtime.evaluation import point_before_training

    rows = []
    for task, cell in summary["cells"].items():
        start = point_before_training(cell["eval_curve"])
        if start is None:
            raise ValueError(f"cell {task} has no evaluation at env step 0 (eval.at_start)")
        rows.append(
            {
                "task": task,
                **figures(
                    summary,
                    wall_s,
                    bc_success=start["success_rate"],
                    online_success=cell["eval_success_rate"],
                    eval_episodes=cell["eval_episodes"],
                    episodes=cell["episodes"],
                    interventions=cell["interventions"],
                ),
            }
        )
    return rows


def figures(
    summary: dict[str, Any],
    wall_s: float,
    *,
    bc_success: float,
    online_success: float,
    eval_episodes: int,
    episodes: int,
    interventions: int,
) -> dict[str, Any]:
    """A row's figures: success before and after, interventions per episode (of one task),
    and the run's timings, updates and wall seconds."""
    return {
        "bc_success": bc_success,
        "online_success": online_success,
        "gain": online_success - bc_success,
        "eval_episodes": eval_episodes,
        "episodes": episodes,
        "grad_steps": summary["grad_steps"],
        "interventions_per_episode": interventions / max(int(episodes), 1),
        "generation_s_per_episode": summary.get("generation_s_per_episode", 0.0),
        "training_s_per_update": summary.get("training_s_per_update", 0.0),
        "wall_s": wall_s,
        "run": summary["run"],
    }
