"""What the board's forms do: approve a message, add a note, close the event, rectify T0,
order the CIP opened or closed, answer a press request. Each goes through the orchestrator,
journaled with the account's name and the web as interface; a refusal shows the board again
with its reason."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from crisis.accounts import Action, WebUser, actor_of, authority_of
from crisis.engine import InvalidStimulus, Refused
from crisis.model import Actor, Authority, Interface
from crisis.service import Orchestrator
from crisis.store.repository import CrisisNotFound
from crisis.web.access import PageAccess, Visitor, guarded
from crisis.web.pages.board import show_board
from crisis.web.pages.common import acting, back, local_t0, not_found, timezone

__all__ = [
    "BoardPost",
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


@dataclass(frozen=True)
class BoardPost:
    """One form posted from a crisis's board: who sent it, its fields, what it answers."""

    access: PageAccess
    who: Visitor
    user: WebUser
    form: dict[str, str]
    crisis_id: str

    @classmethod
    async def read(cls, request: Request, crisis_id: str, action: Action) -> BoardPost:
        """The POST checked by `acting` (login, CSRF, role allowed to do `action`)."""
        access, who, user, form = await acting(request, action)
        return cls(access, who, user, form, crisis_id)

    @property
    def actor(self) -> Actor:
        """The account as the main courante names it, acting from the web."""
        return actor_of(self.user, Interface.WEB)

    @property
    def authority(self) -> Authority:
        """What the account's role lets it order (CIP, closing)."""
        return authority_of(self.user.role)

    def refused(self, error: str, status: int = 422) -> Response:
        """The board again, with why the form was not acted on."""
        return show_board(self.access, self.who, self.crisis_id, error=error, status=status)

    def act(self, done: str, action: Callable[[Orchestrator], None]) -> Response:
        """Run `action` on the orchestrator: back to the board when done, else the board
        with why."""
        try:
            action(self.access.app.orchestrator)
        except CrisisNotFound:
            return not_found(self.access, self.who, self.crisis_id)
        except InvalidStimulus as exc:  # what was typed (too long, a phone number...): 422
            return self.refused(str(exc), status=422)
        except Refused as exc:
            return self.refused(str(exc), status=409)
        return back(self.crisis_id, done)


@router.post("/crises/{crisis_id}/validations/{step_id}")
@guarded
async def approve(request: Request, crisis_id: str, step_id: str) -> Response:
    post = await BoardPost.read(request, crisis_id, Action.APPROVE)
    return post.act("approbation", lambda o: o.approve(crisis_id, step_id, post.actor))


@router.post("/crises/{crisis_id}/notes")
@guarded
async def note(request: Request, crisis_id: str) -> Response:
    post = await BoardPost.read(request, crisis_id, Action.NOTE)
    text = post.form.get("text", "").strip()
    if not text:
        return post.refused("la note est vide")
    return post.act("note", lambda o: o.note(crisis_id, text, post.actor))


@router.post("/crises/{crisis_id}/cloture")
@guarded
async def close(request: Request, crisis_id: str) -> Response:
    post = await BoardPost.read(request, crisis_id, Action.CLOSE)
    if post.form.get("confirm") != "1":
        return post.refused("cochez la case de confirmation pour clore l'événement")
    reason = post.form.get("reason", "").strip()[:500]
    return post.act("cloture", lambda o: o.close(crisis_id, post.actor, reason))


@router.post("/crises/{crisis_id}/temps0")
@guarded
async def rectify(request: Request, crisis_id: str) -> Response:
    post = await BoardPost.read(request, crisis_id, Action.RECTIFY_T0)
    form = post.form
    try:
        t0 = local_t0(form.get("t0_date", ""), form.get("t0_time", ""), timezone(post.access.app))
    except ValueError as exc:
        return post.refused(str(exc))
    if form.get("confirm") != "1":
        return post.refused("cochez la case pour rectifier le temps 0")
    reason = form.get("reason", "")
    return post.act(
        "t0",
        lambda o: o.rectify_t0(crisis_id, t0, reason, post.actor, authority=post.authority),
    )


@router.post("/crises/{crisis_id}/cip/activation")
@guarded
async def cip_on(request: Request, crisis_id: str) -> Response:
    post = await BoardPost.read(request, crisis_id, Action.ORDER_CIP)
    number = post.form.get("number", "")
    return post.act(
        "cip",
        lambda o: o.activate_cip(crisis_id, number, post.actor, authority=post.authority),
    )


@router.post("/crises/{crisis_id}/cip/fermeture")
@guarded
async def cip_off(request: Request, crisis_id: str) -> Response:
    post = await BoardPost.read(request, crisis_id, Action.ORDER_CIP)
    return post.act("cip", lambda o: o.close_cip(crisis_id, post.actor, authority=post.authority))


@router.post("/crises/{crisis_id}/presse/{request_id}")
@guarded
async def media_answered(request: Request, crisis_id: str, request_id: str) -> Response:
    post = await BoardPost.read(request, crisis_id, Action.NOTE)
    answer = post.form.get("answer", "").strip()[:2000]
    return post.act(
        "presse", lambda o: o.media_follow_up(crisis_id, request_id, post.actor, answer=answer)
    )
