"""The success classifier's training pieces: the held-out split, the metrics, the model's
checkpoint round trip (no physics, tiny images)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from userl.core.types import Episode
from userl.policies.cnn import CNNPolicyConfig
from userl.rewards.classifier_model import SuccessClassifier, load_classifier, save_classifier
from userl.rewards.training import (
    RewardTrainingConfig,
    frames_of,
    metrics,
    split_episodes,
    train_classifier,
)

SIZE = 12


def episode(success: bool, steps: int = 6, seed: int = 0) -> Episode:
    """Frames whose brightness tells success (the last half of a successful episode)."""
    labels = np.zeros(steps, bool)
    if success:
        labels[steps // 2 :] = True
    rng = np.random.default_rng(seed)
    views = rng.integers(0, 60, (steps + 1, SIZE, SIZE, 3)).astype(np.uint8)
    views[1:][labels] += 180
    return Episode(
        robot_id="r",
        task="peg_insertion",
        observations={"state": np.zeros((steps + 1, 3), np.float32), "front": views},
        actions=np.zeros((steps, 7), np.float32),
        policy_actions=np.zeros((steps, 7), np.float32),
        rewards=labels.astype(np.float32),
        terminated=np.zeros(steps, bool),
        truncated=np.zeros(steps, bool),
        intervened=np.zeros(steps, bool),
        policy_versions=np.zeros(steps, np.int64),
        success=success,
        step_success=labels,
    )


def test_the_split_holds_out_successes_and_failures_alike():
    episodes = [episode(i % 2 == 0, seed=i) for i in range(8)]
    train, held_out = split_episodes(episodes, 0.25, seed=0)
    assert len(train) == 6 and len(held_out) == 2
    assert sorted(e.success for e in held_out) == [False, True]
    assert {id(e) for e in train}.isdisjoint(id(e) for e in held_out)


def test_metrics_count_and_calibrate():
    probabilities = np.array([0.9, 0.8, 0.3, 0.1, 0.7, 0.05])
    labels = np.array([1, 1, 1, 0, 0, 0], np.float32)
    report = metrics(probabilities, labels, threshold=0.5, bins=2)
    assert (
        report["true_positives"],
        report["false_positives"],
        report["false_negatives"],
        report["true_negatives"],
    ) == (2, 1, 1, 2)
    assert report["accuracy"] == pytest.approx(4 / 6)
    assert report["precision"] == pytest.approx(2 / 3) and report["recall"] == pytest.approx(2 / 3)
    low, high = report["calibration"]
    assert low["count"] == 3 and low["success_rate"] == pytest.approx(1 / 3)
    assert high["count"] == 3 and high["mean_probability"] == pytest.approx(0.8)


def test_a_tiny_classifier_learns_and_round_trips_weights_only(tmp_path: Path):
    torch.manual_seed(0)
    frames = frames_of([episode(i % 2 == 0, seed=i) for i in range(6)], ["front"])
    encoder = CNNPolicyConfig(
        image_size_px=0,
        encoder_widths=[4, 4],
        encoder_strides=[1, 2],
        stem_kernel_size=3,
        group_norm_groups=2,
        view_latent_dim=8,
    )
    model = SuccessClassifier(encoder, ["front"], SIZE, SIZE, hidden_dim=8)
    losses = train_classifier(
        model, frames, RewardTrainingConfig(epochs=15, batch_size=8, lr=3e-3, shift_px=0)
    )
    assert losses[-1] < 0.5 * losses[0]
    path = save_classifier(
        tmp_path / "c.pt",
        model,
        encoder,
        "peg_insertion",
        SIZE,
        SIZE,
        8,
        {"accuracy": np.float64(1.0)},
    )
    loaded = load_classifier(path)
    assert loaded.cameras == ["front"] and (loaded.height_px, loaded.width_px) == (SIZE, SIZE)
    assert loaded.metrics == {"accuracy": 1.0}
    batch = {"front": torch.as_tensor(frames.images["front"][:4])}
    model.eval()
    torch.testing.assert_close(loaded.model(batch), model(batch))
