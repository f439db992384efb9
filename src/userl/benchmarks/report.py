"""The results page, regenerated from the records kept under `docs/`; runs nothing.

Usage: userl bench report [docs=docs] [page=DOCS/results.md] [readme=DOCS/../README.md]
       [out=F.json]

Reads every record under `docs` (learning runs, VLA runs, any other benchmark's JSON; see
`results.records`) and writes the page: for each folder of records its tables (settings on
tasks over seeds, curves, comparisons, VLA runs), its plots, and beside every row the machine
it ran on and its date. Then it rewrites README's block between `<!-- results:begin -->` and
`<!-- results:end -->` with a headline table linking to the records and the page's sections;
a README without both markers is left alone (and the result says so). The page's links are
relative to `docs` (where it lives), the block's to the folder above `docs` (the repository
root, where README lives).
Run it from the repository root after adding or changing a record; the unit tests fail while
the committed page or block differs from what it writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from userl.benchmarks.options import split_options
from userl.benchmarks.results import headline, page
from userl.benchmarks.results.records import collections
from userl.core.errors import ConfigError

DEFAULTS = {"docs": "docs", "page": "", "readme": ""}


def parse(arguments: list[str]) -> dict[str, Path]:
    """The docs folder, the page and README paths (defaults beside the docs folder)."""
    given, unknown = split_options(arguments, DEFAULTS, "report")
    if unknown:
        raise ConfigError(
            f"bench report: {', '.join(unknown)}: unknown; known: docs=, page=, readme="
        )
    docs = Path(given.get("docs") or DEFAULTS["docs"])
    return {
        "docs": docs,
        "page": Path(given.get("page") or docs / "results.md"),
        "readme": Path(given.get("readme") or docs.parent / "README.md"),
    }


def write(path: Path, text: str) -> bool:
    """Write `text` unless the file already holds it; whether it changed."""
    if path.is_file() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True


def update_readme(readme: Path, block: list[str]) -> str:
    """Rewrite README's results block; what happened, in words."""
    if not readme.is_file():
        return f"{readme}: no such file, left alone"
    text = headline.replaced(readme.read_text(), block)
    if text is None:
        return (
            f"{readme}: no '{headline.BEGIN}' and '{headline.END}' lines, left alone; "
            "add them where the headline table goes"
        )
    return f"{readme}: block {'rewritten' if write(readme, text) else 'already current'}"


def run(arguments: list[str]) -> dict[str, Any]:
    """Write the page and README's block; what was written."""
    paths = parse(arguments)
    found = collections(paths["docs"])
    changed = write(paths["page"], page.render(found))
    prefix = f"{paths['docs'].resolve().name}/"  # README lives in the docs folder's parent
    return {
        "page": str(paths["page"]),
        "page_changed": changed,
        "readme": update_readme(paths["readme"], headline.block(found, prefix)),
        "collections": [c.folder for c in found],
        "records": sum(len(c.learning) + len(c.vla) + len(c.other) for c in found),
    }


def table(result: dict[str, Any]) -> str:
    """What the command wrote."""
    state = "rewritten" if result["page_changed"] else "already current"
    return "\n".join(
        [
            f"{result['page']}: {state} ({result['records']} records in "
            f"{len(result['collections'])} folders: {', '.join(result['collections'])})",
            result["readme"],
        ]
    )
