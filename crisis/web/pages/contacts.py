"""The dashboard's directory page: contacts, on-call rosters, training, CSV import (French).

`GET /annuaire` (role read): the communes, the contacts with masked numbers (filter by commune
and role), the rosters of the next 7 days with their gaps, the training status of the cell and
the CIP agents with the 50.2 warnings. `POST /annuaire/import` (directeur de cabinet or préfet,
multipart, CSRF): one CSV of one kind, exactly as `crisis contacts import` does it (the same
functions): all or nothing unless « garder les lignes valides », a dry run on request, the
line-by-line report shown; only when the directory's source is the database.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

import crisis.operations.directory as directory_operations
import crisis.queries.directory as directory_queries
from contacts.geography import load_communes
from contacts.importer import ImportResult, UnreadableFile
from contacts.model import Contact, Directory, Role
from contacts.phone import mask
from contacts.roster import ROSTER_TITLES, gaps, has_roster, slots_between
from contacts.training import expiry_warnings
from crisis.accounts import WebUser, authority_of
from crisis.bootstrap import App
from crisis.directory_admin import STATUS_LABELS, ImportKind, mask_email, run_import, training_rows
from crisis.model import Authority
from crisis.store.directory import DirectoryIntegrityError
from crisis.web.access import PageAccess, Visitor, guarded
from crisis.web.binding import page_access
from crisis.web.pages.common import page_family, reading

__all__ = [
    "CONTACTS_SHOWN",
    "MAX_UPLOAD_BYTES",
    "can_import",
    "contacts_router",
    "directory_page",
    "import_csv",
    "router",
]

log = logging.getLogger(__name__)

CONTACTS_SHOWN = 200  # rows of the contacts table; the filters narrow it down
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
ROSTER_DAYS = 7
WEEKDAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
KIND_LABELS = {
    ImportKind.CONTACTS: "contacts (fichier de la préfecture)",
    ImportKind.MAIRES_RNE: "maires (Répertoire national des élus)",
    ImportKind.FORMATIONS: "formations et exercices",
    ImportKind.ASTREINTES: "tableaux d'astreinte",
}


def can_import(user: WebUser | None) -> bool:
    """Imports need the directeur de cabinet's authority (or the préfet's)."""
    return user is not None and authority_of(user.role).rank >= Authority.DIRECTEUR_CABINET.rank


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count <= 1 else plural}"


router = APIRouter(include_in_schema=False)


contacts_router = page_family(router)  # `/annuaire` and its import form, bound to one application


@router.get("/annuaire")
@guarded
async def directory_page(request: Request) -> Response:
    access, who = reading(request)
    query = request.query_params
    return _overview(access, who, query.get("commune", ""), query.get("role", ""))


@router.post("/annuaire/import")
@guarded
async def import_csv(request: Request) -> Response:
    access = page_access(request)
    app = access.app
    who, user, form = await access.poster(
        request, can_import, "importer dans l'annuaire (directeur de cabinet ou préfet)"
    )
    keep = form.get("keep_valid") == "1"
    dry_run = form.get("dry_run") == "1"
    raw_kind = form.get("kind")
    outcome: dict[str, Any] = {"kind": raw_kind, "keep": keep, "dry_run": dry_run, "report": None}

    def answer(message: str, status: int, *, ok: bool = False) -> Response:
        outcome.update(message=message, ok=ok)
        return _overview(access, who, "", "", outcome=outcome, status=status)

    upload = await _upload(app, raw_kind, form.get("file"))
    if isinstance(upload, _Refusal):
        return answer(upload.message, upload.status)
    kind, data, source = upload
    tz = ZoneInfo(app.settings.prefecture.timezone)
    try:
        result, message, status, ok = await asyncio.to_thread(
            _import, app, kind, data, source, keep, dry_run, tz
        )
    except UnreadableFile as exc:
        return answer(str(exc), 422)
    except DirectoryIntegrityError as exc:
        return answer(str(exc), 409)
    if ok and not dry_run and result is not None:
        counts = result.report.counts
        log.info(
            "annuaire importé depuis le tableau de bord par %s : %s, %s",
            user.login,
            kind.value,
            counts,
        )
    if result is not None:
        outcome["report"] = _report(result)
    return answer(message, status, ok=ok)


@dataclass(frozen=True)
class _Refusal:
    """An import refused before reading the file's rows: the French reason, the status."""

    message: str
    status: int


