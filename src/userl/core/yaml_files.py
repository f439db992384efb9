"""Reading a user's YAML file: plain data only, and a file that is not is one line.

`yaml.safe_load` never runs code from a tag such as `!!python/object/apply`, but it raises a
multi-line `ConstructorError` for it (and a `ParserError` for broken syntax); a command must
instead say in one line which file is wrong and how to fix it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from userl.core.errors import ConfigError


def read_yaml(path: Path, what: str) -> Any:
    """The plain data of the YAML file at `path`; `what` names it in an error
    (e.g. 'cells=lab_cells.yaml')."""
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(
            f"{what}: {path} is not plain YAML{where}: {problem}; write plain keys, lists and "
            "values (no !! tags)"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{what}: {path} is not a text file; give a YAML file") from None
