"""Typed config schemas. Each group (task, robot, algo, policy, pipeline) picks its schema
class by the preset's `name` through a registry, so a new task or algorithm adds its own
fields without touching this file's callers. Every number carries its unit in its name."""

from __future__ import annotations

from dataclasses import dataclass, field

from userl.core.registry import Registry

TASK_SCHEMAS: Registry = Registry("task config")
ROBOT_SCHEMAS: Registry = Registry("robot config")
ALGO_SCHEMAS: Registry = Registry("algorithm config")
POLICY_SCHEMAS: Registry = Registry("policy config")
PIPELINE_SCHEMAS: Registry = Registry("pipeline config")

GROUP_SCHEMAS: dict[str, Registry] = {
    "task": TASK_SCHEMAS,
    "robot": ROBOT_SCHEMAS,
    "algo": ALGO_SCHEMAS,
    "policy": POLICY_SCHEMAS,
    "pipeline": PIPELINE_SCHEMAS,
}


# ----------------------------------------------------------------------------- task
@dataclass
class TaskConfig:
    """Fields every task has."""

    name: str = "peg_insertion"
    episode_steps: int = 100
    control_hz: float = 10.0
    action_scale_m: float = 0.02  # metres per step at action 1.0
    action_scale_rad: float = 0.1  # radians per step at action 1.0
    terminate_on_success: bool = True
    reward: str = "success"  # a registered reward source: success | pose_distance
    dense_reward_weight: float = 0.0  # weight of the optional dense shaping term
    dense_reward_scale_per_m: float = 10.0  # pose_distance reward: -this * distance (m)
    instruction: str = ""
    # The state vector is given to the policy in these units, so its parts are of order 1.
    obs_position_scale_m: float = 0.05
    obs_linear_velocity_scale_m_per_s: float = 0.1
    obs_angular_velocity_scale_rad_per_s: float = 0.5
    obs_force_scale_n: float = 10.0
    obs_torque_scale_nm: float = 1.0


@TASK_SCHEMAS.register("peg_insertion")
@dataclass
class PegInsertionConfig(TaskConfig):
    """Peg insertion: a peg held in the gripper goes into a hole on a randomised board."""

    name: str = "peg_insertion"
    instruction: str = "Insert the peg into the hole."
    hole_nominal_xy_m: list[float] = field(default_factory=lambda: [0.55, 0.0])
    hole_xy_range_m: float = 0.05  # hole randomised uniformly within +- this, per axis
    hole_yaw_range_deg: float = 30.0  # hole yaw randomised within +- this
    tcp_reset_xy_range_m: float = 0.05  # TCP reset randomised within +- this around the hole
    tcp_reset_height_above_hole_m: float = 0.08
    tcp_reset_height_range_m: float = 0.02
    tcp_reset_yaw_range_deg: float = 30.0
    peg_radius_m: float = 0.012
    peg_length_m: float = 0.06
    hole_clearance_m: float = 0.003  # radial gap between peg and hole walls
    hole_depth_m: float = 0.03
    success_threshold_m: float = 0.01  # peg tip within this of the fully inserted tip
    workspace_xy_margin_m: float = 0.05  # safety box: +- this around the hole, per axis
    workspace_z_above_hole_m: float = 0.10  # safety box top above the board's surface
    workspace_yaw_range_deg: float = 30.0
    workspace_tilt_range_deg: float = 10.0  # safety: roll/pitch within +- this of the reset
    peg_tip_below_tcp_m: float = 0.045  # the held peg's tip lies this far along the tool axis
    board_half_size_m: float = 0.08  # the square board's half side
    gripper_locked: bool = True  # the gripper stays closed on the peg; its action is ignored
    expert_align_tolerance_m: float = 0.0015  # expert descends once the xy error is below this
    expert_hover_height_m: float = 0.01  # expert keeps the peg tip this far above the board
    expert_gain: float = 0.8  # share of the remaining error the expert corrects per step


# ----------------------------------------------------------------------------- robot
@dataclass
class RobotConfig:
    name: str = "sim_franka"
    realtime: bool = False  # pace the control loop to wall-clock time
    image_height_px: int = 128
    image_width_px: int = 128
    camera_names: list[str] = field(default_factory=lambda: ["front", "wrist"])
    camera_driver: str = "sim"  # a registered camera driver (CAMERAS)


@ROBOT_SCHEMAS.register("sim_franka")
@dataclass
class SimFrankaConfig(RobotConfig):
    """MuJoCo Panda with a Cartesian impedance-style controller."""

    name: str = "sim_franka"
    physics_dt_s: float = 0.002
    translational_stiffness_n_per_m: float = 600.0
    rotational_stiffness_nm_per_rad: float = 30.0
    damping_ratio: float = 1.0
    nullspace_stiffness_nm_per_rad: float = 10.0
    max_tcp_force_n: float = 60.0  # the controller's wrench is clipped to this
    max_tcp_torque_nm: float = 10.0
    gripper_force_n: float = 40.0
    gripper_stiffness_n_per_m: float = 2000.0  # finger position servo gain
    joint_armature_kg_m2: float = 0.1  # reflected rotor inertia per joint
    joint_damping_nms_per_rad: float = 0.5  # viscous friction per joint
    ik_tolerance_m: float = 1e-5  # reset: inverse kinematics stops below this pose error
    ik_max_iterations: int = 200
    front_camera_pos_m: list[float] = field(default_factory=lambda: [1.0, 0.0, 0.35])
    front_camera_lookat_m: list[float] = field(default_factory=lambda: [0.55, 0.0, 0.05])
    wrist_camera_pos_m: list[float] = field(default_factory=lambda: [0.07, 0.0, -0.1])  # TCP frame
    wrist_camera_lookat_m: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.05])  # TCP
    camera_fovy_deg: float = 50.0


