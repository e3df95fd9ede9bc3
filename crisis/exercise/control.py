"""Exercises started from the dashboard: a run in its own process, driven through two files.

An accelerated exercise needs its own clock (×1 to ×60, pausable), and the service that runs
real events keeps the wall clock. So the dashboard starts each run as a separate process
(`python -m crisis.exercise.supervised FOLDER`), in its own folder under
`<data_dir>/exercices/<run id>/`: its own SQLite database, its simulated channels, its REX.
A run that fails cannot disturb the real service, and the real service restarting does not
stop a run.

The two processes talk through files in that folder, each written whole (temporary file, then
rename):
- `lancement.json`: what to play (written once by the dashboard);
- `commande.json`: pause, speed, stop (written by the dashboard, read by the run);
- `etat.json`: where the run stands (written by the run, read by the dashboard).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from crisis.clock import PausableClock
from crisis.owned_dir import claim_new

__all__ = [
    "STALE_AFTER",
    "Command",
    "Launch",
    "RunControl",
    "RunState",
    "RunStatus",
    "launch_run",
    "list_runs",
    "read_command",
    "read_state",
    "run_folder",
    "send_command",
]

STATE_FILE = "etat.json"
COMMAND_FILE = "commande.json"
LAUNCH_FILE = "lancement.json"
LOG_FILE = "sortie.log"
STALE_AFTER = timedelta(seconds=30)  # a running exercise reports every second
_RUN_ID = re.compile(r"^ex-\d{8}-\d{6}-[a-z0-9]{4}$")


class RunStatus(StrEnum):
    """Where a run stands (French values: they are shown as they are)."""

    STARTING = "démarrage"
    RUNNING = "en cours"
    PAUSED = "en pause"
    FINISHED = "terminé"
    STOPPED = "arrêté"
    FAILED = "échoué"
    LOST = "interrompu"  # no news from the run's process: it died or the machine restarted

    @property
    def live(self) -> bool:
        """Whether the run can still be driven (paused, sped up, stopped)."""
        return self in {RunStatus.STARTING, RunStatus.RUNNING, RunStatus.PAUSED}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Launch(_Model):
    """What the dashboard asked for."""

    run_id: str
    scenario: str  # path of the scenario file
    title: str
    speed: float = Field(ge=PausableClock.MIN_SPEED, le=PausableClock.MAX_SPEED)
    started_by: str  # "Nom (login)"
    started_at: datetime
    settings: dict[str, Any]  # the service's settings, channels forced to simulation


class Command(_Model):
    """The dashboard's orders to a running exercise."""

    paused: bool = False
    speed: float = Field(default=1.0, ge=PausableClock.MIN_SPEED, le=PausableClock.MAX_SPEED)
    stop: bool = False
    by: str = ""  # who gave the latest order ("Nom (login)"), for the exercise's main courante


class RunState(_Model):
    """What a run says of itself (and what the dashboard shows)."""

    run_id: str
    title: str
    started_by: str
    started_at: datetime
    status: RunStatus
    speed: float
    updated_at: datetime  # wall time of the last report
    pid: int | None = None
    crisis_id: str | None = None
    t0: datetime | None = None
    clock: datetime | None = None  # the exercise clock at the last report
    duration_minutes: int | None = None
    reports: tuple[str, ...] = ()  # file names in the run's `rapports` folder
    error: str = ""

    @property
    def minutes(self) -> float | None:
        """Exercise minutes since T0 at the last report."""
        if self.t0 is None or self.clock is None:
            return None
        return (self.clock - self.t0).total_seconds() / 60


