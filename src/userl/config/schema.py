"""The top-level run config and its shared pieces.

Each component's config lives beside its code and is registered with it
(`core/registry.py`); the groups here are typed by their base classes, and the config
loader picks the concrete class a preset names. A group's default is its default preset
(`config/defaults.py`), the same for `Config()` as for the command line. Every number
carries its unit in its name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from userl.algorithms.base import AlgoConfig
from userl.config.defaults import default_of
from userl.config.pipelines import PipelineConfig
from userl.config.ranges import Range
from userl.core.registry import ComponentConfig
from userl.data.lerobot_mapping import LeRobotMappingConfig
from userl.hardware.robot_config import RobotConfig
from userl.hardware.teleop.base import TeleopConfig
from userl.policies.base import PolicyConfig
from userl.rewards.base import RewardConfig
from userl.tasks.base import TaskConfig


@dataclass
class RunConfig:
    """Where the run is written, when it stops, its seed, its workers and its supervision."""

    name: str = ""  # empty: a timestamped name
    root: str = "runs"  # the folder runs are written under (run folder: root/name)
    env_steps: int = 0  # stop after this many online environment steps (0: no limit)
    grad_steps: int = 6000  # or after this many learner updates (0: no limit)
    episodes: int = 0  # or after this many online episodes (0: no limit)
    stop_at_eval_success: float = 0.0  # or once a learning-curve evaluation reaches this (0: off)
    wall_s: float = 0.0  # or after this many seconds of training, all sessions (0: no limit)
    seed: int = 0  # seed of the run (each robot and the learner derive theirs from it)
    num_robots: int = 1  # env workers, one simulated robot each
    torch_threads: int = 1  # per training process; the actor and learner share the cores
    log_every_s: float = 5.0  # console progress line cadence
    checkpoint_every_s: float = 120.0  # seconds between checkpoints (0: only the final one)
    checkpoints_kept: int = 3  # periodic checkpoints/step_<grad steps>.pt kept (0: none)
    wandb_project: str = "userl"  # the W&B project runs are logged to (logger=wandb or both)
    min_free_disk_mb: float = 100.0  # free disk space each env worker needs beyond the next
    # episode's expected size before the robot moves (room for the store and checkpoints); short:
    # the run stops

    remote_timeout_s: float = 120.0  # every wait on another worker gives up after this (a wait on
    # several episodes, e.g. a learning-curve evaluation, after this per episode)

    start_timeout_s: float = 600.0  # waiting for a worker to be built (imports, model, robot)
    max_worker_restarts: int = 5  # per env worker; then the run stops with the last error
    worker_restart_backoff_s: float = 1.0  # first restart delay, doubled each time
    worker_restart_backoff_max_s: float = 30.0  # the restart delay grows at most to this


@dataclass
class LearnerConfig:
    """Where the learner computes: one process, or data-parallel ranks
    (`runtime/learner_ranks.py`)."""

    devices: int = field(default=1, metadata={"range": Range(1, 64)})  # data-parallel ranks: the
    # learner and devices-1 rank actors (one GPU each where the learner asks for one), each
    # computing algo.batch_size/devices rows of every update; the same parameters as one rank

    sharding: Literal["replicate", "fsdp"] = "replicate"  # with devices > 1: every rank holds
    # the whole policy (replicate), or 1/devices of its trained transformer layers, their
    # gradients and optimiser state (fsdp: FSDP2, policies with layers, e.g. pi0)


@dataclass
class DemosConfig:
    """The demonstrations the learner starts from."""

    episodes: int = 20  # scripted-expert demos to collect when no path is given
    path: str = ""  # an episode store (or a LeRobot dataset) of demonstrations to load instead
    only_successful: bool = True  # load only the episodes that succeeded
    noisy_expert_std: float = 0.7  # `collect policy=noisy_expert`: noise per action component
    halting_expert_probability: float = 0.08  # `collect policy=halting_expert`: chance per step
    # that the expert halts and holds still for the rest of the episode

    lerobot: LeRobotMappingConfig = field(default_factory=LeRobotMappingConfig)


@dataclass
class EvalConfig:
    """The final (and initial) evaluation, the learning curve and evaluation videos."""

    episodes: int = 20  # episodes of the final (and initial) evaluation
    at_start: bool = False  # also evaluate before training
    deterministic: bool = True  # evaluate the policy's point estimate instead of sampling
    seed_offset: int = 1_000_000  # evaluation seeds never collide with training seeds
    video_every_s: float = 60.0  # during training, one evaluation episode on video this often
    # (0: never); not given, 0 where the robot has no view for videos (a real arm under
    # obs=state: no simulated camera, no front view among the policy's)

    video_fps: float = 10.0  # frame rate of evaluation videos
    video_render_max_period_fraction: float = 0.5  # a video frame's render may take at most
    # this share of the task's control period; a slower one drops that video (one warning
    # line)

    slow_videos_before_off: int = 3  # videos dropped for a slow frame in a row before the
    # robot records no more for the run (a renderer that is always slow, not a busy moment)

    video_format: Literal["mp4", "gif"] = "mp4"  # evaluation videos in the run's videos/
    curve_every_env_steps: int = 0  # the learning curve: during training, the first robot evaluates
    # `curve_episodes` fixed seeds (deterministic policy, not training data) each time the run's
    # online env steps pass another multiple of this (0: off); TensorBoard eval/success_rate,
    # summary.json

    curve_episodes: int = 10  # episodes per learning-curve evaluation
    checkpoint: str = "latest"  # which of a run's checkpoints `userl eval run=` and `collect
    # run=` act with: latest, best or step_<grad steps> (`checkpoint=` on the eval command line)


CELL_GROUPS: tuple[str, ...] = ("task", "robot", "teleop", "reward")
"""The component groups each robot cell has of its own; the rest (algo, policy, pipeline)
are the run's, shared by every cell."""


