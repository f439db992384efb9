"""Rewards in the simulated cell: keyboard labels (a real pty as the operator's terminal)
drive episode ends and rewards; a failing source holds the robot and loses no stored
episode; the classifier workflow (collect label=auto, train-reward, reward=classifier)."""

from __future__ import annotations

import json
import os
import select
from pathlib import Path

import numpy as np
import pytest
import torch

from userl.cli import main
from userl.config.loader import load_config
from userl.core.errors import RewardFailed
from userl.data.store import EpisodeStore
from userl.envs.factory import make_env
from userl.rollout.action_sources import ExpertSource
from userl.rollout.episode import run_episode
from userl.rollout.evaluation import results_of

pytestmark = pytest.mark.integration
STEPS = 8


class Operator:
    """A person at a terminal (a real pty): types keys after given steps of an episode."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)
        self.plan: dict[int, str] = {}
        self.step = 0

    def start(self, plan: dict[int, str]) -> None:
        self.plan, self.step = plan, 0

    def after_step(self) -> None:
        self.step += 1
        keys = self.plan.get(self.step)
        if keys == "unplug":
            os.close(self.master)
            self.master = -1
        elif keys:
            os.write(self.master, keys.encode())
            assert select.select([self.slave], [], [], 10.0)[0], "the pty never delivered"

    def close(self) -> None:
        for fd in (self.master, self.slave):
            if fd >= 0:
                os.close(fd)


@pytest.fixture
def operator():
    person = Operator()
    yield person
    person.close()


def keyboard_env(path: str):
    config = load_config(
        [
            "task=peg_insertion",
            "reward=keyboard",
            f"reward.device_path={path}",
            f"task.episode_steps={STEPS}",
        ]
    )
    return make_env(config, seed=0)


def test_keyboard_marks_drive_episode_ends_and_rewards(operator, tmp_path):
    env = keyboard_env(operator.path)
    store = EpisodeStore(tmp_path / "episodes").create()
    source = ExpertSource(env)
    try:
        episodes = []
        for index, plan in enumerate([{3: "s"}, {2: "f"}, {}]):
            operator.start(plan)
            episodes.append(
                run_episode(env, source, "robot_0", seed=index, between_steps=operator.after_step)
            )
            store.write(episodes[-1])
    finally:
        env.close()
    marked, failed, unmarked = EpisodeStore(tmp_path / "episodes").load().episodes
    # success typed after step 3 is read at step 4: the episode ends there, rewarded
    assert len(marked) == 4 and marked.success and marked.terminated[-1]
    assert marked.rewards.tolist() == [0, 0, 0, 1]
    assert marked.step_success.tolist() == [False, False, False, True]
    # failure typed after step 2 ends the episode at step 3, unrewarded
    assert len(failed) == 3 and not failed.success and failed.terminated[-1]
    assert not failed.rewards.any() and not failed.step_success.any()
    # no mark: the episode runs to its time limit
    assert len(unmarked) == STEPS and unmarked.truncated[-1] and not unmarked.terminated.any()
    # the simulator's truth beside the operator's marks: the early mark is a false positive
    assert marked.info["reward_false_positives"] == 1
    assert marked.info["reward/agreement"] == pytest.approx(3 / 4)
    # an evaluation counts the task's own success where it is known, the mark beside it
    report = results_of([marked, failed, unmarked])
    assert report["success_rate"] == 0.0 and report["reward_success_rate"] == pytest.approx(1 / 3)
    assert report["reward_false_positives"] == 1 and report["reward_true_negatives"] == 3 + 3 + 8


def test_headless_keyboard_marks_while_a_spacemouse_drives(monkeypatch, tmp_path):
    """No terminal: the operator's marks come from an evdev keyboard while the hands are on
    a SpaceMouse (the real evdev and pyspacemouse, their devices scripted)."""
    import evdev

    from tests.devices import plug_in_keyboards, plug_in_spacemouse
    from userl.rollout.action_sources import demonstrator

    mouse = plug_in_spacemouse(monkeypatch)
    mouse.state.y = 0.6  # push away from the operator: +x in the base frame
    board = plug_in_keyboards(
        monkeypatch,
        {"/dev/input/event3": [evdev.ecodes.KEY_SPACE, evdev.ecodes.KEY_S, evdev.ecodes.KEY_F]},
    )["/dev/input/event3"]
    config = load_config(
        [
            "task=peg_insertion",
            "teleop=spacemouse",
            "reward=keyboard",
            "reward.backend=evdev",
            f"task.episode_steps={STEPS}",
        ]
    )
    env = make_env(config, seed=0)
    person = demonstrator(env, config)
    steps = []

    def mark_after_three() -> None:
        steps.append(1)
        if len(steps) == 3:
            board.press(evdev.ecodes.KEY_S, 1)

    try:
        episode = run_episode(env, person, "robot_0", seed=0, between_steps=mark_after_three)
    finally:
        env.close()
    assert episode.source == "human" and np.all(episode.actions[:, 0] > 0.3)
    assert len(episode) == 4 and episode.success and episode.rewards.tolist() == [0, 0, 0, 1]
    assert board.closed


def test_a_failing_reward_source_holds_the_robot_and_loses_nothing_stored(
    operator, tmp_path, monkeypatch
):
    env = keyboard_env(operator.path)
    holds = []
    real_hold = env.robot.hold
    monkeypatch.setattr(env.robot, "hold", lambda: (holds.append(env._steps), real_hold()))
    store = EpisodeStore(tmp_path / "episodes").create()
    source = ExpertSource(env)
    try:
        operator.start({})
        store.write(run_episode(env, source, "robot_0", seed=0))
        operator.start({2: "unplug"})  # the operator's terminal goes away mid-episode
        with pytest.raises(RewardFailed, match="hung up; the operator") as caught:
            run_episode(env, source, "robot_0", seed=1, between_steps=operator.after_step)
        assert "\n" not in str(caught.value) and "the robot holds" in str(caught.value)
    finally:
        env.close()
    assert holds == [3]  # held at the step whose reward could not be read
    stored = EpisodeStore(tmp_path / "episodes").load()
    assert len(stored.episodes) == 1 and len(stored.episodes[0]) == STEPS
    assert not stored.unreadable


VIEWS = ["obs=image", "robot.image_height_px=16", "robot.image_width_px=16"]
TINY = ["task=peg_insertion", "task.episode_steps=30", *VIEWS]


@pytest.fixture(scope="module")
def labelled(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("labels")
    assert main(["collect", *TINY, "episodes=2", f"out={root / 'expert'}", "label=auto"]) == 0
    assert (
        main(
            [
                "collect",
                *TINY,
                "policy=random",
                "episodes=2",
                f"out={root / 'random'}",
                "label=auto",
                "run.seed=1",
            ]
        )
        == 0
    )
    return root


def test_collect_label_auto_stores_per_frame_success(labelled):
    expert = EpisodeStore(labelled / "expert").load().episodes
    random = EpisodeStore(labelled / "random").load().episodes
    for episode in expert:  # label=auto keeps going after success: many success frames
        assert len(episode) == 30 and episode.step_success.sum() > 5
        assert episode.step_success.tolist() == (episode.rewards > 0).tolist()
    assert all(e.source == "random" and not e.step_success.any() for e in random)


@pytest.fixture(scope="module")
def classifier(labelled, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("model") / "peg.pt"
    code = main(
        [
            "train-reward",
            "task=peg_insertion",
            f"data={labelled / 'expert'},{labelled / 'random'}",
            f"out={out}",
            "train.epochs=2",
            "train.image_size_px=16",
            "train.holdout_fraction=0.5",
        ]
    )
    assert code == 0
    return out


def test_train_reward_writes_a_safe_checkpoint_a_report_and_a_calibration_plot(classifier):
    report = json.loads(classifier.with_suffix(".json").read_text())
    assert report["held_out_episodes"] == 2 and report["train_episodes"] == 2
    assert report["frames"] == 60 and 0 <= report["accuracy"] <= 1
    assert report["true_positives"] + report["false_negatives"] == report["success_frames"]
    assert classifier.with_name("peg_calibration.png").read_bytes()[:4] == b"\x89PNG"
    state = torch.load(classifier, weights_only=True)  # tensors and plain values only
    assert state["cameras"] == ["front", "wrist"] and state["image_height_px"] == 16


def test_classifier_reward_serves_probabilities_beside_the_truth(classifier, capsys):
    capsys.readouterr()
    assert (
        main(
            [
                "eval",
                *TINY,
                "policy=expert",
                "episodes=1",
                "reward=classifier",
                f"reward.checkpoint={classifier}",
                "reward.hold_steps=1",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    counts = [
        report[k]
        for k in (
            "reward_true_positives",
            "reward_false_positives",
            "reward_false_negatives",
            "reward_true_negatives",
        )
    ]
    assert sum(counts) == report["mean_length"]  # every step judged against the truth
    env = make_env(
        load_config([*TINY, "reward=classifier", f"reward.checkpoint={classifier}"]), seed=0
    )
    try:
        episode = run_episode(env, ExpertSource(env), "robot_0", seed=0)
    finally:
        env.close()
    assert 0.0 <= episode.info["reward/probability"] <= 1.0
    assert 0.0 <= episode.info["reward/agreement"] <= 1.0


@pytest.mark.parametrize(
    "arguments, says",
    [
        (["robot.image_height_px=24"], "was trained on front, wrist at 16x16 px"),
        (["obs=state"], "no camera views (obs=state)"),
        (["robot.camera_names=[front]"], "this run gives front 16x16"),
    ],
)
def test_a_classifier_that_does_not_fit_the_views_stops_before_the_robot_moves(
    classifier, capsys, arguments, says
):
    capsys.readouterr()
    code = main(
        [
            "eval",
            *TINY,
            "policy=expert",
            "episodes=1",
            "reward=classifier",
            f"reward.checkpoint={classifier}",
            *arguments,
        ]
    )
    error = capsys.readouterr().err.strip()
    assert code == 2 and says in error and len(error.splitlines()) == 1


def test_train_refuses_a_mismatched_classifier_before_ray_starts(classifier, capsys):
    import ray

    capsys.readouterr()
    code = main(
        [
            "train",
            *TINY,
            "robot.image_height_px=24",
            "reward=classifier",
            f"reward.checkpoint={classifier}",
            "run.episodes=1",
        ]
    )
    error = capsys.readouterr().err.strip()
    assert code == 2 and "trained on front, wrist at 16x16 px" in error
    assert not ray.is_initialized()


def test_a_classifier_on_a_reward_only_view_the_policy_never_sees(tmp_path, capsys):
    """Peg's close-up board camera recorded and trained on alone, then read for the reward
    only: a state policy's observation has no image, the classifier still judges each step;
    without the view the run stops before the robot moves, naming the key that gives it."""
    side = [*TINY, "robot.camera_names=[hole_side]", "label=auto", "episodes=2"]
    assert main(["collect", *side, f"out={tmp_path / 'ok'}"]) == 0
    assert (
        main(
            [
                "collect",
                *side,
                "policy=halting_expert",
                "demos.halting_expert_probability=0.5",
                f"out={tmp_path / 'halted'}",
            ]
        )
        == 0
    )
    out = tmp_path / "side.pt"
    assert (
        main(
            [
                "train-reward",
                "task=peg_insertion",
                f"data={tmp_path / 'ok'},{tmp_path / 'halted'}",
                f"out={out}",
                "train.epochs=1",
                "train.image_size_px=16",
                "train.holdout_fraction=0.5",
            ]
        )
        == 0
    )
    assert torch.load(out, weights_only=True)["cameras"] == ["hole_side"]
    reward = ["reward=classifier", f"reward.checkpoint={out}", "reward.hold_steps=1"]
    env = make_env(
        load_config([*TINY, "obs=state", "robot.reward_camera_names=[hole_side]", *reward]), seed=0
    )
    try:
        assert env.observation_spec.images == ()
        episode = run_episode(env, ExpertSource(env), "robot_0", seed=0)
    finally:
        env.close()
    assert set(episode.observations) == {"state"}
    assert 0.0 <= episode.info["reward/probability"] <= 1.0
    capsys.readouterr()
    code = main(["eval", *TINY, "policy=expert", "episodes=1", *reward])
    error = capsys.readouterr().err.strip()
    assert code == 2 and "robot.reward_camera_names=[hole_side]" in error, error


def test_the_rewards_benchmark_prepares_peg_classifier_on_its_close_up_view(tmp_path, monkeypatch):
    """`bench learning`'s preparation for `rlpd_image_classifier`: labelled expert, noisy,
    near-miss and halted episodes of the close-up view only, a classifier on it, and run
    overrides that read it for the reward alone; prepared once per root."""
    from userl.benchmarks import load_benchmark

    learning = load_benchmark("learning")
    monkeypatch.setattr(
        learning,
        "CLASSIFIER_VIEWS",  # the benchmark's views, short episodes
        (*learning.CLASSIFIER_VIEWS, "task.episode_steps=30"),
    )
    prepare = learning.PREPARATIONS.get("reward_classifier")
    options = {"classifier_episodes": "2", "classifier_epochs": "1"}
    overrides = prepare("peg_insertion", tmp_path, options)
    folder = tmp_path / "reward-peg_insertion"
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == [
        "expert",
        "failed",
        "halted",
        "near_miss",
    ]
    halted = EpisodeStore(folder / "halted").load().episodes
    assert len(halted) == 4 and all(e.source == "halting_expert" for e in halted)
    assert set(halted[0].observations) == {"state", "hole_side"}
    assert "robot.reward_camera_names=[hole_side]" in overrides
    checkpoint = folder / "classifier.pt"
    assert f"reward.checkpoint={checkpoint}" in overrides
    assert torch.load(checkpoint, weights_only=True)["cameras"] == ["hole_side"]
    stamp = checkpoint.stat().st_mtime_ns
    assert prepare("peg_insertion", tmp_path, options) == overrides
    assert checkpoint.stat().st_mtime_ns == stamp  # reused, not retrained
    setting = learning.SETTINGS["rlpd_image_classifier"]
    make_env(load_config(["task=peg_insertion", *setting.overrides, *overrides]), seed=0).close()


def test_collect_labels_pick_the_labelling_source():
    from userl.core.errors import ConfigError
    from userl.tools.collect import labelled_collection

    assert labelled_collection(["task=pick_place"], "keyboard") == [
        "task=pick_place",
        "reward=keyboard",
        "task.terminate_on_success=false",
    ]
    kept = labelled_collection(["task.terminate_on_success=true"], "auto")
    assert kept == ["task.terminate_on_success=true", "reward=success"]
    with pytest.raises(ConfigError, match="label=human is not a labeller"):
        labelled_collection([], "human")


def test_a_foreign_or_unsafe_classifier_file_is_refused(tmp_path, capsys):
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, foreign)
    unsafe = tmp_path / "unsafe.pt"
    torch.save({"format": "userl-reward-classifier", "hook": np.random.default_rng(0)}, unsafe)
    for path, says in [
        (foreign, "is not a reward classifier"),
        (unsafe, "refusing checkpoint"),
        (tmp_path / "missing.pt", "no such file"),
    ]:
        capsys.readouterr()
        code = main(
            [
                "eval",
                *TINY,
                "policy=expert",
                "episodes=1",
                "reward=classifier",
                f"reward.checkpoint={path}",
            ]
        )
        error = capsys.readouterr().err.strip()
        assert code == 2 and says in error and len(error.splitlines()) == 1, error


def test_train_reward_refuses_unlabelled_or_one_sided_data(labelled, tmp_path, capsys):
    plain = EpisodeStore(tmp_path / "plain").create()  # e.g. imported: no per-step labels
    for episode in EpisodeStore(labelled / "expert").load().episodes:
        episode.step_success = None
        plain.write(episode)
    plain = tmp_path / "plain"
    for data, says in [
        (plain, "record them with `userl collect ... label=auto`"),
        (labelled / "random", "every frame has the same label"),
        (tmp_path / "none", "no episode store there"),
    ]:
        capsys.readouterr()
        code = main(
            ["train-reward", "task=peg_insertion", f"data={data}", f"out={tmp_path / 'x.pt'}"]
        )
        error = capsys.readouterr().err.strip()
        assert code == 2 and says in error and len(error.splitlines()) == 1, error
    code = main(
        [
            "train-reward",
            "task=peg_insertion",
            f"data={labelled / 'expert'}",
            f"out={tmp_path / 'x.pt'}",
            "train.epoch=3",
        ]
    )
    assert code == 2 and "train.epochs" in capsys.readouterr().err


@pytest.mark.slow
def test_a_reward_source_failing_in_training_stops_the_run_with_every_episode_kept(tmp_path):
    """Under Ray: the operator's terminal hangs up mid-run; the env worker holds the robot,
    the run stops at once (no worker restart) with one line, and nothing finished is lost."""
    from userl.benchmarks import load_benchmark

    faults = load_benchmark("faults")
    master, slave = os.openpty()
    name = [f"run.root={tmp_path}", "run.name=unplugged"]
    try:
        thread, outcome = faults.train_in_background(
            [
                *faults.SMALL_TRAINING,
                *name,
                "reward=keyboard",
                f"reward.device_path={os.ttyname(slave)}",
                f"task.episode_steps={STEPS}",
                f"run.wall_s={faults.RUN_BOUND_S}",
            ]
        )
        store = tmp_path / "unplugged" / "episodes"
        faults.wait_for(
            lambda: len(EpisodeStore(store).files()) >= 3, faults.RUN_BOUND_S, "3 episodes"
        )
        os.close(master)
        master = -1
        thread.join(timeout=faults.RUN_BOUND_S)
    finally:
        for fd in (master, slave):
            if fd >= 0:
                os.close(fd)
    error = outcome.get("error", "")
    assert error.startswith("RunFailed") and "hung up" in error and "resume=true" in error
    assert "times" not in error  # stopped at the first failure, not after restarts
    kept = set(faults.episode_ids(store)) | set(
        faults.episode_ids(tmp_path / "unplugged" / "spool")
    )
    assert len(kept) >= 3 and not EpisodeStore(store).load().unreadable
