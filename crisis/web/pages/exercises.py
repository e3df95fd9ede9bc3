"""The dashboard's exercises page: start a scenario, follow it, pause it, change its speed (49).

`GET /exercices` lists the shipped scenarios and the runs; `POST /exercices` starts one (role
with « conduire un exercice »: préfet, directeur de cabinet, chargé de communication).
Each run is its own process with its own accelerated clock and database
(crisis/exercise/control.py): the channels are always simulated there, whatever the service's
configuration, so a run started from a browser reaches nobody for real. `GET
/exercices/{run}` follows it (its state refreshed by exercices.js from `/exercices/{run}/etat`),
`POST /exercices/{run}/commande` pauses, resumes, changes the speed or stops it, and
`GET /exercices/{run}/rapports/{file}` returns its REX once written.
"""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.datastructures import FormData

import crisis.queries.exercises as exercise_queries
import crisis.web.views.exercises as run_views
from contacts.cog import load_extract
from crisis.accounts import Action, WebUser, actor_of, can
from crisis.bootstrap import App, open_store
from crisis.clock import PausableClock
from crisis.exercise.control import (
    RunState,
    launch_run,
    list_runs,
    read_command,
    read_state,
    run_folder,
    send_command,
)
from crisis.exercise.errors import ScenarioError
from crisis.exercise.scenario import LIBRARY, load_scenario
from crisis.model import Interface
from crisis.settings import ChannelSettings, Settings
from crisis.web.access import REPORT_CSP, SECURITY_HEADERS, WALL, PageAccess, Visitor, guarded
from crisis.web.binding import bind, page_access
from crisis.web.pages.common import reading
from crisis.web.session import SessionCodec

__all__ = [
    "ExerciseRuns",
    "command",
    "exercises",
    "exercises_router",
    "follow",
    "progress",
    "report",
    "router",
    "simulated_settings",
    "start",
]


MAX_LIVE_RUNS = 2  # each run is a process with its own simulators: the server stays responsive
REPORT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".pdf": "application/pdf",
    ".md": "text/markdown; charset=utf-8",
}
DONE = {
    "lancement": "Exercice lancé : son horloge démarre dans quelques secondes.",
    "pause": "Exercice mis en pause.",
    "reprise": "Exercice repris.",
    "vitesse": "Vitesse modifiée.",
    "arret": "Arrêt demandé : l'exercice se clôt et écrit son REX.",
}


def simulated_settings(settings: Settings) -> dict[str, Any]:
    """The service's settings for a run: every channel simulated, no real sends, no web server
    (the run's process must not take the service's port nor call a provider)."""
    channels = {
        name: ChannelSettings(rate_per_second=cfg.rate_per_second, concurrency=cfg.concurrency)
        for name, cfg in settings.channels.items()
    }
    safe = settings.model_copy(
        update={
            "channels": channels,
            "web": settings.web.model_copy(update={"public_base_url": None}),
            "exercise": settings.exercise.model_copy(update={"real_sends": False}),
        }
    )
    return safe.model_dump(mode="json")


class ExerciseRuns:
    """The runs of one server: their folder, and the processes it started (reaped once ended)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def reap(self) -> None:
        """Forget the processes that have ended."""
        for run_id, process in list(self.processes.items()):
            if process.poll() is not None:
                del self.processes[run_id]

    def find(self, run_id: str) -> tuple[Path, RunState] | None:
        """The run's folder and state (None: no such run)."""
        try:
            folder = run_folder(self.root, run_id)
        except ValueError:
            return None
        state = read_state(folder, WALL.now())
        return (folder, state) if state is not None else None


router = APIRouter(include_in_schema=False)


def exercises_router(app: App, codec: SessionCodec) -> APIRouter:
    """`/exercices` and a run's pages, bound to `app`."""
    runs = ExerciseRuns(app.settings.data_dir / "exercices")
    return bind(router, access=PageAccess(app, codec), exercise_runs=runs)


def _runs(request: Request) -> ExerciseRuns:
    runs: ExerciseRuns = request.state.exercise_runs
    return runs


def _may_drive(user: WebUser) -> bool:
    return can(user.role, Action.EXERCISE)


