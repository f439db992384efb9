"""Training a success classifier from labelled episodes (`userl collect label=...`): frames
are the observations after each step, labels the per-step success the episodes recorded.
Episodes are split into training and held-out sets (successful and failed ones alike), and
the held-out frames give accuracy, precision, recall and the calibration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from userl.core.errors import ConfigError
from userl.core.types import Episode
from userl.policies.cnn import CNNPolicyConfig
from userl.rewards.classifier_model import SuccessClassifier


@dataclass
class RewardTrainingConfig:
    """`userl train-reward ... train.KEY=VALUE`: how the classifier is trained."""

    epochs: int = 12
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    holdout_fraction: float = 0.25  # share of successful and of failed episodes held out
    seed: int = 0
    cameras: list[str] = field(default_factory=list)  # empty: every view in the data
    encoder: str = "cnn_small"  # the policy preset whose image encoder (trunk) is reused
    image_size_px: int = 64  # views are resized to this square size (0: as recorded)
    hidden_dim: int = 64
    threshold_probability: float = 0.5  # the metrics' decision threshold
    calibration_bins: int = 10
    torch_threads: int = 1
    shift_px: int = 4  # random-shift augmentation of training frames (0: off)


@dataclass
class FrameSet:
    """Views (camera -> uint8 (N, H, W, 3)) and labels (N,) of some episodes' frames."""

    images: dict[str, np.ndarray]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def frames_of(episodes: list[Episode], cameras: list[str]) -> FrameSet:
    """The observation after each step with its label (the step's recorded success)."""
    images: dict[str, list[np.ndarray]] = {name: [] for name in cameras}
    labels: list[np.ndarray] = []
    for episode in episodes:
        assert episode.step_success is not None
        for name in cameras:
            images[name].append(episode.observations[name][1:])
        labels.append(episode.step_success.astype(np.float32))
    return FrameSet(
        {name: np.concatenate(views) for name, views in images.items()}, np.concatenate(labels)
    )


def check_episodes(episodes: list[Episode], cameras: list[str]) -> list[str]:
    """The cameras to train on; a one-line ConfigError when the data cannot train one."""
    if not episodes:
        raise ConfigError("train-reward: the data= stores hold no episodes")
    unlabelled = sum(e.step_success is None for e in episodes)
    if unlabelled:
        raise ConfigError(
            f"train-reward: {unlabelled} episodes have no per-frame labels; "
            "record them with `userl collect ... label=auto` (or label=keyboard)"
        )
    views = sorted(k for k, v in episodes[0].observations.items() if v.ndim == 4)
    if not views:
        raise ConfigError("train-reward: the episodes hold no camera views; collect with obs=image")
    chosen = cameras or views
    missing = [c for c in chosen if any(c not in e.observations for e in episodes)]
    if missing:
        raise ConfigError(
            f"train-reward: train.cameras names {', '.join(missing)}, which the "
            f"episodes lack; they have: {', '.join(views)}"
        )
    labels = np.concatenate([e.step_success for e in episodes if e.step_success is not None])
    if labels.all() or not labels.any():
        raise ConfigError(
            "train-reward: every frame has the same label; add failures "
            "(`collect policy=random` or `policy=noisy_expert`) or successes"
        )
    return chosen


def split_episodes(
    episodes: list[Episode], holdout_fraction: float, seed: int
) -> tuple[list[Episode], list[Episode]]:
    """(training, held-out): the fraction of successful and of failed episodes, each."""
    rng = np.random.default_rng(seed)
    train, held_out = [], []
    for outcome in (True, False):
        group = [e for e in episodes if bool(e.success) == outcome]
        order = rng.permutation(len(group))
        count = int(round(holdout_fraction * len(group)))
        if holdout_fraction > 0 and len(group) > 1:
            count = max(count, 1)
        held_out += [group[i] for i in order[:count]]
        train += [group[i] for i in order[count:]]
    return train, held_out


def random_shift(images: Tensor, pad_px: int, generator: torch.Generator) -> Tensor:
    """DrQ-style augmentation: pad by replication and crop back at a random offset."""
    if pad_px <= 0:
        return images
    batch, height, width, _ = images.shape
    padded = torch.nn.functional.pad(
        images.permute(0, 3, 1, 2).float(), (pad_px,) * 4, mode="replicate"
    )
    dx, dy = torch.randint(0, 2 * pad_px + 1, (2,), generator=generator).tolist()
    return padded[:, :, dy : dy + height, dx : dx + width].permute(0, 2, 3, 1).to(images.dtype)


def predict(model: SuccessClassifier, frames: FrameSet, batch_size: int) -> np.ndarray:
    """Success probabilities (N,)."""
    model.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(frames), batch_size):
            batch = {
                k: torch.as_tensor(v[start : start + batch_size]) for k, v in frames.images.items()
            }
            out.append(torch.sigmoid(model(batch)).numpy())
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def train_classifier(
    model: SuccessClassifier,
    frames: FrameSet,
    config: RewardTrainingConfig,
    on_epoch: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Binary cross-entropy (classes balanced by weight) with Adam; the loss per epoch.
    `on_epoch` is told after each epoch how many are done and its loss (a progress bar)."""
    generator = torch.Generator().manual_seed(config.seed)
    positives = float(frames.labels.sum())
    pos_weight = torch.tensor((len(frames) - positives) / max(positives, 1.0))
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    images = {k: torch.as_tensor(v) for k, v in frames.images.items()}
    labels = torch.as_tensor(frames.labels)
    losses = []
    for _ in range(config.epochs):
        model.train()
        order = torch.randperm(len(frames), generator=generator)
        total = 0.0
        for start in range(0, len(frames), config.batch_size):
            index = order[start : start + config.batch_size]
            batch = {
                k: random_shift(v[index], config.shift_px, generator) for k, v in images.items()
            }
            loss = loss_fn(model(batch), labels[index])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(index)
        losses.append(total / len(frames))
        if on_epoch is not None:
            on_epoch(len(losses), losses[-1])
    return losses


def metrics(
    probabilities: np.ndarray, labels: np.ndarray, threshold: float, bins: int
) -> dict[str, Any]:
    """Accuracy, precision, recall, balanced accuracy, counts and the calibration bins."""
    said = probabilities >= threshold
    truth = labels > 0.5
    tp, fp = int(np.sum(said & truth)), int(np.sum(said & ~truth))
    fn, tn = int(np.sum(~said & truth)), int(np.sum(~said & ~truth))
    recall = tp / max(tp + fn, 1)
    specificity = tn / max(tn + fp, 1)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    calibration = [
        {
            "low": float(edges[b]),
            "high": float(edges[b + 1]),
            "count": int(np.sum(which == b)),
            "mean_probability": float(probabilities[which == b].mean())
            if np.any(which == b)
            else None,
            "success_rate": float(truth[which == b].mean()) if np.any(which == b) else None,
        }
        for b in range(bins)
    ]
    return {
        "frames": int(len(labels)),
        "success_frames": int(truth.sum()),
        "accuracy": (tp + tn) / max(len(labels), 1),
        "precision": tp / max(tp + fp, 1),
        "recall": recall,
        "balanced_accuracy": (recall + specificity) / 2.0,
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
        "true_negatives": tn,
        "threshold_probability": threshold,
        "calibration": calibration,
    }


def build_classifier(
    encoder: CNNPolicyConfig, frames: FrameSet, hidden_dim: int
) -> SuccessClassifier:
    any_view = next(iter(frames.images.values()))
    return SuccessClassifier(
        encoder, list(frames.images), int(any_view.shape[1]), int(any_view.shape[2]), hidden_dim
    )
