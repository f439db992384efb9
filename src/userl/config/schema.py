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
TELEOP_SCHEMAS: Registry = Registry("teleop config")

GROUP_SCHEMAS: dict[str, Registry] = {
    "task": TASK_SCHEMAS,
    "robot": ROBOT_SCHEMAS,
    "algo": ALGO_SCHEMAS,
    "policy": POLICY_SCHEMAS,
    "pipeline": PIPELINE_SCHEMAS,
    "teleop": TELEOP_SCHEMAS,
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
    reading_outside_box_margin_m: float = 0.05  # a TCP reading this far outside the box: hold


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


@TASK_SCHEMAS.register("charger")
@dataclass
class ChargerConfig(TaskConfig):
    """Charger plugging: a two-prong charger held in the gripper goes into a power socket on
    the table; tighter clearance than the peg, and the prongs' yaw must match the slots'."""

    name: str = "charger"
    instruction: str = "Plug the charger into the socket."
    socket_nominal_xy_m: list[float] = field(default_factory=lambda: [0.55, 0.0])
    socket_xy_range_m: float = 0.05  # socket randomised uniformly within +- this, per axis
    socket_yaw_range_deg: float = 30.0
    tcp_reset_xy_range_m: float = 0.04  # TCP reset randomised within +- this around the socket
    tcp_reset_height_above_socket_m: float = 0.07
    tcp_reset_height_range_m: float = 0.02
    tcp_reset_yaw_range_deg: float = 20.0  # the prongs start this far off the slots' yaw
    prong_half_thickness_m: float = 0.0015  # flat blades: half thickness (TCP x) ...
    prong_half_width_m: float = 0.005  # ... and half width (TCP y)
    prong_length_m: float = 0.02  # also the depth of the slots
    prong_spacing_m: float = 0.02  # centre to centre, along the TCP x axis
    slot_clearance_m: float = 0.0012  # gap between a blade and its slot, per side
    charger_half_size_m: list[float] = field(default_factory=lambda: [0.022, 0.012, 0.015])
    socket_half_size_m: list[float] = field(default_factory=lambda: [0.04, 0.03])
    plug_tip_below_tcp_m: float = 0.045  # the prong tips lie this far along the tool axis
    success_threshold_m: float = 0.004  # prong tips within this of fully inserted
    workspace_xy_margin_m: float = 0.05  # safety box: +- this around the socket, per axis
    workspace_z_above_socket_m: float = 0.1
    workspace_yaw_range_deg: float = 30.0  # about the socket's yaw
    workspace_tilt_range_deg: float = 10.0
    gripper_locked: bool = True  # the fingers stay closed on the charger
    obs_angle_scale_rad: float = 0.2  # the yaw error is given in this unit
    expert_align_tolerance_m: float = 0.0008  # descends once the xy error is below this ...
    expert_yaw_tolerance_deg: float = 1.5  # ... and the yaw error below this
    expert_hover_height_m: float = 0.008  # prong tips this far above the socket while aligning
    expert_gain: float = 0.8


@TASK_SCHEMAS.register("cap_tightening")
@dataclass
class CapTighteningConfig(TaskConfig):
    """Cap tightening: turn a bottle cap (a hinge with friction and a stop) to a target angle,
    regripping as a hand would; 5 Hz control."""

    name: str = "cap_tightening"
    episode_steps: int = 400
    control_hz: float = 5.0
    action_scale_rad: float = 0.15
    instruction: str = "Tighten the bottle cap until its mark reaches the target mark."
    bottle_nominal_xy_m: list[float] = field(default_factory=lambda: [0.55, 0.0])
    bottle_xy_range_m: float = 0.05  # bottle randomised uniformly within +- this, per axis
    bottle_radius_m: float = 0.035
    bottle_height_m: float = 0.08  # shoulder height; the cap sits on top
    cap_radius_m: float = 0.02
    cap_half_height_m: float = 0.012
    cap_friction_torque_nm: float = 0.15  # dry friction of the thread (hinge frictionloss)
    cap_damping_nm_s_per_rad: float = 0.01
    cap_stop_angle_deg: float = 200.0  # the thread's end: the hinge cannot turn further
    cap_initial_angle_range_deg: list[float] = field(default_factory=lambda: [0.0, 30.0])
    cap_target_angle_range_deg: list[float] = field(default_factory=lambda: [100.0, 170.0])
    success_tolerance_deg: float = 4.0  # cap angle within +- this of the target
    tcp_reset_xy_range_m: float = 0.03  # TCP reset randomised within +- this around the cap
    tcp_reset_height_above_cap_m: float = 0.06
    tcp_reset_yaw_range_deg: float = 15.0
    workspace_xy_margin_m: float = 0.05  # safety box: +- this around the cap, per axis
    workspace_z_below_cap_m: float = 0.01  # safety box bottom below the cap's centre
    workspace_z_above_cap_m: float = 0.12
    workspace_yaw_range_deg: float = 65.0  # about the tool-down orientation at yaw 0
    workspace_tilt_range_deg: float = 10.0
    obs_angle_scale_rad: float = 1.0  # the remaining angle is given in this unit
    expert_turn_yaw_deg: float = 55.0  # the expert turns the TCP between +- this, regripping
    expert_gain: float = 0.8
    expert_align_tolerance_m: float = 0.004  # descends once the xy error is below this
    expert_hover_above_cap_m: float = 0.025  # fingertips this far above the cap while aligning
    expert_grasp_height_tolerance_m: float = 0.006
    expert_yaw_tolerance_deg: float = 3.0
    expert_hold_width_margin_m: float = 0.006  # closed on the cap: width below its width + this
    expert_release_width_margin_m: float = 0.015  # open: width above the cap's width + this


@dataclass
class GraspTaskConfig(TaskConfig):
    """Fields of tasks whose scripted expert picks free objects with the two-finger gripper."""

    tcp_reset_height_m: float = 0.2  # TCP reset height above the table
    tcp_reset_xy_range_m: float = 0.03  # TCP reset randomised within +- this around nominal
    tcp_reset_yaw_range_deg: float = 15.0
    workspace_z_min_m: float = 0.005  # safety box: TCP height above the table
    workspace_z_max_m: float = 0.3
    workspace_yaw_range_deg: float = 95.0  # about the tool-down orientation at yaw 0
    workspace_tilt_range_deg: float = 10.0
    rest_speed_m_per_s: float = 0.05  # an object counts as at rest below this speed
    release_width_margin_m: float = 0.012  # released: gripper wider than the object by this
    obs_angle_scale_rad: float = 1.0  # angles in the task state are given in this unit
    expert_gain: float = 0.8  # share of the remaining error the expert corrects per step
    expert_hover_above_object_m: float = 0.03  # fingertips this far above an object's top
    expert_align_tolerance_m: float = 0.004  # xy error below which the expert descends
    expert_descend_tolerance_m: float = 0.012  # xy error tolerated once low
    expert_yaw_tolerance_deg: float = 5.0
    expert_grasp_height_tolerance_m: float = 0.006  # closes when this near the grasp height
    expert_hold_tolerance_m: float = 0.025  # an object this near the TCP is between the fingers
    expert_hold_width_margin_m: float = 0.006  # closed on it: width below its width + this
    expert_release_above_floor_m: float = 0.015  # opens with the object this far above a floor


@TASK_SCHEMAS.register("pick_place")
@dataclass
class PickPlaceConfig(GraspTaskConfig):
    """Pick and place: a randomly chosen, randomly placed object goes into a container."""

    name: str = "pick_place"
    episode_steps: int = 200
    instruction: str = "Pick up the object and put it in the container."
    objects: list[str] = field(default_factory=lambda: ["duck", "block", "can"])
    object_x_range_m: list[float] = field(default_factory=lambda: [0.45, 0.6])
    object_y_range_m: list[float] = field(default_factory=lambda: [0.0, 0.15])
    object_yaw_range_deg: float = 90.0  # object yaw randomised within +- this
    container_x_range_m: list[float] = field(default_factory=lambda: [0.45, 0.6])
    container_y_range_m: list[float] = field(default_factory=lambda: [-0.2, -0.12])
    container_yaw_range_deg: float = 20.0
    container_inner_half_size_m: float = 0.065
    container_wall_height_m: float = 0.05
    container_wall_thickness_m: float = 0.006
    tcp_reset_nominal_xy_m: list[float] = field(default_factory=lambda: [0.5, 0.0])
    expert_carry_height_m: float = 0.13  # TCP height while carrying


@TASK_SCHEMAS.register("table_cleanup")
@dataclass
class TableCleanupConfig(GraspTaskConfig):
    """Table clean-up: every object on the table goes into a box, then the box's hinged lid
    is closed."""

    name: str = "table_cleanup"
    episode_steps: int = 400
    action_scale_m: float = 0.03  # a wider scene: faster moves
    workspace_yaw_range_deg: float = 110.0  # room to turn the hand along the lid's hinge
    instruction: str = "Put all the objects into the box, then close its lid."
    objects: list[str] = field(default_factory=lambda: ["duck", "block", "can"])
    object_x_range_m: list[float] = field(default_factory=lambda: [0.42, 0.62])
    object_y_range_m: list[float] = field(default_factory=lambda: [0.03, 0.21])
    object_min_spacing_m: float = 0.085  # objects are placed at least this far apart
    object_yaw_range_deg: float = 90.0
    box_x_range_m: list[float] = field(default_factory=lambda: [0.48, 0.56])
    box_y_range_m: list[float] = field(default_factory=lambda: [-0.21, -0.18])
    box_yaw_range_deg: float = 10.0
    box_inner_half_size_m: list[float] = field(default_factory=lambda: [0.14, 0.065])
    box_wall_height_m: float = 0.08
    box_wall_thickness_m: float = 0.006
    slot_spacing_m: float = 0.08  # objects are put down this far apart along the box's x
    lid_thickness_m: float = 0.006
    lid_mass_kg: float = 0.15
    lid_damping_nm_s_per_rad: float = 0.02
    lid_open_angle_deg: float = 100.0  # the lid starts open, resting on its stop
    lid_closed_tolerance_deg: float = 5.0  # closed: within this of shut
    tcp_reset_nominal_xy_m: list[float] = field(default_factory=lambda: [0.5, 0.0])
    workspace_y_margin_m: float = 0.16  # the safety box reaches this far beyond the box (y)
    expert_carry_height_m: float = 0.14  # TCP height while carrying
    expert_lid_push_fraction: float = 0.85  # pushes the lid this far from the hinge
    expert_lid_lead_deg: float = 15.0  # aims this far ahead of the lid's angle
    expert_lid_clearance_m: float = 0.04  # approaches the lid's outer face from this far


# ----------------------------------------------------------------------------- robot
@dataclass
class SafetyConfig:
    """Robot-side limits enforced by `hardware.safety.SafeRobot`, whatever the policy sends."""

    enabled: bool = True
    workspace_low_m: list[float] = field(default_factory=lambda: [0.2, -0.5, -0.05])  # base frame
    workspace_high_m: list[float] = field(default_factory=lambda: [0.9, 0.5, 0.7])
    max_step_m: float = 0.1  # a target lies at most this far from the measured TCP position
    max_step_rad: float = 0.5  # ... and its orientation at most this far from the measured one
    max_linear_speed_m_per_s: float = 1.0  # step also within this speed x the control period
    max_angular_speed_rad_per_s: float = 5.0
    watchdog_timeout_s: float = 1.0  # hold when no command arrives for this long (0: off)
    watchdog_check_hz: float = 50.0  # how often the watchdog thread looks
    latch_poll_s: float = 0.05  # a reset waits for the hold latch to clear, looking this often


@dataclass
class CameraDevicesConfig:
    """Real cameras: which device is which view, capture size, and the crop to the policy's."""

    serials: dict[str, str] = field(default_factory=dict)  # view -> RealSense serial number
    uvc_devices: dict[str, str] = field(default_factory=dict)  # view -> OpenCV index or path
    serial_env_prefix: str = "USERL_CAMERA_SERIAL_"  # + VIEW (upper case): serial on the node
    device_env_prefix: str = "USERL_CAMERA_DEVICE_"  # + VIEW (upper case): UVC device on the node
    capture_width_px: int = 640
    capture_height_px: int = 480
    capture_fps: int = 30
    crops: dict[str, list[int]] = field(default_factory=dict)  # view -> [top, left, h, w] px;
    # absent: the largest centred crop with the output's aspect ratio
    first_frame_timeout_s: float = 5.0  # a camera that delivers nothing this long is an error
    frame_wait_s: float = 1.0  # the capture thread waits this long for each frame


@dataclass
class RobotConfig:
    name: str = "sim_franka"
    realtime: bool = False  # pace the control loop to wall-clock time
    image_height_px: int = 128
    image_width_px: int = 128
    camera_names: list[str] = field(default_factory=lambda: ["front", "wrist"])
    camera_driver: str = "sim"  # a registered camera driver (CAMERAS)
    render_height_px: int = 240  # env.render() and episode videos: the front camera's frame
    render_width_px: int = 320
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    cameras: CameraDevicesConfig = field(default_factory=CameraDevicesConfig)


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
    gripper_damping_n_s_per_m: float = 400.0  # finger slide damping: closes at ~force/this m/s
    joint_armature_kg_m2: float = 0.1  # reflected rotor inertia per joint
    joint_damping_nms_per_rad: float = 0.5  # viscous friction per joint
    ik_tolerance_m: float = 1e-5  # reset: inverse kinematics stops below this pose error
    ik_max_iterations: int = 200
    front_camera_pos_m: list[float] = field(default_factory=lambda: [1.0, 0.0, 0.35])
    front_camera_lookat_m: list[float] = field(default_factory=lambda: [0.55, 0.0, 0.05])
    wrist_camera_pos_m: list[float] = field(default_factory=lambda: [0.07, 0.0, -0.1])  # TCP frame
    wrist_camera_lookat_m: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.05])  # TCP
    camera_fovy_deg: float = 50.0


