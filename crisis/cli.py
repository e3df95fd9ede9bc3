"""The `crisis` command (thin: parses, calls the service, prints in French)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table

from channels.sms_text import describe_segments, sms_advice
from contacts.area import AreaError, ResolvedArea, parse_area, resolve_area
from contacts.cog import CogError, load_extract
from contacts.model import CELL_ROLES
from crisis import cli_french, compliance, timefmt
from crisis.activation import (
    T0_FUTURE_TOLERANCE,
    ActivationConflict,
    ActivationError,
    Confirmation,
    MalformedActivation,
    T0TooOld,
)
from crisis.bootstrap import App, engine_config, provider_problems
from crisis.cli_common import (
    ByOption,
    CommandGroup,
    ConfigOption,
    console,
    err,
    fail,
    load,
    open_app,
    open_app_sending,
    operator_authority,
    settings_failed,
)
from crisis.cli_contacts import contacts_app
from crisis.cli_exercise import cip_app, exercise_app, media_app, report_app
from crisis.cli_users import users_app
from crisis.clock import SystemClock
from crisis.demo import DEMO_SEED, run_demo
from crisis.engine import Refused, sms_texts, template_problems
from crisis.journal import shown, verify
from crisis.model import (
    NOT_YET,
    AcknowledgementReceived,
    Actor,
    DraftTexts,
    Interface,
    JournalEntry,
    Mode,
    Verdict,
)
from crisis.owned_dir import FolderRefused
from crisis.runtime import ServiceRefused, claim, serve
from crisis.service import ActivationRequest
from crisis.settings import SettingsError
from crisis.store.database import unreachable
from crisis.store.repository import CrisisNotFound
from crisis.store.urls import database_label
from crisis.timefmt import elapsed_label, local_label
from playbooks.loader import (
    PlaybookError,
    check_library,
    default_library_dir,
    default_templates_dir,
    load_library,
    load_template,
)
from playbooks.model import EventKind

cli_french.install()  # Click's and Typer's own messages in French, before any command is built
app = typer.Typer(
    help="Orchestrateur de communication d'urgence (Qual-e-pref, module 7).",
    no_args_is_help=True,
    cls=CommandGroup,  # bad configuration, files or database: French message, exit 2
    add_completion=False,  # Typer's completion options speak English only
)


def _app(config: Path | None, *, send: bool = False) -> App:
    """The orchestrator; with `send`, its channels too (credentials from the environment)."""
    return open_app(config, send=send)


BARE_TIME_LIMIT = timedelta(hours=12)  # a bare "HH:MM" further back than this needs its date


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


def _typed_t0(text: str, tz: ZoneInfo, now: datetime, yes: bool) -> datetime:
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
    return _typed_t0(full, tz, now, yes)


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


@app.command()
def activate(
    kind: Annotated[EventKind, typer.Option("--kind", "--type", help="Type d'événement.")],
    t0: Annotated[
        str,
        typer.Option(
            help="Heure d'activation du COD dans SYNERGI : 02:10 (aujourd'hui), "
            "2026-11-23 02:10 ou 23/11/2026 02:10."
        ),
    ],
    synergi: Annotated[str, typer.Option(help="Référence SYNERGI de l'événement.")],
    communes: Annotated[
        str,
        typer.Option(
            "--communes",
            "--zone",
            help="Zone concernée, éléments séparés par des virgules : codes INSEE (42218), "
            "arr:421 (arrondissement), epci:244200770 (EPCI), dep (tout le département).",
        ),
    ],
    by: ByOption,
    exercise: Annotated[
        bool, typer.Option("--exercise", "--exercice", help="Exercice (pas un événement réel).")
    ] = False,
    key: Annotated[
        str | None, typer.Option(help="Clé d'idempotence (par défaut : type, T0, SYNERGI).")
    ] = None,
    yes: Annotated[
        bool,
        typer.Option("--yes", "-y", help="Ne pas demander de confirmer le T0 et les communes."),
    ] = False,
    other_event: Annotated[
        str | None,
        typer.Option(
            "--autre-evenement",
            metavar="MOTIF",
            help="Confirmer qu'il s'agit d'un autre événement que celui déjà enregistré sous "
            "cette référence SYNERGI (directeur de cabinet ou préfet ; motif inscrit au journal).",
        ),
    ] = None,
    old_t0: Annotated[
        str | None,
        typer.Option(
            "--t0-ancien",
            metavar="MOTIF",
            help="Confirmer un temps 0 plus ancien que la limite (section engine, t0_max_age : "
            "24 h par défaut) (directeur de cabinet ou préfet ; motif inscrit au journal).",
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Enregistrer l'activation du COD (temps 0) et lancer le playbook."""
    application = _app(config)
    tz = ZoneInfo(application.settings.prefecture.timezone)
    now = application.clock.now()
    when = _typed_t0(t0, tz, now, yes)
    try:
        spec = parse_area(communes)
        area = resolve_area(spec, load_extract(application.settings.directory.communes_file))
    except (AreaError, CogError) as exc:
        raise fail(str(exc)) from None
    confirmation, login = _confirmation(application, other_event, old_t0)
    _confirm_activation(area, when, now, tz, yes)
    actor = f"{by} (compte {login})" if login else by
    try:
        result = application.orchestrator.activate(
            ActivationRequest(
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
        )
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


@app.command(name="rectifier-t0")
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
    application = _app(config)
    tz = ZoneInfo(application.settings.prefecture.timezone)
    now = application.clock.now()
    when = _typed_t0(t0, tz, now, yes)
    login, authority = operator_authority(application.settings)
    try:
        with application.store.transaction() as tx:
            current = tx.crisis(crisis_id)
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


@app.command()
def run(config: ConfigOption = None) -> None:
    """Faire tourner l'orchestrateur (minuteries, envois, serveur web) jusqu'à Ctrl-C."""
    application = _app(config, send=True)
    hooks = application.webhooks
    web = (
        f" ; serveur web sur {hooks.host}:{hooks.port} (adresse publique {hooks.public_base_url})"
        if hooks is not None
        else " ; pas de serveur web (ni Twilio ni [web] public_base_url configurés)"
    )
    try:  # one service per database, on a free port: else refused before anything is sent
        claimed = claim(application, "run")
    except ServiceRefused as exc:
        application.close()
        raise fail(f"service non démarré : {exc}", code=2) from None

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        console.print(f"Orchestrateur démarré{escape(web)} (Ctrl-C pour arrêter).")
        await serve(application, stop, claimed=claimed)

    try:
        asyncio.run(main())
    except ServiceRefused as exc:  # the lock lost to another service, the web server failed
        raise fail(f"service arrêté : {exc}", code=2) from None
    finally:
        application.close()


@app.command(name="serve")
def serve_command(config: ConfigOption = None) -> None:
    """Comme « crisis run » : le service, avec le tableau de bord et l'API quand l'adresse
    publique (section « web », public_base_url) et CRISIS_WEB_SECRET sont configurées."""
    run(config)


@app.command()
def status(crisis_id: str, config: ConfigOption = None) -> None:
    """Afficher le chrono depuis T0, l'état de chaque engagement et ce qui reste à faire."""
    application = _app(config)
    now = application.clock.now()
    tz = ZoneInfo(application.settings.prefecture.timezone)
    try:
        with application.store.transaction() as tx:
            crisis = tx.crisis(crisis_id)
            entries = tx.journal(crisis_id)
            steps = tx.steps(crisis_id)
            counts = tx.outbox_counts(crisis_id)
    except CrisisNotFound as exc:
        raise fail(str(exc)) from None
    elapsed = now - crisis.t0
    mins = int(elapsed.total_seconds() // 60)
    console.print(
        f"[bold]{crisis.id}[/bold] — {crisis.kind.label}"
        f"{' — EXERCICE' if crisis.mode == Mode.EXERCICE else ''} — "
        f"T0 {crisis.t0.astimezone(tz):%d/%m %H:%M} ({timefmt.zone_of(crisis.t0, tz)}), "
        f"T0+{mins} min" + (f", reste {60 - mins} min avant T0+60" if mins < 60 else "")
    )
    declared = compliance.declared_t0(entries)
    if declared is not None:
        console.print(f"T0 rectifié ; T0 déclaré d'abord : {local_label(declared, tz)}")
    render_verdicts(compliance.judge(entries, now))
    render_cell(entries, tz)
    pending = [s for s in steps if s.status.value != "done"]
    if pending:
        table = Table(title="Étapes en attente")
        table.add_column("étape")
        table.add_column("échéance")
        table.add_column("état")
        for s in pending:
            table.add_row(
                s.step_id,
                "dès l'ordre d'activer la CIP"
                if s.due_at == NOT_YET
                else f"T0+{int((s.due_at - crisis.t0).total_seconds() // 60)} min",
                s.hold_reason or "prévue",
            )
        console.print(table)
    waiting = sum(
        n for (_c, state), n in counts.items() if state in {"pending", "sending", "unknown"}
    )
    console.print(f"Messages en file d'envoi : {waiting}")


def render_cell(entries: Sequence[JournalEntry], tz: ZoneInfo) -> None:
    """Who of the cell confirmed, when, and when they expect to be there."""
    table = Table(title=f"Cellule : confirmations reçues ({timefmt.zone_label(tz)})")
    for column in ("agent", "rôle", "formé", "confirmé à", "arrivée prévue"):
        table.add_column(column)
    for entry in entries:
        ack = entry.fact
        if not isinstance(ack, AcknowledgementReceived) or ack.role not in CELL_ROLES:
            continue
        arrival = "non précisée"
        if ack.eta_minutes:
            at = entry.at + timedelta(minutes=ack.eta_minutes)
            arrival = f"vers {timefmt.clock(at, tz)} (dans {ack.eta_minutes} min)"
        table.add_row(
            ack.contact_id,
            ack.role.label if ack.role else "",
            "oui" if ack.trained else "[red]non[/red]",
            timefmt.clock(entry.at, tz),
            arrival,
        )
    if table.row_count:
        console.print(table)


def render_verdicts(verdicts: Sequence[Verdict]) -> None:
    """The compliance table."""
    table = Table(title="Conformité (engagements du module 7)")
    table.add_column("engagement")
    table.add_column("état")
    table.add_column("délai")
    table.add_column("détail")
    table.add_column("preuves (main courante)")
    colours = {"met": "green", "late": "yellow", "missed": "red", "at_risk": "yellow"}
    for v in verdicts:
        colour = colours.get(v.status.value, "white")
        delay = f"T0+{v.delay_seconds / 60:.0f} min" if v.delay_seconds is not None else ""
        proof = ", ".join(f"n° {n}" for n in v.evidence[:6]) + (" …" if len(v.evidence) > 6 else "")
        table.add_row(
            v.engagement, f"[{colour}]{v.status.label}[/{colour}]", delay, v.detail, proof
        )
    console.print(table)


@app.command()
def journal(
    target: Annotated[str, typer.Argument(help="Identifiant de l'événement, ou « verify ».")],
    crisis_id: Annotated[
        str | None, typer.Argument(help="Avec verify : l'événement (tous sinon).")
    ] = None,
    config: ConfigOption = None,
    sealed: Annotated[
        bool,
        typer.Option(
            "--texte-scelle",
            "--sealed",
            help="Afficher le texte tel qu'il a été scellé (celui que vérifie « journal verify ») "
            "au lieu du texte rédigé à nouveau depuis les faits enregistrés.",
        ),
    ] = False,
) -> None:
    """Afficher la main courante (journal ID) ou vérifier son chaînage (journal verify [ID])."""
    application = _app(config)
    if target == "verify":
        raise typer.Exit(_verify(application, crisis_id))
    tz = ZoneInfo(application.settings.prefecture.timezone)
    try:
        entries = application.orchestrator.journal(target)
        with application.store.transaction() as tx:
            tx.crisis(target)
    except CrisisNotFound as exc:
        raise fail(str(exc)) from None
    wording = (
        "texte scellé tel qu'enregistré"
        if sealed
        else "texte rédigé depuis les faits enregistrés (--texte-scelle : le texte scellé)"
    )
    console.print(f"[dim]Heures : {timefmt.zone_label(tz)} ; {wording}.[/dim]", highlight=False)
    for e in entries:
        console.print(
            f"[dim]{e.seq:>5}[/dim] {timefmt.clock(e.at, tz, date=True, seconds=True)} "
            f"[cyan]{e.actor.name}[/cyan] ({e.actor.interface.value}) "
            f"{escape(e.text if sealed else shown(e, tz))}",
            markup=True,
            highlight=False,
        )
    if _verify(application, target, quiet=True):
        console.print(
            "[red]Attention : main courante ALTÉRÉE — voir « crisis journal verify ».[/red]"
        )


def _verify(application: App, crisis_id: str | None, *, quiet: bool = False) -> int:
    """Check the chaining of one crisis's main courante, or of every one; 1 when altered.

    It always says what it checked (which database, how many events and entries): a person
    pointed at the wrong database sees it. An empty database is not an altered one (0).
    """
    where = database_label(application.settings.database.url)
    with application.store.transaction() as tx:
        ids = [crisis_id] if crisis_id else tx.crisis_ids(open_only=False)
        broken = 0
        entries = 0
        if not ids and not quiet:
            console.print(f"Aucun événement dans la {where} : rien à vérifier.")
            return 0
        for cid in ids:
            try:
                stored, head_seq, head_hash = tx.stored_journal(cid)
            except CrisisNotFound as exc:
                err.print(f"[red]{escape(str(exc))}[/red]")
                return 1
            problems = verify(cid, stored, head_seq, head_hash)
            entries += len(stored)
            if quiet:
                broken += bool(problems)
                continue
            if problems:
                broken += 1
                console.print(f"[red]{cid} : main courante ALTÉRÉE[/red]")
                for p in problems:
                    console.print(f"  - {p}")
            else:
                console.print(
                    f"[green]{cid} : main courante intègre ({len(stored)} entrées)[/green]"
                )
    if not quiet:
        altered = f", dont {broken} ALTÉRÉE(S)" if broken else ""
        console.print(
            f"Vérifié : {len(ids)} événement(s){altered}, {entries} entrées de main courante, "
            f"dans la {where}."
        )
    return 1 if broken else 0


def _act(config: Path | None, action: str, crisis_id: str, *args: object) -> None:
    application = _app(config)
    try:
        getattr(application.orchestrator, action)(crisis_id, *args)
    except (Refused, CrisisNotFound) as exc:
        raise fail(str(exc)) from None


@app.command()
def approve(crisis_id: str, step: str, by: ByOption, config: ConfigOption = None) -> None:
    """Valider le message d'une étape (double regard : pas par son rédacteur)."""
    _act(config, "approve", crisis_id, step, Actor(name=by, interface=Interface.CLI))
    console.print(f"Message de l'étape {step} validé.")


@app.command()
def draft(
    crisis_id: str,
    step: str,
    file: Annotated[
        Path,
        typer.Option(
            "--file",
            "--fichier",
            help="Textes au format d'un modèle de playbooks/templates (subject, short, voice, "
            "intro, closing, [sections]).",
        ),
    ],
    by: ByOption,
    config: ConfigOption = None,
) -> None:
    """Rédiger ou modifier le message d'une étape avant sa validation (double regard)."""
    try:
        texts = DraftTexts.of(load_template(file))
    except PlaybookError as exc:
        raise fail(str(exc)) from None
    _act(config, "draft", crisis_id, step, texts, Actor(name=by, interface=Interface.CLI))
    console.print(
        f"Rédaction de l'étape {step} enregistrée : elle attend la validation d'une autre personne."
    )


@app.command()
def ack(crisis_id: str, contact: str, by: ByOption, config: ConfigOption = None) -> None:
    """Enregistrer une confirmation de réception reçue autrement (appel au standard...)."""
    _act(config, "acknowledge", crisis_id, contact, Actor(name=by, interface=Interface.CLI))
    console.print(f"Réception confirmée pour {contact}.")


@app.command()
def note(crisis_id: str, text: str, by: ByOption, config: ConfigOption = None) -> None:
    """Ajouter une note à la main courante."""
    _act(config, "note", crisis_id, text, Actor(name=by, interface=Interface.CLI))
    console.print("Note ajoutée à la main courante.")


@app.command()
def ciav(crisis_id: str, number: str, by: ByOption, config: ConfigOption = None) -> None:
    """Enregistrer le numéro de la CIAV (attentat) pour qu'il soit relayé."""
    _act(config, "set_ciav_number", crisis_id, number, Actor(name=by, interface=Interface.CLI))
    console.print("Numéro CIAV enregistré.")


@app.command()
def publie(
    crisis_id: str,
    message: Annotated[str, typer.Argument(help="Clé du message (donnée par l'alerte).")],
    by: ByOption,
    lien: Annotated[str, typer.Option(help="Adresse de la publication faite à la main.")] = "",
    config: ConfigOption = None,
) -> None:
    """Enregistrer une publication faite à la main quand un canal public est en panne."""
    actor = Actor(name=by, interface=Interface.CLI)
    _act(config, "published_by_hand", crisis_id, message, actor, lien)
    console.print("Publication manuelle enregistrée dans la main courante (preuve).")


@app.command()
def close(crisis_id: str, by: ByOption, reason: str = "", config: ConfigOption = None) -> None:
    """Clore l'événement : envois en file arrêtés, alerte du site levée (CAP Cancel)."""
    application = open_app_sending(  # with the channels, to withdraw the public alert
        config,
        "l'alerte du site internet et le message du standard ne sont pas levés "
        "automatiquement, les retirer à la main",
    )
    try:
        application.orchestrator.close(crisis_id, Actor(name=by, interface=Interface.CLI), reason)
    except (Refused, CrisisNotFound) as exc:
        raise fail(str(exc)) from None
    finally:
        application.close()
    console.print(f"Événement {crisis_id} clos.")


@app.command(name="list")
def list_crises(config: ConfigOption = None) -> None:
    """Lister les événements et exercices."""
    application = _app(config)
    tz = ZoneInfo(application.settings.prefecture.timezone)
    table = Table(title="Événements")
    for col in ("identifiant", "type", "mode", f"T0 ({timefmt.zone_label(tz)})", "état"):
        table.add_column(col)
    with application.store.transaction() as tx:
        for cid in tx.crisis_ids(open_only=False):
            c = tx.crisis(cid)
            table.add_row(
                c.id,
                c.kind.label,
                c.mode.value,
                timefmt.clock(c.t0, tz, date=True),
                "clos" if c.closed_at else "ouvert",
            )
    console.print(table)


app.add_typer(contacts_app, name="contacts")


@app.command(name="check-config")
def check_config(config: ConfigOption = None) -> None:
    """Vérifier la configuration, les playbooks et les modèles sans rien envoyer."""
    settings = load(config)
    now = SystemClock().now()
    problems = [
        str(e)
        for e in check_library(
            settings.playbooks.library_dir or default_library_dir(),
            settings.playbooks.templates_dir or default_templates_dir(),
        )
    ]
    if not problems:
        library = load_library(settings.playbooks.library_dir, settings.playbooks.templates_dir)
        problems = template_problems(
            library.playbooks.values(), library.templates, engine_config(settings), now
        )
    for line in problems:
        err.print(f"[red]Playbook invalide[/red] — {escape(line)}")
    if not problems:
        for name, text in sms_texts(
            library.playbooks.values(), library.templates, engine_config(settings), now
        ).items():
            sms = sms_advice(text)
            if sms.encoding != "GSM-7" or sms.segments > 1:
                console.print(f"[yellow]SMS[/yellow] — modèle {name} : {describe_segments(text)}")
    providers = provider_problems(settings, os.environ)
    advice = [p for p in providers if "avertissement" in p]
    errors = [p for p in providers if p not in advice]
    for line in errors:
        err.print(f"[red]Fournisseur[/red] — {escape(line)}")
    for line in advice:
        err.print(f"[yellow]Fournisseur[/yellow] — {escape(line)}")
    database = unreachable(settings.database.url)  # PostgreSQL: connects, writes nothing
    if database:
        err.print(f"[red]Base de données[/red] — {escape(database)}")
    if problems:
        raise typer.Exit(1)
    if errors or database:
        raise typer.Exit(2)
    used = settings.providers_in_use()
    real = ", ".join(f"{p} ({', '.join(c.value for c in cs)})" for p, cs in used.items())
    console.print(
        f"[green]Configuration valide[/green] ({config or 'valeurs par défaut'}) ; "
        "playbooks et modèles valides ; "
        + (f"fournisseurs réels : {real} (rien n'a été envoyé)." if real else "canaux simulés.")
    )


@app.command()
def demo(
    speed: Annotated[
        float, typer.Option(help="Accélération de l'horloge (60 : une heure en une minute).")
    ] = 60.0,
    data_dir: Annotated[Path, typer.Option(help="Dossier de la démonstration (recréé).")] = Path(
        "var/demo"
    ),
    seed: Annotated[
        int, typer.Option(help="Graine : qui répond et quand (même graine, même démo).")
    ] = DEMO_SEED,
    config: ConfigOption = None,
) -> None:
    """Démonstration : inondation dans la Loire, horloge accélérée, canaux simulés.

    Avec --config, les canaux dont le fichier indique un fournisseur réel l'utilisent
    (identifiants dans l'environnement) ; la base reste celle de la démonstration.
    """
    base = load(config) if config is not None else None
    try:
        code = run_demo(
            speed=speed, data_dir=data_dir, console=console, seed=seed, base=base, env=os.environ
        )
    except SettingsError as exc:
        raise settings_failed(exc) from None
    except ServiceRefused as exc:
        raise fail(f"démonstration non lancée : {exc}", code=2) from None
    except FolderRefused as exc:
        raise fail(str(exc), code=2) from None
    raise typer.Exit(code)


app.add_typer(exercise_app, name="exercise")
app.add_typer(exercise_app, name="exercice", hidden=True)
app.add_typer(media_app, name="media")
app.add_typer(cip_app, name="cip")
app.add_typer(report_app, name="report")
app.add_typer(report_app, name="rapport", hidden=True)
app.add_typer(users_app, name="users")


def main() -> None:
    """Entry point of the `crisis` command."""
    app()
