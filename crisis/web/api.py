"""The JSON API for other systems: record a COD activation, read a crisis, post a note.

Authenticated by API tokens (`Authorization: Bearer <jeton>`, created by `crisis users token`);
each account's role decides what it may do; every action is journaled with the account's name
and the API as interface. Errors are French JSON: `{"detail": "..."}`.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request, Response, status
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from crisis import compliance
from crisis.accounts import Action, WebUser, actor_of, authority_of, can, hash_token
from crisis.activation import ActivationConflict, ActivationError, Confirmation
from crisis.clock import Clock
from crisis.engine import InvalidStimulus, Refused
from crisis.model import Crisis, Interface, JournalEntry, Mode, NoteAdded, StepState
from crisis.queries import crises, events, tokens
from crisis.service import ActivationRequest, Orchestrator
from crisis.store import Store
from crisis.store.repository import CrisisNotFound
from crisis.web.api_models import (
    ActivationIn,
    CrisisId,
    CrisisOut,
    ErrorOut,
    InvalidOut,
    NoteIn,
    NoteOut,
    ReachOut,
    StepOut,
    VerdictOut,
)
from crisis.web.errors import install_french_errors

__all__ = [
    "API_PREFIX",
    "OPENAPI_PATH",
    "ApiContext",
    "api_context",
    "api_openapi",
    "api_router",
    "mount_api",
    "openapi",
    "router",
]

API_PREFIX = "/api/v1"
OPENAPI_PATH = "/api/openapi.json"
_UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Jeton absent, inconnu ou révoqué."},
    403: {"model": ErrorOut, "description": "Le rôle du compte ne le permet pas."},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "Événement inconnu."}
}


@dataclass(frozen=True)
class ApiContext:
    """What the API's handlers act on: the orchestrator, the store it reads, the clock."""

    orchestrator: Orchestrator
    store: Store
    clock: Clock


def api_context(request: Request) -> ApiContext:
    """The application's API context (set by `mount_api`)."""
    context: ApiContext = request.app.state.crisis_api
    return context


Api = Annotated[ApiContext, Depends(api_context)]
_BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="jeton",
    description="Jeton d'API créé par « crisis users token LOGIN ».",
)


def authenticated(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)], api: Api
) -> WebUser:
    """The account of the request's bearer token (401 in French without a valid one)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "authentification requise : en-tête « Authorization: Bearer <jeton> »",
            headers={"WWW-Authenticate": "Bearer"},
        )
    user = tokens.account_for_token(api.store, hash_token(credentials.credentials), api.clock.now())
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "jeton d'API inconnu ou révoqué, ou compte désactivé",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return user


Account = Annotated[WebUser, Depends(authenticated)]


def _allowed(user: WebUser, action: Action) -> WebUser:
    if not can(user.role, action):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"le rôle {user.role.label} ne permet pas de {action.label}",
        )
    return user


def may_declare(user: Account) -> WebUser:
    """The token's account, if its role may record the COD's activation."""
    return _allowed(user, Action.DECLARE_T0)


def may_note(user: Account) -> WebUser:
    """The token's account, if its role may write in the main courante."""
    return _allowed(user, Action.NOTE)


def may_read(user: Account) -> WebUser:
    """The token's account, if its role may read the events."""
    return _allowed(user, Action.READ)


# the handlers carry no docstring: FastAPI would publish it in the OpenAPI schema


async def record_activation(
    body: ActivationIn,
    response: Response,
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            description="Clé d'idempotence : la même clé ne crée jamais deux événements.",
        ),
    ],
    user: Annotated[WebUser, Depends(may_declare)],
    api: Api,
) -> CrisisOut:
    key = idempotency_key.strip()
    if not key:
        raise HTTPException(422, "l'en-tête Idempotency-Key est vide")
    crisis_id, created = _activate(api.orchestrator, user, body, key)
    if not created:
        response.status_code = status.HTTP_200_OK
    return _state(api.store, crisis_id, api.clock.now())


