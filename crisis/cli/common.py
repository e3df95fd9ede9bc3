"""What every `crisis` sub-command shares: consoles, common options, settings and errors."""

from __future__ import annotations

import os
import pwd
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from contacts.cog import CogError
from crisis import inputs
from crisis.bootstrap import App, build, config_problems
from crisis.model import Actor, Authority, Interface
from crisis.settings import Settings, SettingsError, load_settings
from crisis.store.database import StoreRefused, StoreUnavailable
from playbooks.loader import PlaybookError, PlaybookErrors

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
ConfigOption = Annotated[
    Optional[Path],  # noqa: UP045 - typer needs Optional here
    typer.Option("--config", "-c", envvar="CRISIS_CONFIG", help="Fichier de configuration TOML."),
]


def _checked_by(value: str) -> str:
    """`--by`: who acts, never empty (the main courante names an author for every entry)."""
    try:
        return inputs.actor_name(value, field="--by (qui agit)")
    except inputs.InvalidInput as exc:
        raise fail(str(exc), code=2) from None


ByOption = Annotated[
    str,
    typer.Option("--by", "--par", help="Qui agit (nom et fonction).", callback=_checked_by),
]


def settings_failed(exc: SettingsError) -> typer.Exit:
    """Say what is wrong with the configuration; the exit to raise (code 2)."""
    for line in exc.problems:
        err.print(f"[red]Configuration invalide[/red] — {escape(line)}")
    return typer.Exit(2)


def load(config: Path | None) -> Settings:
    """The settings of `config` (or CRISIS_CONFIG) and the environment, or exit 2 saying why;
    the files and folders they name are checked before any command writes anything."""
    try:
        settings = load_settings(config, os.environ)
    except SettingsError as exc:
        raise settings_failed(exc) from None
    problems = config_problems(settings)
    if problems:
        name = str(config) if config else "(configuration par défaut)"
        raise settings_failed(SettingsError([f"{name}, {p}" for p in problems]))
    return settings


def open_app(config: Path | None, *, send: bool = False) -> App:
    """The orchestrator; with `send`, its channels too (credentials from the environment)."""
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


class CommandGroup(TyperGroup):
    """The `crisis` command: the errors any command may meet in its configuration, its files
    or its database become one French message and exit code 2, never a traceback."""

    def invoke(self, ctx: Any) -> Any:  # typer's own (vendored) click.Context
        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            raise settings_failed(exc) from None
        except (StoreUnavailable, StoreRefused, PlaybookError, PlaybookErrors, CogError) as exc:
            raise fail(str(exc), code=2) from None
        except UnicodeDecodeError as exc:
            raise fail(f"fichier non encodé en UTF-8 (octet n° {exc.start + 1})", code=2) from None
        except OSError as exc:
            where = f"« {exc.filename} » : " if exc.filename else ""
            raise fail(f"{where}{_os_reason(exc)}", code=2) from None


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "fichier ou dossier introuvable"
    if isinstance(exc, IsADirectoryError):
        return "c'est un dossier, un fichier est attendu"
    if isinstance(exc, NotADirectoryError):
        return "un élément du chemin n'est pas un dossier"
    if isinstance(exc, PermissionError):
        return "accès refusé (droits du fichier)"
    return f"erreur du système ({exc.strerror or type(exc).__name__})"


def fail(message: str, code: int = 1) -> typer.Exit:
    """Say a French error; the exit to raise."""
    err.print(f"[red]Erreur :[/red] {escape(message)}")
    return typer.Exit(code)


def cli_actor(name: str) -> Actor:
    """Someone acting from the command line."""
    return Actor(name=name, interface=Interface.CLI)
