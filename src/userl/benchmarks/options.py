"""A benchmark's command line: its own options (key=value with a known key) apart from the
config overrides that go to every run it starts."""

from __future__ import annotations

from collections.abc import Iterable

from userl.core.errors import ConfigError


def split_options(
    arguments: Iterable[str], known: Iterable[str], benchmark: str
) -> tuple[dict[str, str], list[str]]:
    """The given benchmark options, and the remaining key=value overrides, in order."""
    names = list(known)
    given: dict[str, str] = {}
    overrides: list[str] = []
    for argument in arguments:
        key, sep, value = argument.partition("=")
        if not sep:
            raise ConfigError(
                f"bench {benchmark}: {argument!r} needs key=value; known: "
                f"{', '.join(f'{k}=' for k in names)} or config overrides"
            )
        if key in names:
            given[key] = value
        else:
            overrides.append(argument)
    return given, overrides
