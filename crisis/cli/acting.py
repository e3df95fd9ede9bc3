"""`crisis approve`, `draft`, `ack`, `note`, `ciav`, `publie`, `close`: the agent's acts,
through the service."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crisis.cli.common import ByOption, ConfigOption, console, fail, open_app, open_app_sending
from crisis.engine import Refused
from crisis.model import Actor, DraftTexts, Interface
from crisis.store.repository import CrisisNotFound
from playbooks.loader import PlaybookError, load_template


def _act(config: Path | None, action: str, crisis_id: str, *args: object) -> None:
    application = open_app(config)
    try:
        getattr(application.orchestrator, action)(crisis_id, *args)
    except (Refused, CrisisNotFound) as exc:
        raise fail(str(exc)) from None


def approve(crisis_id: str, step: str, by: ByOption, config: ConfigOption = None) -> None:
    """Valider le message d'une étape (double regard : pas par son rédacteur)."""
    _act(config, "approve", crisis_id, step, Actor(name=by, interface=Interface.CLI))
    console.print(f"Message de l'étape {step} validé.")


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


def ack(crisis_id: str, contact: str, by: ByOption, config: ConfigOption = None) -> None:
    """Enregistrer une confirmation de réception reçue autrement (appel au standard...)."""
    _act(config, "acknowledge", crisis_id, contact, Actor(name=by, interface=Interface.CLI))
    console.print(f"Réception confirmée pour {contact}.")


def note(crisis_id: str, text: str, by: ByOption, config: ConfigOption = None) -> None:
    """Ajouter une note à la main courante."""
    _act(config, "note", crisis_id, text, Actor(name=by, interface=Interface.CLI))
    console.print("Note ajoutée à la main courante.")


def ciav(crisis_id: str, number: str, by: ByOption, config: ConfigOption = None) -> None:
    """Enregistrer le numéro de la CIAV (attentat) pour qu'il soit relayé."""
    _act(config, "set_ciav_number", crisis_id, number, Actor(name=by, interface=Interface.CLI))
    console.print("Numéro CIAV enregistré.")


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
