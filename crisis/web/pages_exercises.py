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

import math
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from contacts.cog import load_extract
from crisis import compliance, press, timefmt
from crisis.accounts import Action, WebUser, actor_of, can
from crisis.bootstrap import App
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
from crisis.exercise.scenario import LIBRARY, Scenario, load_scenario
from crisis.journal import shown
from crisis.model import (
    CipCallEnded,
    Interface,
    JournalEntry,
)
from crisis.settings import ChannelSettings, Settings
from crisis.store.database import Store
from crisis.store.repository import CrisisNotFound
from crisis.web.access import REPORT_CSP, SECURITY_HEADERS, WALL, PageAccess, Visitor, guarded
from crisis.web.session import SessionCodec

__all__ = ["exercises_router", "simulated_settings"]

JOURNAL_SHOWN = 15
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


def _speed(raw: str, default: float | None = None) -> float:
    """A speed typed in a form (decimal comma accepted; empty: `default`); ValueError (French)."""
    text = raw.strip().replace(",", ".")
    if not text and default is not None:
        return default
    try:
        speed = float(text)
    except ValueError:
        speed = math.nan
    if not PausableClock.MIN_SPEED <= speed <= PausableClock.MAX_SPEED:
        raise ValueError(
            f"vitesse invalide : « {text[:20]} » (un nombre de {PausableClock.MIN_SPEED:g} à "
            f"{PausableClock.MAX_SPEED:g})"
        )
    return speed


def _scenarios(geography: Any) -> list[tuple[Path, Scenario | None, str]]:
    """The shipped scenarios, each with its model or its French error."""
    found: list[tuple[Path, Scenario | None, str]] = []
    for path in sorted(LIBRARY.glob("*.toml")):
        try:
            found.append((path, load_scenario(path, geography=geography), ""))
        except ScenarioError as exc:
            found.append((path, None, str(exc)))
    return found