@dataclass
class CellConfig:
    """One robot cell of a multi-cell run (`cells=[franka_peg,franka_charger]`): its own
    robot, task, teleop and reward; one env worker runs it (`config/cells.py`)."""

    name: str = ""  # the cell's name: its metrics are env/<name>/..., summary.json cells.<name>
    task: TaskConfig = field(default_factory=default_of("task"))  # type: ignore[assignment]
    robot: RobotConfig = field(default_factory=default_of("robot"))  # type: ignore[assignment]
    teleop: TeleopConfig = field(default_factory=default_of("teleop"))  # type: ignore[assignment]
    reward: RewardConfig = field(default_factory=default_of("reward"))  # type: ignore[assignment]
    weight: float = 1.0  # its share of each training batch, relative to the other cells'
    demos_path: str = ""  # this cell's demonstrations (empty: demos.episodes by its expert)
    ray_robot: str = ""  # the cluster layout's robot it runs on (empty: the i-th listed)

    def components(self) -> list[ComponentConfig]:
        return [self.task, self.robot, self.teleop, self.reward]


@dataclass
class ConditioningConfig:
    """How one policy tells several cells apart (`docs/design.md`, task conditioning): with
    two or more cells the state is padded to the largest cell's, with a mask, a task id and
    an embodiment id, which the state encoder embeds."""

    task_embedding_dim: int = 16  # width of the learned task embedding
    embodiment_embedding_dim: int = 8  # width of the learned embodiment (arm) embedding


@dataclass
class Config:
    """One run: a config per component group, and the run-wide sections."""

    task: TaskConfig = field(default_factory=default_of("task"))  # type: ignore[assignment]
    robot: RobotConfig = field(default_factory=default_of("robot"))  # type: ignore[assignment]
    algo: AlgoConfig = field(default_factory=default_of("algo"))  # type: ignore[assignment]
    policy: PolicyConfig = field(default_factory=default_of("policy"))  # type: ignore[assignment]
    pipeline: PipelineConfig = field(  # type: ignore[assignment]
        default_factory=default_of("pipeline")
    )
    teleop: TeleopConfig = field(default_factory=default_of("teleop"))  # type: ignore[assignment]
    reward: RewardConfig = field(default_factory=default_of("reward"))  # type: ignore[assignment]
    run: RunConfig = field(default_factory=RunConfig)
    demos: DemosConfig = field(default_factory=DemosConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    obs: Literal["state", "image"] = "state"  # image: the robot's camera views too
    cluster: str = ""  # a cluster layout YAML (runtime/placement.py); empty: this machine
    resume: bool = False  # continue run.name from its checkpoint and episode store
    logger: Literal["tensorboard", "wandb", "both"] = "tensorboard"  # where metrics are written
    cells: list[CellConfig] = field(default_factory=list)  # `cells=`; empty: one cell
    conditioning: ConditioningConfig = field(default_factory=ConditioningConfig)
    learner: LearnerConfig = field(default_factory=LearnerConfig)

    def components(self) -> list[ComponentConfig]:
        """The config of each component group (task, robot, algo, policy, pipeline, teleop,
        reward)."""
        return [
            self.task,
            self.robot,
            self.algo,
            self.policy,
            self.pipeline,
            self.teleop,
            self.reward,
        ]
