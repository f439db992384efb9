"""Who chooses the action at each step: the learning policy, or the task's scripted expert."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from userl.core.errors import ConfigError
from userl.core.registry import Registry
from userl.core.specs import GRIPPER_INDEX
from userl.core.types import Decision, Observation
from userl.data.checkpoint_files import load_chosen
from userl.policies import build_policy
from userl.policies.base import Policy
from userl.rollout.chunking import ChunkRequest, ChunkScheduler, ChunkSettings, compute_chunk
from userl.rollout.chunks import ChunkQueue

ACTION_SOURCES: Registry = Registry("action source")
"""`userl eval policy=NAME`: name -> `(config, env, run_dir) -> ActionSource`."""


class ActionSource(Protocol):
    source: str  # recorded in the episode: policy | expert | human

    def decide(self, observation: Observation) -> Decision:
        """The 7-D normalised action to execute, what the policy proposed, its version."""

    def reset(self) -> None: ...


class ExpertSource:
    """The task's scripted expert, acting through the same 7-D action as a person would."""

    source = "expert"

    def __init__(self, env: Any) -> None:
        self._env = env

    def decide(self, observation: Observation) -> Decision:
        action = np.asarray(self._env.expert_action(), dtype=np.float32)
        return Decision(action, action, -1)

    def reset(self) -> None:
        pass