@router.get("/exercices")
@guarded
async def exercises(request: Request) -> Response:
    access, who = reading(request)
    return _overview(access, _runs(request), who, done=request.query_params.get("fait", ""))


@router.post("/exercices")
@guarded
async def start(request: Request) -> Response:
    access, runs = page_access(request), _runs(request)
    settings = access.app.settings
    who, user, form = await access.poster(request, _may_drive, Action.EXERCISE.label)
    name = str(form.get("scenario", ""))
    raw_speed = str(form.get("speed", ""))
    given = {"scenario": name, "speed": raw_speed.strip()}
    path = LIBRARY / f"{name}.toml"
    if not name or "/" in name or not path.is_file():
        return _overview(access, runs, who, error="scénario inconnu", status=422, form=given)
    try:
        scenario = load_scenario(path, geography=load_extract(settings.directory.communes_file))
    except ScenarioError as exc:
        return _overview(access, runs, who, error=str(exc), status=422, form=given)
    try:
        speed = run_views.speed(raw_speed, default=scenario.speed)
    except ValueError as exc:
        return _overview(access, runs, who, error=str(exc), status=422, form=given)
    live = [r for r in list_runs(runs.root, WALL.now()) if r.status.live]
    if len(live) >= MAX_LIVE_RUNS:
        message = (
            f"déjà {len(live)} exercices en cours sur ce serveur ({MAX_LIVE_RUNS} au plus) : "
            "arrêtez-en un ou attendez sa fin"
        )
        return _overview(access, runs, who, error=message, status=409, form=given)
    state, process = launch_run(
        runs.root,
        scenario=path,
        title=scenario.title,
        speed=speed,
        started_by=actor_of(user, Interface.WEB).name,
        now=WALL.now(),
        settings=simulated_settings(settings),
    )
    runs.processes[state.run_id] = process
    return RedirectResponse(f"/exercices/{state.run_id}?fait=lancement", status_code=303)


@router.get("/exercices/{run_id}")
@guarded
async def follow(request: Request, run_id: str) -> Response:
    access, runs = page_access(request), _runs(request)
    who, _user = access.reader(request)
    runs.reap()
    found = runs.find(run_id)
    if found is None:
        return _unknown(access, who, run_id)
    folder, state = found
    return _follow_page(access, who, folder, state, done=request.query_params.get("fait", ""))


@router.get("/exercices/{run_id}/etat")
@guarded
async def progress(request: Request, run_id: str) -> Response:
    access = page_access(request)
    who, _user = access.reader(request, fragment=True)
    found = _runs(request).find(run_id)
    if found is None:
        return Response("exercice inconnu", status_code=404)
    folder, state = found
    return access.page(who, "fragments/exercice.html", _follow_context(access, folder, state))


@router.post("/exercices/{run_id}/commande")
@guarded
async def command(request: Request, run_id: str) -> Response:
    access = page_access(request)
    who, user, form = await access.poster(request, _may_drive, Action.EXERCISE.label)
    by = actor_of(user, Interface.WEB).name
    found = _runs(request).find(run_id)
    if found is None:
        return _unknown(access, who, run_id)
    folder, state = found
    if not state.status.live:
        return access.error(
            who,
            "Exercice terminé",
            f"l'exercice est « {state.status.value} » : il ne reçoit plus d'ordre",
            409,
        )
    order = str(form.get("ordre", ""))
    try:
        _send_order(folder, order, form, by)
    except ValueError as exc:
        return _follow_page(access, who, folder, state, error=str(exc), status=422)
    return RedirectResponse(f"/exercices/{run_id}?fait={order}", status_code=303)


@router.get("/exercices/{run_id}/rapports/{name}")
@guarded
async def report(request: Request, run_id: str, name: str) -> Response:
    access, who = reading(request)
    found = _runs(request).find(run_id)
    if found is None or name not in found[1].reports:
        return access.error(who, "Rapport introuvable", "ce rapport n'existe pas", 404)
    path = found[0] / "rapports" / name
    if not path.is_file():
        return access.error(who, "Rapport introuvable", "ce rapport n'existe plus", 404)
    kind = REPORT_TYPES.get(path.suffix, "application/octet-stream")
    headers = dict(SECURITY_HEADERS)
    if path.suffix == ".html":  # the REX carries its own inline style and SVG
        headers["Content-Security-Policy"] = REPORT_CSP
    return FileResponse(
        path,
        media_type=kind,
        headers=headers,
        filename=name,
        content_disposition_type="inline" if path.suffix == ".html" else "attachment",
    )