async def list_crises(
    _user: Annotated[WebUser, Depends(may_read)], api: Api, open_only: bool = False
) -> list[CrisisOut]:
    ids = events.crisis_ids(api.store, open_only=open_only)
    return [_state(api.store, crisis_id, api.clock.now()) for crisis_id in ids]


async def read_crisis(
    crisis_id: CrisisId, _user: Annotated[WebUser, Depends(may_read)], api: Api
) -> CrisisOut:
    return _state(api.store, crisis_id, api.clock.now())


async def add_note(
    crisis_id: CrisisId, body: NoteIn, user: Annotated[WebUser, Depends(may_note)], api: Api
) -> NoteOut:
    actor = actor_of(user, Interface.API)
    try:
        api.orchestrator.note(crisis_id, body.text, actor)
    except CrisisNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"aucun événement « {crisis_id} »") from None
    except InvalidStimulus as exc:  # what was typed: too long, a phone number...
        raise HTTPException(422, str(exc)) from None
    except Refused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    for entry in reversed(api.orchestrator.journal(crisis_id)):
        if isinstance(entry.fact, NoteAdded) and entry.actor == actor:
            return NoteOut(
                crisis_id=crisis_id,
                seq=entry.seq,
                at=entry.at,
                author=actor.name,
                text=entry.fact.text,
            )
    raise HTTPException(500, "la note n'a pas été retrouvée dans la main courante")


router = APIRouter(prefix=API_PREFIX, tags=["API"])
router.add_api_route(
    "/crises",
    record_activation,
    methods=["POST"],
    status_code=status.HTTP_201_CREATED,
    response_model=CrisisOut,
    responses={
        **_UNAUTHORIZED,
        200: {"model": CrisisOut, "description": "Activation déjà enregistrée avec cette clé."},
        409: {"model": ErrorOut, "description": "Clé déjà utilisée pour une autre activation."},
        422: {"model": InvalidOut, "description": "Activation refusée (motif en français)."},
    },
    summary="Enregistrer l'activation du COD (temps 0)",
)
router.add_api_route(
    "/crises",
    list_crises,
    methods=["GET"],
    response_model=list[CrisisOut],
    responses=_UNAUTHORIZED,
    summary="Les événements et exercices (les plus anciens d'abord)",
)
router.add_api_route(
    "/crises/{crisis_id}",
    read_crisis,
    methods=["GET"],
    response_model=CrisisOut,
    responses={**_UNAUTHORIZED, **_NOT_FOUND},
    summary="L'état d'un événement : étapes, engagements, communes jointes",
)
router.add_api_route(
    "/crises/{crisis_id}/notes",
    add_note,
    methods=["POST"],
    status_code=status.HTTP_201_CREATED,
    response_model=NoteOut,
    responses={
        **_UNAUTHORIZED,
        **_NOT_FOUND,
        409: {"model": ErrorOut, "description": "Note refusée (événement clos...)."},
        422: {"model": InvalidOut, "description": "Note invalide (motif en français)."},
    },
    summary="Ajouter une note à la main courante",
)


def api_router() -> APIRouter:
    """The routes under /api/v1 (their context comes from the application, see `mount_api`)."""
    return router


def _state(store: Store, crisis_id: str, now: datetime) -> CrisisOut:
    try:
        found = crises.crisis_state(store, crisis_id)
    except CrisisNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"aucun événement « {crisis_id} »") from None
    return _crisis_out(found.crisis, found.steps, found.entries, now)