class PolicySource:
    """A local copy of the policy that executes its action chunks step by step. By default
    the next chunk is computed in the control loop when the chunk is spent (the robot waits:
    `chunks.waits_ms`); with `pipeline.chunking=rtc` or a test delay (`settings`) it is
    computed on a thread of its own while the robot runs (`rollout/chunking.py`)."""

    source = "policy"

    def __init__(
        self,
        policy: Policy,
        deterministic: bool = False,
        settings: ChunkSettings | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self.policy = policy.eval()
        self.deterministic = deterministic
        self.version = 0
        self.schedule = ChunkScheduler(settings or ChunkSettings(), timeout_s)
        self._thread: ThreadPoolExecutor | None = None

    @property
    def chunks(self) -> ChunkQueue:
        return self.schedule.queue

    def load_weights(self, version: int, state_dict: dict[str, torch.Tensor]) -> None:
        if self.schedule.pending is not None:  # not while a chunk is computed with them
            self.schedule.pending.result(timeout=None)
        self.policy.load_state_dict(state_dict, strict=False)
        self.version = version
        self.schedule.cut()

    def reset(self) -> None:
        self.schedule.cut()

    def cut(self) -> None:
        """Drop the rest of the chunk (an intervention took over)."""
        self.schedule.cut()

    def _compute(self, request: ChunkRequest) -> tuple[np.ndarray, int]:
        chunk = compute_chunk(
            self.policy, request, self.deterministic, self.schedule.settings.max_guidance
        )
        return chunk, self.version

    def _submit(self, request: ChunkRequest) -> Future:
        if not self.schedule.settings.overlapped:
            done: Future = Future()
            done.set_result(self._compute(request))
            return done
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chunks")
        return self._thread.submit(self._compute, request)

    def decide(self, observation: Observation) -> Decision:
        action = self.schedule.next_action(observation, self._submit)
        queue = self.schedule.queue
        return Decision(
            action, action, self.version, chunk_id=queue.chunk_id, chunk_delay=queue.chunk_delay
        )


@ACTION_SOURCES.register("expert")
def expert_source(config: Any, env: Any, run_dir: Path | None) -> ExpertSource:
    """The task's scripted expert."""
    return ExpertSource(env)


@ACTION_SOURCES.register("policy")
def run_policy_source(config: Any, env: Any, run_dir: Path | None) -> PolicySource:
    """A trained run's policy, from its checkpoint `eval.checkpoint` (latest, best, step_N);
    without a run, the policy that `policy.weights=DIR` (a `userl export-policy` folder)
    holds."""
    settings = ChunkSettings.of(config.pipeline, env.task.control_hz, local=True)
    if run_dir is None and config.policy.weights:  # build_policy loads the export
        policy = build_policy(config.policy, env.observation_spec, env.action_space.shape[0])
        return PolicySource(policy, config.eval.deterministic, settings)
    if run_dir is None:
        raise ConfigError(
            "evaluating a policy needs run=runs/<name> or policy.weights=DIR (an export from "
            "`userl export-policy`); or use policy=expert"
        )
    state = load_chosen(run_dir, config.eval.checkpoint)  # latest: previous.pt if damaged
    policy = build_policy(config.policy, env.observation_spec, env.action_space.shape[0])
    source = PolicySource(policy, config.eval.deterministic, settings)
    source.load_weights(int(state.get("weight_version", 0)), state["policy"])
    return source


class RandomSource:
    """Uniform random actions in [-1, 1] (failures for a reward classifier to learn from)."""

    source = "random"

    def __init__(self, action_dim: int, seed: int) -> None:
        self.action_dim = action_dim
        self.rng = np.random.default_rng(seed)

    def decide(self, observation: Observation) -> Decision:
        action = self.rng.uniform(-1.0, 1.0, self.action_dim).astype(np.float32)
        return Decision(action, action, -1)

    def reset(self) -> None:
        pass


class NoisyExpertSource(ExpertSource):
    """The scripted expert plus Gaussian noise of `std` per normalised action component:
    near misses, the hardest failures for a reward classifier."""

    source = "noisy_expert"

    def __init__(self, env: Any, std: float, seed: int) -> None:
        super().__init__(env)
        self.std = std
        self.rng = np.random.default_rng(seed)

    def decide(self, observation: Observation) -> Decision:
        expert = super().decide(observation).action
        noise = self.rng.normal(0.0, self.std, expert.shape)
        action = np.clip(expert + noise, -1.0, 1.0).astype(np.float32)
        return Decision(action, action, -1)


class HaltingExpertSource(ExpertSource):
    """The scripted expert that halts at a random step (chance `halt_probability` per step)
    and holds still for the rest of the episode, keeping its last gripper command: resting
    states short of success, the ones a learning policy fools a reward classifier with."""

    source = "halting_expert"

    def __init__(self, env: Any, halt_probability: float, seed: int) -> None:
        super().__init__(env)
        if not 0.0 < halt_probability <= 1.0:
            raise ConfigError(
                f"bad value for 'demos.halting_expert_probability': "
                f"{halt_probability} must be in (0, 1]"
            )
        self.halt_probability = halt_probability
        self.rng = np.random.default_rng(seed)
        self.halted: np.ndarray | None = None  # the held action once halted

    def reset(self) -> None:
        self.halted = None

    def decide(self, observation: Observation) -> Decision:
        if self.halted is None:
            action = super().decide(observation).action
            if self.rng.random() >= self.halt_probability:
                return Decision(action, action, -1)
            self.halted = np.zeros_like(action)
            self.halted[GRIPPER_INDEX] = action[GRIPPER_INDEX]
        return Decision(self.halted.copy(), self.halted.copy(), -1)


@ACTION_SOURCES.register("random")
def random_source(config: Any, env: Any, run_dir: Path | None) -> RandomSource:
    """Uniform random actions."""
    return RandomSource(int(env.action_space.shape[0]), config.run.seed)


@ACTION_SOURCES.register("noisy_expert")
def noisy_expert_source(config: Any, env: Any, run_dir: Path | None) -> NoisyExpertSource:
    """The scripted expert with `demos.noisy_expert_std` Gaussian action noise."""
    return NoisyExpertSource(env, config.demos.noisy_expert_std, config.run.seed)


@ACTION_SOURCES.register("halting_expert")
def halting_expert_source(config: Any, env: Any, run_dir: Path | None) -> HaltingExpertSource:
    """The scripted expert that halts at a random step (`demos.halting_expert_probability`)."""
    return HaltingExpertSource(env, config.demos.halting_expert_probability, config.run.seed)


class HumanSource:
    """A person demonstrating through a device: every step's action is theirs."""

    source = "human"

    def __init__(self, operator: Any) -> None:
        self.operator = operator

    def reset(self) -> None:
        self.operator.reset()

    def decide(self, observation: Observation) -> Decision:
        action, _ = self.operator.read(observation)
        return Decision(action, action, -1)


def demonstrator(env: Any, config: Any) -> ActionSource:
    """Who records demonstrations: a person with the device `config.teleop` names, or the
    scripted expert (no operator, or a simulated one)."""
    from userl.rollout.intervention import build_operator

    operator = build_operator(env, config.teleop, config.run.seed)
    if operator is None or operator.simulated:
        return ExpertSource(env)
    return HumanSource(operator)