PANDA_HOME_JOINTS_RAD = [0.0, -0.7853981633974483, 0.0, -2.356194490192345, 0.0,
                         1.5707963267948966, 0.7853981633974483]


@ROBOT_SCHEMAS.register("franka")
@dataclass
class FrankaConfig(RobotConfig):
    """A Franka Panda / FR3 through franky-control (`hardware/robots/franka.py`)."""

    name: str = "franka"
    camera_driver: str = "realsense"
    ip: str = ""  # FCI address; empty: the variable named by ip_env_var on the robot node
    ip_env_var: str = "USERL_FRANKA_IP"
    motion: str = "impedance"  # impedance (Cartesian impedance) | waypoint (Cartesian motion)
    translational_stiffness_n_per_m: float = 2000.0
    rotational_stiffness_nm_per_rad: float = 150.0
    impedance_target_lifetime_s: float = 1.0  # an impedance target is held this long unless renewed
    dynamics_fraction: float = 0.1  # share of the robot's velocity/acceleration/jerk limits
    collision_force_threshold_n: float = 30.0
    collision_torque_threshold_nm: float = 20.0
    max_error_recoveries: int = 3  # consecutive automatic recoveries before giving up
    gripper_max_width_m: float = 0.08
    gripper_speed_m_per_s: float = 0.1
    gripper_force_n: float = 20.0  # grasping force when closing on an object
    gripper_grasp_below_fraction: float = 0.5  # openings below this grasp with force
    gripper_epsilon_outer_m: float = 0.08  # a grasp succeeds with an object up to this narrower
    gripper_deadband_fraction: float = 0.05  # smaller opening changes are not sent
    home_joints_rad: list[float] = field(default_factory=lambda: list(PANDA_HOME_JOINTS_RAD))
    joint_reset_every_episodes: int = 10  # joints home before every Nth reset (0: never)
    reset_xy_noise_m: float = 0.0  # reset pose shifted within +- this per axis (on the task's)
    reset_yaw_noise_deg: float = 0.0
    reset_seed: int = 0


