"""The exercise clock: accelerated x1 to x60, pausable, resumable, with sleeps that honour pauses."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from crisis.clock import Clock, PausableClock

START = datetime(2026, 3, 12, 8, 0, tzinfo=UTC)


class RealTime:
    """A hand-moved stand-in for time.monotonic."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


def clock(speed: float = 30) -> tuple[PausableClock, RealTime]:
    real = RealTime()
    return PausableClock(speed=speed, start=START, real_monotonic=real), real


def test_time_runs_speed_times_faster():
    """Ten real seconds at x30 are five clock minutes."""
    exercise, real = clock(30)
    as_clock: Clock = exercise  # the Clock protocol, statically
    assert as_clock is exercise
    real.value += 10
    assert exercise.now() == START + timedelta(minutes=5)
    assert exercise.monotonic() == pytest.approx(300)


def test_pause_stops_time_and_resume_continues_where_it_stopped():
    """Paused: real time passes, clock time does not; resumed: it goes on without a jump."""
    exercise, real = clock(30)
    real.value += 2
    exercise.pause()
    assert exercise.paused
    frozen = exercise.now()
    real.value += 100
    assert exercise.now() == frozen
    exercise.pause()  # twice is harmless
    exercise.resume()
    assert not exercise.paused
    assert exercise.now() == frozen
    real.value += 1
    assert exercise.now() == frozen + timedelta(seconds=30)
    exercise.resume()  # twice is harmless
    assert exercise.now() == frozen + timedelta(seconds=30)


def test_speed_change_keeps_the_time_and_changes_the_pace():
    """set_speed does not move the clock; later seconds count at the new speed."""
    exercise, real = clock(10)
    real.value += 6
    assert exercise.now() == START + timedelta(minutes=1)
    exercise.set_speed(60)
    assert exercise.now() == START + timedelta(minutes=1)
    real.value += 1
    assert exercise.now() == START + timedelta(minutes=2)
    assert exercise.real_seconds_until(START + timedelta(minutes=3)) == pytest.approx(1)


@pytest.mark.parametrize("speed", [0, 0.5, 61, 600])
def test_speed_outside_one_to_sixty_is_refused(speed: float):
    """x1 to x60 only, with a French message; a running clock keeps its speed."""
    with pytest.raises(ValueError, match="vitesse d'exercice invalide"):
        PausableClock(speed=speed, start=START)
    exercise, _ = clock(30)
    with pytest.raises(ValueError, match="de x1 à x60"):
        exercise.set_speed(speed)
    assert exercise.speed == 30


def test_listeners_hear_every_change():
    """on_change is how the alarm clock learns it must re-arm."""
    exercise, _ = clock(30)
    heard: list[tuple[bool, float]] = []
    exercise.on_change(lambda: heard.append((exercise.paused, exercise.speed)))
    exercise.pause()
    exercise.resume()
    exercise.set_speed(5)
    assert heard == [(True, 30), (False, 30), (False, 5)]


def test_naive_start_is_refused():
    """Clock time is always aware."""
    with pytest.raises(ValueError, match="fuseau"):
        PausableClock(speed=2, start=datetime(2026, 3, 12, 8, 0))


async def test_sleep_waits_clock_seconds_and_a_pause_holds_it():
    """At x60, 6 clock seconds take 0.1 s; paused in the middle, the sleep waits for resume."""
    exercise = PausableClock(speed=60, start=START)
    task = asyncio.create_task(exercise.sleep(12))  # 0.2 s real while running
    await asyncio.sleep(0.05)
    exercise.pause()
    await asyncio.sleep(0.4)  # far longer than the sleep would have lasted
    assert not task.done()
    exercise.resume()
    await asyncio.wait_for(task, timeout=1.0)
    assert exercise.now() >= START + timedelta(seconds=12)


async def test_speeding_up_shortens_a_running_sleep():
    """A sleep started at x1 ends early once the clock runs at x60."""
    exercise = PausableClock(speed=1, start=START)
    task = asyncio.create_task(exercise.sleep(6))  # 6 s real at x1
    await asyncio.sleep(0.02)
    exercise.set_speed(60)
    await asyncio.wait_for(task, timeout=1.0)