def _activate(
    orchestrator: Orchestrator, user: WebUser, body: ActivationIn, key: str
) -> tuple[str, bool]:
    """Record the activation under `key`: (crisis id, created); 409 or 422 in French."""
    store = orchestrator.store
    mode = Mode.EXERCICE if body.exercise else Mode.REEL
    existing = crises.by_key(store, key)
    if existing is None:
        request = ActivationRequest(
            kind=body.kind,
            t0=body.t0,
            synergi_ref=body.synergi_ref,
            communes=body.communes,
            recorded_by=actor_of(user, Interface.API),
            mode=mode,
            idempotency_key=key,
            confirmation=None
            if body.confirmation is None
            else Confirmation(
                authority=authority_of(user.role),
                reason=body.confirmation.reason,
                other_event=body.confirmation.other_event,
                old_t0=body.confirmation.old_t0,
            ),
        )
        try:
            activation = orchestrator.activate(request)
        except ActivationConflict as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        except ActivationError as exc:
            existing = crises.by_key(store, key)  # recorded meanwhile with other values: 409
            if existing is None:
                raise HTTPException(422, str(exc)) from None
        else:
            if activation.created:
                return activation.crisis.id, True
            existing = activation.crisis
    differences = _differences(existing, body, mode)
    if differences:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"la clé {key!r} a déjà servi à enregistrer l'événement {existing.id} avec "
            f"d'autres valeurs ({', '.join(differences)}) : la zone et le T0 sont figés ; "
            "pour un autre événement, utilisez une autre clé",
        )
    return existing.id, False


def _differences(existing: Crisis, body: ActivationIn, mode: Mode) -> list[str]:
    """What a repeated activation changes (anything at all is a conflict, never merged)."""
    differences = []
    if existing.kind != body.kind:
        differences.append("type d'événement")
    if existing.t0 != body.t0:
        differences.append("temps 0")
    if existing.synergi_ref != body.synergi_ref:
        differences.append("référence SYNERGI")
    if set(existing.communes) != set(body.communes):
        differences.append("communes concernées")
    if existing.mode != mode:
        differences.append("exercice ou événement réel")
    return differences


def _crisis_out(
    crisis: Crisis, steps: list[StepState], entries: list[JournalEntry], now: datetime
) -> CrisisOut:
    planned = {p.step.id: p.step for p in crisis.plan.steps}
    end = crisis.closed_at or now
    reach = Counter(r.status for r in compliance.commune_reach(entries, now))
    return CrisisOut(
        id=crisis.id,
        kind=crisis.kind,
        mode=crisis.mode,
        t0=crisis.t0,
        synergi_ref=crisis.synergi_ref,
        elapsed_minutes=round(max(0.0, (end - crisis.t0).total_seconds()) / 60, 1),
        closed=crisis.closed_at is not None,
        closed_at=crisis.closed_at,
        communes_count=len(crisis.communes),
        steps=[
            StepOut(
                id=s.step_id,
                title=planned[s.step_id].title if s.step_id in planned else s.step_id,
                engagement=planned[s.step_id].engagement.value if s.step_id in planned else "",
                status=s.status.value,
                due=s.due_at,
            )
            for s in steps
        ],
        verdicts=[
            VerdictOut(
                engagement=v.engagement,
                status=v.status.value,
                status_label=v.status.label,
                detail=v.detail,
                evidence=list(v.evidence),
            )
            for v in compliance.judge(entries, now)
        ],
        reach=ReachOut(**{str(k): v for k, v in reach.items()}),
    )


def api_openapi(router: APIRouter) -> dict[str, Any]:
    """The API's OpenAPI schema (only its own routes: webhooks and pages stay out of it)."""
    return get_openapi(
        title="Orchestrateur de crise — API",
        version="1",
        description="Enregistrer l'activation du COD, lire l'état d'un événement, écrire dans "
        "la main courante. Authentification : jeton d'API (en-tête Authorization: Bearer).",
        routes=router.routes,
    )


def mount_api(web: FastAPI, orchestrator: Orchestrator, store: Store, clock: Clock) -> None:
    """Add the API's routes to `web`, and its OpenAPI schema at /api/openapi.json."""
    web.state.crisis_api = ApiContext(orchestrator, store, clock)
    web.include_router(router)
    install_french_errors(web)  # 422 in French, the field named, never the input echoed
    web.add_api_route(OPENAPI_PATH, openapi, include_in_schema=False, methods=["GET"])


async def openapi() -> JSONResponse:
    return JSONResponse(_schema())


@functools.cache
def _schema() -> dict[str, Any]:
    """The API's schema, built once (the routes are the module's own)."""
    return api_openapi(router)
