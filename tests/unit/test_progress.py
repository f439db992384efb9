"""Console progress: the lines' content from given counters, the plain output's cadence off
a terminal, the bar on one, the training line's rates and budget, and the line a run prints
when a budget is reached mid-episode."""

from __future__ import annotations

import io
import math

import pytest

from userl.config.loader import load_config
from userl.config.schema import RunConfig
from userl.runtime.budget_progress import binding_budget
from userl.runtime.budgets import reached_line
from userl.runtime.progress import ProgressReporter, SessionRates
from userl.telemetry.progress import (
    ConsoleProgress,
    CountProgress,
    count_line,
    duration,
    training_line,
)


class SteppedClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.0, "0s"), (45.4, "45s"), (185.0, "3m05s"), (7620.0, "2h07m"), (math.inf, "?")],
)
def test_duration_reads_as_a_person_reads_it(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_count_line_says_how_many_of_how_many_and_the_time_left() -> None:
    line = count_line("collect", 3, 20, "episodes", 12.0, "successes=2")
    assert line == "collect: 3/20 episodes  successes=2  elapsed 12s  eta 1m08s"
    assert count_line("import", 4, None, "episodes read", 2.0) == (
        "import: 4 episodes read  elapsed 2s"
    )  # no total known yet: no eta
    assert count_line("eval", 0, 5, "episodes", 1.0).endswith("eta ?")  # no pace yet


def test_training_line_shows_interventions_rates_and_the_budget() -> None:
    stats = {
        "env_steps": 1200,
        "episodes": 12,
        "recent_success_rate": 0.4,
        "interventions": 35,
        "grad_steps": 600,
        "weight_version": 7,
    }
    rates = {"env_steps_per_s": 25.0, "updates_per_s": 12.5}
    line = training_line(stats, rates, 48.0, "run.env_steps=5000 24% eta 2m32s")
    assert line == (
        "[   48.0s] env_steps=1200 episodes=12 success(last 20)=0.40 interventions=35 "
        "grad_steps=600 updates/s=12.5 env_steps/s=25.0 weights=v7 "
        "| run.env_steps=5000 24% eta 2m32s"
    )


def test_session_rates_show_a_slow_policys_pace_between_its_episodes() -> None:
    """Episodes of a slow policy arrive far apart: the rate is the growth over the whole
    session, so it never reads 0 while the steps climb (what a short window did)."""
    session = SessionRates()
    assert session.rates({"env_steps": 500, "grad_steps": 0}, now=100.0)["env_steps"] == 0.0
    rates = session.rates({"env_steps": 600, "grad_steps": 20}, now=140.0)  # one episode
    assert rates == {"env_steps": 2.5, "grad_steps": 0.5, "episodes": 0.0}
    later = session.rates({"env_steps": 600, "grad_steps": 40}, now=180.0)  # none since
    assert later["env_steps"] == pytest.approx(100 / 80)
    # the 500 steps reloaded on resume were in the first stats: not this session's pace


def test_the_binding_budget_is_the_one_reached_first_at_the_current_pace() -> None:
    run = load_config(["run.env_steps=5000", "run.grad_steps=6000", "run.wall_s=0"]).run
    figures = {"env_steps": 1000, "grad_steps": 3000, "train_s": 100.0}
    slow_updates = binding_budget(run, figures, {"env_steps": 10.0, "grad_steps": 5.0})
    assert slow_updates is not None
    assert (slow_updates.key, slow_updates.eta_s) == ("env_steps", 400.0)  # vs 600 s
    assert slow_updates.describe() == "run.env_steps=5000 20% eta 6m40s"
    fast_updates = binding_budget(run, figures, {"env_steps": 10.0, "grad_steps": 50.0})
    assert fast_updates is not None and fast_updates.key == "grad_steps"
    no_pace = binding_budget(run, figures, {})
    assert no_pace is not None and no_pace.key == "grad_steps"  # furthest along: 50% vs 20%
    assert no_pace.describe().endswith("eta ?")
    none_set = RunConfig(env_steps=0, grad_steps=0, episodes=0, wall_s=0, stop_at_eval_success=0)
    assert binding_budget(none_set, figures, {"env_steps": 10.0}) is None


def test_plain_output_prints_at_most_one_line_per_interval() -> None:
    stream, clock = io.StringIO(), SteppedClock()
    console = ConsoleProgress("train", 5.0, stream, clock)
    for step in range(10):  # 10 updates within 4.5 s: only the first is printed
        clock.now = step * 0.5
        console.show(step, 10, f"line {step}")
    assert stream.getvalue().splitlines() == ["line 0"]
    clock.now = 5.0
    console.show(10, 10, "line 10")
    console.show(11, 10, "line 11")  # same instant: waits
    console.close()  # the last state is not lost
    assert stream.getvalue().splitlines() == ["line 0", "line 10", "line 11"]


def test_count_progress_off_a_terminal_prints_each_update_with_no_interval() -> None:
    stream, clock = io.StringIO(), SteppedClock()
    with CountProgress("export", 3, "episodes written", 0.0, stream, clock) as progress:
        for done in (1, 2, 3):
            clock.now = 2.0 * done
            progress.on_item(done, 3)
        progress.note("warning: something")
    assert stream.getvalue().splitlines() == [
        "export: 1/3 episodes written  elapsed 2s  eta 4s",
        "export: 2/3 episodes written  elapsed 4s  eta 2s",
        "export: 3/3 episodes written  elapsed 6s  eta 0s",
        "warning: something",
    ]


def test_a_terminal_gets_a_bar_with_the_line_beside_it() -> None:
    terminal = Terminal()
    with ConsoleProgress("collect", 5.0, terminal) as console:
        console.show(1, 4, "1/4 ok")
        console.show(2, 4, "2/4 ok")  # a terminal is redrawn at every update
    drawn = terminal.getvalue()
    assert "collect" in drawn and "2/4 ok" in drawn and "50%" in drawn


def test_training_progress_names_interventions_and_the_binding_budget() -> None:
    """An HG-DAgger run's line: its intervened steps, its pace from two stats a minute
    apart, and the time left to the budget it reaches first."""
    config = load_config(["algo=hg_dagger", "run.env_steps=3000", "run.wall_s=0"])
    stream = io.StringIO()
    reporter = ProgressReporter(config, None, started=0.0, stop=None)  # type: ignore[arg-type]
    reporter.console = ConsoleProgress("train", 0.0, stream)
    reporter.show({"env_steps": 0, "interventions": 0, "grad_steps": 0}, now=10.0)
    reporter.show({"env_steps": 600, "interventions": 140, "grad_steps": 300}, now=70.0)
    last = stream.getvalue().splitlines()[-1]
    assert "interventions=140" in last and "env_steps/s=10.0" in last
    assert "updates/s=5.0" in last
    grad_budget = config.run.grad_steps
    assert grad_budget == 0 or grad_budget > 3000  # the env-step budget binds here
    assert last.endswith("| run.env_steps=3000 20% eta 4m00s")


def test_a_budget_reached_mid_episode_is_announced() -> None:
    run = load_config(["run.env_steps=5000"]).run
    assert reached_line(run, "env_steps", "finishing the episode in progress") == (
        "budget reached (run.env_steps=5000); finishing the episode in progress"
    )


def test_reward_training_reports_each_epoch_and_its_loss() -> None:
    """`userl train-reward`'s bar: the classifier's training tells it every epoch's loss
    (the tiny classifier of test_reward_training)."""
    from tests.unit.test_reward_training import SIZE, episode
    from userl.policies.cnn import CNNPolicyConfig
    from userl.rewards.classifier_model import SuccessClassifier
    from userl.rewards.training import RewardTrainingConfig, frames_of, train_classifier

    frames = frames_of([episode(i % 2 == 0, seed=i) for i in range(4)], ["front"])
    encoder = CNNPolicyConfig(
        image_size_px=0,
        encoder_widths=[4],
        encoder_strides=[2],
        stem_kernel_size=3,
        group_norm_groups=2,
        view_latent_dim=4,
    )
    model = SuccessClassifier(encoder, ["front"], SIZE, SIZE, hidden_dim=4)
    stream = io.StringIO()
    with CountProgress("train-reward", 3, "epochs", 0.0, stream) as bar:
        losses = train_classifier(
            model,
            frames,
            RewardTrainingConfig(epochs=3, batch_size=8, shift_px=0),
            lambda epochs, loss: bar.set(epochs, info=f"loss={loss:.4f}"),
        )
    lines = stream.getvalue().splitlines()
    assert [line.split("  ")[:2] for line in lines] == [
        [f"train-reward: {k}/3 epochs", f"loss={loss:.4f}"] for k, loss in enumerate(losses, 1)
    ]
