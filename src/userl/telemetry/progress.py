"""The console progress line."""

from __future__ import annotations

from collections.abc import Mapping


def progress_line(stats: Mapping[str, float], elapsed_s: float) -> str:
    return (
        f"[{elapsed_s:7.1f}s] env_steps={int(stats.get('env_steps', 0))} "
        f"episodes={int(stats.get('episodes', 0))} "
        f"success(last 20)={stats.get('recent_success_rate', 0.0):.2f} "
        f"grad_steps={int(stats.get('grad_steps', 0))} "
        f"updates/s={stats.get('updates_per_s', 0.0):.1f} "
        f"env_steps/s={stats.get('env_steps_per_s', 0.0):.1f} "
        f"weights=v{int(stats.get('weight_version', 0))}"
    )
