"""The board's press list, as the press office reads it: a journalist's request, to whom it was
given, then the first answer recorded from the dashboard (real application, both databases)."""

from __future__ import annotations

from datetime import timedelta

from crisis.accounts import WebRole
from crisis.bootstrap import App
from crisis.clock import FakeClock
from crisis.model import Actor, Interface, MediaRequestReceived
from tests.integration.helpers import activate
from tests.integration.test_pages_security import _csrf, _logged_in, _user, _web

CELL = Actor(name="Cellule presse", interface=Interface.CLI)


async def test_a_request_is_listed_given_then_answered_from_the_board(
    app: App, clock: FakeClock
) -> None:
    _user(app, "cmartin", WebRole.CHARGE_COMMUNICATION, "Claire Martin")
    crisis_id = activate(app, clock.now() - timedelta(minutes=20)).crisis.id
    request = MediaRequestReceived(
        request_id="P-001",
        kind="appel",
        outlet="Le Progrès",
        journalist="J. Durand",
        topic="routes",
        question="La RD 1082 est-elle coupée ?",
    )
    app.orchestrator.record(crisis_id, [request], CELL)
    app.orchestrator.media_follow_up(crisis_id, "P-001", CELL, assignee="Marie")
    app.orchestrator.media_follow_up(crisis_id, "P-001", CELL, assignee="Paul")
    async with _web(app) as http:
        await _logged_in(http, "cmartin")
        board = (await http.get(f"/crises/{crisis_id}/fragments/presse")).text
        assert "Le Progrès</strong> (J. Durand) : La RD 1082 est-elle coupée ?" in board
        assert "Confiée à Paul" in board and "Répondu</p>" not in board  # the latest assignee
        page = await http.get(f"/crises/{crisis_id}")
        answered = await http.post(
            f"/crises/{crisis_id}/presse/P-001",
            data={"csrf": _csrf(page.text), "answer": "Oui, déviation par la RD 8."},
        )
        assert answered.status_code == 303, answered.text[:300]
        board = (await http.get(f"/crises/{crisis_id}/fragments/presse")).text
    assert "Répondu</p>" in board
    assert "par Claire Martin (cmartin) à " in board and ": Oui, déviation par la RD 8." in board
