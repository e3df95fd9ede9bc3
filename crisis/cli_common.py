"""What every `crisis` sub-command shares: consoles, common options, settings and errors."""

from __future__ import annotations

import os
import pwd
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from crisis.model import Authority
from crisis.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from crisis.bootstrap import App

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
ConfigOption = Annotated[
    Optional[Path],  # noqa: UP045 - typer needs Optional here
    typer.Option("--config", "-c", envvar="CRISIS_CONFIG", help="Fichier de configuration TOML."),
]


def settings_failed(exc: SettingsError) -> typer.Exit:
    """Say what is wrong with the configuration; the exit to raise (code 2)."""
    for line in exc.problems:
        err.print(f"[red]Configuration invalide[/red] — {escape(line)}")
    return typer.Exit(2)


def load(config: Path | None) -> Settings:
    """The settings of `config` (or CRISIS_CONFIG) and the environment, or exit 2 saying why."""
    try:
        return load_settings(config, os.environ)
    except SettingsError as exc:
        raise settings_failed(exc) from None


def open_app(config: Path | None, *, send: bool = False) -> App:
    """The orchestrator; with `send`, its channels too (credentials from the environment)."""
    from crisis.bootstrap import build
    from playbooks.loader import PlaybookErrors

    try:
        return build(load(config), env=os.environ, send=send)
    except PlaybookErrors as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    except SettingsError as exc:
        raise settings_failed(exc) from None


def open_app_sending(config: Path | None, consequence: str) -> App:
    """The orchestrator with its channels, for a command whose side effects need them; when a
    channel cannot be built, the orchestrator alone, saying what will not happen (French)."""
    from crisis.bootstrap import build
    from playbooks.loader import PlaybookErrors

    settings = load(config)
    try:
        return build(settings, env=os.environ, send=True)
    except SettingsError as exc:
        err.print(
            f"[yellow]Canaux indisponibles[/yellow] — {consequence} "
            f"({escape('; '.join(exc.problems))})"
        )
    except PlaybookErrors:
        pass  # open_app says what is wrong with the playbooks, and exits
    return open_app(config)


def operator_authority(settings: Settings) -> tuple[str, Authority]:
    """Who runs this command (the system account of the real user id, which an environment
    variable cannot change) and the authority `[accounts]` gives that account."""
    login = pwd.getpwuid(os.getuid()).pw_name
    return login, settings.accounts.get(login, Authority.AGENT)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Say a French error; the exit to raise."""
    err.print(f"[red]Erreur :[/red] {escape(message)}")
    return typer.Exit(code)
