"""Drafting a step's message on the dashboard: the form (the step's current texts, the
placeholders, each channel's preview) and its submission, approved later by someone else."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from crisis.accounts import Action, actor_of, can
from crisis.engine import Refused
from crisis.model import DraftTexts, Interface
from crisis.queries import board as board_queries
from crisis.store.repository import CrisisNotFound
from crisis.web.access import PageAccess, Visitor, guarded, page_response
from crisis.web.binding import page_access
from crisis.web.pages.common import acting, back, not_found
from crisis.web.views.drafting import draft_texts, drafting_view

__all__ = ["draft", "draft_form", "drafting", "router"]

router = APIRouter(include_in_schema=False)


def drafting(
    access: PageAccess,
    who: Visitor,
    crisis_id: str,
    step_id: str,
    texts: DraftTexts | None = None,
    *,
    error: str = "",
    status: int = 200,
) -> Response:
    """The drafting form: the texts given (or the step's current ones), the reason of a
    refusal; a step that can no longer be drafted shows only why (409)."""
    app = access.app
    try:
        state = board_queries.drafting_state(app.store, crisis_id)
    except CrisisNotFound:
        return not_found(access, who, crisis_id)
    context = drafting_view(
        state.crisis, state.steps, step_id, texts, app.clock.now(), app.orchestrator.config
    )
    if context is None:
        return access.error(who, "Étape inconnue", f"aucune étape « {step_id} »", 404)
    if context["refusal"] and texts is None:
        return access.error(who, "Rédaction impossible", context["refusal"], 409)
    context.update(error=error)
    return access.respond(
        who, page_response("redaction.html", {**access.common(who), **context}, status)
    )


@router.get("/crises/{crisis_id}/redaction/{step_id}")
@guarded
async def draft_form(request: Request, crisis_id: str, step_id: str) -> Response:
    access = page_access(request)
    who, user = access.reader(request)
    if not can(user.role, Action.DRAFT):
        raise access.forbidden(
            who, f"le rôle {user.role.label} ne permet pas de {Action.DRAFT.label}"
        )
    return drafting(access, who, crisis_id, step_id)


@router.post("/crises/{crisis_id}/redaction/{step_id}")
@guarded
async def draft(request: Request, crisis_id: str, step_id: str) -> Response:
    access, who, user, form = await acting(request, Action.DRAFT)
    texts = draft_texts(form)
    try:
        access.app.orchestrator.draft(crisis_id, step_id, texts, actor_of(user, Interface.WEB))
    except CrisisNotFound:
        return not_found(access, who, crisis_id)
    except Refused as exc:  # the form again, the reason on top, nothing typed lost
        return drafting(access, who, crisis_id, step_id, texts, error=str(exc), status=422)
    return back(crisis_id, "redaction")
