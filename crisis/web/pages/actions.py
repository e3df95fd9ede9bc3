"""What the board's forms do: approve a message, add a note, close the event, rectify T0,
order the CIP opened or closed, answer a press request. Each goes through the orchestrator,
journaled with the account's name and the web as interface; a refusal shows the board again
with its reason."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response

from crisis.accounts import Action, actor_of, authority_of
from crisis.engine import InvalidStimulus, Refused
from crisis.model import Interface
from crisis.store.repository import CrisisNotFound
from crisis.web.access import PageAccess, Visitor, guarded
from crisis.web.pages.board import show_board
from crisis.web.pages.common import acting, back, local_t0, not_found, timezone

__all__ = [
    "approve",
    "cip_off",
    "cip_on",
    "close",
    "media_answered",
    "note",
    "rectify",
    "router",
]

router = APIRouter(include_in_schema=False)


def act(
    access: PageAccess, who: Visitor, crisis_id: str, done: str, action: Callable[[], None]
) -> Response:
    """Run the orchestrator's `action`: back to the board when done, else the board with why."""
    try:
        action()
    except CrisisNotFound:
        return not_found(access, who, crisis_id)
    except InvalidStimulus as exc:  # what was typed (too long, a phone number...): 422
        return show_board(access, who, crisis_id, error=str(exc), status=422)
    except Refused as exc:
        return show_board(access, who, crisis_id, error=str(exc), status=409)
    return back(crisis_id, done)


@router.post("/crises/{crisis_id}/validations/{step_id}")
@guarded
async def approve(request: Request, crisis_id: str, step_id: str) -> Response:
    access, who, user, _form = await acting(request, Action.APPROVE)
    orchestrator = access.app.orchestrator
    return act(
        access,
        who,
        crisis_id,
        "approbation",
        lambda: orchestrator.approve(crisis_id, step_id, actor_of(user, Interface.WEB)),
    )


@router.post("/crises/{crisis_id}/notes")
@guarded
async def note(request: Request, crisis_id: str) -> Response:
    access, who, user, form = await acting(request, Action.NOTE)
    text = form.get("text", "").strip()
    if not text:
        return show_board(access, who, crisis_id, error="la note est vide", status=422)
    orchestrator = access.app.orchestrator
    return act(
        access,
        who,
        crisis_id,
        "note",
        lambda: orchestrator.note(crisis_id, text, actor_of(user, Interface.WEB)),
    )


@router.post("/crises/{crisis_id}/cloture")
@guarded
async def close(request: Request, crisis_id: str) -> Response:
    access, who, user, form = await acting(request, Action.CLOSE)
    if form.get("confirm") != "1":
        return show_board(
            access,
            who,
            crisis_id,
            error="cochez la case de confirmation pour clore l'événement",
            status=422,
        )
    reason = form.get("reason", "").strip()[:500]
    orchestrator = access.app.orchestrator
    return act(
        access,
        who,
        crisis_id,
        "cloture",
        lambda: orchestrator.close(crisis_id, actor_of(user, Interface.WEB), reason),
    )


@router.post("/crises/{crisis_id}/temps0")
@guarded
async def rectify(request: Request, crisis_id: str) -> Response:
    access, who, user, form = await acting(request, Action.RECTIFY_T0)
    try:
        t0 = local_t0(form.get("t0_date", ""), form.get("t0_time", ""), timezone(access.app))
    except ValueError as exc:
        return show_board(access, who, crisis_id, error=str(exc), status=422)
    if form.get("confirm") != "1":
        return show_board(
            access, who, crisis_id, error="cochez la case pour rectifier le temps 0", status=422
        )
    reason = form.get("reason", "")
    orchestrator = access.app.orchestrator
    return act(
        access,
        who,
        crisis_id,
        "t0",
        lambda: orchestrator.rectify_t0(
            crisis_id,
            t0,
            reason,
            actor_of(user, Interface.WEB),
            authority=authority_of(user.role),
        ),
    )


@router.post("/crises/{crisis_id}/cip/activation")
@guarded
async def cip_on(request: Request, crisis_id: str) -> Response:
    access, who, user, form = await acting(request, Action.ORDER_CIP)
    number = form.get("number", "")
    orchestrator = access.app.orchestrator
    return act(
        access,
        who,
        crisis_id,
        "cip",
        lambda: orchestrator.activate_cip(
            crisis_id,
            number,
            actor_of(user, Interface.WEB),
            authority=authority_of(user.role),
        ),
    )


@router.post("/crises/{crisis_id}/cip/fermeture")
@guarded
async def cip_off(request: Request, crisis_id: str) -> Response:
    access, who, user, _form = await acting(request, Action.ORDER_CIP)
    orchestrator = access.app.orchestrator
    return act(
        access,
        who,
        crisis_id,
        "cip",
        lambda: orchestrator.close_cip(
            crisis_id, actor_of(user, Interface.WEB), authority=authority_of(user.role)
        ),
    )


@router.post("/crises/{crisis_id}/presse/{request_id}")
@guarded
async def media_answered(request: Request, crisis_id: str, request_id: str) -> Response:
    access, who, user, form = await acting(request, Action.NOTE)
    answer = form.get("answer", "").strip()[:2000]
    orchestrator = access.app.orchestrator
    return act(
        access,
        who,
        crisis_id,
        "presse",
        lambda: orchestrator.media_follow_up(
            crisis_id, request_id, actor_of(user, Interface.WEB), answer=answer
        ),
    )
