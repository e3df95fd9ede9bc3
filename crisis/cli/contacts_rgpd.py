"""`crisis contacts export` and `crisis contacts erase`: the rights of access and erasure
(RGPD, articles 15 and 17)."""

from __future__ import annotations

import json
import sys
from datetime import tzinfo
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

import crisis.operations.directory as directory_ops
from contacts.model import Contact, Directory
from crisis.cli.common import ConfigOption, console, fail, load
from crisis.cli.directory_source import (
    SLOT,
    SLOTS,
    configured_directory,
    database_store,
    plural,
    wall_now,
    zone,
)


def _person(directory: Directory, contact: Contact, tz: tzinfo) -> dict[str, Any]:
    training = [
        r.model_dump(mode="json", exclude={"contact_id"})
        for r in directory.training
        if r.contact_id == contact.id
    ]
    rosters = [
        {
            "role": s.role.value,
            "qualite": "titulaire" if s.contact_id == contact.id else "suppléant",
            "debut": s.starts.astimezone(tz).isoformat(),
            "fin": s.ends.astimezone(tz).isoformat(),
            "titulaire": s.contact_id,
            "suppleant": s.deputy_id,
        }
        for s in directory.rosters
        if contact.id in {s.contact_id, s.deputy_id}
    ]
    return {
        "contact": contact.model_dump(mode="json"),
        "formations": training,
        "astreintes": rosters,
    }


def export(
    contact_id: Annotated[
        str | None, typer.Argument(help="Identifiant du contact (tout l'annuaire sinon).")
    ] = None,
    *,
    output: Annotated[Path, typer.Option("--output", "-o", help="Fichier JSON à écrire.")],
    config: ConfigOption = None,
) -> None:
    """Exporter en JSON un contact (droit d'accès, RGPD art. 15) ou tout l'annuaire."""
    settings = load(config)
    tz = zone(settings)
    directory = configured_directory(settings)
    if contact_id is not None:
        contact = directory.contact(contact_id)
        if contact is None:
            raise fail(f"aucun contact « {contact_id} » dans l'annuaire")
        people = [contact]
    else:
        people = list(directory.contacts)
    document: dict[str, Any] = {
        "objet": "Droit d'accès (RGPD, article 15) : données de l'annuaire de crise"
        if contact_id
        else "Export de l'annuaire de crise",
        "responsable": settings.prefecture.name,
        "exporte_le": wall_now().astimezone(tz).isoformat(timespec="seconds"),
        "contacts": [_person(directory, c, tz) for c in people],
    }
    if contact_id is None:
        document["communes"] = [c.model_dump(mode="json") for c in directory.communes]
    try:
        output.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    except OSError:
        raise fail(f"impossible d'écrire {output}") from None
    trainings = sum(len(p["formations"]) for p in document["contacts"])
    slots = sum(len(p["astreintes"]) for p in document["contacts"])
    console.print(
        f"Export écrit dans {escape(str(output))} : {plural(len(people), 'contact')}, "
        f"{plural(trainings, 'formation')}, "
        f"{plural(slots, SLOT, SLOTS)}."
    )
    console.print(
        "Ce fichier contient des données personnelles : transmettez-le par un canal sûr, "
        "puis supprimez-le."
    )


def erase(
    contact_id: Annotated[str, typer.Argument(help="Identifiant du contact à effacer.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Ne pas demander confirmation.")] = (
        False
    ),
    config: ConfigOption = None,
) -> None:
    """Effacer un contact (droit à l'effacement, RGPD art. 17), ses formations et astreintes."""
    settings = load(config)
    store = database_store(settings, "effacement impossible")
    try:
        if not yes:
            if not sys.stdin.isatty():
                raise fail("confirmez l'effacement en relançant avec --yes", code=2)
            if not typer.confirm(f"Effacer définitivement le contact « {contact_id} » ?"):
                raise fail("rien n'a été effacé")
        erased = directory_ops.erase_contact(store, contact_id)
    except directory_ops.ContactInUse as exc:
        raise fail(
            f"« {contact_id} » est destinataire de l'événement en cours "
            f"{', '.join(exc.open_crises)} : ses coordonnées peuvent encore servir. "
            "Rien n'a été effacé ; relancez l'effacement après la clôture."
        ) from None
    except directory_ops.UnknownContact:
        raise fail(f"aucun contact « {contact_id} » dans l'annuaire ni dans un événement") from None
    finally:
        store.close()
    found, scrubbed = erased.found, erased.scrubbed
    if found:
        console.print(
            f"[green]Contact « {escape(contact_id)} » effacé[/green] de l'annuaire, avec ses "
            "formations et ses créneaux d'astreinte (s'il était suppléant, le créneau reste "
            "sans suppléant)."
        )
    if scrubbed.closed_crises:
        console.print(
            f"Événements clos {', '.join(scrubbed.closed_crises)} : nom, numéros et adresse "
            f"effacés de la liste des destinataires figée au temps 0 et de "
            f"{scrubbed.outbox_rows} message(s) de la file d'envoi."
        )
    console.print(
        f"La main courante ne désigne ce contact que par son identifiant "
        f"« {escape(contact_id)} » (ni nom, ni numéro, ni adresse) : elle est conservée telle "
        "quelle, comme preuve."
    )
