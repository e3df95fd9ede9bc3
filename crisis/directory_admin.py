"""Directory administration shared by the CLI and the dashboard: what a file to import holds,
the import itself, the training status table and the masked e-mail shown to people."""

from __future__ import annotations

from datetime import date, tzinfo
from enum import StrEnum

from contacts.importer import ImportResult, import_contacts, import_rne_mayors
from contacts.importer_rosters import import_rosters, import_training
from contacts.model import CELL_ROLES, Directory, Role
from contacts.training import cip_flags, is_trained, last_training, records_of, refresher_expires
from crisis.reports.figures import TrainingRow

STATUS_LABELS = {
    "imported": "importé",
    "updated": "mis à jour",
    "unchanged": "inchangé",
    "rejected": "rejeté",
}


class ImportKind(StrEnum):
    """What a file to import holds."""

    CONTACTS = "contacts"
    MAIRES_RNE = "maires-rne"
    FORMATIONS = "formations"
    ASTREINTES = "astreintes"


def mask_email(email: str) -> str:
    """The address as shown on screen: first letter and domain only."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


def run_import(
    kind: ImportKind, data: bytes, directory: Directory, *, source: str, keep: bool, tz: tzinfo
) -> ImportResult:
    """Read one file of `kind` against `directory` (nothing is written here)."""
    if kind == ImportKind.CONTACTS:
        return import_contacts(data, directory, source=source, keep_valid=keep)
    if kind == ImportKind.MAIRES_RNE:
        return import_rne_mayors(data, directory, source=source, keep_valid=keep)
    if kind == ImportKind.FORMATIONS:
        return import_training(data, directory, source=source, keep_valid=keep)
    return import_rosters(data, directory, source=source, keep_valid=keep, tz=tz)


def training_rows(directory: Directory, on: date) -> list[TrainingRow]:
    """Training status of the cell and the CIP agents as of `on` (47.2, 50.2), in French."""
    rows = []
    for contact in directory.contacts:
        if contact.role not in CELL_ROLES and contact.role != Role.AGENT_CIP:
            continue
        mine = records_of(contact.id, directory.training, on)
        last = last_training(mine)
        if contact.role == Role.AGENT_CIP:
            flags = cip_flags(contact, directory.training, on)
            status = "à jour" if not flags else "; ".join(flags)
        else:
            status = "formé" if is_trained(contact, directory.training, on) else "non formé"
        rows.append(
            TrainingRow(
                contact_id=contact.id,
                role_label=contact.role.label,
                status=status,
                next_due=refresher_expires(last) if last else None,
            )
        )
    return rows
