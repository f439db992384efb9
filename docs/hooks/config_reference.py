"""An mkdocs hook that writes the configuration reference into `configuration.md` at build time.

The reference is what `userl config show` prints, produced by calling the command itself
(`userl.cli.main`) in the build's process: every key with its type, value, default and the
help written beside the field in its config class. A hand-copied reference would drift from
the code; this one is the code's own help, so the page changes whenever a field, a default,
a comment or a preset does. A preset that no longer loads fails the (strict) build.

`<!-- config-reference -->` in a page is replaced by the resolved default config, then, for
every preset under `userl/config/presets/<group>/`, the section that `group=preset` gives.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

MARKER = "<!-- config-reference -->"

# The groups in the order a reader meets them; a group found on disk but not listed here
# comes after these, in name order.
GROUP_ORDER = ("task", "robot", "algo", "policy", "pipeline", "teleop", "reward", "cells")

# A preset that cannot resolve on its own: the arguments that complete it, and the files
# (relative to a scratch working folder, with their text) those arguments name.
BASE_RUN = {  # a frozen base for the adapters: a run folder's config and checkpoint
    "base/config.yaml": "obs: state\ntask: {name: peg_insertion}\npolicy: {name: flow_g}\n",
    "base/checkpoints/latest.pt": "",
}
COMPLETIONS: dict[str, tuple[list[str], dict[str, str]]] = {
    "reward=classifier": (
        ["reward.checkpoint=rewards/classifier.pt"],
        {"rewards/classifier.pt": ""},
    ),
    "policy=cnn": (["obs=image"], {}),  # an image policy needs the camera views
    "policy=cnn_small": (["obs=image"], {}),
    **{
        adapter: (["policy.base=base"], BASE_RUN)
        for adapter in (
            "algo=dsrl",
            "algo=residual_sac",
            "policy=noise_adapter",
            "policy=residual_adapter",
        )
    },
}


@contextlib.contextmanager
def _working_folder(files: dict[str, str]) -> Iterator[None]:
    """Run in a scratch folder holding the files a preset's arguments name."""
    if not files:
        yield
        return
    before = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="userl-docs-") as folder:
        for name, text in files.items():
            path = Path(folder, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        os.chdir(folder)
        try:
            yield
        finally:
            os.chdir(before)


def partner(group: str, name: str) -> list[str]:
    """The algorithm (or policy) a preset trains with where the default's does not."""
    from userl.config.compatibility import partner_arguments

    return partner_arguments(group, name)


def config_show(arguments: list[str]) -> str:
    """The text `userl config show ARGUMENTS` prints (stdout); its error ends the build."""
    from userl.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["config", "show", *arguments])
    if status != 0:
        shown = " ".join(arguments)
        raise PluginError(f"`userl config show {shown}` failed: {err.getvalue().strip()}")
    return out.getvalue().rstrip("\n")


def presets() -> dict[str, list[str]]:
    """Group -> its preset names, from the presets folder the config loader reads."""
    import userl.config

    root = Path(userl.config.__file__).parent / "presets"
    found = {
        group.name: sorted(path.stem for path in group.glob("*.yaml"))
        for group in root.iterdir()
        if group.is_dir()
    }
    order = [g for g in GROUP_ORDER if g in found] + sorted(set(found) - set(GROUP_ORDER))
    return {group: found[group] for group in order}


def sections(text: str, group: str) -> str:
    """The blocks of `userl config show` output that belong to `group` (and its sub-groups)."""
    blocks = text.split("\n\n")
    mine = [b for b in blocks if b.startswith((f"[{group}]", f"[{group}."))]
    return "\n\n".join(mine)


def _code(text: str) -> str:
    return f"```text\n{text}\n```"


def preset_argument(group: str, name: str) -> str:
    """The command-line argument that picks a preset (a cell preset goes in a list)."""
    return f"cells=[{name}]" if group == "cells" else f"{group}={name}"


def reference() -> str:
    """The Markdown that replaces the marker: the defaults, then every preset's section."""
    parts = [
        "## Every key at the defaults",
        "`userl config show` with no overrides (the run `make run` starts):",
        _code(config_show([])),
        "## Every preset",
        "Each preset's own section: what `userl config show GROUP=PRESET` prints for its "
        "group. Keys marked `[default: ...]` are the ones the preset sets.",
    ]
    for group, names in presets().items():
        parts.append(f"### {group}")
        for name in names:
            argument = preset_argument(group, name)
            extra, files = COMPLETIONS.get(argument, ([], {}))
            extra = [*extra, *partner(group, name)]  # a pair that trains
            with _working_folder(files):
                text = config_show([argument, *extra])
            shown = " ".join([argument, *extra])
            parts += [f"#### `{argument}`", f"`userl config show {shown}`:"]
            parts.append(_code(sections(text, group)))
    return "\n\n".join(parts) + "\n"


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """mkdocs' page hook: fill in the reference where a page asks for it."""
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, reference())