@ROBOT_SCHEMAS.register("arx_r5")
@dataclass
class ArxR5Config(RobotConfig):
    """An ARX R5 (6-DoF) through arx-r5-sdk (`hardware/robots/arx_r5.py`)."""

    name: str = "arx_r5"
    camera_driver: str = "realsense"
    can_port: str = ""  # CAN interface; empty: the variable named by can_port_env_var on the node
    can_port_env_var: str = "USERL_ARX_CAN_PORT"
    arm_type: int = 1  # the SDK's arm type: 1 = R5
    sdk_dt_s: float = 0.05  # the SDK's control time step
    gripper_max_width_m: float = 0.08
    gripper_command_closed: float = 0.0  # the SDK's catch position when closed ...
    gripper_command_open: float = 5.0  # ... and fully open
    min_reach_m: float = 0.1  # reachable shell: TCP distance from the base origin
    max_reach_m: float = 0.55
    max_tilt_deg: float = 30.0  # roll/pitch kept within +- this of the reset orientation
    max_yaw_deg: float = 90.0  # yaw kept within +- this of the reset orientation
    home_joints_rad: list[float] = field(default_factory=lambda: [0.0] * 6)
    joint_reset_every_episodes: int = 10  # joints home before every Nth reset (0: never)
    reset_tolerance_m: float = 0.005  # a reset is done once the TCP is this near the target
    reset_joint_tolerance_rad: float = 0.02  # a joint reset is done once every joint is this near
    reset_timeout_s: float = 5.0  # ... or after this long
    reset_poll_s: float = 0.05


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
    bc_action_abs_max: float = 0.999  # imitation: target actions clipped to this before atanh


