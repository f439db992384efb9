"""The one `userl` command: train, eval, collect, data stats (and more as they land)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from userl.core.errors import RewardFailed, TrainingDiverged
from userl.core.registry import Registry, UnknownNameError
from userl.hardware.vendor import HardwareUnavailable
from userl.runtime.errors import RunFailed

COMMANDS: Registry = Registry("command")
USAGE = """usage: userl COMMAND [key=value ...]
  train [key=value ...]                         train (`userl train --help` lists every key)
  config show [key=value ...]                   print the resolved config: type, value, help
  algorithms                                    which algo= trains which policy= (the registries)
  eval run=runs/<name> episodes=N [out=F.json]  evaluate a trained run
       [checkpoint=latest|best|step_N]          (one of its checkpoints; default latest)
       [video=true video_dir=DIR]               (and write each episode's video into DIR)
  eval task=T policy.weights=DIR episodes=N     evaluate an exported policy
  eval task=T policy=expert episodes=N          evaluate the scripted expert
  collect task=T teleop=expert episodes=N out=DIR [video=true]
                                                record demonstrations (and front-camera GIFs)
  collect run=runs/<name> episodes=N out=DIR    record a trained run's policy
  collect task=T policy=random|noisy_expert|halting_expert episodes=N out=DIR
          [label=auto|keyboard]
                                                record failures; label: per-frame success
  train-reward task=T data=DIR[,DIR] out=F.pt   train a success classifier (reward=classifier)
  data stats PATH                               describe an episode store
  data view STORE_OR_DATASET [out=F.rrd]        look at episodes in the rerun viewer
  data export STORE out=DIR format=lerobot      an episode store as a LeRobotDataset v3.0
  data import DIR out=STORE [task=T]            a LeRobot dataset into an episode store
  bench NAME [key=value ...] out=F.json         run benchmark NAME, write its figures
  export-policy run=runs/<name> out=DIR         the policy as config.json + model.safetensors
                                                (load it back with policy.weights=DIR)
  doctor [robot=... cluster=...]                check the installation and the hardware
  record-pose out=F.yaml [field=NAME]           write the robot's current TCP pose to a file"""


class UsageError(ValueError):
    """Bad command-line input; exits 2 with one line."""


def take(arguments: list[str], key: str, default: str | None = None) -> str | None:
    """Remove `key=value` from `arguments` and return the value (last one wins)."""
    value = default
    for argument in list(arguments):
        if argument.startswith(f"{key}="):
            value = argument.partition("=")[2]
            arguments.remove(argument)
    return value


def positive_int(text: str | None, key: str) -> int:
    try:
        value = int(text or "")
    except ValueError:
        raise UsageError(f"{key}={text!r} is not a whole number; write e.g. {key}=20") from None
    if value < 0:
        raise UsageError(f"{key}={value} must be >= 0")
    return value


HELP_FLAGS = ("-h", "--help")


def show_config(arguments: list[str]) -> int:
    """Print every key of the config these arguments resolve to: type, value, default, help."""
    from userl.config.defaults import DEFAULT_PRESETS
    from userl.config.describe import describe
    from userl.config.loader import load_config, split_arguments

    arguments = [a for a in arguments if a not in HELP_FLAGS]
    config = load_config(arguments)
    chosen = {**DEFAULT_PRESETS, **split_arguments(arguments)[0]}
    print(describe(config, {group: name.partition(":")[0] for group, name in chosen.items()}))
    return 0


@COMMANDS.register("config")
def config_command(arguments: list[str]) -> int:
    """`userl config show [key=value ...]`."""
    if not arguments or arguments[0] != "show":
        raise UsageError("usage: userl config show [key=value ...]")
    return show_config(arguments[1:])


@COMMANDS.register("algorithms")
def algorithms_command(arguments: list[str]) -> int:
    """`userl algorithms`: the table of which algorithm preset trains which policy preset."""
    if arguments:
        raise UsageError(f"userl algorithms takes no arguments, got {' '.join(arguments)}")
    from userl.config.compatibility import compatibility_table

    print(compatibility_table())
    return 0


@COMMANDS.register("train")
def train_command(arguments: list[str]) -> int:
    from userl.config.loader import load_config, load_config_file

    if any(a in HELP_FLAGS for a in arguments):
        print("usage: userl train [group=preset ...] [key=value ...]; the resolved config:\n")
        return show_config(arguments)
    config = load_config(arguments)
    if config.resume:  # continue with the run's own saved config, plus these overrides
        run_dir = Path(config.run.root) / config.run.name
        if not config.run.name or not (run_dir / "config.yaml").is_file():
            raise UsageError(
                f"resume=true needs run.name= of an existing run; "
                f"found no {run_dir / 'config.yaml'}"
            )
        config = load_config_file(run_dir / "config.yaml", arguments)
    from userl.tools.doctor import preflight

    preflight(config)  # a missing driver, SDK or robot address: one line, before Ray starts
    from userl.runtime.train import train  # heavy imports only after the config is sound

    summary = train(config)
    return 130 if summary.get("interrupted") else 0


@COMMANDS.register("eval")
def eval_command(arguments: list[str]) -> int:
    from userl.config.loader import load_config, load_config_file

    arguments = list(arguments)
    run = take(arguments, "run")
    out = take(arguments, "out")
    episodes = positive_int(take(arguments, "episodes", "20"), "episodes")
    source = take(arguments, "policy") or "policy"  # a registered action source: policy | expert
    video = take(arguments, "video", "false")
    if video not in ("true", "false"):
        raise UsageError(f"video={video} must be true or false")
    recording, video_dir = video == "true", Path(take(arguments, "video_dir") or "eval_videos")
    if recording and video_dir.exists() and not video_dir.is_dir():
        raise UsageError(f"video_dir={video_dir} is a file; give a folder for the videos")
    checkpoint = take(arguments, "checkpoint")
    if checkpoint is not None and run is None:
        raise UsageError(f"checkpoint={checkpoint} picks a run's checkpoint; add run=runs/<name>")
    if checkpoint is not None:
        arguments.append(f"eval.checkpoint={checkpoint}")
    if run is not None:
        config = load_config_file(Path(run) / "config.yaml", arguments)
    else:
        config = load_config(arguments)
    if run is not None and source == "policy":  # a bad name: one line, before any episode
        from userl.data.checkpoint_files import chosen_checkpoint

        chosen_checkpoint(Path(run), config.eval.checkpoint)
    from userl.rollout.evaluation import results_of, run_episodes

    run_dir = Path(run) if run else None
    per_cell = {
        cell.name: run_episodes(
            config,
            source,
            episodes,
            run_dir,
            cell=index,
            progress=f"eval {cell.name}",
            video=recording,
        )
        for index, cell in enumerate(config.cells)
    }  # several cells: each evaluated
    evaluated = (
        [e for cell in per_cell.values() for e in cell]
        if per_cell
        else run_episodes(config, source, episodes, run_dir, progress="eval", video=recording)
    )
    report = results_of(evaluated)
    report.update({"task": config.task.name, "policy": source, "run": run})
    if per_cell:
        report["cells"] = {
            name: {k: v for k, v in results_of(cell).items() if k != "results"}
            for name, cell in per_cell.items()
        }
    if recording:
        from userl.telemetry.mp4 import write_episode_videos

        report["videos"] = [
            path
            for name, group in (per_cell or {"": evaluated}).items()
            for path in write_episode_videos(
                video_dir, group, config.eval.video_fps, config.eval.video_format, name
            )
        ]
    print(json.dumps({k: v for k, v in report.items() if k != "results"}))
    if out:
        Path(out).write_text(json.dumps(report, indent=2))
    return 0


@COMMANDS.register("collect")
def collect_command(arguments: list[str]) -> int:
    """`userl collect ...` (see USAGE): `tools/collect.py` records the episodes."""
    from userl.tools.collect import collect, collection_config

    arguments = list(arguments)
    teleop = str(take(arguments, "teleop", "expert"))
    out = take(arguments, "out")
    episodes = positive_int(take(arguments, "episodes", "20"), "episodes")
    video = take(arguments, "video", "false")
    if video not in ("true", "false"):
        raise UsageError(f"video={video} must be true or false")
    if not out:
        raise UsageError("collect needs out=DIR, the episode store to write")
    run = take(arguments, "run")  # record a trained run's policy instead of a demonstrator
    source = take(arguments, "policy")  # a registered action source: random | noisy_expert | ...
    label = take(arguments, "label")
    cell = take(arguments, "cell")  # a multi-cell run's cell (default: its first)
    run_dir = Path(run) if run else None
    config = collection_config(arguments, teleop, run_dir, label)
    report = collect(
        config,
        Path(out),
        episodes,
        run=run_dir,
        source=source,
        cell=cell,
        video=video == "true",
        label=label,
    )
    print(json.dumps(report))
    return 0


@COMMANDS.register("train-reward")
def train_reward_command(arguments: list[str]) -> int:
    """`userl train-reward task=T data=DIR[,DIR...] out=FILE.pt [train.KEY=VALUE ...]`."""
    from userl.tools.train_reward import run_train_reward

    arguments = list(arguments)
    data = take(arguments, "data")
    out = take(arguments, "out")
    if not data or not out:
        raise UsageError(
            "usage: userl train-reward task=T data=DIR[,DIR] out=FILE.pt [train.epochs=N ...]"
        )
    report = run_train_reward(arguments, [Path(p) for p in data.split(",")], Path(out))
    print(json.dumps(report))
    return 0


@COMMANDS.register("bench")
def bench_command(arguments: list[str]) -> int:
    arguments = list(arguments)
    from userl.benchmarks import bench_help, load_benchmark

    if arguments and arguments[0] in HELP_FLAGS:
        print(bench_help())
        return 0
    if not arguments or "=" in arguments[0]:
        raise UsageError("usage: userl bench NAME [key=value ...] out=FILE.json")
    from userl.benchmarks.provenance import stamped

    name = arguments.pop(0)
    if any(a in HELP_FLAGS for a in arguments):
        print(bench_help(name))
        return 0
    benchmark = load_benchmark(name)
    out = take(arguments, "out")
    if out and not Path(out).parent.is_dir():  # found before the run, not after its figures
        raise UsageError(
            f"out={out}: its folder {Path(out).parent} does not exist; create it or give "
            "another out="
        )
    result = benchmark.run(arguments)
    print(benchmark.table(result))
    if out:  # the record says where and when it was made
        Path(out).write_text(json.dumps(stamped(result), indent=2))
    return 0


DATA_COMMANDS: Registry = Registry("data command")


@COMMANDS.register("data")
def data_command(arguments: list[str]) -> int:
    """`userl data stats|view|export|import ...`: describe, view, export or import episode
    data."""
    if not arguments:
        raise UsageError(
            "usage: userl data stats PATH | view PATH [out=F.rrd] | "
            "export STORE out=DIR format=lerobot | import DIR out=STORE"
        )
    return DATA_COMMANDS.get(arguments[0])(list(arguments[1:]))


@DATA_COMMANDS.register("stats")
def data_stats_command(arguments: list[str]) -> int:
    from userl.data.store import EpisodeStore

    if len(arguments) != 1:
        raise UsageError("usage: userl data stats PATH")
    path = Path(arguments[0])
    store = EpisodeStore(path)
    if not path.is_dir() or not store.is_store():
        hint = (
            " (a run folder: give its episodes/ or demos/)" if (path / "episodes").is_dir() else ""
        )
        raise UsageError(
            f"no episode store at {path}{hint}; give a folder like runs/<name>/episodes"
        )
    print(json.dumps(store.stats()))
    return 0


@DATA_COMMANDS.register("view")
def data_view_command(arguments: list[str]) -> int:
    """`userl data view STORE_OR_DATASET [out=F.rrd]`: the rerun viewer, or an .rrd file."""
    from userl.tools.data_view import view

    out = take(arguments, "out")
    if len(arguments) != 1:
        raise UsageError("usage: userl data view STORE_OR_DATASET [out=F.rrd]")
    print(json.dumps(view(Path(arguments[0]), Path(out) if out else None)))
    return 0


@DATA_COMMANDS.register("export")
def data_export_command(arguments: list[str]) -> int:
    """`userl data export STORE out=DIR format=lerobot [fps=N] [instruction=TEXT] [robot=R]`
    (`robot`: the robot preset that recorded a store that is not a run's)."""
    from userl.data.interop import EXPORT_FORMATS
    from userl.tools.data_transfer import export_store

    out, fmt = take(arguments, "out"), take(arguments, "format", "lerobot") or ""
    fps, instruction = take(arguments, "fps"), take(arguments, "instruction")
    robot = take(arguments, "robot")
    if len(arguments) != 1 or not out:
        raise UsageError(
            "usage: userl data export STORE out=DIR format=lerobot [fps=N] [robot=PRESET]"
        )
    report = export_store(
        Path(arguments[0]),
        Path(out),
        EXPORT_FORMATS.get(fmt),
        positive_int(fps, "fps") if fps else None,
        instruction,
        robot=robot,
    )
    print(json.dumps(report))
    return 0


@DATA_COMMANDS.register("import")
def data_import_command(arguments: list[str]) -> int:
    """`userl data import DIR out=STORE [task=T obs=...] [demos.lerobot.KEY=...]`."""
    from userl.tools.data_transfer import import_dataset

    out = take(arguments, "out")
    if not arguments or "=" in arguments[0] or not out:
        raise UsageError("usage: userl data import DIR out=STORE [task=T] [demos.lerobot.KEY=V]")
    source = Path(arguments.pop(0))
    print(json.dumps(import_dataset(source, Path(out), arguments)))
    return 0


@COMMANDS.register("export-policy")
def export_policy_command(arguments: list[str]) -> int:
    """`userl export-policy run=runs/<name> out=DIR` (`tools/export_policy.py`)."""
    arguments = list(arguments)
    run, out = take(arguments, "run"), take(arguments, "out")
    if not run or not out:
        raise UsageError("export-policy needs run=runs/<name> and out=DIR (a new folder)")
    if arguments:
        raise UsageError(f"export-policy takes run= and out= only, not {arguments[0]!r}")
    from userl.tools.export_policy import export_policy

    print(json.dumps(export_policy(run, out)))
    return 0


@COMMANDS.register("doctor")
def doctor_command(arguments: list[str]) -> int:
    """`userl doctor [robot=... cluster=... teleop=...]`: one line per check; 1 if any fails."""
    from userl.config.loader import load_config
    from userl.tools.doctor import run_doctor

    checks = run_doctor(load_config(arguments))
    for check in checks:
        print(check.line())
    return 0 if all(check.ok for check in checks) else 1


@COMMANDS.register("record-pose")
def record_pose_command(arguments: list[str]) -> int:
    """`userl record-pose out=TASK.yaml [field=NAME] [robot=...]`: the TCP pose into a file."""
    from userl.config.loader import load_config
    from userl.hardware.vendor import HardwareUnavailable
    from userl.tools.record_pose import pose_value, read_tcp_pose, write_pose

    arguments = list(arguments)
    out = take(arguments, "out")
    field = take(arguments, "field", "target_tcp_pose") or ""
    if not out:
        raise UsageError("record-pose needs out=FILE.yaml, the task config file to write")
    if not field.isidentifier():
        raise UsageError(f"field={field!r} is not a config key; write e.g. field=target_tcp_pose")
    config = load_config(arguments)
    try:
        pose = read_tcp_pose(config)
    except HardwareUnavailable as error:
        raise RunFailed(str(error)) from None
    value = pose_value(pose, field)
    try:
        write_pose(Path(out), field, value)
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot write {out}: {error}; give a YAML file of keys") from None
    print(json.dumps({"out": out, "field": field, "value": value, "robot": config.robot.name}))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    from userl.core.errors import ConfigError

    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if arguments else 2
    try:
        command: Callable[[list[str]], int] = COMMANDS.get(arguments[0])
        return command(arguments[1:])
    except (ConfigError, UsageError, UnknownNameError, HardwareUnavailable) as error:
        print(f"userl: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:  # its message, when it has one, says how to continue
        print(f"userl: interrupted{f': {stop}' if str(stop) else ''}", file=sys.stderr)
        return 130
    # a run-level failure: one line, no traceback
    except (RunFailed, RewardFailed, TrainingDiverged) as error:
        print(f"userl: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
