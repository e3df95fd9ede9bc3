"""`crisis activate` (the temps 0) and `crisis rectifier-t0`: the T0 as typed, checked and
confirmed by the agent before it is recorded."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape

from contacts.area import AreaError, ResolvedArea, parse_area, resolve_area
from contacts.cog import CogError, load_extract
from crisis import timefmt
from crisis.activation import (
    T0_FUTURE_TOLERANCE,
    ActivationConflict,
    ActivationError,
    Confirmation,
    MalformedActivation,
    T0TooOld,
)
from crisis.bootstrap import App
from crisis.cli.common import ByOption, ConfigOption, console, fail, open_app, operator_authority
from crisis.engine import Refused
from crisis.model import Actor, Interface, Mode
from crisis.queries import events
from crisis.service import Activation, ActivationRequest
from crisis.store.repository import CrisisNotFound
from crisis.timefmt import elapsed_label, local_label
from playbooks.model import EventKind

BARE_TIME_LIMIT = timedelta(hours=12)  # a bare "HH:MM" further back than this needs its date

KindOption = Annotated[EventKind, typer.Option("--kind", "--type", help="Type d'événement.")]
T0Option = Annotated[
    str,
    typer.Option(
        help="Heure d'activation du COD dans SYNERGI : 02:10 (aujourd'hui), "
        "2026-11-23 02:10 ou 23/11/2026 02:10."
    ),
]
SynergiOption = Annotated[str, typer.Option(help="Référence SYNERGI de l'événement.")]
ZoneOption = Annotated[
    str,
    typer.Option(
        "--communes",
        "--zone",
        help="Zone concernée, éléments séparés par des virgules : codes INSEE (42218), "
        "arr:421 (arrondissement), epci:244200770 (EPCI), dep (tout le département).",
    ),
]
ExerciseFlag = Annotated[
    bool, typer.Option("--exercise", "--exercice", help="Exercice (pas un événement réel).")
]
KeyOption = Annotated[
    str | None, typer.Option(help="Clé d'idempotence (par défaut : type, T0, SYNERGI).")
]
YesFlag = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Ne pas demander de confirmer le T0 et les communes."),
]
OtherEventOption = Annotated[
    str | None,
    typer.Option(
        "--autre-evenement",
        metavar="MOTIF",
        help="Confirmer qu'il s'agit d'un autre événement que celui déjà enregistré sous "
        "cette référence SYNERGI (directeur de cabinet ou préfet ; motif inscrit au journal).",
    ),
]
OldT0Option = Annotated[
    str | None,
    typer.Option(
        "--t0-ancien",
        metavar="MOTIF",
        help="Confirmer un temps 0 plus ancien que la limite (section engine, t0_max_age : "
        "24 h par défaut) (directeur de cabinet ou préfet ; motif inscrit au journal).",
    ),
]


class AmbiguousT0(ValueError):
    """A bare time that falls far back (a typo, or yesterday): the full date is needed."""


def parse_t0(text: str, tz: ZoneInfo, now: datetime) -> datetime:
    """T0 as typed by the agent: "02:10" (today, local time; yesterday if more than 5 minutes
    ahead), "2026-11-23 02:10", "23/11/2026 02:10", or ISO 8601.

    A bare time that would fall more than 12 hours back raises AmbiguousT0: a typo of a few
    minutes into the future must never silently become yesterday.
    """
    text = text.strip()
    try:
        if len(text) <= 5 and ":" in text:
            return _bare_time(text, tz, now)
        if "/" in text:
            value = datetime.strptime(text, "%d/%m/%Y %H:%M").replace(tzinfo=tz)
        else:
            value = datetime.fromisoformat(text)
    except AmbiguousT0:
        raise
    except ValueError:
        raise ValueError(
            f"heure du temps 0 illisible : « {text} » (exemples : 02:10, 2026-11-23 02:10)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def _bare_time(text: str, tz: ZoneInfo, now: datetime) -> datetime:
    """ "HH:MM": today, or yesterday when more than the tolerance ahead (ValueError if bad)."""
    hours, minutes = (int(p) for p in text.split(":"))
    local_now = now.astimezone(tz)
    value = local_now.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    if value > local_now + T0_FUTURE_TOLERANCE:
        value -= timedelta(days=1)
    if now - value > BARE_TIME_LIMIT:
        raise AmbiguousT0(
            f"l'heure {text} seule désignerait {local_label(value, tz)}, il y a "
            f"{elapsed_label(now - value)} : indiquez la date complète "
            "(AAAA-MM-JJ HH:MM, ou JJ/MM/AAAA HH:MM)"
        )
    return value


def typed_t0(text: str, tz: ZoneInfo, now: datetime, yes: bool) -> datetime:
    """The T0 typed; an ambiguous bare time asks for the full date at a terminal (never with
    --yes or without one: then it is refused)."""
    try:
        return parse_t0(text, tz, now)
    except AmbiguousT0 as exc:
        if yes or not sys.stdin.isatty():
            raise fail(str(exc), code=2) from None
        console.print(f"[yellow]Attention[/yellow] : {escape(str(exc))}.")
        full = typer.prompt("Date et heure complètes du temps 0 (AAAA-MM-JJ HH:MM)")
    except ValueError as exc:
        raise fail(str(exc), code=2) from None
    if len(full.strip()) <= 5:
        raise fail("indiquez la date complète du temps 0, pas seulement l'heure", code=2)
    return typed_t0(full, tz, now, yes)


def _confirmation(
    application: App, other_event: str | None, old_t0: str | None
) -> tuple[Confirmation | None, str]:
    """The préfet's go given on the command line, with the system account it comes from."""
    if other_event is None and old_t0 is None:
        return None, ""
    login, authority = operator_authority(application.settings)
    reasons = [r.strip() for r in (other_event, old_t0) if r is not None and r.strip()]
    return (
        Confirmation(
            authority=authority,
            reason=" ; ".join(dict.fromkeys(reasons)),
            other_event=other_event is not None,
            old_t0=old_t0 is not None,
        ),
        login,
    )