@POLICY_SCHEMAS.register("cnn")
@dataclass
class CNNPolicyConfig(MLPPolicyConfig):
    """Tanh-Gaussian head on camera views (one ResNet-10-style GroupNorm trunk per view,
    learned spatial pooling) and the state vector."""

    name: str = "cnn"
    image_size_px: int = 128  # views are resized to this square size when they differ
    encoder_widths: list[int] = field(default_factory=lambda: [64, 128, 256, 512])
    encoder_strides: list[int] = field(default_factory=lambda: [1, 2, 2, 2])  # per stage
    stem_kernel_size: int = 7
    stem_stride: int = 2
    stem_pool: bool = True  # 3x3 stride-2 max-pool after the stem
    group_norm_groups: int = 8
    pooling: str = "spatial_softmax"  # spatial_softmax | attention (registered poolings)
    pool_queries: int = 4  # attention pooling: learned queries per view
    view_latent_dim: int = 64  # each view is projected to this (Linear, LayerNorm, tanh)
    image_mean: list[float] = field(default_factory=lambda: [0.485, 0.456, 0.406])
    image_std: list[float] = field(default_factory=lambda: [0.229, 0.224, 0.225])
    encoder_weights: str = ""  # local file with a pretrained trunk state_dict; "" = random init
    encoder_frozen: bool = True  # with encoder_weights: keep the loaded trunk fixed


