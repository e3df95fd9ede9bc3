"""`crisis exercise run`: a scenario played end to end on an accelerated, pausable clock.

The exercise is a crisis in mode "exercice": the same engine, playbooks and channels, through
the exercise channels bootstrap builds (simulated unless `[exercise] real_sends`, framed
"EXERCICE EXERCICE EXERCICE", never beyond the participants). Around it, the animation team
is simulated (crisis/exercise/animation.py). At the end the participants' taking part goes
into their training records and the REX is written. What is shown, and where, is the view's
business (ExerciseView; the terminal's is crisis/cli/exercise_view.py): the runner has no
console code.
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

import crisis.operations.directory as directory_ops
import crisis.queries.directory as directory_queries
from contacts.cog import load_extract
from contacts.demo import demo_directory
from contacts.geography import load_communes
from contacts.model import TrainingRecord
from crisis.bootstrap import App, build
from crisis.clock import PausableClock
from crisis.exercise.animation import ANIMATION, DIRCAB, Animation, Watch, web_actor
from crisis.exercise.control import RunControl
from crisis.exercise.presets import crisis_command, exercise_settings
from crisis.exercise.scenario import Scenario, load_scenario
from crisis.model import Crisis, ExerciseAllowList, JournalEntry, Mode
from crisis.owned_dir import check_dir, fresh_dir, protected_dirs
from crisis.queries import events
from crisis.reports import write_rex
from crisis.runtime import Claim, claim, lock_database
from crisis.service import ActivationRequest
from crisis.settings import DirectorySettings, Settings, load_settings


@dataclass
class ExerciseResult:
    """What a run produced."""

    crisis_id: str
    reports: list[Path] = field(default_factory=list)
    trained: int = 0


@dataclass(frozen=True)
class ExerciseOpening:
    """What is about to be played."""

    title: str
    communes: int
    duration_minutes: int
    speed: float
    seed: int
    real_sends: bool
    database: Path


@dataclass(frozen=True)
class ExerciseMoment:
    """The run as it stands, after one step."""

    now: datetime
    t0: datetime
    paused: bool
    entries: Sequence[JournalEntry]


@dataclass(frozen=True)
class ExerciseEnding:
    """The run once closed: its main courante, its results, how to read it again."""

    now: datetime
    crisis: Crisis
    entries: Sequence[JournalEntry]
    result: ExerciseResult
    journal_command: str
    verify_command: str


class ExerciseView(Protocol):
    """Where a run is shown: its opening, its course (on a terminal), its end."""

    def opening(self, opening: ExerciseOpening) -> None:
        """The run is about to start."""

    def watching(
        self, clock: PausableClock
    ) -> AbstractContextManager[Callable[[ExerciseMoment], None]]:
        """While an unattended run plays: what to call with each moment."""

    def ending(self, ending: ExerciseEnding) -> None:
        """The run is over, its REX written."""


class QuietView:
    """Shows nothing (a test, or a run nobody watches)."""

    def opening(self, opening: ExerciseOpening) -> None:
        """Nothing to show."""

    @contextmanager
    def watching(self, clock: PausableClock) -> Iterator[Callable[[ExerciseMoment], None]]:
        """Nothing to show."""
        yield lambda moment: None

    def ending(self, ending: ExerciseEnding) -> None:
        """Nothing to show."""


def _seed_directory(app: App, now: datetime) -> None:
    """A fresh exercise database gets the fictional demo directory (ARCEP fiction numbers)."""
    if directory_queries.contact_count(app.store):
        return
    settings: DirectorySettings = app.settings.directory
    directory = demo_directory(
        load_communes(settings.communes_file),
        seed=settings.seed,
        now=now,
        tz=app.settings.prefecture.zone,
    )
    directory_ops.install(app.store, directory, replace=True)


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
    view: ExerciseView | None = None,
    speed: float | None = None,
    base: Settings | None = None,
    env: Mapping[str, str] | None = None,
    out_dir: Path | None = None,
    control: RunControl | None = None,
    config: Path | None = None,
) -> ExerciseResult:
    """Play the scenario to its end; the REX (HTML, PDF, Markdown) goes to `out_dir`.

    With `control` (a run started from the dashboard), the dashboard's orders pause, speed up
    or stop the run, and its state is reported for the dashboard; `view` is then told only
    of the opening and the end. Raises ScenarioError (French, with the file and the location)
    for a bad scenario, and FolderRefused (French) for a `data_dir` a previous run did not
    create or that holds the configured data (crisis/owned_dir.py): then nothing is deleted.
    `config`: the user's configuration file, for the commands printed at the end.
    """
    view = view or QuietView()
    geography = load_extract((base or Settings()).directory.communes_file)
    scenario = load_scenario(scenario_path, geography=geography)  # a bad one empties nothing
    settings = exercise_settings(data_dir, scenario.seed, base)
    clock = PausableClock(speed=speed or scenario.speed)
    app, claimed = _claimed(settings, clock, base, env)
    try:
        _seed_directory(app, clock.now())
        known = {c.id for c in app.directory().contacts}
        scenario = load_scenario(scenario_path, geography=geography, known_contacts=known)
        area = scenario.resolve(geography)
        t0 = scenario.t0_at(clock.now())
        view.opening(
            ExerciseOpening(
                title=scenario.title,
                communes=len(area.codes),
                duration_minutes=scenario.duration,
                speed=clock.speed,
                seed=scenario.seed,
                real_sends=settings.exercise.real_sends,
                database=data_dir / "crisis.db",
            )
        )
        activation = app.orchestrator.activate(
            ActivationRequest(
                kind=scenario.kind,
                t0=t0,
                synergi_ref=scenario.synergi_ref,
                communes=area.codes,
                recorded_by=ANIMATION if control is None else web_actor(control.launch.started_by),
                mode=Mode.EXERCICE,
                area=scenario.area,
                participants=allow_list(scenario),
            )
        )
        crisis = activation.crisis
        names = [area.names[c] for c in area.codes]
        play = Animation(app, scenario, crisis.id, crisis.t0, names, control, claimed)
        asyncio.run(play.run(_watch(app, view, crisis)))
        result = _closed(app, scenario, play, out_dir or data_dir / "rapports")
        view.ending(_ending(app, result, config))
        return result
    finally:
        claimed.release()  # serve released it already, unless the run never started
        app.close()


def _claimed(
    settings: Settings, clock: PausableClock, base: Settings | None, env: Mapping[str, str] | None
) -> tuple[App, Claim]:
    """The exercise's own folder emptied and its database claimed (ServiceRefused,
    FolderRefused in French when another run plays there or the folder is not ours)."""
    configured = base if base is not None else load_settings(None, env or {})
    data_dir = settings.data_dir
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
        app = build(settings, clock=clock, env=env or {})
        return app, claim(app, "exercise run", early=early)
    except BaseException:
        early.release()
        raise


def _watch(app: App, view: ExerciseView, crisis: Crisis) -> Watch:
    """The view's watching, fed with the main courante after each step."""
    clock = app.clock
    assert isinstance(clock, PausableClock)

    @contextmanager
    def watching() -> Iterator[Callable[[], None]]:
        with view.watching(clock) as show:

            def refresh() -> None:
                entries = events.journal(app.store, crisis.id)
                show(ExerciseMoment(clock.now(), crisis.t0, clock.paused, entries))

            yield refresh

    return watching


