"""`userl bench report`: docs/results.md and README's results block are generated from the
records under docs/, never written by hand. The committed page and block must be what the
command writes now (run it after changing a record); and the page shows a made-up record's
figures, machine and date where they belong."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from userl.benchmarks import load_benchmark
from userl.benchmarks.results import headline
from userl.benchmarks.results.markdown import anchor, dates

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
STALE = "stale: run `userl bench report` in the repository root and commit what it writes"

report = load_benchmark("report")


def test_the_committed_page_and_readme_block_are_current(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    shutil.copy(ROOT / "README.md", readme)
    page = tmp_path / "results.md"
    report.run([f"docs={DOCS}", f"page={page}", f"readme={readme}"])
    assert page.read_text() == (DOCS / "results.md").read_text(), f"docs/results.md is {STALE}"
    assert readme.read_text() == (ROOT / "README.md").read_text(), f"README's block is {STALE}"


MACHINE = {
    "cpu": "Made-up CPU",
    "cores": 4,
    "gpu": "none",
    "torch": "2.0",
    "bf16_matmuls_native": True,
}
DATE = "2030-01-02"


def curve(points: list[tuple[int, float]], effort: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """Curve points (env steps, success) with cumulative (online episodes, takeovers)."""
    return [
        {
            "env_steps": steps,
            "success_rate": success,
            "online_episodes": episodes,
            "takeovers": takeovers,
            "intervened_steps": 10 * takeovers,
        }
        for (steps, success), (episodes, takeovers) in zip(points, effort, strict=True)
    ]


def learning_record(final: float, points: list[tuple[int, float]], wall_s: float) -> dict:
    return {
        "overrides": [
            "task=peg_insertion",
            "run.env_steps=6000",
            "eval.curve_every_env_steps=2000",
            "eval.curve_episodes=10",
            "eval.episodes=10",
        ],
        "result": {
            "curve": curve(points, [(0, 0), (20, 30), (40, 40), (60, 42)]),
            "episodes": 60,
            "initial_success": 0.0,
            "final_success": final,
            "wall_s": wall_s,
            "control_hz": 10.0,
        },
    }


VLA_ROW = {
    "task": "pick_place",
    "pipeline": "sync",
    "bc_success": 0.0,
    "online_success": 0.9,
    "gain": 0.9,
    "interventions_per_episode": 19.125,
    "generation_s_per_episode": 49.27,
    "training_s_per_update": 0.0951,
    "grad_steps": 20915,
}
VLA_OPTIONS = {
    "tasks": "pick_place,table_cleanup",
    "multitask": "true",
    "task_weights": "table_cleanup:2",
    "demos": "10",
    "pretrain": "300",
    "episodes": "40",
    "seed": "0",
}


def made_up_docs(root: Path) -> Path:
    """A docs folder of made-up records: two seeds of a learning setting (one without its
    machine and date), a VLA run, another benchmark's record and a derived table."""
    docs = root / "docs"
    records = docs / "learning" / "records"
    records.mkdir(parents=True)
    (records / "about.json").write_text(
        json.dumps({"title": "Made up runs", "about": "Two seeds of a made-up setting."})
    )
    seed0 = learning_record(0.8, [(0, 0.0), (2000, 0.5), (4000, 0.9), (6000, 0.8)], 600.0)
    seed1 = learning_record(0.3, [(0, 0.0), (2000, 0.3), (4000, 0.8), (6000, 0.3)], 900.0)
    for name, record in (("seed0", {**seed0, "machine": MACHINE, "date": DATE}), ("seed1", seed1)):
        path = records / f"rlpd_bc_operator-peg_insertion-{name}.bench.json"
        path.write_text(json.dumps(record))
    (docs / "learning" / "learning_table.json").write_text("[]")  # derived: not a record
    (docs / "vla").mkdir()
    (docs / "vla" / "run.json").write_text(
        json.dumps(
            {
                "options": VLA_OPTIONS,
                "overrides": [],
                "rows": [VLA_ROW],
                "machine": MACHINE,
                "date": DATE,
            }
        )
    )
    (docs / "adapters").mkdir()
    run = {"initial_eval_success_rate": 0.5, "eval_success_rate": 0.95, "eval_episodes": 20}
    run |= {"env_steps": 12000, "grad_steps": 11000, "note": "made up", "machine": MACHINE}
    (docs / "adapters" / "dsrl-reach-peg_insertion-seed3.json").write_text(
        json.dumps({**run, "date": DATE})
    )
    (docs / "other").mkdir()
    (docs / "other" / "bench.json").write_text(
        json.dumps({"figure": 1.0, "machine": MACHINE, "date": DATE})
    )
    return docs


