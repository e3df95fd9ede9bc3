"""The dashboard's reports page: REX, compliance report and annual review on request (French).

`GET /rapports` lists every crisis (open and closed) with links to its REX and compliance
report, and the annual reviews; `GET /rapports/{crisis_id}/{rex|conformite}.{html|pdf|md}` and
`GET /rapports/bilan-{year}.{html|pdf|md}` write the document with the crisis.reports writers
into a temporary directory and return it (HTML inline, PDF and Markdown as attachments).
`GET /rapports/{crisis_id}` shows the page for that crisis alone (the board links to it).

The session, CSRF and role checks are `crisis.web.access.PageAccess`, shared by every router.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from crisis import timefmt
from crisis.directory_admin import training_rows
from crisis.model import JournalEntry, Mode
from crisis.queries import events
from crisis.reports import ReportError, write_annual, write_compliance, write_rex
from crisis.store.repository import CrisisNotFound
from crisis.web.access import REPORT_CSP, SECURITY_HEADERS, PageAccess, Visitor, guarded
from crisis.web.pages.common import page_family, reading

__all__ = [
    "MEDIA_TYPES",
    "annual_or_crisis",
    "crisis_report",
    "reports",
    "reports_router",
    "router",
]

MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "md": "text/markdown; charset=utf-8",
}
KINDS = {"rex": "Retour d'expérience (REX)", "conformite": "Rapport de conformité"}
_DOCUMENT = re.compile(r"(?P<kind>rex|conformite)\.(?P<fmt>html|pdf|md)")
_ANNUAL = re.compile(r"bilan-(?P<year>\d{4})\.(?P<fmt>html|pdf|md)")
Writer = Callable[..., list[Path]]


router = APIRouter(include_in_schema=False)


reports_router = page_family(
    router
)  # `/rapports`: the list, and each document generated on request, bound to one application


@router.get("/rapports")
@guarded
async def reports(request: Request) -> Response:
    access, who = reading(request)
    return _listing(access, who)


@router.get("/rapports/{name}")
@guarded
async def annual_or_crisis(request: Request, name: str) -> Response:
    access, who = reading(request)
    match = _ANNUAL.fullmatch(name)
    if match is None:
        if name.startswith("bilan-"):
            return _unknown(
                access, who, f"rapport inconnu « {name} » (bilan-AAAA.html, .pdf ou .md attendu)"
            )
        return _listing(access, who, only=name)
    app = access.app
    year, fmt = int(match["year"]), match["fmt"]
    prefecture, timezone = app.settings.prefecture.name, app.settings.prefecture.timezone
    journals: Sequence[list[JournalEntry]] = events.journals(app.store)
    now = app.clock.now()
    rows = training_rows(app.directory(), now.astimezone(ZoneInfo(timezone)).date())
    return await _document(
        access,
        who,
        fmt,
        lambda folder: write_annual(
            year,
            journals,
            rows,
            now,
            folder,
            prefecture=prefecture,
            timezone=timezone,
            formats=(fmt,),
        ),
    )


@router.get("/rapports/{crisis_id}/{name}")
@guarded
async def crisis_report(request: Request, crisis_id: str, name: str) -> Response:
    access, who = reading(request)
    match = _DOCUMENT.fullmatch(name)
    if match is None:
        return _unknown(
            access,
            who,
            f"rapport inconnu « {name} » : rex ou conformite, au format html, pdf ou md",
        )
    app = access.app
    try:
        entries = events.journal(app.store, crisis_id)
    except CrisisNotFound:
        return _unknown(access, who, f"aucun événement « {crisis_id} »")
    writer: Writer = write_rex if match["kind"] == "rex" else write_compliance
    fmt = match["fmt"]
    prefecture, timezone = app.settings.prefecture.name, app.settings.prefecture.timezone
    now: datetime = app.clock.now()
    return await _document(
        access,
        who,
        fmt,
        lambda folder: writer(
            entries, now, folder, prefecture=prefecture, timezone=timezone, formats=(fmt,)
        ),
    )


def _listing(access: PageAccess, who: Visitor, only: str | None = None) -> Response:
    """The reports page: every event (or `only` that one), and the annual reviews."""
    app = access.app
    tz = ZoneInfo(app.settings.prefecture.timezone)
    crises = events.crises(app.store)
    if only is not None:
        crises = [c for c in crises if c.id == only]
        if not crises:
            return _unknown(access, who, f"aucun événement « {only} »")
    now = app.clock.now()
    rows = [
        {
            "id": c.id,
            "kind": c.kind.label,
            "exercise": c.mode == Mode.EXERCICE,
            "t0": timefmt.local(c.t0, tz),
            "closed": f"{c.closed_at.astimezone(tz):%d/%m/%Y %H:%M}" if c.closed_at else "",
        }
        for c in reversed(crises)
    ]
    years = sorted({now.astimezone(tz).year} | {c.t0.astimezone(tz).year for c in crises})
    context = {
        "title": "Rapports" if only is None else f"Rapports — {only}",
        "only": only or "",
        "open": [r for r in rows if not r["closed"]],
        "closed": [r for r in rows if r["closed"]],
        "years": list(reversed(years)),
        "kinds": list(KINDS.items()),
        "formats": [("html", "HTML"), ("pdf", "PDF"), ("md", "Markdown")],
    }
    return access.page(who, "rapports.html", context)


def _unknown(access: PageAccess, who: Visitor, message: str) -> Response:
    return access.error(who, "Rapport introuvable", message, 404)


async def _document(
    access: PageAccess, who: Visitor, fmt: str, build: Callable[[Path], list[Path]]
) -> Response:
    """The document `build` writes (in a temporary folder), inline for HTML, else attached."""

    def generate() -> tuple[str, bytes]:
        with tempfile.TemporaryDirectory(prefix="rapport-") as folder:
            [path] = build(Path(folder))
            return path.name, path.read_bytes()

    try:
        name, content = await asyncio.to_thread(generate)
    except ReportError as exc:
        return access.error(who, "Rapport impossible", str(exc), 422)
    disposition = "inline" if fmt == "html" else "attachment"
    headers = {
        **SECURITY_HEADERS,
        "Content-Disposition": f'{disposition}; filename="{name}"',
    }
    if fmt == "html":
        headers["Content-Security-Policy"] = REPORT_CSP
    return access.respond(who, Response(content, media_type=MEDIA_TYPES[fmt], headers=headers))
