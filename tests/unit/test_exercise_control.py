"""Driving an exercise run through its folder: orders applied to the clock, state reported,
a silent run seen as interrupted, ids from URLs checked (crisis/exercise/control.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crisis.clock import PausableClock
from crisis.exercise.control import (
    STALE_AFTER,
    Launch,
    RunControl,
    RunState,
    RunStatus,
    list_runs,
    read_command,
    read_state,
    run_folder,
    send_command,
)

WALL = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


def _folder(root: Path, run_id: str = "ex-20261123-180000-ab12", speed: float = 30) -> Path:
    folder = root / run_id
    folder.mkdir(parents=True)
    launch = Launch(
        run_id=run_id,
        scenario="inondation_furan.toml",
        title="Crue du Furan",
        speed=speed,
        started_by="Chargée de com (com1)",
        started_at=WALL,
        settings={},
    )
    (folder / "lancement.json").write_text(launch.model_dump_json(), encoding="utf-8")
    return folder


class _Real:
    """A controllable monotonic source for the exercise clock."""

    def __init__(self) -> None:
        self.value = 0.0

    def __call__(self) -> float:
        return self.value


def test_orders_pause_resume_change_speed_and_stop_the_clock(tmp_path: Path) -> None:
    """What the dashboard writes is what the run's clock does, read only when it changed."""
    folder = _folder(tmp_path)
    real = _Real()
    clock = PausableClock(speed=30, start=WALL, real_monotonic=real)
    control = RunControl(folder)
    control.apply(clock)  # no orders yet: nothing changes
    assert clock.speed == 30 and not clock.paused
    send_command(folder, paused=True, by="Chargée de com (com1)")
    assert control.apply(clock) == ("Chargée de com (com1)", ["exercice mis en pause"])
    assert control.apply(clock) == ("", [])  # read once
    assert clock.paused
    real.value += 10
    assert clock.now() == WALL  # paused: clock time stands still
    send_command(folder, paused=False, speed=60)
    assert control.apply(clock)[1] == ["vitesse de l'exercice portée à ×60", "exercice repris"]
    assert not clock.paused and clock.speed == 60
    real.value += 1
    assert clock.now() == WALL + timedelta(seconds=60)
    assert not control.stop_requested
    send_command(folder, stop=True)
    assert control.apply(clock)[1] == ["arrêt de l'exercice demandé"]
    assert control.stop_requested
    # a later order keeps the stop: a stop cannot be undone by a pause
    send_command(folder, paused=True)
    assert read_command(folder).stop


def test_a_bad_speed_is_refused_in_french_and_changes_nothing(tmp_path: Path) -> None:
    folder = _folder(tmp_path, speed=20)
    with pytest.raises(ValueError, match="vitesse invalide : 90"):
        send_command(folder, speed=90)
    assert read_command(folder).speed == 20  # the launch's speed still rules


def test_the_state_is_reported_at_most_once_a_second_unless_forced(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    control = RunControl(folder)
    control.report(WALL, status=RunStatus.RUNNING, crisis_id="C1")
    control.report(WALL + timedelta(milliseconds=300), status=RunStatus.PAUSED)
    state = read_state(folder, WALL + timedelta(seconds=1))
    assert state is not None and state.status == RunStatus.RUNNING  # the second one waited
    assert control.state.status == RunStatus.PAUSED
    control.report(WALL + timedelta(milliseconds=400), force=True, status=RunStatus.FINISHED)
    state = read_state(folder, WALL + timedelta(seconds=1))
    assert state is not None and state.status == RunStatus.FINISHED
    assert state.crisis_id == "C1" and state.title == "Crue du Furan"


def test_a_silent_running_exercise_is_shown_interrupted(tmp_path: Path) -> None:
    """A run that stopped reporting (process killed, machine restarted) is not « en cours »."""
    folder = _folder(tmp_path)
    RunControl(folder).report(WALL, force=True, status=RunStatus.RUNNING)
    fresh = read_state(folder, WALL + STALE_AFTER)
    assert fresh is not None and fresh.status == RunStatus.RUNNING
    late = read_state(folder, WALL + STALE_AFTER + timedelta(seconds=5))
    assert late is not None and late.status == RunStatus.LOST
    assert "plus de nouvelles" in late.error and not late.status.live
    RunControl(folder).report(WALL, force=True, status=RunStatus.FINISHED)
    ended = read_state(folder, WALL + timedelta(days=3))
    assert ended is not None and ended.status == RunStatus.FINISHED  # an ended run stays so


def test_run_ids_from_urls_are_checked_and_runs_listed_latest_first(tmp_path: Path) -> None:
    for bad in ("../etc", "ex-1", "ex-20261123-180000-AB12/..", ""):
        with pytest.raises(ValueError, match="exercice inconnu"):
            run_folder(tmp_path, bad)
    older = _folder(tmp_path, "ex-20261123-170000-aaaa")
    newer = _folder(tmp_path, "ex-20261123-180000-bbbb")
    for folder, at in ((older, WALL - timedelta(hours=1)), (newer, WALL)):
        state = RunState(
            run_id=folder.name,
            title="t",
            started_by="x",
            started_at=at,
            status=RunStatus.FINISHED,
            speed=1,
            updated_at=at,
        )
        (folder / "etat.json").write_text(state.model_dump_json(), encoding="utf-8")
    (tmp_path / "pas-un-exercice").mkdir()
    assert [s.run_id for s in list_runs(tmp_path, WALL)] == [newer.name, older.name]
    assert list_runs(tmp_path / "absent", WALL) == []
