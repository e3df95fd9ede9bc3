"""`crisis cip ...`: the préfet's orders on the CIP and its agents' reading sheet (50)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from crisis.cli.common import (
    ByOption,
    ConfigOption,
    cli_actor,
    console,
    fail,
    open_app,
    open_app_sending,
    operator_authority,
)
from crisis.engine import Refused
from crisis.exercise.callers import figures as call_figures
from crisis.model import CipCallEnded
from crisis.queries import events
from crisis.store.repository import CrisisNotFound

cip_app = typer.Typer(help="Cellule d'information du public (CIP) et son numéro unique (50).")


@cip_app.command("activate")
def cip_activate(
    crisis_id: str,
    number: Annotated[str, typer.Option("--number", "--numero", help="Le numéro unique.")],
    by: ByOption,
    config: ConfigOption = None,
) -> None:
    """Enregistrer l'ordre du préfet d'activer la CIP (T0 CIP) et son numéro unique.

    Réservé aux comptes qui ont la délégation du préfet (directeur de cabinet ou préfet,
    section « accounts » de la configuration). L'annonce du numéro (médias, internet, standard)
    part aussitôt avec « crisis run ».
    """
    application = open_app_sending(
        config, "le numéro unique n'est pas renvoyé vers la CIP : le faire dans la console Twilio"
    )
    login, authority = operator_authority(application.settings)
    try:
        application.orchestrator.activate_cip(
            crisis_id, number, cli_actor(f"{by} (compte {login})"), authority=authority
        )
    except (Refused, CrisisNotFound) as exc:
        raise fail(str(exc)) from None
    finally:
        application.close()
    console.print(f"CIP activée (T0 CIP), numéro unique {escape(number)}.")


@cip_app.command("close")
def cip_close(crisis_id: str, by: ByOption, config: ConfigOption = None) -> None:
    """Enregistrer l'ordre de fermer la CIP ; l'événement continue (délégation du préfet)."""
    application = open_app_sending(
        config, "le numéro unique n'est pas rendu à sa configuration : le faire dans la console"
    )
    login, authority = operator_authority(application.settings)
    try:
        application.orchestrator.close_cip(
            crisis_id, cli_actor(f"{by} (compte {login})"), authority=authority
        )
    except (Refused, CrisisNotFound) as exc:
        raise fail(str(exc)) from None
    finally:
        application.close()
    console.print("CIP fermée.")


@cip_app.command("sheet")
def cip_sheet(crisis_id: str, config: ConfigOption = None) -> None:
    """La fiche réflexe des agents CIP : l'information validée à lire aux appelants, le numéro
    unique et les chiffres des appels depuis le T0 CIP (reçus, répondus, abandonnés, attente)."""
    application = open_app(config)
    tz = application.settings.prefecture.zone
    try:
        crisis = events.crisis(application.store, crisis_id)
        calls = [
            e.fact
            for e in events.journal(application.store, crisis_id, types=["CipCallEnded"])
            if isinstance(e.fact, CipCallEnded)
        ]
        sheet = application.orchestrator.reading_sheet(crisis_id)
    except CrisisNotFound as exc:
        raise fail(str(exc)) from None
    finally:
        application.close()
    if crisis.t0_cip is None:
        raise fail("la CIP n'a pas été activée pour cet événement")
    state = f"ouverte, numéro unique {crisis.cip_number}" if crisis.cip_number else "fermée"
    console.rule(f"Fiche réflexe CIP — {crisis.kind.label} — {crisis.id}")
    console.print(f"CIP {state} ; T0 CIP {crisis.t0_cip.astimezone(tz):%d/%m %H:%M}.")
    console.print("[bold]À lire aux appelants (dernière information validée) :[/bold]")
    console.print(escape(sheet))
    numbers = call_figures(calls)
    console.print(
        f"Appels : {numbers.calls} reçus, {numbers.answered} répondus, {numbers.abandoned} "
        f"abandonnés, {numbers.messages} messages laissés, {numbers.overflow} dissuadés ; "
        f"attente moyenne {numbers.mean_wait_seconds:.0f} s, maximale "
        f"{numbers.max_wait_seconds:.0f} s."
    )
    for agent, count in sorted(numbers.answered_by_agent.items()):
        console.print(f"  {escape(agent)} : {count} appel(s) pris")