@dataclass
class FlowPolicyConfig(PolicyConfig):
    """SAC Flow: K Euler steps of a learned velocity from Gaussian noise, with a learned,
    state-dependent per-step noise (log-std squashed to [log_std_min, log_std_max])."""

    name: str = "flow_g"
    flow_steps: int = 4  # K Euler steps over t in [0, 1]
    log_std_min: float = -5.0
    log_std_max: float = 2.0
    bc_action_abs_max: float = 0.999  # flow matching: targets clipped to this before atanh


@POLICY_SCHEMAS.register("flow_g")
@dataclass
class FlowGPolicyConfig(FlowPolicyConfig):
    """Flow-G: v = sigmoid(gate(s, A, t)) * (cand(s, A, t) - A), gate bias initialised high."""

    name: str = "flow_g"
    hidden_dims: list[int] = field(default_factory=lambda: [256, 256])
    activation: str = "tanh"
    layer_norm: bool = True
    gate_bias_init: float = 5.0  # sigmoid(5) ~ 0.993: the gate starts open


@POLICY_SCHEMAS.register("flow_t")
@dataclass
class FlowTPolicyConfig(FlowPolicyConfig):
    """Flow-T: a small transformer decoder; the action token cross-attends to state tokens."""

    name: str = "flow_t"
    d_model: int = 64
    num_heads: int = 4
    num_layers: int = 2
    feedforward_dim: int = 128
    context_tokens: int = 4  # the state features are projected to this many tokens