def exercises_router(app: App, codec: SessionCodec) -> APIRouter:  # noqa: PLR0915 (routes)
    """`/exercices` and a run's pages."""
    router = APIRouter(include_in_schema=False)
    access = PageAccess(app, codec)
    tz = ZoneInfo(app.settings.prefecture.timezone)
    root = app.settings.data_dir / "exercices"
    processes: dict[str, subprocess.Popen[bytes]] = {}  # reaped when they end

    def reap() -> None:
        for run_id, process in list(processes.items()):
            if process.poll() is not None:
                del processes[run_id]

    def may_drive(user: WebUser) -> bool:
        return can(user.role, Action.EXERCISE)

    def row(state: RunState) -> dict[str, Any]:
        minutes = state.minutes
        return {
            "id": state.run_id,
            "title": state.title,
            "by": state.started_by,
            "at": f"{state.started_at.astimezone(tz):%d/%m/%Y %H:%M}",
            "status": state.status.value,
            "live": state.status.live,
            "speed": f"{state.speed:g}",
            "clock": f"T0+{int(minutes):02d}:{int(minutes * 60) % 60:02d}"
            if minutes is not None
            else "",
            "duration": state.duration_minutes or "",
            "error": state.error,
            "reports": [
                {"name": name, "label": Path(name).suffix.lstrip(".").upper()}
                for name in state.reports
            ],
        }

    def overview(
        who: Visitor, *, error: str = "", done: str = "", status: int = 200, form: Any = None
    ) -> Response:
        reap()
        geography = load_extract(app.settings.directory.communes_file)
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
            for path, s, problem in _scenarios(geography)
        ]
        runs = [row(s) for s in list_runs(root, WALL.now())]
        context = {
            "title": "Exercices",
            "scenarios": scenarios,
            "runs": runs,
            "error": error,
            "done": DONE.get(done, ""),
            "form": form or {"scenario": scenarios[0]["name"] if scenarios else "", "speed": ""},
            "min_speed": f"{PausableClock.MIN_SPEED:g}",
            "max_speed": f"{PausableClock.MAX_SPEED:g}",
        }
        return access.page(who, "exercices.html", context, status)

    @router.get("/exercices")
    @guarded
    async def exercises(request: Request) -> Response:
        who, _user = access.reader(request)
        return overview(who, done=request.query_params.get("fait", ""))

    @router.post("/exercices")
    @guarded
    async def start(request: Request) -> Response:
        who, user, form = await access.poster(request, may_drive, Action.EXERCISE.label)
        name = str(form.get("scenario", ""))
        raw_speed = str(form.get("speed", ""))
        given = {"scenario": name, "speed": raw_speed.strip()}
        path = LIBRARY / f"{name}.toml"
        if not name or "/" in name or not path.is_file():
            return overview(who, error="scénario inconnu", status=422, form=given)
        try:
            scenario = load_scenario(
                path, geography=load_extract(app.settings.directory.communes_file)
            )
        except ScenarioError as exc:
            return overview(who, error=str(exc), status=422, form=given)
        try:
            speed = _speed(raw_speed, default=scenario.speed)
        except ValueError as exc:
            return overview(who, error=str(exc), status=422, form=given)
        live = [r for r in list_runs(root, WALL.now()) if r.status.live]
        if len(live) >= MAX_LIVE_RUNS:
            message = (
                f"déjà {len(live)} exercices en cours sur ce serveur ({MAX_LIVE_RUNS} au plus) : "
                "arrêtez-en un ou attendez sa fin"
            )
            return overview(who, error=message, status=409, form=given)
        state, process = launch_run(
            root,
            scenario=path,
            title=scenario.title,
            speed=speed,
            started_by=actor_of(user, Interface.WEB).name,
            now=WALL.now(),
            settings=simulated_settings(app.settings),
        )
        processes[state.run_id] = process
        return RedirectResponse(f"/exercices/{state.run_id}?fait=lancement", status_code=303)

    def run_state(run_id: str) -> tuple[Path, RunState] | None:
        try:
            folder = run_folder(root, run_id)
        except ValueError:
            return None
        state = read_state(folder, WALL.now())
        return (folder, state) if state is not None else None

    def unknown(who: Visitor, run_id: str) -> Response:
        return access.error(
            who, "Exercice inconnu", f"aucun exercice « {run_id[:40]} » sur ce serveur", 404
        )

    def follow_context(folder: Path, state: RunState) -> dict[str, Any]:
        ordered = read_command(folder)
        return {
            "run": row(state),
            "ordered": {"paused": ordered.paused, "speed": f"{ordered.speed:g}"},
            **_progress(folder, state, tz),
        }

    def follow_page(
        who: Visitor,
        folder: Path,
        state: RunState,
        *,
        done: str = "",
        error: str = "",
        status: int = 200,
    ) -> Response:
        context = {
            "title": f"Exercice — {state.title}",
            "exercise": True,
            "done": DONE.get(done, ""),
            "error": error,
            **follow_context(folder, state),
        }
        return access.page(who, "exercice.html", context, status)

    @router.get("/exercices/{run_id}")
    @guarded
    async def follow(request: Request, run_id: str) -> Response:
        who, _user = access.reader(request)
        reap()
        found = run_state(run_id)
        if found is None:
            return unknown(who, run_id)
        folder, state = found
        return follow_page(who, folder, state, done=request.query_params.get("fait", ""))

    @router.get("/exercices/{run_id}/etat")
    @guarded
    async def progress(request: Request, run_id: str) -> Response:
        who, _user = access.reader(request, fragment=True)
        found = run_state(run_id)
        if found is None:
            return Response("exercice inconnu", status_code=404)
        folder, state = found
        return access.page(who, "fragments/exercice.html", follow_context(folder, state))

    @router.post("/exercices/{run_id}/commande")
    @guarded
    async def command(request: Request, run_id: str) -> Response:
        who, user, form = await access.poster(request, may_drive, Action.EXERCISE.label)
        by = actor_of(user, Interface.WEB).name
        found = run_state(run_id)
        if found is None:
            return unknown(who, run_id)
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
            if order == "pause":
                send_command(folder, paused=True, by=by)
            elif order == "reprise":
                send_command(folder, paused=False, by=by)
            elif order == "vitesse":
                send_command(folder, speed=_speed(str(form.get("speed", ""))), by=by)
            elif order == "arret":
                if form.get("confirm") != "1":
                    raise ValueError("cochez la case de confirmation pour arrêter l'exercice")
                send_command(folder, stop=True, by=by)
            else:
                raise ValueError("ordre inconnu")
        except ValueError as exc:
            return follow_page(who, folder, state, error=str(exc), status=422)
        return RedirectResponse(f"/exercices/{run_id}?fait={order}", status_code=303)

    @router.get("/exercices/{run_id}/rapports/{name}")
    @guarded
    async def report(request: Request, run_id: str, name: str) -> Response:
        who, _user = access.reader(request)
        found = run_state(run_id)
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

    return router


def _progress(folder: Path, state: RunState, tz: ZoneInfo) -> dict[str, Any]:
    """What the run's database says: engagements, press, CIP calls, the latest entries."""
    database = folder / "donnees" / "crisis.db"
    empty: dict[str, Any] = {"verdicts": [], "press": None, "calls": None, "journal": []}
    if state.crisis_id is None or not database.is_file():
        return empty
    store = Store.open(f"sqlite:///{database}", migrate=False)
    try:
        with store.transaction() as tx:
            crisis = tx.crisis(state.crisis_id)
            entries: list[JournalEntry] = tx.journal(state.crisis_id)
    except CrisisNotFound:
        return empty
    finally:
        store.close()
    now: datetime = crisis.closed_at or state.clock or crisis.t0
    requests = press.queue(entries)
    calls = [e.fact for e in entries if isinstance(e.fact, CipCallEnded)]
    return {
        "verdicts": [
            {
                "engagement": v.engagement,
                "status": v.status.value,
                "label": v.status.label,
                "detail": v.detail,
            }
            for v in compliance.judge(entries, now)
        ],
        "press": {
            "received": len(requests),
            "waiting": sum(not r.answered for r in requests),
        },
        "calls": {
            "total": len(calls),
            "answered": sum(c.outcome == "repondu" for c in calls),
        },
        "journal": [
            {
                "seq": e.seq,
                "at": timefmt.local(e.at, tz, date=False, seconds=True),
                "actor": e.actor.name,
                "text": shown(e, tz),
            }
            for e in reversed(entries[-JOURNAL_SHOWN:])
        ],
    }
