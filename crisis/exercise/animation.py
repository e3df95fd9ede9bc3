"""The animation team of an exercise run: injects at their time, journalists (media pressure,
49.2), the CIP's callers (49.3), and, for an unattended run, the cell answering journalists
and approving drafts; started from the dashboard, its orders pause, speed up or stop it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

from crisis.bootstrap import App, wall_clock
from crisis.clock import PausableClock
from crisis.engine import Refused
from crisis.exercise.callers import CallerSimulator
from crisis.exercise.control import RunControl, RunStatus
from crisis.exercise.media import (
    MediaSimulator,
    SimulatedAnswer,
    TimedRequest,
    simulated_answers,
    stimuli_from_journal,
)
from crisis.exercise.scenario import Scenario
from crisis.model import Actor, Authority, InjectPlayed, Interface, StepStatus
from crisis.queries import events
from crisis.runtime import Claim, serve

ANIMATION = Actor(name="animation de l'exercice", interface=Interface.SYSTEM)
PRESS = Actor(name="simulateur de pression médiatique", interface=Interface.SYSTEM)
CALLERS = Actor(name="simulateur d'appelants CIP", interface=Interface.SYSTEM)
PREFET = Actor(name="Préfet (exercice)", interface=Interface.CLI)
DIRCAB = Actor(name="Directeur de cabinet (exercice)", interface=Interface.CLI)
STEP_SECONDS = 0.25  # real seconds between two looks at the exercise
_WALL = wall_clock()  # the dashboard's reports are dated in wall time

# What shows a run on a terminal: entered once the run is playing, it gives what to call
# after each step (the runner reads the main courante then and hands it to its view).
Watch = Callable[[], AbstractContextManager[Callable[[], None]]]


class Animation:
    """The animation team of one run: injects, journalists, callers, the simulated cell."""

    def __init__(
        self,
        app: App,
        scenario: Scenario,
        crisis_id: str,
        t0: datetime,
        communes: Sequence[str],
        control: RunControl | None = None,
        claimed: Claim | None = None,
    ) -> None:
        self.app = app
        self.claimed = claimed  # the database and the port, claimed before T0 was recorded
        self.control = control
        self.stopped = False
        self.scenario = scenario
        self.crisis_id = crisis_id
        self.t0 = t0
        self.end = t0 + timedelta(minutes=scenario.duration)
        self.injects = list(scenario.injects)
        self.media = MediaSimulator.for_scenario(scenario, t0=t0, communes=communes)
        self.communes = communes
        self.media_until = t0
        self.answers: list[SimulatedAnswer] = []
        self.callers: CallerSimulator | None = None
        self.calls_until = t0
        self.cip_at: datetime | None = None
        press = scenario.cell.press_officers or tuple(
            c for c in scenario.participants.contacts if c.startswith("presse")
        )
        self.press_officers = press or ("cellule-communication",)

    async def run(self, watch: Watch | None) -> None:
        """Play until the end (or the dashboard's stop); `watch` shows it on a terminal."""
        stop = asyncio.Event()
        server = asyncio.create_task(serve(self.app, stop, claimed=self.claimed))
        try:
            if self.control is not None:
                await self._driven(self.control)
            else:
                with watch() if watch is not None else contextlib.nullcontext(None) as refresh:
                    while self.app.clock.now() < self.end:
                        await asyncio.sleep(STEP_SECONDS)
                        self.step(self.app.clock.now())
                        if refresh is not None:
                            refresh()
            await self.app.dispatcher.drain()
        finally:
            stop.set()
            await server

    async def _driven(self, control: RunControl) -> None:
        """The run started from the dashboard: its orders applied, its state reported."""
        clock = self.app.clock
        assert isinstance(clock, PausableClock)
        self.app.orchestrator.note(
            self.crisis_id,
            f"exercice lancé depuis le tableau de bord à ×{clock.speed:g}",
            web_actor(control.launch.started_by),
        )
        while clock.now() < self.end:
            by, changes = control.apply(clock)
            for change in changes:  # who paused, sped up or stopped it, in its main courante
                self.app.orchestrator.note(
                    self.crisis_id, change, web_actor(by or "tableau de bord")
                )
            if control.stop_requested:
                self.stopped = True
                break
            control.report(
                _WALL.now(),
                status=RunStatus.PAUSED if clock.paused else RunStatus.RUNNING,
                crisis_id=self.crisis_id,
                t0=self.t0,
                clock=clock.now(),
                speed=clock.speed,
                duration_minutes=self.scenario.duration,
            )
            await asyncio.sleep(STEP_SECONDS)
            self.step(clock.now())

    def step(self, now: datetime) -> None:
        """Everything due at `now`, in the order the animation team would play it."""
        orchestrator = self.app.orchestrator
        due = [i for i in self.injects if self.scenario.inject_time(i, self.t0) <= now]
        if due:
            facts = [InjectPlayed(inject_id=i.id, text=i.text, rumour=i.rumour) for i in due]
            orchestrator.record(self.crisis_id, facts, ANIMATION)
            self.injects = [i for i in self.injects if i not in due]
        self._media(now)
        self._cip(now)
        self._approve(now)

    def _media(self, now: datetime) -> None:
        if not self.scenario.media.enabled:
            return
        minute_end = self.t0 + timedelta(minutes=int((now - self.t0).total_seconds() // 60))
        if minute_end > self.media_until:
            seen = events.journal(
                self.app.store, self.crisis_id, types=["InjectPlayed", "DeliveryAttempted"]
            )
            requests: list[TimedRequest] = self.media.requests_between(
                self.media_until, minute_end, stimuli_from_journal(seen)
            )
            self.media_until = minute_end
            if requests:
                self.app.orchestrator.record(self.crisis_id, [r.fact for r in requests], PRESS)
                self.answers += simulated_answers(
                    requests,
                    seed=self.scenario.seed,
                    delay_minutes=self.scenario.cell.answer_delay_minutes,
                    answerers=self.press_officers,
                )
        for answer in [a for a in self.answers if a.at <= now]:
            self.answers.remove(answer)
            who = Actor(name=answer.answerer, interface=Interface.CLI)
            with contextlib.suppress(Refused):  # answered meanwhile by someone at the keyboard
                self.app.orchestrator.media_follow_up(
                    self.crisis_id, answer.request_id, who, answer=answer.answer
                )

    def _cip(self, now: datetime) -> None:
        cip = self.scenario.cip
        if not cip.activate or cip.number is None:
            return
        if self.cip_at is None:
            if now < self.t0 + timedelta(minutes=cip.at or 0):
                return
            self.app.orchestrator.activate_cip(
                self.crisis_id, cip.number, PREFET, authority=Authority.PREFET
            )
            self.cip_at = now
            self.calls_until = now
            self.callers = CallerSimulator.for_scenario(
                self.scenario, t0=self.t0, communes=self.communes, activated_at=now
            )
        assert self.callers is not None
        calls = self.callers.calls_between(self.calls_until, now)
        self.calls_until = now
        if calls:
            self.app.orchestrator.record(self.crisis_id, [c.fact for c in calls], CALLERS)

    def _approve(self, now: datetime) -> None:
        """The exercise's directeur de cabinet approves each draft after the scenario's delay."""
        wait = timedelta(minutes=self.scenario.cell.approval_delay_minutes)
        steps = events.steps(self.app.store, self.crisis_id)
        held = [s for s in steps if s.status == StepStatus.APPROVAL]
        for step in held:
            if step.held_since and now - step.held_since >= wait:
                self.app.orchestrator.approve(self.crisis_id, step.step_id, DIRCAB)


def web_actor(name: str) -> Actor:
    """Someone acting on the exercise from the dashboard."""
    return Actor(name=name, interface=Interface.WEB)