# ----------------------------------------------------------------------------- algorithm
@dataclass
class AlgoConfig:
    name: str = "sac"
    batch_size: int = 256
    utd_max: float = 1.0  # ceiling: gradient steps per new environment step (update-to-data)
    utd_min: float = 0.0  # floor; a simulated robot not paced to real time waits for the
    # learner to keep at least this ratio; a real-time robot never waits (the lag is logged)
    warmup_env_steps: int = 0  # online transitions collected before the first update
    pretrain_updates: int = 0  # gradient steps on the demos alone before going online
    # Learner speed (the maths is the same either way): one fused Adam kernel per optimiser
    # (False: PyTorch's per-tensor loop, bit-identical to the original update); freed host
    # memory the learner process keeps for reuse instead of page-faulting it back each update
    # (0: leave malloc alone); `torch.compile` of the update's element-wise blocks
    # (off | default | reduce-overhead: CUDA graphs on a GPU); bf16 autocast of the image
    # encoder on a GPU (ignored on a CPU).
    fused_optimizer: bool = True
    host_memory_kept_mb: int = 1024
    compile: str = "off"
    image_encoder_bf16: bool = False


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
    image_shift_pixels: int = 4  # DrQ: views padded (edge) by this and randomly cropped; 0 = off


@ALGO_SCHEMAS.register("sac_flow")
@dataclass
class SACFlowConfig(SACConfig):
    """SAC Flow (arXiv 2509.25756): SAC on a flow policy's noise-augmented rollout."""

    name: str = "sac_flow"


@ALGO_SCHEMAS.register("hg_dagger")
@dataclass
class HGDAggerConfig(AlgoConfig):
    """HG-DAgger: behaviour cloning on the demo buffer (demos + human-controlled steps)."""

    name: str = "hg_dagger"
    lr: float = 3e-4
    weight_decay: float = 0.0  # AdamW decoupled weight decay
    grad_clip_norm: float = 1.0  # 0 disables clipping
    demo_fraction: float = 1.0  # batches come only from the demo (aggregate) buffer
    replay_capacity: int = 200_000  # transitions (the online replay; not trained on)
    demo_capacity: int = 200_000  # transitions
    image_shift_pixels: int = 4  # DrQ random shift on views; 0 = off


# ----------------------------------------------------------------------------- pipeline
@dataclass
class PipelineConfig:
    name: str = "async"
    weight_sync: str = "full"  # full | delta (only the tensors that changed travel)
    inference: str = "local"  # local: a policy copy in each env worker | remote: one server
    inference_batch_window_ms: float = 2.0  # remote: requests this close share a forward pass
    inference_max_batch: int = 16  # remote: a full batch is answered at once


@PIPELINE_SCHEMAS.register("async")
@dataclass
class AsyncPipelineConfig(PipelineConfig):
    """Env workers and the learner run at once; weights flow as versioned snapshots."""

    name: str = "async"
    publish_every_updates: int = 20  # learner publishes a weight snapshot this often
    publish_every_s: float = 0.0  # and at least this often in seconds (0: by updates only)
    weight_poll_interval_s: float = 0.1  # env worker asks for new weights at most this often
    idle_wait_s: float = 0.01  # learner sleep while the update-to-data ceiling is reached
    max_unacknowledged_episodes: int = 3  # the robot holds while this many await the learner
    resend_after_s: float = 2.0  # while holding, spooled episodes are shipped again this often


@PIPELINE_SCHEMAS.register("sync")
@dataclass
class SyncPipelineConfig(PipelineConfig):
    """Collect an episode, train on it, sync weights, repeat: the paper's baseline."""

    name: str = "sync"


# ----------------------------------------------------------------------------- teleop
@TELEOP_SCHEMAS.register("none")
@dataclass
class TeleopConfig:
    """Who may take over from the policy during training; `none`: nobody."""

    name: str = "none"
    hold_after_input_s: float = 0.5  # the human keeps control this long after the last input


@TELEOP_SCHEMAS.register("expert")
@dataclass
class ExpertOperatorConfig(TeleopConfig):
    """A simulated operator: the task's scripted expert takes over by a rule, within a budget."""

    name: str = "expert"
    takeover_rule: str = "no_progress"  # no_progress | per_episode (registered rules)
    no_progress_steps: int = 15  # no_progress: take over after this many steps without progress
    progress_threshold_m: float = 0.005  # a step counts as progress if the target gets closer
    per_episode_probability: float = 0.5  # per_episode: chance of one takeover per episode
    takeover_steps: int = 10  # the operator keeps driving this many steps once it takes over
    max_takeovers_per_episode: int = 2
    budget_steps: int = 0  # intervened steps allowed over the whole run; 0: no limit


