"""A resumed learner whose `latest.pt` was cut short resumes from `previous.pt` with a
one-line warning; with no readable checkpoint it stops on one line naming the file; episode
writes a full disk interrupted are recovered or removed before the stores are read.

Integration tier: the learner publishes its weights into Ray's object store on resume."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from userl.data.checkpoint import CheckpointUnreadable, previous_of
from userl.data.store import encode_episode

pytestmark = pytest.mark.usefixtures("shared_ray")


def cut(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def test_a_truncated_latest_resumes_from_the_previous_checkpoint(
    tmp_path: Path, make_learner, takeover, capsys: pytest.CaptureFixture[str]
) -> None:
    learner = make_learner(tmp_path, "algo.pretrain_updates=4")
    learner.add_demos([takeover.episode(success=True)])
    learner.pretrain(2)
    learner.save_checkpoint()
    learner.pretrain(2)
    path = Path(learner.save_checkpoint())
    learner.close()
    cut(path)
    resumed = make_learner(tmp_path, "algo.pretrain_updates=4")
    restored = resumed.restore()
    assert restored["checkpoint"] == 1 and resumed.pretrained_updates == 2
    warnings = [line for line in capsys.readouterr().out.splitlines() if "warning:" in line]
    assert len(warnings) == 1 and "previous checkpoint" in warnings[0] and str(path) in warnings[0]
    resumed.close()


def test_no_readable_checkpoint_is_one_line_naming_it(
    tmp_path: Path, make_learner, takeover
) -> None:
    learner = make_learner(tmp_path)
    path = Path(learner.save_checkpoint())
    learner.save_checkpoint()
    learner.close()
    cut(path)
    cut(previous_of(path))
    resumed = make_learner(tmp_path)
    with pytest.raises(CheckpointUnreadable) as error:
        resumed.restore()
    assert "\n" not in str(error.value) and str(path) in str(error.value)
    resumed.close()


def test_resume_recovers_an_episode_left_as_partial_and_drops_an_empty_one(
    tmp_path: Path, make_learner, takeover
) -> None:
    episodes = tmp_path / "episodes"
    episodes.mkdir()
    whole = takeover.episode(success=True)
    buffer = io.BytesIO()
    np.savez(buffer, **encode_episode(whole))  # type: ignore[arg-type]
    (episodes / f"0000000000001_robot_0_{whole.episode_id}.partial").write_bytes(buffer.getvalue())
    (episodes / "0000000000002_robot_0_cut.partial").write_bytes(b"")
    learner = make_learner(tmp_path)
    assert learner.restore()["episodes"] == 1
    assert not list(episodes.glob("*.partial"))
    learner.close()
