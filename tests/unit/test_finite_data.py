"""Non-finite data never trains: episodes holding NaN or infinity are refused where they
enter, an update with a NaN loss is skipped and counted, and NaN weights are never
published or checkpointed."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from tests.sac_models import make_batch, make_sac
from tests.unit.test_store import make_episode
from userl.algorithms.finite import all_finite, refuse_nonfinite
from userl.algorithms.sac import SAC
from userl.config.schema import RunConfig
from userl.core.errors import ConfigError, TrainingDiverged
from userl.core.types import Batch
from userl.data.store import EpisodeStore
from userl.runtime.checkpoints import Checkpoints
from userl.runtime.run_episodes import RunEpisodes


def nan_batch() -> Batch:
    batch = make_batch()
    batch.observations["state"][0, 0] = float("nan")
    return batch


def weights(sac: SAC) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in sac.state_dict()["policy"].items()}


def test_a_healthy_episode_has_no_nonfinite_fields() -> None:
    assert make_episode().nonfinite_fields() == []


def test_nan_and_inf_are_named_by_column() -> None:
    episode = make_episode()
    episode.observations["state"][2, 1] = np.nan
    episode.rewards[0] = np.inf
    assert episode.nonfinite_fields() == ["observations.state", "rewards"]
    episode = make_episode(with_image=True)
    episode.policy_actions[1, 0] = -np.inf
    assert episode.nonfinite_fields() == ["policy_actions"]  # images are integers


def test_the_store_reports_nonfinite_episodes_and_never_loads_them(tmp_path: Path) -> None:
    store = EpisodeStore(tmp_path / "store").create()
    store.write(make_episode())
    bad = make_episode()
    bad.actions[0, 0] = np.nan
    bad_file = store.write(bad)
    stats = store.stats()
    assert stats["episodes"] == 1 and stats["nonfinite_episodes"] == 1
    assert stats["nonfinite"] == [f"{bad_file.name}: actions"]
    report = store.load()
    assert len(report.episodes) == 1
    with pytest.raises(ConfigError, match=bad_file.name):
        report.refuse_nonfinite(store.root)


def test_the_learners_intake_keeps_a_nonfinite_episode_aside(tmp_path: Path) -> None:
    files = RunEpisodes(tmp_path)
    bad = make_episode()
    bad.rewards[1] = np.nan
    assert not files.store(bad)
    assert not files.store(bad)  # a resend is kept aside once
    assert files.rejected_ids == {bad.episode_id}
    assert len(EpisodeStore(tmp_path / "rejected").files()) == 1
    assert EpisodeStore(tmp_path / "episodes").files() == []
    assert files.store(make_episode())


def test_a_nan_batch_skips_the_update_and_counts_it() -> None:
    sac = make_sac()
    before = weights(sac)
    critic = {k: v.clone() for k, v in sac.critic.state_dict().items()}
    metrics = sac.update(nan_batch())
    assert metrics == {"train/nonfinite_updates": 1.0}
    assert sac.grad_steps == 0 and sac.finite.skipped == 1
    assert all(torch.equal(v, before[k]) for k, v in weights(sac).items())
    assert all(torch.equal(v, critic[k]) for k, v in sac.critic.state_dict().items())
    sac.update(make_batch())
    assert sac.grad_steps == 1 and sac.finite.in_row == 0 and sac.finite.skipped == 1


def test_a_nan_batch_is_caught_by_the_clipped_gradient_norm_too() -> None:
    sac = make_sac(grad_clip_norm=1.0)
    sac.update(nan_batch(), metrics=False)
    assert sac.finite.skipped == 1 and sac.grad_steps == 0
    assert all_finite(sac.state_dict())


def test_the_run_stops_after_max_nonfinite_updates_in_a_row() -> None:
    sac = make_sac(max_nonfinite_updates=3)
    sac.update(nan_batch())
    sac.update(nan_batch())
    with pytest.raises(TrainingDiverged, match="algo.max_nonfinite_updates"):
        sac.update(nan_batch())


def test_nonfinite_weights_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    good = {"w": torch.ones(3), "step": torch.tensor(4)}
    bad = {"w": torch.tensor([1.0, float("nan")]), "state": [{"m": torch.zeros(1)}]}
    assert all_finite(good) and not all_finite(bad)
    assert not refuse_nonfinite(good, "weight publish")
    assert refuse_nonfinite(bad, "weight publish")
    assert "weight publish refused" in capsys.readouterr().out


def fake_learner(sac: object) -> SimpleNamespace:
    return SimpleNamespace(
        algorithm=sac,
        update_lock=threading.Lock(),
        data_lock=threading.Lock(),
        env_steps=0,
        episodes=0,
        weight_version=1,
        curve=SimpleNamespace(state=lambda: {}),
        pretrained_updates=0,
        rng=np.random.default_rng(0),
    )


def test_a_checkpoint_of_nonfinite_weights_keeps_the_previous_one(tmp_path: Path) -> None:
    sac = make_sac()
    checkpoints = Checkpoints(tmp_path, RunConfig())
    checkpoints.save(fake_learner(sac))  # type: ignore[arg-type]
    saved = checkpoints.path.read_bytes()
    with torch.no_grad():
        next(sac.policy.parameters()).fill_(float("nan"))
    checkpoints.save(fake_learner(sac))  # type: ignore[arg-type]
    assert checkpoints.path.read_bytes() == saved
