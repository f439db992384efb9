"""`userl train-reward task=T data=DIR[,DIR] out=F.pt [train.KEY=VALUE ...]`: train a success
classifier on labelled episodes, report held-out accuracy / precision / recall, draw its
calibration (F_calibration.png) and write the checkpoint (F.pt) and the report (F.json)."""

from __future__ import annotations

import json
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from userl.config.loader import load_config, load_preset
from userl.core.errors import ConfigError
from userl.core.registry import close_matches
from userl.data.store import EpisodeStore
from userl.policies.cnn import CNNPolicyConfig
from userl.rewards.classifier_model import save_classifier
from userl.rewards.training import (
    RewardTrainingConfig,
    build_classifier,
    check_episodes,
    frames_of,
    metrics,
    predict,
    split_episodes,
    train_classifier,
)
from userl.telemetry.progress import CountProgress
from userl.tools.collect import collect, collection_config

TRAIN_PREFIX = "train."
NEAR_MISS_NOISE_STD = 0.35  # `prepare_classifier`: the near misses' noise per action component
LABEL = "auto"  # `prepare_classifier` labels every frame by the simulator's success
HALTED_PER_EXPERT_EPISODE = 2  # `prepare_classifier`: halted episodes per expert one (most
# halts land far from the goal; a few rest just short of success, the frames that matter)


def training_config(arguments: list[str]) -> tuple[RewardTrainingConfig, list[str]]:
    """`train.KEY=VALUE` arguments into the training config; the rest are run-config keys."""
    config = RewardTrainingConfig()
    known = {f.name: f for f in fields(RewardTrainingConfig)}
    rest = []
    for argument in arguments:
        key, _, value = argument.partition("=")
        if not key.startswith(TRAIN_PREFIX):
            rest.append(argument)
            continue
        name = key[len(TRAIN_PREFIX) :]
        if name not in known:
            raise ConfigError(
                f"unknown config key {key!r}"
                f"{close_matches(name, list(known))}; train-reward takes: "
                f"{', '.join(TRAIN_PREFIX + k for k in known)}"
            )
        parsed = yaml.safe_load(value) if value else ""
        default = vars(config)[name]  # the field's current value: its type checks the text
        if isinstance(default, float) and isinstance(parsed, int):
            parsed = float(parsed)
        if type(parsed) is not type(default):
            raise ConfigError(f"bad value for {key!r}: {value!r} is not a {type(default).__name__}")
        setattr(config, name, parsed)
    return config, rest


def encoder_config(preset: str) -> CNNPolicyConfig:
    data = load_preset("policy", preset)
    return CNNPolicyConfig(**{k: v for k, v in data.items() if k != "name"})


def load_labelled(stores: list[Path], task: str) -> list[Any]:
    episodes = []
    for store in stores:
        if not store.is_dir():
            raise ConfigError(
                f"data={store}: no episode store there; give folders written "
                "by `userl collect ... label=auto`"
            )
        report = EpisodeStore(store).load()
        episodes += report.episodes
    others = sorted({e.task for e in episodes} - {task})
    if others:
        raise ConfigError(
            f"data= holds episodes of task {', '.join(others)}, not {task}; "
            f"pass task={others[0]} or other data"
        )
    return episodes