@TELEOP_SCHEMAS.register("spacemouse")
@dataclass
class SpaceMouseConfig(TeleopConfig):
    """A 3Dconnexion SpaceMouse through pyspacemouse (`hardware/teleop/spacemouse.py`)."""

    name: str = "spacemouse"
    device: str = ""  # pyspacemouse device name; empty: the first one found
    dead_zone_fraction: float = 0.05  # axis deflections below this share of full scale read 0
    translation_scale: float = 1.0  # action per full deflection, translation axes
    rotation_scale: float = 1.0  # action per full deflection, rotation axes
    active_threshold: float = 0.001  # |action| above this counts as human input
    axis_map: list[int] = field(default_factory=lambda: [1, 0, 2, 4, 3, 5])  # device axis
    # (x y z roll pitch yaw) feeding each base-frame action axis (dx dy dz drx dry drz) ...
    axis_signs: list[float] = field(default_factory=lambda: [-1.0, 1.0, 1.0, -1.0, 1.0, 1.0])
    close_button: int = 0  # button index that closes the gripper
    open_button: int = 1  # button index that opens it


@TELEOP_SCHEMAS.register("keyboard")
@dataclass
class KeyboardConfig(TeleopConfig):
    """Keyboard labels and an emergency hold, without X (`hardware/teleop/keyboard.py`)."""

    name: str = "keyboard"
    backend: str = "terminal"  # terminal (raw tty) | evdev (a /dev/input keyboard, no terminal)
    device_path: str = ""  # terminal: empty = /dev/tty; evdev: empty = the first keyboard found
    key_success: str = "s"
    key_failure: str = "f"
    key_start: str = "g"
    key_stop: str = "p"
    key_hold: str = " "  # emergency hold: latches the robot's hold
    key_release: str = "r"  # clears the hold latch



@dataclass
class RunConfig:
    name: str = ""  # empty: a timestamped name
    root: str = "runs"
    env_steps: int = 0  # stop after this many online environment steps (0: no limit)
    grad_steps: int = 6000  # or after this many learner updates (0: no limit)
    episodes: int = 0  # or after this many online episodes (0: no limit)
    stop_at_eval_success: float = 0.0  # or once a learning-curve evaluation reaches this (0: off)
    wall_s: float = 600.0  # or after this many seconds of training (0: no limit)
    seed: int = 0
    num_robots: int = 1  # env workers, one simulated robot each
    torch_threads: int = 1  # per training process; the actor and learner share the cores
    log_every_s: float = 5.0  # console progress line cadence
    checkpoint_every_s: float = 120.0
    remote_timeout_s: float = 120.0  # every wait on another worker gives up after this
    max_worker_restarts: int = 5  # per env worker; then the run stops with the last error
    worker_restart_backoff_s: float = 1.0  # first restart delay, doubled each time
    worker_restart_backoff_max_s: float = 30.0


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
    video_every_s: float = 60.0  # during training, one evaluation episode on video this often
    video_fps: float = 10.0
    # The learning curve: during training, the first robot evaluates `curve_episodes` fixed
    # seeds (deterministic policy, not training data) each time the run's online env steps
    # pass another multiple of this (0: off). TensorBoard eval/success_rate; summary.json.
    curve_every_env_steps: int = 0
    curve_episodes: int = 10


@dataclass
class Config:
    task: TaskConfig = field(default_factory=PegInsertionConfig)
    robot: RobotConfig = field(default_factory=SimFrankaConfig)
    algo: AlgoConfig = field(default_factory=SACConfig)
    policy: PolicyConfig = field(default_factory=MLPPolicyConfig)
    pipeline: PipelineConfig = field(default_factory=AsyncPipelineConfig)
    teleop: TeleopConfig = field(default_factory=TeleopConfig)
    run: RunConfig = field(default_factory=RunConfig)
    demos: DemosConfig = field(default_factory=DemosConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    obs: str = "state"  # state | image
    cluster: str = ""  # a cluster layout YAML (runtime/placement.py); empty: this machine
    resume: bool = False  # continue run.name from its checkpoint and episode store