def _send_order(folder: Path, order: str, form: FormData, by: str) -> None:
    """Write the order typed in the run's form; ValueError (French) when it is not one."""
    if order == "pause":
        send_command(folder, paused=True, by=by)
    elif order == "reprise":
        send_command(folder, paused=False, by=by)
    elif order == "vitesse":
        send_command(folder, speed=run_views.speed(str(form.get("speed", ""))), by=by)
    elif order == "arret":
        if form.get("confirm") != "1":
            raise ValueError("cochez la case de confirmation pour arrêter l'exercice")
        send_command(folder, stop=True, by=by)
    else:
        raise ValueError("ordre inconnu")


def _overview(
    access: PageAccess,
    runs: ExerciseRuns,
    who: Visitor,
    *,
    error: str = "",
    done: str = "",
    status: int = 200,
    form: Any = None,
) -> Response:
    """The exercises page: the shipped scenarios and the runs."""
    runs.reap()
    settings = access.app.settings
    tz = ZoneInfo(settings.prefecture.timezone)
    geography = load_extract(settings.directory.communes_file)
    scenarios = [
        {
            "name": path.stem,
            "title": s.title if s else path.stem,
            "speed": f"{s.speed:g}" if s else "",
            "duration": s.duration if s else "",
            "injects": len(s.injects) if s else 0,
            "media": bool(s and s.media.enabled),
            "cip": bool(s and s.cip.activate),
            "error": problem,
        }
        for path, s, problem in run_views.scenarios(geography)
    ]
    context = {
        "title": "Exercices",
        "scenarios": scenarios,
        "runs": [run_views.run_row(s, tz) for s in list_runs(runs.root, WALL.now())],
        "error": error,
        "done": DONE.get(done, ""),
        "form": form or {"scenario": scenarios[0]["name"] if scenarios else "", "speed": ""},
        "min_speed": f"{PausableClock.MIN_SPEED:g}",
        "max_speed": f"{PausableClock.MAX_SPEED:g}",
    }
    return access.page(who, "exercices.html", context, status)


def _unknown(access: PageAccess, who: Visitor, run_id: str) -> Response:
    return access.error(
        who, "Exercice inconnu", f"aucun exercice « {run_id[:40]} » sur ce serveur", 404
    )


def _follow_context(access: PageAccess, folder: Path, state: RunState) -> dict[str, Any]:
    """What the run's page and its refreshed fragment show."""
    tz = ZoneInfo(access.app.settings.prefecture.timezone)
    ordered = read_command(folder)
    return {
        "run": run_views.run_row(state, tz),
        "ordered": {"paused": ordered.paused, "speed": f"{ordered.speed:g}"},
        **_progress(folder, state, tz),
    }


def _follow_page(
    access: PageAccess,
    who: Visitor,
    folder: Path,
    state: RunState,
    *,
    done: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    """A run's page: its state, the orders given, its progress."""
    context = {
        "title": f"Exercice — {state.title}",
        "exercise": True,
        "done": DONE.get(done, ""),
        "error": error,
        **_follow_context(access, folder, state),
    }
    return access.page(who, "exercice.html", context, status)


def _progress(folder: Path, state: RunState, tz: ZoneInfo) -> dict[str, Any]:
    """What the run's database says: engagements, press, CIP calls, the latest entries."""
    database = folder / "donnees" / "crisis.db"
    empty: dict[str, Any] = {"verdicts": [], "press": None, "calls": None, "journal": []}
    if state.crisis_id is None or not database.is_file():
        return empty
    with contextlib.closing(open_store(f"sqlite:///{database}", migrate=False)) as store:
        found = exercise_queries.run_progress(store, state.crisis_id, state.clock)
    if found is None:
        return empty
    return run_views.progress(found, tz)