def _closed(app: App, scenario: Scenario, play: Animation, out_dir: Path) -> ExerciseResult:
    """Close the exercise, record the training, write the REX."""
    crisis_id = play.crisis_id
    result = ExerciseResult(crisis_id=crisis_id)
    reason = "exercice arrêté avant son terme" if play.stopped else "fin de l'exercice"
    app.orchestrator.close(crisis_id, DIRCAB, reason)
    result.trained = _record_training(app, scenario, crisis_id, play.cip_at is not None)
    result.reports = write_rex(
        events.journal(app.store, crisis_id),
        app.clock.now(),
        out_dir,
        prefecture=app.settings.prefecture.name,
        timezone=app.settings.prefecture.timezone,
    )
    return result


def _record_training(app: App, scenario: Scenario, crisis_id: str, with_cip: bool) -> int:
    """Every participant of the directory gets the exercise in their training record."""
    crisis = events.crisis(app.store, crisis_id)
    ids = [c for c in scenario.participants.contacts if c in {r.id for r in crisis.roster}]
    on = crisis.t0.astimezone(app.settings.prefecture.zone).date()
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
    return directory_ops.add_training(app.store, records)


def _ending(app: App, result: ExerciseResult, config: Path | None) -> ExerciseEnding:
    crisis_id = result.crisis_id
    command = _journal_command(app.settings, config)
    return ExerciseEnding(
        now=app.clock.now(),
        crisis=events.crisis(app.store, crisis_id),
        entries=events.journal(app.store, crisis_id),
        result=result,
        journal_command=command("journal", crisis_id),
        verify_command=command("journal", "verify", crisis_id),
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
