"""The `crisis` command (thin: parses, calls the service, prints in French).

This registry builds the Typer application from one module per command group:
activation (temps 0), running (service, check-config, demo), reading (status, journal, list),
acting (approve, draft, close...), contacts, exercise, press (media), cip, report, users.
"""

from __future__ import annotations

import typer

from crisis.cli import acting, activation, french, reading, running
from crisis.cli.activation import AmbiguousT0, parse_t0
from crisis.cli.cip import cip_app
from crisis.cli.common import CommandGroup
from crisis.cli.contacts import contacts_app
from crisis.cli.exercise import exercise_app
from crisis.cli.press import media_app
from crisis.cli.report import report_app
from crisis.cli.users import users_app
from crisis.cli.views import reach_table, render_cell, render_verdicts

__all__ = [
    "AmbiguousT0",
    "app",
    "main",
    "parse_t0",
    "reach_table",
    "render_cell",
    "render_verdicts",
]

french.install()  # Click's and Typer's own messages in French, before any command is built
app = typer.Typer(
    help="Orchestrateur de communication d'urgence (Qual-e-pref, module 7).",
    no_args_is_help=True,
    cls=CommandGroup,  # bad configuration, files or database: French message, exit 2
    add_completion=False,  # Typer's completion options speak English only
)

app.command(name="activate")(activation.activate)
app.command(name="rectifier-t0")(activation.rectify_t0)
app.command(name="run")(running.run)
app.command(name="serve")(running.serve_command)
app.command(name="status")(reading.status)
app.command(name="journal")(reading.journal)
app.command(name="approve")(acting.approve)
app.command(name="draft")(acting.draft)
app.command(name="ack")(acting.ack)
app.command(name="note")(acting.note)
app.command(name="ciav")(acting.ciav)
app.command(name="publie")(acting.publie)
app.command(name="close")(acting.close)
app.command(name="list")(reading.list_crises)
app.add_typer(contacts_app, name="contacts")
app.command(name="check-config")(running.check_config)
app.command(name="demo")(running.demo_command)
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
