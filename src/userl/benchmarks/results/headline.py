"""README's results block: a headline table of a few results, each linking to its records and
to its section of `docs/results.md`, written between the lines `<!-- results:begin -->` and
`<!-- results:end -->` (README is left alone where they are missing).

Which results are headlines is chosen here (the settings and tasks below, and `bench vla` at
its defaults); their figures come from the records, as the page's do."""

from __future__ import annotations

from typing import Any

from userl.benchmarks.learning_settings import SETTINGS
from userl.benchmarks.results import learning, vla
from userl.benchmarks.results.markdown import anchor, minutes, rate, signed, table
from userl.benchmarks.results.page import COMMAND
from userl.benchmarks.results.records import Collection

BEGIN = "<!-- results:begin -->"
END = "<!-- results:end -->"
PAGE = "results.md"
# (collection folder under docs/, setting, task): the learning headlines, in this order
LEARNING_HEADLINES = (
    ("learning/records", "rlpd_bc_operator", "peg_insertion"),
    ("learning/records", "rlpd_bc_operator", "charger"),
    ("learning/records", "rlpd_bc_operator", "pick_place"),
    ("learning/records", "rlpd_bc_operator", "cap_tightening"),
    ("learning/records", "rlpd_image_operator", "pick_place"),
    ("learning/records", "hg_dagger_flow", "table_cleanup"),
    ("learning/rewards", "rlpd_image_classifier", "peg_insertion"),
)
# (collection folder under docs/, record name before -seed<k>.json, result, task): headlines
# of single `userl train` runs, one record per seed
RUN_HEADLINES = (
    (
        "adapters",
        "dsrl-reach-peg_insertion",
        "noise-space SAC (DSRL) over a frozen flow_g BC base, no operator, 12,000 env steps",
        "peg_insertion",
    ),
    (
        "adapters-pi0",
        "dsrl-pick_place",
        "noise-space SAC (DSRL) over a frozen pi0_tiny BC base, no operator, 12,000 env steps",
        "pick_place",
    ),
)
# no date column: README carries no dates (the results page has each row's date and machine)
HEADER = ["result", "task", "outcome", "seeds", "records", "details"]


def learning_outcome(setting: str, figure: dict[str, Any]) -> str:
    """The final success over the seeds, then the time to the setting's target, or the gap to
    the setting it is compared with."""
    final = f"final {rate(figure['final_success_mean'])} (min {rate(figure['final_success_min'])})"
    if "gap_to_ground_truth" in figure:
        gap = signed(figure["gap_to_ground_truth"])
        return f"{final}; {gap} against {figure['compared_to']}"
    target = SETTINGS[setting].target_success
    if target is None:
        return final
    reached = figure["to_success"].get(f"{target:g}")
    if reached is None:
        return final
    if reached["slowest_robot_minutes"] is None:
        return (
            f"{final}; {target:g} reached on {reached['seeds_reaching']} of "
            f"{len(figure['runs'])} seeds"
        )
    return f"{final}; {target:g} within {minutes(reached['slowest_robot_minutes'])} robot-min"


def details(collection: Collection, prefix: str) -> str:
    """A link to the collection's section of the results page."""
    return f"[{collection.title}]({prefix}{PAGE}#{anchor(collection.title)})"


def learning_rows(found: dict[str, Collection], prefix: str) -> list[list[str]]:
    """The learning headlines whose collection holds runs of them."""
    rows = []
    for folder, setting, task in LEARNING_HEADLINES:
        collection = found.get(folder)
        if collection is None:
            continue
        grouped = learning.groups(collection.learning)
        if (setting, task) not in grouped:
            continue
        runs = grouped[setting, task]
        figure = learning.figures(grouped)[setting, task]
        rows.append(
            [
                learning.setting_notes(setting),
                task,
                learning_outcome(setting, figure),
                str(len(runs)),
                learning.record_links(runs, prefix),
                details(collection, prefix),
            ]
        )
    return rows


def is_default(setting: vla.VlaSetting) -> bool:
    """Whether a VLA setting is `bench vla`'s default on the sync pipeline."""
    from userl.benchmarks.vla import DEFAULTS

    return (
        setting.multitask == (DEFAULTS["multitask"] == "true")
        and setting.weights == DEFAULTS["task_weights"]
        and (setting.demos, setting.pretrain) == (DEFAULTS["demos"], DEFAULTS["pretrain"])
        and setting.episodes == DEFAULTS["episodes"]
        and setting.pipeline == "sync"
        and not setting.extra
    )


def vla_rows(found: list[Collection], prefix: str) -> list[list[str]]:
    """A row per task of `bench vla` at its defaults (sync pipeline), over its seeds."""
    rows = []
    for collection in found:
        for (setting, task), runs in vla.grouped(collection.vla).items():
            if not is_default(setting):
                continue
            after = ", ".join(
                f"{rate(r.row['bc_success'])} → {rate(r.row['online_success'])}" for r in runs
            )
            rows.append(
                [
                    f"online HG-DAgger of {setting.describe()}",
                    task,
                    f"BC start → after online episodes: {after}",
                    str(len(runs)),
                    ", ".join(f"[seed {r.seed}]({prefix}{r.record.path})" for r in runs),
                    details(collection, prefix),
                ]
            )
    return rows


def run_rows(found: dict[str, Collection], prefix: str) -> list[list[str]]:
    """The single-run headlines whose collection holds seeds of them."""
    rows = []
    for folder, name, result, task in RUN_HEADLINES:
        collection = found.get(folder)
        records = [
            r
            for r in (collection.runs if collection else ())
            if r.path.rsplit("/", 1)[-1].startswith(f"{name}-seed")
        ]
        if collection is None or not records:
            continue
        outcomes = ", ".join(
            f"{rate(r.data['initial_eval_success_rate'])} → {rate(r.data['eval_success_rate'])}"
            for r in records
        )
        links = ", ".join(
            f"[seed {r.path.rsplit('seed', 1)[-1].removesuffix('.json')}]({prefix}{r.path})"
            for r in records
        )
        rows.append(
            [
                result,
                task,
                f"start → end: {outcomes}",
                str(len(records)),
                links,
                details(collection, prefix),
            ]
        )
    return rows


def block(found: list[Collection], prefix: str = "docs/") -> list[str]:
    """The block's lines, markers included; links relative to the repository root."""
    by_folder = {c.folder: c for c in found}
    rows = learning_rows(by_folder, prefix) + run_rows(by_folder, prefix) + vla_rows(found, prefix)
    return [
        BEGIN,
        f"<!-- generated by `{COMMAND}` from the records under docs/; do not edit by hand -->",
        "",
        *table(HEADER, rows),
        END,
    ]


def replaced(text: str, lines: list[str]) -> str | None:
    """`text` with the lines from BEGIN to END replaced by `lines`; None without both
    markers, in that order, each on a line of its own."""
    current = text.split("\n")
    stripped = [line.strip() for line in current]
    if BEGIN not in stripped or END not in stripped:
        return None
    begin, end = stripped.index(BEGIN), stripped.index(END)
    if end < begin:
        return None
    return "\n".join([*current[:begin], *lines, *current[end + 1 :]])
