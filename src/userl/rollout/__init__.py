"""The Ray-free rollout layer: who acts (action sources, human interventions), the episode
loop, and evaluation. Runtime actors wrap it; nothing here imports Ray."""

from userl.rollout import action_sources, intervention  # noqa: F401  (register their entries)