# ----------------------------------------------------------------------------- policy
@dataclass
class PolicyConfig:
    name: str = "mlp"


@POLICY_SCHEMAS.register("mlp")
@dataclass
class MLPPolicyConfig(PolicyConfig):
    """A tanh-squashed Gaussian MLP policy on the state vector."""

    name: str = "mlp"
    hidden_dims: list[int] = field(default_factory=lambda: [256, 256])
    layer_norm: bool = True
    log_std_min: float = -5.0
    log_std_max: float = 2.0
    activation: str = "tanh"  # hidden activation: tanh | relu | gelu | silu | elu


# ----------------------------------------------------------------------------- algorithm
@dataclass
class AlgoConfig:
    name: str = "sac"
    batch_size: int = 256
    utd: int = 1  # gradient steps per new environment step (update-to-data ratio)
    warmup_env_steps: int = 0  # online transitions collected before the first update


@ALGO_SCHEMAS.register("sac")
@dataclass
class SACConfig(AlgoConfig):
    """SAC; RLPD is its options (ensemble, subset, LayerNorm, symmetric sampling, UTD)."""

    name: str = "sac"
    gamma: float = 0.97
    tau: float = 0.005
    actor_lr: float = 3e-4
    critic_lr: float = 3e-4
    temperature_lr: float = 3e-4
    init_temperature: float = 0.01
    target_entropy: float | None = None  # None: -|A|/2
    num_critics: int = 2
    critic_subset: int = 2  # target = min over this many heads drawn without replacement
    critic_hidden_dims: list[int] = field(default_factory=lambda: [256, 256])
    critic_layer_norm: bool = True
    backup_entropy: bool = False  # include the entropy term in the target backup
    critic_actor_ratio: int = 1  # critic updates per actor update
    demo_fraction: float = 0.0  # share of each batch drawn from the demo buffer
    replay_capacity: int = 200_000  # transitions
    demo_capacity: int = 50_000  # transitions
    grad_clip_norm: float = 0.0  # 0 disables clipping
    critic_activation: str = "tanh"  # critic hidden activation: tanh | relu | gelu | silu | elu


# ----------------------------------------------------------------------------- pipeline
@dataclass
class PipelineConfig:
    name: str = "async"


@PIPELINE_SCHEMAS.register("async")
@dataclass
class AsyncPipelineConfig(PipelineConfig):
    """Env workers and the learner run at once; weights flow as versioned snapshots."""

    name: str = "async"
    publish_every_updates: int = 20  # learner publishes a weight snapshot this often
    weight_poll_interval_s: float = 0.1  # env worker asks for new weights at most this often
    idle_wait_s: float = 0.01  # learner sleep while the update-to-data ceiling is reached


@PIPELINE_SCHEMAS.register("sync")
@dataclass
class SyncPipelineConfig(PipelineConfig):
    """Collect an episode, train on it, sync weights, repeat: the paper's baseline."""

    name: str = "sync"


# ----------------------------------------------------------------------------- top level
@dataclass
class RunConfig:
    name: str = ""  # empty: a timestamped name
    root: str = "runs"
    env_steps: int = 0  # stop after this many online environment steps (0: no limit)
    grad_steps: int = 6000  # or after this many learner updates (0: no limit)
    wall_s: float = 600.0  # or after this many seconds of training (0: no limit)
    seed: int = 0
    num_robots: int = 1  # env workers, one simulated robot each
    torch_threads: int = 1  # per training process; the actor and learner share the cores
    log_every_s: float = 5.0  # console progress line cadence
    checkpoint_every_s: float = 120.0
    remote_timeout_s: float = 120.0  # every wait on another worker gives up after this


@dataclass
class DemosConfig:
    episodes: int = 20  # scripted-expert demos to collect when no path is given
    path: str = ""  # an episode store of demonstrations to load instead
    only_successful: bool = True


@dataclass
class EvalConfig:
    episodes: int = 20
    at_start: bool = False
    deterministic: bool = True
    seed_offset: int = 1_000_000  # evaluation seeds never collide with training seeds


@dataclass
class Config:
    task: TaskConfig = field(default_factory=PegInsertionConfig)
    robot: RobotConfig = field(default_factory=SimFrankaConfig)
    algo: AlgoConfig = field(default_factory=SACConfig)
    policy: PolicyConfig = field(default_factory=MLPPolicyConfig)
    pipeline: PipelineConfig = field(default_factory=AsyncPipelineConfig)
    run: RunConfig = field(default_factory=RunConfig)
    demos: DemosConfig = field(default_factory=DemosConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    obs: str = "state"  # state | image
