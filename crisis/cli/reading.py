"""`crisis status`, `journal` (and `journal verify`), `list`: what the store says, in French."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from crisis import compliance, timefmt
from crisis.bootstrap import App
from crisis.cli.common import ConfigOption, console, err, fail, open_app
from crisis.cli.views import render_cell, render_verdicts
from crisis.journal import shown, verify
from crisis.model import NOT_YET, Mode
from crisis.queries import events
from crisis.store.repository import CrisisNotFound
from crisis.store.urls import database_label
from crisis.timefmt import local_label


def status(crisis_id: str, config: ConfigOption = None) -> None:
    """Afficher le chrono depuis T0, l'état de chaque engagement et ce qui reste à faire."""
    application = open_app(config)
    now = application.clock.now()
    tz = application.settings.prefecture.zone
    try:
        seen = events.status(application.store, crisis_id)
    except CrisisNotFound as exc:
        raise fail(str(exc)) from None
    crisis, entries, steps, counts = seen.crisis, seen.entries, seen.steps, seen.counts
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
    application = open_app(config)
    if target == "verify":
        raise typer.Exit(verify_journal(application, crisis_id))
    tz = application.settings.prefecture.zone
    try:
        entries = application.orchestrator.journal(target)
        events.crisis(application.store, target)
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
    if verify_journal(application, target, quiet=True):
        console.print(
            "[red]Attention : main courante ALTÉRÉE — voir « crisis journal verify ».[/red]"
        )


def verify_journal(application: App, crisis_id: str | None, *, quiet: bool = False) -> int:
    """Check the chaining of one crisis's main courante, or of every one; 1 when altered.

    It always says what it checked (which database, how many events and entries): a person
    pointed at the wrong database sees it. An empty database is not an altered one (0).
    """
    where = database_label(application.settings.database.url)
    ids = [crisis_id] if crisis_id else events.crisis_ids(application.store)
    broken = 0
    entries = 0
    if not ids and not quiet:
        console.print(f"Aucun événement dans la {where} : rien à vérifier.")
        return 0
    for cid in ids:
        try:
            stored = events.stored_journal(application.store, cid)
        except CrisisNotFound as exc:
            err.print(f"[red]{escape(str(exc))}[/red]")
            return 1
        problems = verify(cid, stored.entries, stored.head_seq, stored.head_hash)
        entries += len(stored.entries)
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
                f"[green]{cid} : main courante intègre ({len(stored.entries)} entrées)[/green]"
            )
    if not quiet:
        altered = f", dont {broken} ALTÉRÉE(S)" if broken else ""
        console.print(
            f"Vérifié : {len(ids)} événement(s){altered}, {entries} entrées de main courante, "
            f"dans la {where}."
        )
    return 1 if broken else 0


def list_crises(config: ConfigOption = None) -> None:
    """Lister les événements et exercices."""
    application = open_app(config)
    tz = application.settings.prefecture.zone
    table = Table(title="Événements")
    for col in ("identifiant", "type", "mode", f"T0 ({timefmt.zone_label(tz)})", "état"):
        table.add_column(col)
    for c in events.crises(application.store):
        table.add_row(
            c.id,
            c.kind.label,
            c.mode.value,
            timefmt.clock(c.t0, tz, date=True),
            "clos" if c.closed_at else "ouvert",
        )
    console.print(table)
