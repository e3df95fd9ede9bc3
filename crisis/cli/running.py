"""`crisis run` / `serve` (the service), `check-config` and `demo`."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from channels.sms_text import describe_segments, sms_advice
from crisis.bootstrap import engine_config, provider_problems, wall_clock
from crisis.cli.common import ConfigOption, console, err, fail, load, open_app, settings_failed
from crisis.cli.demo import run_demo
from crisis.engine import sms_texts, template_problems
from crisis.exercise.presets import DEMO_SEED
from crisis.owned_dir import FolderRefused
from crisis.runtime import ServiceRefused, claim, serve
from crisis.settings import SettingsError
from crisis.store.database import unreachable
from playbooks.loader import (
    check_library,
    default_library_dir,
    default_templates_dir,
    load_library,
)


def run(config: ConfigOption = None) -> None:
    """Faire tourner l'orchestrateur (minuteries, envois, serveur web) jusqu'à Ctrl-C."""
    application = open_app(config, send=True)
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


def serve_command(config: ConfigOption = None) -> None:
    """Comme « crisis run » : le service, avec le tableau de bord et l'API quand l'adresse
    publique (section « web », public_base_url) et CRISIS_WEB_SECRET sont configurées."""
    run(config)


def check_config(config: ConfigOption = None) -> None:
    """Vérifier la configuration, les playbooks et les modèles sans rien envoyer."""
    settings = load(config)
    now = wall_clock().now()
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


def demo_command(
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
