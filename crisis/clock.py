"""The only reader of wall time: system, fake (tests) and accelerated (exercises, demo) clocks."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Time as the orchestrator sees it. Durations are in clock seconds."""

    def now(self) -> datetime:
        """Current time, timezone-aware (UTC)."""
        ...

    def monotonic(self) -> float:
        """Monotonic seconds, for rate limits and latencies."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait this many clock seconds."""
        ...

    def real_seconds_until(self, when: datetime) -> float:
        """Real seconds from now until the clock shows `when` (0 if past): for the alarm clock."""
        ...


class SystemClock:
    """Wall time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def real_seconds_until(self, when: datetime) -> float:
        return max(0.0, (when - self.now()).total_seconds())


class AcceleratedClock:
    """Time running `speed` times faster than wall time from a chosen origin (exercise, demo)."""

    def __init__(self, *, speed: float, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._real_origin = time.monotonic()
        self._origin = start or datetime.now(UTC)

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._real_origin) * self.speed
        return self._origin + timedelta(seconds=elapsed)

    def monotonic(self) -> float:
        return time.monotonic() * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    def real_seconds_until(self, when: datetime) -> float:
        return max(0.0, (when - self.now()).total_seconds() / self.speed)


class FakeClock:
    """A clock tests move by hand; sleeping advances it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start
        self._mono = 0.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self._now += timedelta(seconds=seconds)
        self._mono += seconds

    def set(self, when: datetime) -> None:
        """Jump to a later time."""
        if when < self._now:
            raise ValueError("time does not go backwards")
        self.advance((when - self._now).total_seconds())

    async def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)

    def real_seconds_until(self, when: datetime) -> float:
        return 0.0


class PausableClock:
    """The exercise clock: runs `speed` times faster than wall time (x1 to x60), can be paused
    (clock time stands still, sleeps wait longer) and resumed, and sped up or slowed down.

    APScheduler alarms are armed in wall time: whoever armed them registers `on_change` to
    re-arm them after a pause, a resume or a change of speed.
    """

    MIN_SPEED = 1.0
    MAX_SPEED = 60.0

    def __init__(
        self,
        *,
        speed: float = 1.0,
        start: datetime | None = None,
        real_monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._real = real_monotonic
        self.speed = self._checked(speed)
        self._start = start or datetime.now(UTC)
        if self._start.tzinfo is None:
            raise ValueError("l'horloge d'exercice a besoin d'une heure avec fuseau horaire")
        self._elapsed_at_anchor = 0.0  # clock seconds since start, at the last state change
        self._real_anchor = self._real()
        self._paused = False
        self._wakeup: asyncio.Event | None = None
        self._listeners: list[Callable[[], None]] = []

    @classmethod
    def _checked(cls, speed: float) -> float:
        if not cls.MIN_SPEED <= speed <= cls.MAX_SPEED:
            raise ValueError(
                f"vitesse d'exercice invalide : {speed:g} (de x{cls.MIN_SPEED:g} à "
                f"x{cls.MAX_SPEED:g})"
            )
        return float(speed)

    def _elapsed(self) -> float:
        if self._paused:
            return self._elapsed_at_anchor
        return self._elapsed_at_anchor + (self._real() - self._real_anchor) * self.speed

    def _changed(self) -> None:
        self._elapsed_at_anchor = self._elapsed()
        self._real_anchor = self._real()

    def _notify(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()
            self._wakeup = None
        for listener in list(self._listeners):
            listener()

    @property
    def paused(self) -> bool:
        """Whether clock time stands still."""
        return self._paused

    def pause(self) -> None:
        """Stop clock time (no effect if already paused)."""
        if self._paused:
            return
        self._changed()
        self._paused = True
        self._notify()

    def resume(self) -> None:
        """Let clock time run again from where it stopped (no effect if running)."""
        if not self._paused:
            return
        self._real_anchor = self._real()
        self._paused = False
        self._notify()

    def set_speed(self, speed: float) -> None:
        """Change the acceleration from now on (x1 to x60); clock time does not jump."""
        checked = self._checked(speed)
        self._changed()
        self.speed = checked
        self._notify()

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call `listener` after every pause, resume and change of speed."""
        self._listeners.append(listener)

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed())

    def monotonic(self) -> float:
        return self._elapsed()

    async def sleep(self, seconds: float) -> None:
        target = self._elapsed() + max(0.0, seconds)
        await asyncio.sleep(0)
        while (remaining := target - self._elapsed()) > 0:
            if self._wakeup is None:
                self._wakeup = asyncio.Event()
            wakeup = self._wakeup
            timeout = None if self._paused else remaining / self.speed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), timeout)

    def real_seconds_until(self, when: datetime) -> float:
        """Real seconds until `when` at the current speed, as if running (re-arm on change)."""
        return max(0.0, (when - self.now()).total_seconds() / self.speed)
