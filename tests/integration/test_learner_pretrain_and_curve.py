"""The learner's pretraining on demos (HG-DAgger's BC start) and its learning-curve log.

Integration tier: the learner publishes its weights into Ray's object store, which starts a
Ray; the module's tests share one."""

from __future__ import annotations

import pytest
import torch

pytestmark = pytest.mark.usefixtures("shared_ray")


def test_pretraining_runs_in_chunks_on_demos_and_is_outside_the_utd_budget(
    tmp_path, takeover, make_learner
):
    learner = make_learner(tmp_path, "algo.pretrain_updates=30")
    assert learner.pretrain(20) == 0  # no demos yet: nothing to learn from
    learner.add_demos([takeover.episode(success=True)])
    before = {k: v.clone() for k, v in learner.algorithm.policy_state_dict().items()}
    version = learner.weight_version
    assert [learner.pretrain(20), learner.pretrain(20), learner.pretrain(20)] == [20, 10, 0]
    assert learner.algorithm.grad_steps == 30 and learner.online_updates == 0
    assert learner.utd_state() == (0, 0)
    assert learner.weight_version > version  # the pretrained policy is published
    after = learner.algorithm.policy_state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    learner.add_episode(takeover.episode())
    assert (
        learner._updates_allowed() == 2 * takeover.steps
    )  # the ceiling counts online updates only
    learner.close()


def test_pretraining_is_restored_not_repeated_on_resume(tmp_path, takeover, make_learner):
    learner = make_learner(tmp_path, "algo.pretrain_updates=10")
    learner.add_demos([takeover.episode(success=True)])
    learner.pretrain(100)
    learner.log_evaluation(0.5, 0.5, 4)
    learner.save_checkpoint()
    learner.close()
    resumed = make_learner(tmp_path, "algo.pretrain_updates=10")
    resumed.restore()
    assert resumed.pretrain(100) == 0 and resumed.pretrained_updates == 10
    assert [p["success_rate"] for p in resumed.evaluation_curve()] == [0.5]
    resumed.close()


def test_each_evaluation_is_a_curve_point_at_the_current_steps_and_effort(
    tmp_path, takeover, make_learner
):
    learner = make_learner(tmp_path)
    learner.log_evaluation(0.0, 0.0, 5)
    learner.add_episode(takeover.episode())
    learner.train(3)
    learner.log_evaluation(0.4, 0.4, 5)
    curve = learner.evaluation_curve()
    assert [(p["env_steps"], p["grad_steps"], p["success_rate"]) for p in curve] == [
        (0, 0, 0.0),
        (takeover.steps, 3, 0.4),
    ]
    episode = takeover.episode()
    assert episode.takeovers > 0  # each point carries the human effort so far
    assert [(p["online_episodes"], p["intervened_steps"], p["takeovers"]) for p in curve] == [
        (0, 0, 0),
        (1, episode.intervened_steps, episode.takeovers),
    ]
    learner.close()


def test_a_resumed_run_keeps_its_first_initial_evaluation(
    tmp_path, takeover, make_learner, monkeypatch
):
    """`eval.at_start` on resume: the restored curve's point at env step 0 is the initial
    evaluation; the policy as trained so far is not evaluated again as if it were."""
    from types import SimpleNamespace

    from userl.config.loader import load_config
    from userl.runtime import evaluation as train

    learner = make_learner(tmp_path)
    learner.log_evaluation(0.1, 0.1, 4)
    learner.add_episode(takeover.episode())
    learner.log_evaluation(0.7, 0.7, 4)
    learner.save_checkpoint()
    learner.close()
    resumed = make_learner(tmp_path)
    resumed.restore()
    evaluated = []
    monkeypatch.setattr(train.ray, "get", lambda value, timeout=None: value)
    monkeypatch.setattr(
        train,
        "evaluate",
        lambda config, cluster: evaluated.append(1) or {"success_rate": 0.9, "mean_return": 0.9},
    )
    cluster = SimpleNamespace(
        learner=SimpleNamespace(evaluation_curve=SimpleNamespace(remote=resumed.evaluation_curve))
    )
    initial = train.initial_evaluation(load_config(["resume=true"]), cluster)
    assert initial["success_rate"] == 0.1 and evaluated == []
    assert train.initial_evaluation(load_config([]), cluster)["success_rate"] == 0.9
    resumed.eval_curve = [p for p in resumed.eval_curve if p["env_steps"] > 0]
    assert train.initial_evaluation(load_config(["resume=true"]), cluster)["success_rate"] == 0.9
    assert evaluated == [1, 1]
    resumed.close()


def test_the_utd_floor_counts_env_steps_past_the_warm_up_only(tmp_path, takeover, make_learner):
    """During the warm-up the learner makes no update, so a floor counting those steps would
    hold a simulated robot until its wait times out, episode after episode."""
    learner = make_learner(tmp_path, f"algo.warmup_env_steps={takeover.steps + 5}")
    learner.add_episode(takeover.episode())
    assert learner.utd_state() == (0, 0)
    learner.add_episode(takeover.episode())
    assert learner.utd_state() == (0, takeover.steps - 5)
    learner.close()