async def _upload(
    app: App, raw_kind: object, upload: object
) -> tuple[ImportKind, bytes, str] | _Refusal:
    """The import's kind, the file's bytes and its name, or why the import is refused."""
    source = app.settings.directory.source
    if source != "database":
        return _Refusal(
            "import impossible : l'annuaire configuré n'est pas celui de la base de données "
            f"(source actuelle : « {source} »). Indiquez "
            '[directory] source = "database" dans le fichier de configuration.',
            409,
        )
    try:
        kind = ImportKind(raw_kind if isinstance(raw_kind, str) else "")
    except ValueError:
        return _Refusal(
            "type de fichier inconnu : contacts, maires-rne, formations, astreintes", 422
        )
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _Refusal("choisissez le fichier CSV à importer", 422)
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return _Refusal(f"fichier trop volumineux (plus de {MAX_UPLOAD_BYTES // 1024**2} Mo)", 413)
    return kind, data, upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:120]


def _report(result: ImportResult) -> dict[str, Any]:
    """The line-by-line report of an import, and its French summary."""
    counts = result.report.counts
    return {
        "source": result.report.source,
        "lines": [
            {
                "line": line.line,
                "status": line.status,
                "label": STATUS_LABELS[line.status],
                "contact": line.contact_id or "",
                "reason": line.reason,
            }
            for line in result.report.lines
        ],
        "summary": (
            f"{_plural(counts['imported'], 'importé', 'importés')}, "
            f"{counts['updated']} mis à jour, "
            f"{_plural(counts['unchanged'], 'inchangé', 'inchangés')}, "
            f"{_plural(counts['rejected'], 'rejeté', 'rejetés')}."
        ),
    }


