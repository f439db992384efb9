"""The declared range of every numeric config field, in one table.

A number a type cannot bound (a negative force limit, a learning rate of 1e30, a step count
past 64 bits) would otherwise reach the robot or the learner. Every int, float and numeric
list field of every config class has a range, found in this order:

1. `dataclasses.field(metadata={"range": Range(...)})` on the field itself;
2. `NAMED`, by the field's name;
3. `SUFFIXES`, by the longest suffix of the name that has a rule (units: `_m`, `_deg`, ...).

`tests/unit/test_config_ranges.py` fails on a numeric field none of these cover.
"""

from __future__ import annotations

import math
from dataclasses import Field, dataclass
from typing import Any

INT_MAX = 2**63 - 1  # an int field must fit a signed 64-bit integer (numpy, torch, files)
INT_MIN = -(2**63)


@dataclass(frozen=True)
class Range:
    """Bounds for a number, or for each number of a list (with its length where fixed)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False  # the low bound itself is refused (> low)
    high_open: bool = False  # the high bound itself is refused (< high)
    length: int | None = None  # a list of exactly this many numbers
    ascending: bool = False  # a list of [low, high]: low < high

    def accepts(self, number: float) -> bool:
        """Whether one number lies within the bounds (finite, integers within 64 bits)."""
        if not math.isfinite(number):
            return False
        if isinstance(number, int) and not INT_MIN <= number <= INT_MAX:
            return False
        if self.low is not None and (number <= self.low if self.low_open else number < self.low):
            return False
        return not (
            self.high is not None
            and (number >= self.high if self.high_open else number > self.high)
        )

    def bounds(self) -> str:
        """'within [0, 1]', '> 0', '>= 0', or '' for any finite number."""
        if self.low is not None and self.high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"within {left}{self.low:g}, {self.high:g}{right}"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        if self.high is not None:
            return f"{'<' if self.high_open else '<='} {self.high:g}"
        return ""

    def problem(self, value: Any) -> str | None:
        """What is wrong with `value` ('must be ...'), or None when it is within range."""
        if isinstance(value, (list, tuple)):
            count = f"{self.length} numbers" if self.length is not None else "numbers"
            expected = f"must be a list of {count}, each finite {self.bounds()}".rstrip()
            if self.length is not None and len(value) != self.length:
                return expected
            if not all(_number(v) and self.accepts(v) for v in value):
                return expected
            if self.ascending and not value[0] < value[-1]:
                return "must be [low, high] with low < high"
            return None
        if not _number(value):
            return None  # None where a field allows it; a wrong type is the loader's to refuse
        if not self.accepts(value):
            if isinstance(value, int):
                return f"must be an integer {self.bounds()} and <= 2**63-1".replace("  ", " ")
            return f"must be a finite number {self.bounds()}".rstrip()
        return None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


ANY = Range()  # any finite number (a coordinate, a signed bias)
POSITIVE = Range(0, low_open=True)
NON_NEGATIVE = Range(0)  # 0 usually means off / no limit
AT_LEAST_ONE = Range(1)
UNIT = Range(0, 1)
LEARNING_RATE = Range(0, 1)  # 0 freezes what it trains (a fixed policy acting online)
PIXELS = Range(8, 65536)
ANGLE_DEG = Range(0, 360)
ANGLE_RAD = Range(0, 2 * math.pi)
POINT3 = Range(length=3)
POINT2 = Range(length=2)
INTERVAL = Range(length=2, ascending=True)

# By suffix; the longest matching suffix wins, so `_timeout_s` beats `_s`.
SUFFIXES: dict[str, Range] = {
    # time and rates
    "_hz": POSITIVE,
    "_fps": POSITIVE,
    "_dt_s": POSITIVE,
    "_timeout_s": NON_NEGATIVE,
    "_s": NON_NEGATIVE,
    "_ms": NON_NEGATIVE,
    # lengths, angles, forces (scalars: magnitudes)
    "_m": NON_NEGATIVE,
    "_deg": ANGLE_DEG,
    "_fovy_deg": Range(0, 180, low_open=True, high_open=True),
    "_rad": ANGLE_RAD,
    "_n": POSITIVE,  # a force limit or scale: 0 or below would switch it off or invert it
    "_nm": POSITIVE,
    "_kg": POSITIVE,
    "_kg_m2": NON_NEGATIVE,
    "_per_m": NON_NEGATIVE,  # stiffness, damping
    "_per_rad": NON_NEGATIVE,
    "_m_per_s": POSITIVE,  # speed limits and scales
    "_rad_per_s": POSITIVE,
    # coordinates (lists, any sign)
    "_pos_m": POINT3,
    "_lookat_m": POINT3,
    "_position_m": POINT3,
    "_nominal_xy_m": POINT2,
    "_x_range_m": INTERVAL,
    "_y_range_m": INTERVAL,
    "_angle_range_deg": Range(-360, 360, length=2, ascending=True),
    # images
    "_px": PIXELS,
    # learning
    "_lr": LEARNING_RATE,
    "_temperature": Range(0, 1000, low_open=True),
    "_norm": NON_NEGATIVE,  # 0: no clipping
    "_weight": NON_NEGATIVE,
    "_penalty": NON_NEGATIVE,
    "_fraction": UNIT,
    "_probability": UNIT,
    "_threshold": NON_NEGATIVE,
    "_capacity": POSITIVE,
    # counts (ints)
    "_steps": NON_NEGATIVE,
    "_episodes": NON_NEGATIVE,
    "_updates": NON_NEGATIVE,
    "_mb": NON_NEGATIVE,
    "_bytes": NON_NEGATIVE,
    "_dim": AT_LEAST_ONE,
    "_dims": AT_LEAST_ONE,
    "_width": AT_LEAST_ONE,
    "_widths": AT_LEAST_ONE,
    "_strides": AT_LEAST_ONE,
    "_heads": AT_LEAST_ONE,
    "_layers": AT_LEAST_ONE,
    "_tokens": NON_NEGATIVE,
    "_seed": NON_NEGATIVE,
    "_button": NON_NEGATIVE,
}

# By full name, where the name's suffix says nothing (or says too little).
NAMED: dict[str, Range] = {
    # run, demos, eval
    "seed": NON_NEGATIVE,
    "seed_offset": NON_NEGATIVE,
    "episodes": NON_NEGATIVE,
    "num_robots": AT_LEAST_ONE,
    "torch_threads": AT_LEAST_ONE,
    "max_worker_restarts": NON_NEGATIVE,
    "checkpoints_kept": NON_NEGATIVE,  # 0: no periodic checkpoints
    "stop_at_eval_success": UNIT,
    "video_render_max_period_fraction": Range(0, 1, low_open=True),
    "slow_videos_before_off": POSITIVE,
    "noisy_expert_std": NON_NEGATIVE,
    "success_reward_min": ANY,
    "weight": POSITIVE,  # a cell's share of each batch
    # algorithms
    "batch_size": AT_LEAST_ONE,
    "utd_max": POSITIVE,
    "utd_min": NON_NEGATIVE,
    "gamma": Range(0, 1, low_open=True),
    "tau": Range(0, 1, low_open=True),
    "lr": LEARNING_RATE,
    "num_critics": AT_LEAST_ONE,
    "critic_subset": AT_LEAST_ONE,
    "critic_actor_ratio": AT_LEAST_ONE,
    "target_entropy": ANY,  # None: -action_dim
    "ema_decay": Range(0, 1, high_open=True),
    "weight_decay": NON_NEGATIVE,
    "image_shift_pixels": Range(0, 256),
    "max_nonfinite_updates": NON_NEGATIVE,
    "value_bins": Range(2),  # RECAP: bins of the value's distribution
    "return_horizon_steps": AT_LEAST_ONE,  # RECAP: each step costs -1/T of the return
    "advantage_steps": AT_LEAST_ONE,  # RECAP: n of the n-step return
    "positive_quantile": Range(0, 1, high_open=True),
    "quantile_window": AT_LEAST_ONE,
    "label_dropout": UNIT,
    "relabel_every_updates": AT_LEAST_ONE,
    "calibration_states": AT_LEAST_ONE,  # RECAP: states kept with Monte-Carlo returns
    "guidance": NON_NEGATIVE,  # classifier-free guidance weight (1: none; 0: unconditioned)
    "inversion_iterations": AT_LEAST_ONE,  # DSRL: fixed-point steps per inverted Euler step
    "inversion_max_error": Range(0, 2, low_open=True),  # DSRL: round-trip error, action units
    "noise_cache_rows": NON_NEGATIVE,  # DSRL: stored rows whose recovered noise is kept
    # policies
    "noise_scale": POSITIVE,  # an adapter's noise = noise_scale * its output in [-1, 1]
    "residual_scale": Range(0, 2, low_open=True),  # a residual's bound per action dimension
    "init_std": POSITIVE,
    "log_std_min": Range(-20, 20),
    "log_std_max": Range(-20, 20),
    "bc_action_abs_max": Range(0, 1, low_open=True),
    "gate_bias_init": ANY,
    "flow_steps": AT_LEAST_ONE,
    "chunk_size": AT_LEAST_ONE,
    "rtc_max_guidance": POSITIVE,  # real-time chunking: the guidance weight's clip (beta)
    "d_model": AT_LEAST_ONE,
    "group_norm_groups": AT_LEAST_ONE,
    "pool_queries": AT_LEAST_ONE,
    "stem_kernel_size": AT_LEAST_ONE,
    "stem_stride": AT_LEAST_ONE,
    "vocab_size": NON_NEGATIVE,  # 0: the tokenizer's length
    "image_token_id": Range(-1),  # -1: the tokenizer's <image> id
    "max_action_dim": NON_NEGATIVE,
    "max_state_dim": NON_NEGATIVE,
    "inference_max_batch": AT_LEAST_ONE,
    "image_mean": Range(0, 1, length=3),
    "image_std": Range(0, low_open=True, length=3),
    # tasks
    "action_scale_m": POSITIVE,
    "action_scale_rad": Range(0, math.pi, low_open=True),
    "obs_position_scale_m": POSITIVE,
    "obs_angle_scale_rad": POSITIVE,
    "dense_scale_per_m": NON_NEGATIVE,
    "expert_gain": POSITIVE,
    "success_min": ANY,
    "cap_friction_torque_nm": NON_NEGATIVE,
    "box_inner_half_size_m": Range(0, low_open=True, length=2),
    "socket_half_size_m": Range(0, low_open=True, length=2),
    "charger_half_size_m": Range(0, low_open=True, length=3),
    # robots
    "arm_type": NON_NEGATIVE,
    "damping_ratio": POSITIVE,
    "gripper_command_closed": NON_NEGATIVE,
    "gripper_command_open": NON_NEGATIVE,
    "home_joints_rad": Range(-2 * math.pi, 2 * math.pi),
    "max_step_m": POSITIVE,
    "max_step_rad": Range(0, math.pi, low_open=True),
    "ik_max_iterations": AT_LEAST_ONE,
    "max_error_recoveries": NON_NEGATIVE,
    "motion_timeout_margin": AT_LEAST_ONE,  # times the motion's duration at full speed
    "workspace_low_m": POINT3,
    "workspace_high_m": POINT3,
    "crops": Range(0, length=4),  # per view: [top, left, height, width] pixels
    # teleop, rewards
    "axis_map": Range(0, 5, length=6),
    "axis_signs": Range(-1, 1, length=6),
    "rotation_scale": POSITIVE,
    "translation_scale": POSITIVE,
    "active_threshold": NON_NEGATIVE,
    "max_takeovers_per_episode": NON_NEGATIVE,
    "max_unacknowledged_episodes": NON_NEGATIVE,
    "success_reward": ANY,
    "target_tcp_pose": ANY,  # its length (3 or 7) is PoseRewardConfig.problem()'s
}


def declared_range(item: Field[Any]) -> Range | None:
    """The range of a config field: its own metadata, else its name's, else its suffix's."""
    own = item.metadata.get("range")
    if isinstance(own, Range):
        return own
    if item.name in NAMED:
        return NAMED[item.name]
    matches = [suffix for suffix in SUFFIXES if item.name.endswith(suffix)]
    return SUFFIXES[max(matches, key=len)] if matches else None


# Fields that bound one quantity from both sides: the first must lie below the second.
PAIRS: tuple[tuple[str, str], ...] = (
    ("workspace_low_m", "workspace_high_m"),
    ("log_std_min", "log_std_max"),
    ("min_reach_m", "max_reach_m"),
    ("workspace_z_min_m", "workspace_z_max_m"),
)
