"""`crisis exercise run`: a scenario played end to end on an accelerated, pausable clock.

The exercise is a crisis in mode "exercice": the same engine, playbooks and channels, through
the exercise channels bootstrap builds (simulated unless `[exercise] real_sends`, framed
"EXERCICE EXERCICE EXERCICE", never beyond the participants). Around it, the animation team
is simulated: injects at their time, journalists (media pressure, 49.2), the CIP's callers
(49.3), and, for an unattended run, the cell answering journalists and approving drafts. At the
end the participants' taking part goes into their training records and the REX is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from contacts.cog import load_extract
from contacts.demo import demo_directory
from contacts.geography import load_communes
from contacts.model import TrainingRecord
from crisis import compliance
from crisis.bootstrap import App, build
from crisis.clock import PausableClock, SystemClock
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
from crisis.exercise.presets import crisis_command, exercise_settings
from crisis.exercise.scenario import Scenario, load_scenario
from crisis.model import (
    Actor,
    Authority,
    CipCallEnded,
    ExerciseAllowList,
    InjectPlayed,
    Interface,
    MediaRequestAnswered,
    MediaRequestReceived,
    Mode,
    StepStatus,
)
from crisis.owned_dir import check_dir, fresh_dir, protected_dirs
from crisis.reports import write_rex
from crisis.runtime import Claim, claim, lock_database, serve
from crisis.service import ActivationRequest
from crisis.settings import DirectorySettings, Settings, load_settings

ANIMATION = Actor(name="animation de l'exercice", interface=Interface.SYSTEM)
PRESS = Actor(name="simulateur de pression médiatique", interface=Interface.SYSTEM)
CALLERS = Actor(name="simulateur d'appelants CIP", interface=Interface.SYSTEM)
PREFET = Actor(name="Préfet (exercice)", interface=Interface.CLI)
DIRCAB = Actor(name="Directeur de cabinet (exercice)", interface=Interface.CLI)
_STEP = 0.25  # real seconds between two looks at the exercise
_WALL = SystemClock()  # the dashboard's reports are dated in wall time


@dataclass
class ExerciseResult:
    """What a run produced."""

    crisis_id: str
    reports: list[Path] = field(default_factory=list)
    trained: int = 0


def _seed_directory(app: App, now: datetime) -> None:
    """A fresh exercise database gets the fictional demo directory (ARCEP fiction numbers)."""
    with app.store.transaction() as tx:
        if tx.contact_count():
            return
    settings: DirectorySettings = app.settings.directory
    directory = demo_directory(
        load_communes(settings.communes_file),
        seed=settings.seed,
        now=now,
        tz=ZoneInfo(app.settings.prefecture.timezone),
    )
    with app.store.transaction() as tx:
        tx.replace_directory(directory)


def allow_list(scenario: Scenario) -> ExerciseAllowList:
    """The scenario's participants as the crisis keeps them (the exercise channels' guard)."""
    p = scenario.participants
    public = {
        name: accounts
        for name, accounts in {
            "x": p.x,
            "facebook": p.facebook,
            "website": p.website,
            "app": p.app,
        }.items()
        if accounts
    }
    return ExerciseAllowList.model_validate(
        {"contacts": p.contacts, "phones": p.phones, "emails": p.emails, "public": public}
    )


def run_exercise(
    scenario_path: Path,
    *,
    data_dir: Path,
    console: Console,
    speed: float | None = None,
    base: Settings | None = None,
    env: Mapping[str, str] | None = None,
    out_dir: Path | None = None,
    control: RunControl | None = None,
    config: Path | None = None,
) -> ExerciseResult:
    """Play the scenario to its end; the REX (HTML, PDF, Markdown) goes to `out_dir`.

    With `control` (a run started from the dashboard), the dashboard's orders pause, speed up
    or stop the run, and its state is reported for the dashboard; nothing is drawn on screen.
    Raises ScenarioError (French, with the file and the location) for a bad scenario, and
    FolderRefused (French) for a `data_dir` a previous run did not create or that holds the
    configured data (crisis/owned_dir.py): then nothing is deleted. `config`: the user's
    configuration file, for the commands printed at the end.
    """
    geography = load_extract((base or Settings()).directory.communes_file)
    scenario = load_scenario(scenario_path, geography=geography)  # a bad one empties nothing
    configured = base if base is not None else load_settings(None, env or {})
    settings = exercise_settings(data_dir, scenario.seed, base)
    what = "dossier de l'exercice"
    check_dir(data_dir, what=what, protected=protected_dirs(configured))
    # locked before the folder is emptied: a run already playing there keeps its folder
    early = lock_database(settings.database.url, "exercise run", settings.prefecture.timezone)
    try:
        fresh_dir(  # emptied only when a previous run created it; never the configured data
            data_dir,
            what=what,
            by="crisis exercise run",
            protected=protected_dirs(configured),
            keep=early.files,
        )
        early.check()
        clock = PausableClock(speed=speed or scenario.speed)
        app = build(settings, clock=clock, env=env or {})
        claimed = claim(app, "exercise run", early=early)
    except BaseException:
        early.release()
        raise
    try:
        _seed_directory(app, clock.now())
        directory = app.directory()
        scenario = load_scenario(
            scenario_path, geography=geography, known_contacts={c.id for c in directory.contacts}
        )
        area = scenario.resolve(geography)
        t0 = scenario.t0_at(clock.now())
        console.print(
            f"[bold]EXERCICE[/bold] : {scenario.title} — {len(area.codes)} communes, "
            f"{scenario.duration} min à ×{clock.speed:g}, graine {scenario.seed} ; "
            f"canaux {'réels pour les participants' if settings.exercise.real_sends else 'simulés'}"
            f" ; base {data_dir / 'crisis.db'}"
        )
        activation = app.orchestrator.activate(
            ActivationRequest(
                kind=scenario.kind,
                t0=t0,
                synergi_ref=scenario.synergi_ref,
                communes=area.codes,
                recorded_by=ANIMATION if control is None else _web(control.launch.started_by),
                mode=Mode.EXERCICE,
                area=scenario.area,
                participants=allow_list(scenario),
            )
        )
        crisis = activation.crisis
        names = [area.names[c] for c in area.codes]
        play = _Play(app, scenario, crisis.id, crisis.t0, names, control, claimed)
        asyncio.run(play.run(console))
        result = ExerciseResult(crisis_id=crisis.id)
        reason = "exercice arrêté avant son terme" if play.stopped else "fin de l'exercice"
        app.orchestrator.close(crisis.id, DIRCAB, reason)
        result.trained = _record_training(app, scenario, crisis.id, play.cip_at is not None)
        with app.store.transaction() as tx:
            entries = tx.journal(crisis.id)
        result.reports = write_rex(
            entries,
            clock.now(),
            out_dir or data_dir / "rapports",
            prefecture=settings.prefecture.name,
            timezone=settings.prefecture.timezone,
        )
        _conclude(app, crisis.id, result, console, config)
        return result
    finally:
        claimed.release()  # serve released it already, unless the run never started
        app.close()


def _record_training(app: App, scenario: Scenario, crisis_id: str, with_cip: bool) -> int:
    """Every participant of the directory gets the exercise in their training record."""
    with app.store.transaction() as tx:
        crisis = tx.crisis(crisis_id)
        ids = [c for c in scenario.participants.contacts if c in {r.id for r in crisis.roster}]
        on = crisis.t0.astimezone(ZoneInfo(app.settings.prefecture.timezone)).date()
        records = [
            TrainingRecord(
                contact_id=c,
                kind="exercice",
                on=on,
                with_cip_activation=with_cip,
                label=f"{scenario.title} ({crisis_id})"[:300],
            )
            for c in ids
        ]
        return tx.add_training(records)


class _Play:
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

    async def run(self, console: Console) -> None:
        stop = asyncio.Event()
        server = asyncio.create_task(serve(self.app, stop, claimed=self.claimed))
        toggle = _pause_on_enter(self.app.clock, console) if self.control is None else None
        try:
            if self.control is None:
                with Live(console=console, refresh_per_second=4, transient=False) as live:
                    while self.app.clock.now() < self.end:
                        await asyncio.sleep(_STEP)
                        self.step(self.app.clock.now())
                        live.update(self.screen())
            else:
                await self._driven(self.control)
            await self.app.dispatcher.drain()
        finally:
            if toggle is not None:
                toggle()
            stop.set()
            await server

    async def _driven(self, control: RunControl) -> None:
        """The run started from the dashboard: its orders applied, its state reported."""
        clock = self.app.clock
        assert isinstance(clock, PausableClock)
        self.app.orchestrator.note(
            self.crisis_id,
            f"exercice lancé depuis le tableau de bord à ×{clock.speed:g}",
            _web(control.launch.started_by),
        )
        while clock.now() < self.end:
            by, changes = control.apply(clock)
            for change in changes:  # who paused, sped up or stopped it, in its main courante
                self.app.orchestrator.note(self.crisis_id, change, _web(by or "tableau de bord"))
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
            await asyncio.sleep(_STEP)
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
            with self.app.store.transaction() as tx:
                seen = tx.journal(self.crisis_id, types=["InjectPlayed", "DeliveryAttempted"])
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
        with self.app.store.transaction() as tx:
            held = [s for s in tx.steps(self.crisis_id) if s.status == StepStatus.APPROVAL]
        for step in held:
            if step.held_since and now - step.held_since >= wait:
                self.app.orchestrator.approve(self.crisis_id, step.step_id, DIRCAB)

    def screen(self) -> Group:
        now = self.app.clock.now()
        with self.app.store.transaction() as tx:
            entries = tx.journal(self.crisis_id)
        minutes = (now - self.t0).total_seconds() / 60
        received = [e for e in entries if isinstance(e.fact, MediaRequestReceived)]
        answered = {e.fact.request_id for e in entries if isinstance(e.fact, MediaRequestAnswered)}
        calls = [e.fact for e in entries if isinstance(e.fact, CipCallEnded)]
        head = Table.grid(padding=(0, 2))
        paused = " [reverse] PAUSE [/reverse]" if getattr(self.app.clock, "paused", False) else ""
        head.add_row(
            f"[bold]EXERCICE T0+{int(minutes):02d}:{int(minutes * 60) % 60:02d}[/bold]{paused}",
            f"sollicitations presse : {len(received)} (sans réponse : "
            f"{len(received) - len(answered)})",
            f"appels CIP : {len(calls)}"
            + (f" (répondus {sum(c.outcome == 'repondu' for c in calls)})" if calls else ""),
        )
        table = Table(title="Engagements")
        table.add_column("engagement")
        table.add_column("état")
        table.add_column("détail")
        for v in compliance.judge(entries, now):
            table.add_row(v.engagement, v.status.label, v.detail[:80])
        queue = Table(title="File des sollicitations presse (dernières)")
        for column in ("réf.", "média", "question", "état"):
            queue.add_column(column)
        for e in received[-5:]:
            fact = e.fact
            assert isinstance(fact, MediaRequestReceived)
            state = "répondu" if fact.request_id in answered else "[yellow]en attente[/yellow]"
            queue.add_row(fact.request_id, fact.outlet, fact.question[:60], state)
        return Group(head, table, queue)


def _web(name: str) -> Actor:
    """Someone acting on the exercise from the dashboard."""
    return Actor(name=name, interface=Interface.WEB)


def _pause_on_enter(clock: object, console: Console) -> Callable[[], None] | None:
    """On a terminal, Entrée pauses and resumes the exercise clock; returns the clean-up."""
    if not isinstance(clock, PausableClock) or not sys.stdin.isatty():
        return None
    loop = asyncio.get_running_loop()

    def toggle() -> None:
        sys.stdin.readline()
        if clock.paused:
            clock.resume()
        else:
            clock.pause()

    loop.add_reader(sys.stdin.fileno(), toggle)
    console.print("Entrée : mettre l'exercice en pause ou le reprendre.")

    def stop() -> None:
        loop.remove_reader(sys.stdin.fileno())

    return stop


def _conclude(
    app: App, crisis_id: str, result: ExerciseResult, console: Console, config: Path | None
) -> None:
    from crisis.cli.views import reach_table, render_verdicts

    now = app.clock.now()
    with app.store.transaction() as tx:
        entries = tx.journal(crisis_id)
        crisis = tx.crisis(crisis_id)
    console.rule("Fin de l'exercice")
    render_verdicts(compliance.judge(entries, now))
    console.print(
        reach_table(compliance.commune_reach(entries, now), crisis.commune_names, crisis.t0)
    )
    console.print(f"Participations enregistrées dans les dossiers de formation : {result.trained}")
    for path in result.reports:
        console.print(f"Retour d'expérience : {path}")
    command = _journal_command(app.settings, config)
    console.print(f"Pour relire sa main courante : {command('journal', crisis_id)}")
    console.print(
        f"Pour vérifier son chaînage : {command('journal', 'verify', crisis_id)}",
        soft_wrap=True,
    )


def _journal_command(settings: Settings, config: Path | None) -> Callable[..., str]:
    """The exact `crisis ...` command line reading the exercise's own database: with the
    user's configuration (`config`) the database is given by CRISIS_DATABASE_URL; without, a
    small configuration file naming it is written beside it (like `crisis demo`)."""
    url = f"sqlite:///{(settings.data_dir / 'crisis.db').resolve()}"
    if config is None:
        written = settings.data_dir / "exercice.toml"
        written.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
        prefix, config = "", written
    else:
        prefix = f"CRISIS_DATABASE_URL={shlex.quote(url)} "

    def command(*args: str) -> str:
        words = [crisis_command(), *args, "--config", str(config)]
        return prefix + " ".join(shlex.quote(w) for w in words)

    return command
