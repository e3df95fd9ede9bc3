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
from crisis.bootstrap import App
from crisis.directory_admin import training_rows
from crisis.model import JournalEntry, Mode
from crisis.reports import ReportError, write_annual, write_compliance, write_rex
from crisis.store.repository import CrisisNotFound
from crisis.web.access import REPORT_CSP, SECURITY_HEADERS, PageAccess, Visitor, guarded
from crisis.web.session import SessionCodec

__all__ = ["MEDIA_TYPES", "reports_router"]

MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "md": "text/markdown; charset=utf-8",
}
KINDS = {"rex": "Retour d'expérience (REX)", "conformite": "Rapport de conformité"}
_DOCUMENT = re.compile(r"(?P<kind>rex|conformite)\.(?P<fmt>html|pdf|md)")
_ANNUAL = re.compile(r"bilan-(?P<year>\d{4})\.(?P<fmt>html|pdf|md)")
Writer = Callable[..., list[Path]]


def reports_router(app: App, codec: SessionCodec) -> APIRouter:  # noqa: PLR0915 (closures)
    """`/rapports`: the list, and each document generated on request."""
    router = APIRouter(include_in_schema=False)
    access = PageAccess(app, codec)
    store, clock = app.store, app.clock
    prefecture = app.settings.prefecture.name
    timezone = app.settings.prefecture.timezone
    tz = ZoneInfo(timezone)

    def listing(who: Visitor, only: str | None = None) -> Response:
        with store.transaction() as tx:
            crises = [tx.crisis(i) for i in tx.crisis_ids(open_only=False)]
        if only is not None:
            crises = [c for c in crises if c.id == only]
            if not crises:
                return unknown(who, f"aucun événement « {only} »")
        now = clock.now()
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

    def unknown(who: Visitor, message: str) -> Response:
        return access.error(who, "Rapport introuvable", message, 404)

    async def document(who: Visitor, fmt: str, build: Callable[[Path], list[Path]]) -> Response:
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

    @router.get("/rapports")
    @guarded
    async def reports(request: Request) -> Response:
        who, _user = access.reader(request)
        return listing(who)

    @router.get("/rapports/{name}")
    @guarded
    async def annual_or_crisis(request: Request, name: str) -> Response:
        who, _user = access.reader(request)
        match = _ANNUAL.fullmatch(name)
        if match is None:
            if name.startswith("bilan-"):
                return unknown(
                    who, f"rapport inconnu « {name} » (bilan-AAAA.html, .pdf ou .md attendu)"
                )
            return listing(who, only=name)
        year, fmt = int(match["year"]), match["fmt"]
        with store.transaction() as tx:
            journals: Sequence[list[JournalEntry]] = [
                tx.journal(c) for c in tx.crisis_ids(open_only=False)
            ]
        now = clock.now()
        rows = training_rows(app.directory(), now.astimezone(tz).date())
        return await document(
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
        who, _user = access.reader(request)
        match = _DOCUMENT.fullmatch(name)
        if match is None:
            return unknown(
                who,
                f"rapport inconnu « {name} » : rex ou conformite, au format html, pdf ou md",
            )
        try:
            with store.transaction() as tx:
                tx.crisis(crisis_id)
                entries = tx.journal(crisis_id)
        except CrisisNotFound:
            return unknown(who, f"aucun événement « {crisis_id} »")
        writer: Writer = write_rex if match["kind"] == "rex" else write_compliance
        fmt = match["fmt"]
        now: datetime = clock.now()
        return await document(
            who,
            fmt,
            lambda folder: writer(
                entries, now, folder, prefecture=prefecture, timezone=timezone, formats=(fmt,)
            ),
        )

    return router
