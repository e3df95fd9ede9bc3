"""A crisis's board: the page, its fragments (refreshed by the page's script) and the live
stream that tells the script when the main courante moved."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from crisis.queries import board as board_queries
from crisis.store.repository import CrisisNotFound
from crisis.web.access import PageAccess, Visitor, guarded, page_response
from crisis.web.binding import page_access
from crisis.web.live import journal_head, sse_stream
from crisis.web.pages.common import DONE_MESSAGES, not_found, reading, timezone
from crisis.web.views.board import FRAGMENTS, board_view

__all__ = ["board_context", "crisis_page", "fragment", "router", "show_board", "stream"]

router = APIRouter(include_in_schema=False)


def board_context(
    access: PageAccess, who: Visitor, crisis_id: str, reach_filter: str
) -> dict[str, Any] | None:
    """The board's template context (None when there is no such crisis)."""
    app = access.app
    try:
        state = board_queries.board_state(app.store, crisis_id)
    except CrisisNotFound:
        return None
    view = board_view(
        state.crisis,
        state.steps,
        state.entries,
        app.clock.now(),
        timezone(app),
        app.orchestrator.config,
        reach_filter,
    )
    return {**access.common(who), **view}


def show_board(
    access: PageAccess,
    who: Visitor,
    crisis_id: str,
    reach_filter: str = "",
    *,
    error: str = "",
    done: str = "",
    status: int = 200,
) -> Response:
    """The board, with an error on top or the confirmation of what was `done`."""
    context = board_context(access, who, crisis_id, reach_filter)
    if context is None:
        return not_found(access, who, crisis_id)
    context.update(error=error, done=DONE_MESSAGES.get(done, ""))
    return access.respond(who, page_response("crise.html", context, status))


@router.get("/crises/{crisis_id}")
@guarded
async def crisis_page(request: Request, crisis_id: str) -> Response:
    access, who = reading(request)
    return show_board(
        access,
        who,
        crisis_id,
        request.query_params.get("statut", ""),
        done=request.query_params.get("fait", ""),
    )


@router.get("/crises/{crisis_id}/fragments/{name}")
@guarded
async def fragment(request: Request, crisis_id: str, name: str) -> Response:
    access = page_access(request)
    who, _user = access.reader(request, fragment=True)
    if name not in FRAGMENTS:
        return Response("fragment inconnu", status_code=404)
    context = board_context(access, who, crisis_id, request.query_params.get("statut", ""))
    if context is None:
        return Response("événement inconnu", status_code=404)
    return page_response(f"fragments/{name}.html", context)


@router.get("/crises/{crisis_id}/flux")
@guarded
async def stream(request: Request, crisis_id: str) -> Response:
    access = page_access(request)
    access.reader(request, fragment=True)
    store = access.app.store
    if journal_head(store, crisis_id) is None:
        return Response("événement inconnu", status_code=404)
    return StreamingResponse(
        sse_stream(lambda: journal_head(store, crisis_id), request.is_disconnected),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
