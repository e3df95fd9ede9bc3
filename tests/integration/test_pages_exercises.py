"""The dashboard's exercises page over the real application: a scenario started from the
browser runs in its own process, paused, sped up and stopped from the page, its REX served;
and the page's refusals (role, CSRF, bad speed, unknown run)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from crisis.accounts import WebRole
from crisis.bootstrap import App, build
from crisis.clock import FakeClock, SystemClock
from crisis.exercise.control import RunState, RunStatus, read_state
from crisis.settings import DatabaseSettings, Settings
from crisis.store.database import Store
from crisis.web.pages.exercises import MAX_LIVE_RUNS, simulated_settings
from tests.integration.test_pages_security import _csrf, _logged_in, _user, _web

RUN_URL = re.compile(r"/exercices/(ex-\d{8}-\d{6}-[a-z0-9]{4})")


@pytest.fixture
def sqlite_app(tmp_path: Path, clock: FakeClock) -> Iterator[App]:
    """The service on SQLite (the exercise's own database is SQLite whatever the service's)."""
    settings = Settings().model_copy(
        update={
            "database": DatabaseSettings(url=f"sqlite:///{tmp_path / 'service.db'}"),
            "data_dir": tmp_path / "data",
        }
    )
    application = build(settings, clock=clock)
    yield application
    application.close()


@pytest.fixture
async def http(sqlite_app: App) -> AsyncIterator[httpx.AsyncClient]:
    async with _web(sqlite_app) as client:
        yield client


async def _wait(folder: Path, until: object, timeout: float = 90.0) -> object:
    """Poll the run's state until `until(state)` holds."""
    wall = SystemClock()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        state = read_state(folder, wall.now())
        if state is not None and until(state):  # type: ignore[operator]
            return state
        await asyncio.sleep(0.2)
    raise AssertionError(f"état attendu non atteint : {read_state(folder, wall.now())}")


async def test_an_exercise_started_from_the_page_is_paused_sped_up_stopped_and_reported(
    sqlite_app: App, http: httpx.AsyncClient
) -> None:
    """The real process at ×60: the page shows its clock; a pause freezes it; a new speed and
    a resume take effect; a stop without the box is refused, with it the run closes and its
    REX (HTML, PDF, Markdown) is served; a finished run takes no more orders."""
    _user(sqlite_app, "com1", WebRole.CHARGE_COMMUNICATION, "Chargée de communication")
    csrf = await _logged_in(http, "com1")
    page = await http.get("/exercices")
    assert page.status_code == 200 and "crue du Furan" in page.text
    started = await http.post(
        "/exercices", data={"csrf": csrf, "scenario": "inondation_furan", "speed": "60"}
    )
    assert started.status_code == 303, started.text[:500]
    match = RUN_URL.search(started.headers["location"])
    assert match is not None
    run_id = match.group(1)
    folder = sqlite_app.settings.data_dir / "exercices" / run_id
    try:
        await _drive(http, csrf, run_id, folder)
    finally:  # a failed assertion must not leave the run's process playing on
        state = read_state(folder, SystemClock().now())
        if state is not None and state.status.live and state.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(state.pid, signal.SIGTERM)


async def _drive(http: httpx.AsyncClient, csrf: str, run_id: str, folder: Path) -> None:
    running = await _wait(folder, lambda s: s.minutes is not None and s.minutes >= 3)
    crises = await http.get("/crises")  # listed with the events, marked EXERCICE
    assert f'href="/exercices/{run_id}"' in crises.text and "Exercices accélérés en cours" in (
        crises.text
    )
    follow = await http.get(f"/exercices/{run_id}")
    assert follow.status_code == 200
    assert "EXERCICE" in follow.text and "Chargée de communication (com1)" in follow.text
    assert "Mettre en pause" in follow.text

    async def order(form: dict[str, str]) -> None:
        response = await http.post(f"/exercices/{run_id}/commande", data={"csrf": csrf, **form})
        assert response.status_code == 303, response.text[:500]

    await order({"ordre": "pause"})
    paused = await _wait(folder, lambda s: s.status == RunStatus.PAUSED)
    await asyncio.sleep(1.5)
    still = read_state(folder, paused.updated_at)  # type: ignore[attr-defined]
    assert still is not None and still.clock == paused.clock  # type: ignore[attr-defined]
    assert "Reprendre" in (await http.get(f"/exercices/{run_id}")).text
    await order({"ordre": "vitesse", "speed": "45"})
    await order({"ordre": "reprise"})
    resumed = await _wait(folder, lambda s: s.status == RunStatus.RUNNING and s.speed == 45)
    assert resumed.minutes >= running.minutes  # type: ignore[attr-defined]
    fragment = await http.get(f"/exercices/{run_id}/etat")
    assert fragment.status_code == 200 and "×45" in fragment.text
    refused = await http.post(
        f"/exercices/{run_id}/commande", data={"csrf": csrf, "ordre": "arret"}
    )
    assert refused.status_code == 422 and "case de confirmation" in refused.text
    await order({"ordre": "arret", "confirm": "1"})
    ended = await _wait(folder, lambda s: not s.status.live)
    assert ended.status == RunStatus.STOPPED, ended  # type: ignore[attr-defined]
    assert sorted(Path(n).suffix for n in ended.reports) == [".html", ".md", ".pdf"]  # type: ignore[attr-defined]
    assert f"/exercices/{run_id}" not in (await http.get("/crises")).text  # no longer running
    listing = await http.get("/exercices")
    assert "arrêté" in listing.text and f"/exercices/{run_id}/rapports/" in listing.text
    store = Store.open(f"sqlite:///{folder / 'donnees' / 'crisis.db'}", migrate=False)
    try:
        with store.transaction() as tx:
            crisis = tx.crisis(ended.crisis_id)  # type: ignore[attr-defined]
            notes = [
                (e.actor.name, e.actor.interface.value, e.text)
                for e in tx.journal(crisis.id, types=["NoteAdded"])
            ]
    finally:
        store.close()
    com = "Chargée de communication (com1)"
    assert crisis.recorded_by.name == com and crisis.mode.value == "exercice"
    assert [n for n in notes if n[0] == com] == [  # every order in the exercise's journal
        (com, "web", "exercice lancé depuis le tableau de bord à ×60"),
        (com, "web", "exercice mis en pause"),
        (com, "web", "vitesse de l'exercice portée à ×45"),
        (com, "web", "exercice repris"),
        (com, "web", "arrêt de l'exercice demandé"),
    ]
    rex_name = next(n for n in ended.reports if n.endswith(".html"))  # type: ignore[attr-defined]
    rex = await http.get(f"/exercices/{run_id}/rapports/{rex_name}")
    assert rex.status_code == 200 and "Retour d" in rex.text and "EXERCICE" in rex.text
    late = await http.post(f"/exercices/{run_id}/commande", data={"csrf": csrf, "ordre": "pause"})
    assert late.status_code == 409 and "ne reçoit plus d" in late.text