def _write(path: Path, data: str) -> None:
    """Write a whole file: a reader sees the old content or the new one, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(data, encoding="utf-8")
    tmp.replace(path)


def run_folder(root: Path, run_id: str) -> Path:
    """The folder of a run; ValueError for an id that is not one (the id comes from a URL)."""
    if not _RUN_ID.match(run_id):
        raise ValueError(f"exercice inconnu : « {run_id[:40]} »")
    return root / run_id


def read_state(folder: Path, now: datetime) -> RunState | None:
    """The run's state; a live run with no news for STALE_AFTER is LOST."""
    try:
        state = RunState.model_validate_json((folder / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return None
    if state.status.live and now - state.updated_at > STALE_AFTER:
        return state.model_copy(
            update={
                "status": RunStatus.LOST,
                "error": "plus de nouvelles du processus de l'exercice depuis "
                f"{int((now - state.updated_at).total_seconds())} s",
            }
        )
    return state


def list_runs(root: Path, now: datetime) -> list[RunState]:
    """Every run under `root`, the latest first."""
    if not root.is_dir():
        return []
    states = [read_state(p, now) for p in root.iterdir() if _RUN_ID.match(p.name) and p.is_dir()]
    return sorted((s for s in states if s is not None), key=lambda s: s.started_at, reverse=True)


def read_command(folder: Path) -> Command:
    """The current orders (none yet: run at the launch speed)."""
    try:
        return Command.model_validate_json((folder / COMMAND_FILE).read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        pass
    try:
        launch = Launch.model_validate_json((folder / LAUNCH_FILE).read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return Command()
    return Command(speed=launch.speed)


def send_command(
    folder: Path,
    *,
    paused: bool | None = None,
    speed: float | None = None,
    stop: bool = False,
    by: str = "",
) -> Command:
    """Change the orders of a run (only what is given); ValueError (French) for a bad speed."""
    current = read_command(folder)
    update: dict[str, Any] = {"stop": current.stop or stop, "by": by[:200]}
    if paused is not None:
        update["paused"] = paused
    if speed is not None:
        if not PausableClock.MIN_SPEED <= speed <= PausableClock.MAX_SPEED:
            raise ValueError(
                f"vitesse invalide : {speed:g} (de ×{PausableClock.MIN_SPEED:g} à "
                f"×{PausableClock.MAX_SPEED:g})"
            )
        update["speed"] = speed
    command = current.model_copy(update=update)
    _write(folder / COMMAND_FILE, command.model_dump_json())
    return command


def launch_run(
    root: Path,
    *,
    scenario: Path,
    title: str,
    speed: float,
    started_by: str,
    now: datetime,
    settings: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
) -> tuple[RunState, subprocess.Popen[bytes]]:
    """Create the run's folder and start its process (it outlives the caller's requests).

    `env`: the process's environment (None: this one's). The caller keeps the process handle
    to reap it when it ends.
    """
    run_id = f"ex-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
    folder = root / run_id
    claim_new(folder, by="exercice lancé depuis le tableau de bord")  # ours: marked, never reused
    launch = Launch(
        run_id=run_id,
        scenario=str(scenario),
        title=title,
        speed=speed,
        started_by=started_by,
        started_at=now,
        settings=dict(settings),
    )
    _write(folder / LAUNCH_FILE, launch.model_dump_json())
    _write(folder / COMMAND_FILE, Command(speed=speed).model_dump_json())
    state = RunState(
        run_id=run_id,
        title=title,
        started_by=started_by,
        started_at=now,
        status=RunStatus.STARTING,
        speed=speed,
        updated_at=now,
    )
    _write(folder / STATE_FILE, state.model_dump_json())
    with (folder / LOG_FILE).open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and module, no shell)
            [sys.executable, "-m", "crisis.exercise.supervised", str(folder)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            start_new_session=True,  # a restart of the service does not kill the run
        )
    return state.model_copy(update={"pid": process.pid}), process


class RunControl:
    """Inside the run: apply the dashboard's orders to the clock, report where the run stands."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.launch = Launch.model_validate_json((folder / LAUNCH_FILE).read_text(encoding="utf-8"))
        self._seen: float | None = None
        self._state = RunState(
            run_id=self.launch.run_id,
            title=self.launch.title,
            started_by=self.launch.started_by,
            started_at=self.launch.started_at,
            status=RunStatus.STARTING,
            speed=self.launch.speed,
            updated_at=self.launch.started_at,
            pid=os.getpid(),
        )
        self._reported_at: datetime | None = None
        self.stop_requested = False

    def apply(self, clock: PausableClock) -> tuple[str, list[str]]:
        """Read the orders when they changed; pause, resume, change speed, note a stop.

        Returns who gave them and what changed (French, for the exercise's main courante).
        """
        try:
            mtime = (self.folder / COMMAND_FILE).stat().st_mtime_ns
        except OSError:
            return "", []
        if mtime == self._seen:
            return "", []
        self._seen = mtime
        command = read_command(self.folder)
        changes: list[str] = []
        if command.speed != clock.speed:
            clock.set_speed(command.speed)
            changes.append(f"vitesse de l'exercice portée à ×{command.speed:g}")
        if command.paused and not clock.paused:
            clock.pause()
            changes.append("exercice mis en pause")
        elif not command.paused and clock.paused:
            clock.resume()
            changes.append("exercice repris")
        if command.stop and not self.stop_requested:
            changes.append("arrêt de l'exercice demandé")
        self.stop_requested = command.stop
        return command.by, changes

    def report(self, wall_now: datetime, *, force: bool = False, **changes: Any) -> None:
        """Write the state (at most once a second unless `force`)."""
        self._state = self._state.model_copy(update={**changes, "updated_at": wall_now})
        if (
            not force
            and self._reported_at is not None
            and wall_now - self._reported_at < timedelta(seconds=1)
        ):
            return
        self._reported_at = wall_now
        _write(self.folder / STATE_FILE, self._state.model_dump_json())

    @property
    def state(self) -> RunState:
        """The latest state (reported or not yet)."""
        return self._state