def _overview(
    access: PageAccess,
    who: Visitor,
    commune: str,
    role: str,
    *,
    outcome: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    """The directory page, filtered by commune and role, with an import's outcome if any."""
    app = access.app
    settings = app.settings
    tz = ZoneInfo(settings.prefecture.timezone)
    directory = app.directory()
    now = app.clock.now()
    today = now.astimezone(tz).date()
    wanted_role = role if role in {r.value for r in Role} else ""
    chosen = _chosen(directory, commune, wanted_role)
    context = {
        "title": "Annuaire",
        "communes_count": len(directory.communes),
        "contacts_count": len(directory.contacts),
        "source": settings.directory.source,
        "database": settings.directory.source == "database",
        "filter": {"commune": commune[:80], "role": wanted_role},
        "roles": [(r.value, r.label) for r in Role],
        "contacts": _contact_rows(directory, chosen[:CONTACTS_SHOWN]),
        "matching": len(chosen),
        "shown": CONTACTS_SHOWN,
        "rosters": _rosters(directory, now, tz),
        "training": _training(directory, today),
        "expiring": [w.message for w in expiry_warnings(directory, today)],
        "import_allowed": can_import(who.user),
        "kinds": [(k.value, label) for k, label in KIND_LABELS.items()],
        "outcome": outcome,
    }
    return access.page(who, "annuaire.html", context, status)


def _chosen(directory: Directory, commune: str, wanted_role: str) -> list[Contact]:
    """The contacts of the role (any when empty) in the commune (its code or part of its name)."""
    names = {c.code_insee: c.nom for c in directory.communes}
    needle = commune.strip().lower()
    return [
        c
        for c in directory.contacts
        if (not wanted_role or c.role == wanted_role)
        and (
            not needle
            or (c.commune or "") == needle
            or needle in names.get(c.commune or "", "").lower()
        )
    ]


def _contact_rows(directory: Directory, contacts: list[Contact]) -> list[dict[str, str]]:
    """The contacts table's rows, numbers and addresses masked."""
    names = {c.code_insee: c.nom for c in directory.communes}
    return [
        {
            "id": c.id,
            "name": c.name,
            "role": c.role.label,
            "commune": f"{names.get(c.commune, c.commune)} ({c.commune})" if c.commune else "",
            "mobile": mask(c.mobile) if c.mobile else "",
            "landline": mask(c.landline) if c.landline else "",
            "email": mask_email(c.email) if c.email else "",
        }
        for c in contacts
    ]


def _training(directory: Directory, today: date) -> list[dict[str, Any]]:
    """The training status of the cell and of the CIP agents."""
    return [
        {
            "id": r.contact_id,
            "role": r.role_label,
            "status": r.status,
            "ok": r.status in {"formé", "à jour"},
            "next_due": f"{r.next_due:%d/%m/%Y}" if r.next_due else "",
        }
        for r in training_rows(directory, today)
    ]


def _import(
    app: App,
    kind: ImportKind,
    data: bytes,
    source: str,
    keep: bool,
    dry_run: bool,
    tz: tzinfo,
) -> tuple[ImportResult | None, str, int, bool]:
    """`crisis contacts import`, step by step: (result, French outcome, status, stored-or-fine).

    Raises UnreadableFile and DirectoryIntegrityError like the CLI's functions do.
    """
    stored = directory_queries.stored_directory(app.store)
    current = stored.directory
    base = current
    if not current.communes:
        base = current.model_copy(
            update={"communes": load_communes(app.settings.directory.communes_file)}
        )
    result = run_import(kind, data, base, source=source, keep=keep, tz=tz)
    rejected = result.report.counts["rejected"]
    if rejected and not keep:
        return (
            result,
            f"Rien n'a été enregistré : "
            f"{_plural(rejected, 'ligne rejetée', 'lignes rejetées')}. Corrigez le fichier, ou "
            "cochez « garder les lignes valides » pour n'enregistrer que les lignes valides.",
            422,
            False,
        )
    if dry_run:
        return result, "Essai à blanc : rien n'a été enregistré.", 200, True
    if result.directory is base:
        return result, "Aucun changement : l'annuaire est déjà à jour.", 200, True
    try:  # the write lock only for the replacement; a change since the read: the report is stale
        directory_operations.replace_if_unchanged(app.store, result.directory, stored.revision)
    except directory_operations.DirectoryChanged:
        return (
            result,
            "L'annuaire a été modifié pendant l'import (autre import ou effacement) : "
            "rien n'a été enregistré, recommencez.",
            409,
            False,
        )
    message = "Annuaire enregistré dans la base."
    if rejected:
        ignored = _plural(rejected, "ligne rejetée ignorée", "lignes rejetées ignorées")
        message += f" {ignored} (lignes valides gardées)."
    return result, message, 200, True


def _rosters(directory: Directory, now: datetime, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Each roster over the next 7 days: its slots, and its gaps flagged."""
    end = now + timedelta(days=ROSTER_DAYS)
    names = {c.id: c.name for c in directory.contacts}

    def local(at: datetime) -> str:
        here = at.astimezone(tz)
        return f"{WEEKDAYS[here.weekday()]} {here:%d/%m %H:%M}"

    def person(contact_id: str | None) -> str:
        if contact_id is None:
            return ""
        name = names.get(contact_id)
        return f"{name} ({contact_id})" if name else f"{contact_id} (inconnu de l'annuaire)"

    rosters = []
    for role, title in ROSTER_TITLES.items():
        present = has_roster(directory, role)
        rosters.append(
            {
                "role": role.value,
                "title": title[:1].upper() + title[1:],
                "present": present,
                "slots": [
                    {
                        "starts": local(s.starts),
                        "ends": local(s.ends),
                        "holder": person(s.contact_id),
                        "deputy": person(s.deputy_id),
                    }
                    for s in slots_between(directory, role, now, end)
                ],
                "gaps": [f"du {local(a)} au {local(b)}" for a, b in gaps(directory, role, now, end)]
                if present
                else [],
            }
        )
    return rosters