def plot_calibration(report: dict[str, Any], path: Path, title: str) -> Path:
    """A reliability diagram (held-out success rate per probability bin) and the bins'
    frame counts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = [b for b in report["calibration"] if b["count"]]
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(5, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    top.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    top.plot(
        [b["mean_probability"] for b in bins],
        [b["success_rate"] for b in bins],
        "o-",
        label="classifier",
    )
    top.set_ylabel("held-out success rate")
    top.set_title(
        f"{title}\naccuracy {report['accuracy']:.3f}, precision "
        f"{report['precision']:.3f}, recall {report['recall']:.3f}"
    )
    top.legend(loc="upper left")
    centres = [(b["low"] + b["high"]) / 2 for b in report["calibration"]]
    width = report["calibration"][0]["high"] - report["calibration"][0]["low"]
    bottom.bar(centres, [b["count"] for b in report["calibration"]], width=width * 0.9)
    bottom.set_yscale("log")
    bottom.set_xlabel("predicted success probability")
    bottom.set_ylabel("frames")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def run_train_reward(arguments: list[str], stores: list[Path], out: Path) -> dict[str, Any]:
    """Train, evaluate on held-out episodes, and write the checkpoint, report and plot."""
    train_config, rest = training_config(arguments)
    config = load_config(rest)
    torch.set_num_threads(train_config.torch_threads)
    torch.manual_seed(train_config.seed)
    episodes = load_labelled(stores, config.task.name)
    cameras = check_episodes(episodes, train_config.cameras)
    train_episodes, held_out = split_episodes(
        episodes, train_config.holdout_fraction, train_config.seed
    )
    if not held_out:
        raise ConfigError(
            "train-reward: no episode is held out; give more episodes or raise "
            "train.holdout_fraction"
        )
    train_frames = frames_of(train_episodes, cameras)
    test_frames = frames_of(held_out, cameras)
    encoder = encoder_config(train_config.encoder)
    encoder.image_size_px = train_config.image_size_px
    model = build_classifier(encoder, train_frames, train_config.hidden_dim)
    started = time.monotonic()
    epochs, every_s = train_config.epochs, config.run.log_every_s
    with CountProgress("train-reward", epochs, "epochs", every_s) as bar:
        losses = train_classifier(
            model,
            train_frames,
            train_config,
            lambda epochs, loss: bar.set(epochs, info=f"loss={loss:.4f}"),
        )
    train_s = time.monotonic() - started
    report = metrics(
        predict(model, test_frames, train_config.batch_size),
        test_frames.labels,
        train_config.threshold_probability,
        train_config.calibration_bins,
    )
    report.update(
        {
            "task": config.task.name,
            "cameras": cameras,
            "train_episodes": len(train_episodes),
            "held_out_episodes": len(held_out),
            "train_frames": len(train_frames),
            "train_s": round(train_s, 1),
            "losses": [round(v, 4) for v in losses],
        }
    )
    height, width = next(iter(train_frames.images.values())).shape[1:3]
    save_classifier(
        out,
        model,
        encoder,
        config.task.name,
        int(height),
        int(width),
        train_config.hidden_dim,
        report,
    )
    plot = plot_calibration(
        report,
        out.with_name(out.stem + "_calibration.png"),
        f"{config.task.name} success classifier (held out)",
    )
    out.with_suffix(".json").write_text(json.dumps(report, indent=2))
    summary = {k: v for k, v in report.items() if k not in ("calibration", "losses")}
    summary.update(
        {
            "checkpoint": str(out),
            "calibration_png": str(plot),
            "final_loss": report["losses"][-1] if losses else None,
        }
    )
    return {
        k: (round(v, 4) if isinstance(v, float) else v)
        for k, v in summary.items()
        if not isinstance(v, np.ndarray)
    }


def prepare_classifier(
    task: str,
    folder: Path,
    views: tuple[str, ...],
    episodes: int,
    epochs: int,
    noisy_seed: int = 1,
    cameras: list[str] | None = None,
) -> Path:
    """A classifier for `task` from `episodes` expert episodes, as many noisy-expert ones
    (mostly far off), as many near misses (the expert with a little noise: it comes close
    and often stops short) and `HALTED_PER_EXPERT_EPISODE` times as many halted ones (the
    expert holding still from a random step on: some rest just short of success, the frames
    a learning policy fools a classifier with), every frame labelled by the simulator
    (`collect label=auto`), then train-reward; reused when `folder` already holds one.
    `cameras`: the classifier's own views instead of the policy's (`views`' cameras): only
    they are recorded and trained on."""
    out = folder / "classifier.pt"
    if out.is_file():
        return out
    recorded = [f"robot.camera_names=[{','.join(cameras)}]"] if cameras else []
    common = [f"task={task}", *views, *recorded]
    # each set: its episodes, who acts (None: the expert demonstrator), its config overrides
    sets: dict[str, tuple[int, str | None, list[str]]] = {
        "expert": (episodes, None, []),
        "failed": (episodes, "noisy_expert", [f"run.seed={noisy_seed}"]),
        "near_miss": (
            episodes,
            "noisy_expert",
            [f"run.seed={noisy_seed + 1}", f"demos.noisy_expert_std={NEAR_MISS_NOISE_STD}"],
        ),
        "halted": (
            episodes * HALTED_PER_EXPERT_EPISODE,
            "halting_expert",
            [f"run.seed={noisy_seed + 2}"],
        ),
    }
    for name, (count, source, overrides) in sets.items():
        config = collection_config([*common, *overrides], label=LABEL)
        report = collect(config, folder / name, count, source=source, label=LABEL)
        print(json.dumps(report), flush=True)
    arguments = [f"task={task}", f"train.epochs={epochs}"]
    report = run_train_reward(arguments, [folder / name for name in sets], out)
    print(json.dumps(report), flush=True)
    return out
