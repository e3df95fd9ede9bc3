"""The list of events and the COD's activation form: T0, type, SYNERGI reference, zone; a
confirmation page names the communes before anything is recorded, and asks the reason when
the activation looks like another event or its T0 is old."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from contacts.area import AreaError, AreaSpec, ResolvedArea, parse_area, resolve_area
from contacts.cog import CogError, load_extract
from crisis import timefmt
from crisis.accounts import Action, WebUser, actor_of, authority_of
from crisis.activation import (
    CONFIRMING_AUTHORITY,
    ActivationConflict,
    ActivationError,
    Confirmation,
    T0TooOld,
)
from crisis.bootstrap import App
from crisis.exercise.control import list_runs
from crisis.model import Interface, Mode
from crisis.queries import events
from crisis.service import ActivationRequest
from crisis.timefmt import elapsed_label, local_label
from crisis.web.access import WALL, PageAccess, Visitor, guarded, page_response
from crisis.web.pages.common import acting, local_t0, reading, timezone
from crisis.web.views.crises import crises_view
from playbooks.model import EventKind

__all__ = ["crises", "crises_context", "declare", "router"]

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Declared:
    """What the activation form says, once read: the event's type, T0 and zone."""

    kind: EventKind
    t0: datetime
    spec: AreaSpec
    area: ResolvedArea


def crises_context(access: PageAccess, who: Visitor) -> dict[str, Any]:
    """The crises page's template context."""
    app = access.app
    crises_ = events.crises(app.store)
    runs = list_runs(app.settings.data_dir / "exercices", WALL.now())
    view = crises_view(crises_, runs, app.clock.now(), timezone(app), secrets.token_urlsafe(16))
    return {**access.common(who), **view}


def given_fields(form: dict[str, str]) -> dict[str, Any]:
    """The activation form's fields as typed, shown again when something is refused."""
    return {
        "kind": form.get("kind", ""),
        "t0_date": form.get("t0_date", ""),
        "t0_time": form.get("t0_time", ""),
        "synergi": form.get("synergi", "").strip(),
        "zone": form.get("zone", "").strip(),
        "exercise": form.get("exercise") == "1",
        "key": form.get("key", "")[:100] or secrets.token_urlsafe(16),
    }


def read_declaration(given: dict[str, Any], app: App) -> Declared:
    """The form's type, T0 and zone (ValueError with the French reason)."""
    try:
        kind = EventKind(given["kind"])
    except ValueError:
        raise ValueError("type d'événement inconnu") from None
    t0 = local_t0(str(given["t0_date"]), str(given["t0_time"]), timezone(app))
    if not given["synergi"]:
        raise ValueError("la référence SYNERGI est obligatoire")
    try:
        spec = parse_area(str(given["zone"]))
        area = resolve_area(spec, load_extract(app.settings.directory.communes_file))
    except (AreaError, CogError) as exc:
        raise ValueError(str(exc)) from None
    return Declared(kind, t0, spec, area)


def confirmation_context(
    context: dict[str, Any], declared: Declared, user: WebUser, app: App
) -> dict[str, Any]:
    """The confirmation page: the communes the zone resolves to, the T0 and its age."""
    tz = timezone(app)
    t0, area = declared.t0, declared.area
    return {
        **context,
        "title": "Confirmer l'activation",
        "t0_label": f"{local_label(t0, tz)} ({timefmt.zone_of(t0, tz)})",
        "t0_elapsed": elapsed_label(app.clock.now() - t0),
        "kind_label": declared.kind.label,
        "communes": [(c, area.names.get(c, c)) for c in area.codes],
        "sources": list(area.by_source.items()),
        "may_confirm": authority_of(user.role).rank >= CONFIRMING_AUTHORITY.rank,
        "needs": "",
        "existing": "",
    }


def activation_request(
    given: dict[str, Any], declared: Declared, user: WebUser
) -> ActivationRequest:
    """The activation to record, with the confirmation asked for when it looked doubtful."""
    confirmation = (
        Confirmation(
            authority=authority_of(user.role),
            reason=str(given["reason"]),
            other_event=bool(given["other_event"]),
            old_t0=bool(given["old_t0"]),
        )
        if given["other_event"] or given["old_t0"]
        else None
    )
    return ActivationRequest(
        kind=declared.kind,
        t0=declared.t0,
        synergi_ref=str(given["synergi"]),
        communes=declared.area.codes,
        area=declared.spec.as_text(),
        recorded_by=actor_of(user, Interface.WEB),
        mode=Mode.EXERCICE if given["exercise"] else Mode.REEL,
        idempotency_key=f"web-{given['key']}",
        confirmation=confirmation,
    )


@router.get("/crises")
@guarded
async def crises(request: Request) -> Response:
    access, who = reading(request)
    return access.respond(who, page_response("crises.html", crises_context(access, who)))


@router.post("/crises/activation")
@guarded
async def declare(request: Request) -> Response:
    access, who, user, form = await acting(request, Action.DECLARE_T0)
    context = crises_context(access, who)
    given = given_fields(form)
    context["form"] = given
    try:
        declared = read_declaration(given, access.app)
    except ValueError as exc:
        context["error"] = str(exc)
        return access.respond(who, page_response("crises.html", context, 422))
    given["other_event"] = form.get("other_event") == "1"
    given["old_t0"] = form.get("old_t0") == "1"
    given["reason"] = form.get("reason", "").strip()
    confirm = confirmation_context(context, declared, user, access.app)
    if form.get("confirm") != "1":
        return access.respond(who, page_response("confirmation.html", confirm))
    try:
        activation = access.app.orchestrator.activate(activation_request(given, declared, user))
    except ActivationConflict as exc:
        confirm.update(error=str(exc), needs="other_event", existing=exc.existing_id)
        return access.respond(who, page_response("confirmation.html", confirm, 409))
    except T0TooOld as exc:
        confirm.update(error=str(exc), needs="old_t0")
        return access.respond(who, page_response("confirmation.html", confirm, 422))
    except ActivationError as exc:
        context["error"] = str(exc)
        return access.respond(who, page_response("crises.html", context, 422))
    done = "" if activation.created else "?fait=deja"
    return RedirectResponse(f"/crises/{activation.crisis.id}{done}", status_code=303)