async def test_the_exercises_page_refuses_what_it_must(
    sqlite_app: App, http: httpx.AsyncClient
) -> None:
    """Anonymous → login; no CSRF → 403; observateur and agent → 403 naming the role; a bad
        speed or scenario → 422 in French; unknown runs and reports → 404; more than MAX_LIVE_RUNS
    at once → 409; nothing started."""
    root = sqlite_app.settings.data_dir / "exercices"
    form = {"scenario": "inondation_furan", "speed": "30"}
    anonymous = await http.post("/exercices", data=form)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/connexion"
    _user(sqlite_app, "audit", WebRole.OBSERVATEUR, "Auditeur")
    _user(sqlite_app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    _user(sqlite_app, "dircab", WebRole.DIRECTEUR_CABINET, "Directeur de cabinet")
    for login in ("audit", "agent1"):
        http.cookies.clear()
        csrf = await _logged_in(http, login)
        page = await http.get("/exercices")
        assert page.status_code == 200 and "Lancer l'exercice" not in page.text
        response = await http.post("/exercices", data={**form, "csrf": csrf})
        assert response.status_code == 403
        assert "ne permet pas de conduire un exercice" in response.text
    http.cookies.clear()
    csrf = await _logged_in(http, "dircab")
    assert (await http.post("/exercices", data=form)).status_code == 403  # no token
    for speed in ("90", "zéro", "0"):
        response = await http.post("/exercices", data={**form, "speed": speed, "csrf": csrf})
        assert response.status_code == 422 and "vitesse invalide" in response.text
    for scenario in ("inconnu", "../library/inondation_furan", ""):
        response = await http.post(
            "/exercices", data={"scenario": scenario, "speed": "30", "csrf": csrf}
        )
        assert response.status_code == 422 and "scénario inconnu" in response.text
    assert not root.exists()  # nothing was started
    for n in range(MAX_LIVE_RUNS):  # runs already playing (their state files, fresh)
        folder = root / f"ex-20261123-01000{n}-live"
        folder.mkdir(parents=True)
        state = RunState(
            run_id=folder.name,
            title="Exercice en cours",
            started_by="x",
            started_at=SystemClock().now(),
            status=RunStatus.RUNNING,
            speed=30,
            updated_at=SystemClock().now(),
        )
        (folder / "etat.json").write_text(state.model_dump_json(), encoding="utf-8")
    crowded = await http.post("/exercices", data={**form, "csrf": csrf})
    assert crowded.status_code == 409 and f"déjà {MAX_LIVE_RUNS} exercices en cours" in (
        crowded.text
    )
    assert len(list(root.iterdir())) == MAX_LIVE_RUNS  # still nothing started
    for path in ("/exercices/ex-20261123-000000-abcd", "/exercices/..%2F..%2Fetc"):
        assert (await http.get(path)).status_code == 404
    response = await http.post(
        "/exercices/ex-20261123-000000-abcd/commande", data={"csrf": csrf, "ordre": "pause"}
    )
    assert response.status_code == 404 and "Exercice inconnu" in response.text
    assert (await http.get("/exercices/ex-20261123-000000-abcd/etat")).status_code == 404
    page = await http.get("/exercices")
    assert _csrf(page.text) == csrf


def test_a_run_never_gets_a_real_channel_nor_the_web_server(sqlite_app: App) -> None:
    """Whatever the service's configuration, the run's settings are simulated and silent."""
    settings = sqlite_app.settings.model_copy(
        update={
            "channels": {
                name: cfg.model_copy(update={"provider": "twilio"})
                if name.value in {"voice", "sms"}
                else cfg
                for name, cfg in sqlite_app.settings.channels.items()
            },
            "web": sqlite_app.settings.web.model_copy(
                update={"public_base_url": "https://crise.example.fr"}
            ),
            "exercise": sqlite_app.settings.exercise.model_copy(update={"real_sends": True}),
        }
    )
    run = Settings.model_validate(simulated_settings(settings))
    assert {cfg.provider for cfg in run.channels.values()} == {"simulated"}
    assert run.web.public_base_url is None and run.exercise.real_sends is False
    assert run.prefecture == settings.prefecture and run.playbooks == settings.playbooks
