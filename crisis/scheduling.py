"""The alarm clock (APScheduler 3.x): it only wakes the orchestrator; due times live in the DB."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from crisis.clock import Clock


class Alarm:
    """Wakes a crisis at given (clock) times. A lost alarm costs nothing: start-up re-arms."""

    def __init__(self, clock: Clock, wake: Callable[[str], None]) -> None:
        self.clock = clock
        self.wake = wake
        # misfire_grace_time=None: a late alarm still fires (3.x drops jobs late by > 1 s otherwise)
        self.scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 3},
        )

    def start(self) -> None:
        """Start the scheduler (needs a running event loop)."""
        self.scheduler.start()

    def arm(self, crisis_id: str, when: datetime) -> None:
        """Wake `crisis_id` when the clock shows `when`."""
        real = datetime.now(UTC) + timedelta(seconds=self.clock.real_seconds_until(when))
        self.scheduler.add_job(
            self.wake,
            DateTrigger(run_date=real),
            args=[crisis_id],
            id=f"{crisis_id}@{when.isoformat()}",
            replace_existing=True,
        )

    def armed(self) -> int:
        """How many alarms are set."""
        return len(self.scheduler.get_jobs())

    def shutdown(self) -> None:
        """Stop without running pending alarms."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