def test_a_made_up_record_lands_in_its_rows_with_its_machine_and_date(tmp_path: Path) -> None:
    docs = made_up_docs(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(f"# Project\n\nabove\n{headline.BEGIN}\nold\n{headline.END}\nbelow\n")
    result = report.run([f"docs={docs}", f"readme={readme}"])
    assert result["page_changed"] and "block rewritten" in result["readme"]
    page = (docs / "results.md").read_text()
    assert page.startswith("# Results\n\nGenerated by `userl bench report`")
    seeds = (
        "[seed 0](learning/records/rlpd_bc_operator-peg_insertion-seed0.bench.json), "
        "[seed 1](learning/records/rlpd_bc_operator-peg_insertion-seed1.bench.json)"
    )
    # budget 6,000 steps at 10 Hz; both seeds at 0.8 by 4,000 steps, one at 0.9
    assert (
        "| rlpd_bc_operator | peg_insertion | 2 | 10.0 | 6.7 | — (1 of 2 seeds) | 0.55 / 0.30 "
        f"| 0.80, 0.30 | 0.70 | 7.0 | 10.0-15.0 | {seeds} | [M1](#machines), [M2](#machines) "
        f"| {DATE}, not recorded |"
    ) in page
    assert (
        "| rlpd_bc_operator | peg_insertion | 0 | 0 @0 → 0.5 @2.0k → 0.9 @4.0k → 0.8 @6.0k |"
        in page
    )
    assert (
        "Evaluated every 2,000 env steps on 10 fixed seeds, and after the last update on 10."
        in page
    )
    assert (
        "| pi0_tiny, one policy for all tasks, weights table_cleanup:2; 10 demos, 300 BC updates, "
        "40 online episodes per task | pick_place | sync | seed 0: 0.00 → **0.90** | +0.90 | 19.1 "
        f"| 49.27 | 0.095 | 20,915 | [run.json](vla/run.json) | [M1](#machines) | {DATE} |"
    ) in page
    assert f"| [bench.json](other/bench.json) | figure | [M1](#machines) | {DATE} |" in page
    assert (
        "| [dsrl-reach-peg_insertion-seed3.json](adapters/dsrl-reach-peg_insertion-seed3.json) "
        f"| made up | 0.50 → 0.95 | 20 | 12,000 | 11,000 | [M1](#machines) | {DATE} |"
    ) in page
    assert "| M1 | Made-up CPU | 4 | none | 2.0 | yes |  |" in page
    assert (
        "| M2 | not recorded | not recorded | not recorded | not recorded | not recorded |" in page
    )
    assert "- [Made up runs](#made-up-runs)" in page and "\n## Made up runs\n" in page
    text = readme.read_text()
    assert text.startswith("# Project\n\nabove\n<!-- results:begin -->\n") and "old" not in text
    assert text.endswith("<!-- results:end -->\nbelow\n")
    assert (
        "| RLPD + Q-filtered demo BC, state, 20 expert demos, simulated operator | peg_insertion "
        "| final 0.55 (min 0.30); 0.9 reached on 1 of 2 seeds | 2 | "
        + seeds.replace("](learning/", "](docs/learning/")
        + " | [Made up runs](docs/results.md#made-up-runs) |"
    ) in text
    assert "| pick_place | BC start → after online episodes: 0.00 → 0.90 | 1 |" in text
    assert (
        "| peg_insertion | start → end: 0.50 → 0.95 | 1 | "
        "[seed 3](docs/adapters/dsrl-reach-peg_insertion-seed3.json) |"
    ) in text
    block = text.split("<!-- results:begin -->")[1]
    assert DATE not in block and "not recorded" not in block  # README carries no dates
    again = report.run([f"docs={docs}", f"readme={readme}"])
    assert not again["page_changed"] and "already current" in again["readme"]


def test_a_readme_without_both_markers_is_left_alone(tmp_path: Path) -> None:
    docs = made_up_docs(tmp_path)
    readme = tmp_path / "README.md"
    for text in ("# Project\n", f"{headline.END}\n{headline.BEGIN}\n", f"{headline.BEGIN}\n"):
        readme.write_text(text)
        result = report.run([f"docs={docs}", f"readme={readme}"])
        assert "left alone" in result["readme"] and readme.read_text() == text


def test_headings_anchor_alike_on_github_and_mkdocs() -> None:
    assert anchor("Rewards from a classifier on the policy's views") == (
        "rewards-from-a-classifier-on-the-policys-views"
    )
    assert anchor("VLA: online HG-DAgger") == "vla-online-hg-dagger"
    with pytest.raises(ValueError, match="single spaces"):
        anchor("Learning - five tasks")  # GitHub: learning---five-tasks, MkDocs: one hyphen
    assert dates([DATE, "2030-01-05", DATE]) == f"{DATE} to 2030-01-05"
