"""The rich renderings several commands share: compliance verdicts, the cell's
confirmations, the reach of each commune."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rich.table import Table

from contacts.model import CELL_ROLES
from crisis import compliance, timefmt
from crisis.cli.common import console
from crisis.model import AcknowledgementReceived, JournalEntry, Verdict

REACH_LABELS = {
    "joint": "[green]jointe[/green]",
    "non_joint": "[red]non jointe[/red]",
    "en_cours": "[yellow]en cours[/yellow]",
    "injoignable": "[red]aucun élu joignable[/red]",
}


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


def reach_table(
    reach: Sequence[compliance.CommuneReach], names: Mapping[str, str], t0: datetime
) -> Table:
    """Each commune: reached by whom and when, or not reached after how many attempts."""
    table = Table(title="Communes (48.1)")
    for column in ("commune", "état", "joint par", "à", "tentatives"):
        table.add_column(column)
    for r in reach:
        when = ""
        if r.at is not None:
            minutes = (r.at - t0).total_seconds() / 60
            when = f"T0+{int(minutes)} min"
        who = f"{r.role.label} ({r.contact_id})" if r.role and r.contact_id else ""
        table.add_row(
            f"{names.get(r.code_insee, r.code_insee)} ({r.code_insee})",
            REACH_LABELS[r.status],
            who,
            when,
            str(r.attempts),
        )
    return table
