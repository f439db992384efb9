"""What an exported dataset says about its data beyond the numbers: the kind of robot that
recorded it and the meaning of each state and action dimension, so a reader need not know
userl's observation layout."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatasetMeaning:
    """The robot kind (`franka`, `sim_arx_r5`, ...; a gymnasium task's id) and one name per
    state and action value; an empty tuple where the names are not known."""

    robot_type: str
    state_names: tuple[str, ...] = ()
    action_names: tuple[str, ...] = ()

    def state_names_for(self, size: int) -> list[str] | None:
        """The state's names when they name exactly `size` values, else None (unknown)."""
        return _sized(self.state_names, size)

    def action_names_for(self, size: int) -> list[str] | None:
        """The action's names when they name exactly `size` values, else None (unknown)."""
        return _sized(self.action_names, size)


def _sized(names: tuple[str, ...], size: int) -> list[str] | None:
    return list(names) if len(names) == size else None