def activate(
    kind: KindOption,
    t0: T0Option,
    synergi: SynergiOption,
    communes: ZoneOption,
    by: ByOption,
    exercise: ExerciseFlag = False,
    key: KeyOption = None,
    yes: YesFlag = False,
    other_event: OtherEventOption = None,
    old_t0: OldT0Option = None,
    config: ConfigOption = None,
) -> None:
    """Enregistrer l'activation du COD (temps 0) et lancer le playbook."""
    application = open_app(config)
    tz = application.settings.prefecture.zone
    now = application.clock.now()
    when = typed_t0(t0, tz, now, yes)
    try:
        spec = parse_area(communes)
        area = resolve_area(spec, load_extract(application.settings.directory.communes_file))
    except (AreaError, CogError) as exc:
        raise fail(str(exc)) from None
    confirmation, login = _confirmation(application, other_event, old_t0)
    _confirm_activation(area, when, now, tz, yes)
    actor = f"{by} (compte {login})" if login else by
    request = ActivationRequest(
        kind=kind,
        t0=when,
        synergi_ref=synergi,
        communes=area.codes,
        area=spec.as_text(),
        recorded_by=Actor(name=actor, interface=Interface.CLI),
        mode=Mode.EXERCICE if exercise else Mode.REEL,
        idempotency_key=key,
        confirmation=confirmation,
    )
    _announce(_recorded(application, request), tz)


def _recorded(application: App, request: ActivationRequest) -> Activation:
    """The activation recorded, or the French reason it was not (and how to go on)."""
    try:
        return application.orchestrator.activate(request)
    except ActivationConflict as exc:
        raise fail(
            f"{exc} (option --autre-evenement MOTIF, sous un compte de directeur de cabinet ou "
            f"de préfet ; pour corriger le T0 : crisis rectifier-t0 {exc.existing_id})"
        ) from None
    except T0TooOld as exc:
        raise fail(
            f"{exc} (option --t0-ancien MOTIF, sous un compte de directeur de cabinet ou de préfet)"
        ) from None
    except MalformedActivation as exc:
        raise fail(str(exc), code=2) from None
    except (ActivationError, ValueError) as exc:
        raise fail(str(exc)) from None


