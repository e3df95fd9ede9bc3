"""`crisis media ...`: the press requests' queue, first answers and assignments (49.2)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from crisis import press
from crisis.cli.common import ByOption, ConfigOption, cli_actor, console, fail, open_app
from crisis.engine import Refused
from crisis.queries import events
from crisis.store.repository import CrisisNotFound

media_app = typer.Typer(help="Sollicitations presse : file, réponses, attributions (49.2).")


@media_app.command("list")
def media_list(
    crisis_id: str,
    all_requests: Annotated[
        bool, typer.Option("--all", "--toutes", help="Aussi les sollicitations déjà traitées.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """La file des sollicitations presse : en attente d'abord, avec leur ancienneté."""
    application = open_app(config)
    tz = application.settings.prefecture.zone
    try:
        entries = events.journal(
            application.store,
            crisis_id,
            types=["MediaRequestReceived", "MediaRequestAssigned", "MediaRequestAnswered"],
        )
    except CrisisNotFound as exc:
        raise fail(str(exc)) from None
    finally:
        application.close()
    now = application.clock.now()
    table = Table(title="Sollicitations presse")
    for column in ("réf.", "reçue", "type", "média", "question", "confiée à", "état"):
        table.add_column(column)
    shown = 0
    for request in press.queue(entries):
        if request.answered_at is not None and not all_requests:
            continue
        asked = request.received_at
        if request.answered_at is None:
            waited = int((now - asked).total_seconds() // 60)
            state = f"[yellow]en attente depuis {waited} min[/yellow]"
        else:
            state = f"répondu en {int((request.answered_at - asked).total_seconds() // 60)} min"
        fact = request.request
        table.add_row(
            fact.request_id,
            f"{asked.astimezone(tz):%H:%M}",
            fact.kind,
            escape(f"{fact.outlet} — {fact.journalist}"),
            escape(fact.question),
            escape(request.assignee),
            state,
        )
        shown += 1
    if shown:
        console.print(table)
    else:
        console.print("Aucune sollicitation presse en attente.")


def _media(config: Path | None, crisis_id: str, request_id: str, by: str, **kwargs: str) -> None:
    application = open_app(config)
    try:
        application.orchestrator.media_follow_up(crisis_id, request_id, cli_actor(by), **kwargs)
    except (Refused, CrisisNotFound) as exc:
        raise fail(str(exc)) from None
    finally:
        application.close()


@media_app.command("answer")
def media_answer(
    crisis_id: str,
    request_id: str,
    by: ByOption,
    answer: Annotated[
        str, typer.Option("--answer", "--reponse", help="Ce qui a été répondu.")
    ] = "",
    config: ConfigOption = None,
) -> None:
    """Enregistrer la première réponse à une sollicitation (le délai de réponse est mesuré)."""
    _media(config, crisis_id, request_id, by, answer=answer)
    console.print(f"Première réponse enregistrée pour {request_id}.")


@media_app.command("assign")
def media_assign(
    crisis_id: str,
    request_id: str,
    assignee: Annotated[str, typer.Argument(help="À qui la confier (nom ou identifiant).")],
    by: ByOption,
    config: ConfigOption = None,
) -> None:
    """Confier une sollicitation à un membre de la cellule."""
    _media(config, crisis_id, request_id, by, assignee=assignee)
    console.print(f"Sollicitation {request_id} confiée à {escape(assignee)}.")