def _announce(result: Activation, tz: ZoneInfo) -> None:
    crisis = result.crisis
    if result.created:
        console.print(
            f"[green]Temps 0 enregistré[/green] : événement [bold]{crisis.id}[/bold], "
            f"T0 = {local_label(crisis.t0, tz)} ({timefmt.zone_of(crisis.t0, tz)}), "
            f"{crisis.kind.label}."
        )
    else:
        console.print(
            f"Activation déjà enregistrée : événement [bold]{crisis.id}[/bold] "
            f"(T0 {local_label(crisis.t0, tz)}, aucun doublon créé). Suivre : "
            f"[bold]crisis status {crisis.id}[/bold]"
        )
    console.print("Les envois partent quand le service tourne : [bold]crisis run[/bold].")


def _confirm_activation(
    area: ResolvedArea, t0: datetime, now: datetime, tz: ZoneInfo, yes: bool
) -> None:
    """Show the T0 (date, weekday, time since) and the resolved communes; T0 is recorded only
    once the agent has seen them."""
    console.print(
        f"Temps 0 : [bold]{local_label(t0, tz)}[/bold] ({timefmt.zone_of(t0, tz)}), "
        f"il y a {elapsed_label(now - t0)}"
    )
    console.print(f"Zone : {area.summary()}")
    listed = [f"{code} {area.names.get(code, '')}".strip() for code in area.codes]
    console.print("  " + ", ".join(listed[:120]) + (" …" if len(listed) > 120 else ""))
    if yes:
        return
    if not sys.stdin.isatty():
        raise fail("vérifiez le temps 0 et la liste des communes puis relancez avec --yes", code=2)
    if not typer.confirm("Enregistrer ce temps 0 pour ces communes ?", default=False):
        raise fail("rien n'a été enregistré")


def rectify_t0(
    crisis_id: Annotated[str, typer.Argument(help="Identifiant de l'événement.")],
    t0: Annotated[
        str,
        typer.Option(help="Le temps 0 juste : 2026-11-23 02:10, 23/11/2026 02:10 ou 02:10."),
    ],
    reason: Annotated[
        str, typer.Option("--motif", help="Pourquoi le temps 0 est rectifié (inscrit au journal).")
    ],
    by: ByOption,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Ne pas demander de confirmer.")] = False,
    config: ConfigOption = None,
) -> None:
    """Rectifier un temps 0 erroné (directeur de cabinet ou préfet) : la conformité et les
    rapports comptent ensuite depuis le temps 0 rectifié et montrent les deux."""
    application = open_app(config)
    tz = application.settings.prefecture.zone
    now = application.clock.now()
    when = typed_t0(t0, tz, now, yes)
    login, authority = operator_authority(application.settings)
    try:
        current = events.crisis(application.store, crisis_id)
    except CrisisNotFound as exc:
        raise fail(str(exc)) from None
    console.print(
        f"Temps 0 enregistré : {local_label(current.t0, tz)} ; temps 0 rectifié : "
        f"[bold]{local_label(when, tz)}[/bold] ({timefmt.zone_of(when, tz)}), il y a "
        f"{elapsed_label(now - when)}"
    )
    if not yes:
        if not sys.stdin.isatty():
            raise fail("vérifiez le temps 0 rectifié puis relancez avec --yes", code=2)
        if not typer.confirm("Rectifier le temps 0 ?", default=False):
            raise fail("rien n'a été enregistré")
    try:
        application.orchestrator.rectify_t0(
            crisis_id,
            when,
            reason,
            Actor(name=f"{by} (compte {login})", interface=Interface.CLI),
            authority=authority,
        )
    except Refused as exc:
        raise fail(str(exc)) from None
    console.print(
        f"[green]Temps 0 rectifié[/green] : {crisis_id}, T0 = {local_label(when, tz)} "
        "(inscrit dans la main courante)."
    )
